"""Pulumi components: thin wiring of cloud and Kubernetes resources. Every decision (shapes, arguments,
Kubernetes objects) comes from `profiles/`, which never imports Pulumi."""
