"""Workload Identity Federation principals and the IAM roles the program grants (no Google service accounts
for pods: the Kubernetes service account itself is the principal)."""

from __future__ import annotations

BUCKET_READER_ROLE = "roles/storage.objectViewer"  # the serving KSA reads the weights (and lists the bucket)
# read-write (objects create/delete/get/list/update): the weights loader's KSA on the whole bucket, and the serving
# KSA on the XLA cache prefix only (an IAM condition; needs uniform bucket-level access)
BUCKET_WRITER_ROLE = "roles/storage.objectUser"
ADAPTER_ROLE = "roles/monitoring.viewer"  # custom-metrics-stackdriver-adapter reads Cloud Monitoring
ADAPTER_NAMESPACE, ADAPTER_KSA = "custom-metrics", "custom-metrics-stackdriver-adapter"


def workload_pool(project: str) -> str:
    return f"{project}.svc.id.goog"


def ksa_principal(project_number: str, project: str, namespace: str, ksa: str) -> str:
    """principal://…/subject/ns/NS/sa/KSA, the member string IAM bindings use for a Kubernetes service account."""
    return (f"principal://iam.googleapis.com/projects/{project_number}/locations/global/workloadIdentityPools/"
            f"{workload_pool(project)}/subject/ns/{namespace}/sa/{ksa}")


def node_sa_id(cluster: str) -> str:
    """The node service account id: 6-30 characters, a letter first, no trailing '-' (IAM's rule)."""
    return f"{cluster[:24].rstrip('-')}-nodes"


def prefix_condition(bucket: str, prefix: str) -> dict[str, str]:
    """An IAM condition limiting a bucket binding to objects under `prefix/` (Cloud Storage resource names are
    projects/_/buckets/BUCKET/objects/OBJECT)."""
    return {"title": f"only {prefix}/", "description": "gke-inference: the serving pods write only their compile cache",
            "expression": f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}/")'}
