"""Pulumi components: thin wiring of cloud and Kubernetes resources, one ComponentResource per file, each built
from one typed spec of the stack plan (profiles/stack/specs.py). Every decision (shapes, arguments, Kubernetes
objects) comes from `profiles/`, which never imports Pulumi. Beside them: kube.py (typed resources from the
builder's plain objects) and mock_runtime.py (Pulumi's mock engine that records what the program registers: the
offline plan and the tests)."""
