"""Typed pulumi-kubernetes resources from the plain objects `profiles/` builds (no YAML round trip)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

TYPED = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("apiregistration.k8s.io/v1", "APIService"): k8s.apiregistration.v1.APIService,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("storage.k8s.io/v1", "StorageClass"): k8s.storage.v1.StorageClass,
}


def resource_name(obj: dict[str, Any]) -> str:
    """Logical name: kind-[namespace-]name, unique per stack and stable across runs."""
    meta = obj["metadata"]
    ns = meta.get("namespace")
    return "-".join([obj["kind"].lower(), *([ns] if isinstance(ns, str) else []), meta["name"]]).replace(":", "-")


def kube_resource(obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """One Kubernetes object as its typed resource; CRDs (PodMonitoring) as a CustomResource."""
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    cls = TYPED.get((obj["apiVersion"], obj["kind"]))
    if cls is None:
        return k8s.apiextensions.CustomResource(resource_name(obj), api_version=obj["apiVersion"], kind=obj["kind"],
                                                opts=opts, **body)
    return cls(resource_name(obj), opts=opts, **_snake(body))


def _snake(body: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys as the typed constructors name them (stringData -> string_data); nested keys stay camelCase."""
    table = {"stringData": "string_data", "automountServiceAccountToken": "automount_service_account_token",
             "roleRef": "role_ref", "reclaimPolicy": "reclaim_policy", "volumeBindingMode": "volume_binding_mode",
             "allowVolumeExpansion": "allow_volume_expansion"}
    return {table.get(k, k): v for k, v in body.items()}
