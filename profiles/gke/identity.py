"""Workload Identity Federation principals and the IAM roles the program grants (no Google service accounts
for pods: the Kubernetes service account itself is the principal)."""

from __future__ import annotations

BUCKET_READER_ROLE = "roles/storage.objectViewer"  # weights are read-only; the XLA cache is a per-pod emptyDir
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
