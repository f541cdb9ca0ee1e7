"""A kubeconfig for a GKE cluster that authenticates with gke-gcloud-auth-plugin (no static credentials)."""

from __future__ import annotations

import yaml


def kubeconfig(context: str, endpoint: str, ca_certificate: str) -> str:
    cluster = {"certificate-authority-data": ca_certificate, "server": f"https://{endpoint}"}
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin",
                     "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
                     "provideClusterInfo": True, "interactiveMode": "Never"}}
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": cluster}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "users": [{"name": context, "user": user}],
    }, sort_keys=False)
