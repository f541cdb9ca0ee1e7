"""One typed spec per Pulumi component: the small, plain input each component turns into resources.

The stack plan fills them in; the components (components/) read nothing else, so every decision stays here and
can be tested without Pulumi. Values a component only learns at apply time (the project number, the token
secret) are passed beside the spec, never inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from profiles.gke.cluster import ClusterSpec
from profiles.gke.node_pools import PoolSpec


@dataclass(frozen=True)
class ProjectApisSpec:
    project: str
    apis: tuple[str, ...]  # empty: the stack says they are already enabled


@dataclass(frozen=True)
class InferenceClusterSpec:
    name: str  # the cluster created, or the existing one read
    project: str
    region: str
    create: ClusterSpec | None  # None: read the existing cluster `name`
    pools: tuple[PoolSpec, ...]  # accelerator node pools; empty on Autopilot
    system_machine_type: str  # Standard clusters: the pool for system pods
    node_sa_id: str = ""  # the node service account's id (IAM rules: 6-30 characters, no '-' last)


@dataclass(frozen=True)
class ModelBucketSpec:
    project: str
    bucket: str
    create: bool  # create it (else it must exist)
    location: str
    namespace: str  # the serving KSA granted `role` on the bucket
    ksa: str
    role: str
    writer_prefix: str = ""  # the serving KSA may also write objects under this prefix (the shared XLA cache)
    preflight_object: str = ""  # `pulumi up` stops before any resource unless this object exists
    preflight_message: str = ""  # what to run when it does not


@dataclass(frozen=True)
class WeightsLoaderSpec:
    """The one-shot Job that fills the bucket path from Hugging Face, and its writer identity."""

    project: str
    bucket: str
    namespace: str
    ksa: str
    role: str  # granted to the loader KSA on the bucket
    objects: tuple[dict, ...]  # ServiceAccount, Job
    timeout_s: int  # the Job is awaited until Complete for this long


@dataclass(frozen=True)
class ImageMirrorSpec:
    project: str
    region: str
    repository: str
    image: str  # what the Deployment pulls (REGION-docker.pkg.dev/PROJECT/REPO/...)


@dataclass(frozen=True)
class HuggingFaceSecretSpec:
    namespace: str


@dataclass(frozen=True)
class MetricsAdapterSpec:
    project: str
    objects: tuple[dict, ...]  # the upstream adapter manifest's objects, namespace first
    namespace: str  # where the adapter's KSA lives
    ksa: str
    role: str  # granted to that KSA's principal


@dataclass(frozen=True)
class VllmServiceSpec:
    name: str
    objects: tuple[dict, ...]  # ServiceAccount, Deployment, Service, PDB, NetworkPolicy, PodMonitoring[, HPA]
    startup_budget_s: int  # the Deployment is awaited for this plus node provisioning
    load_balancer: bool  # the Service gets an external or internal load balancer IP
