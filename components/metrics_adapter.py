"""Custom Metrics Stackdriver Adapter as published upstream (profiles/gke/adapter.py) plus roles/monitoring.viewer
for its KSA principal; the program creates it only when it creates an HPA."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.kube import kube_resource
from components.wiring import child
from profiles.gke.identity import ksa_principal
from profiles.stack.specs import MetricsAdapterSpec


class CustomMetricsAdapter(pulumi.ComponentResource):
    def __init__(self, name: str, spec: MetricsAdapterSpec, project_number: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:monitoring:CustomMetricsAdapter", name, {}, opts)
        member = pulumi.Output.from_input(project_number).apply(
            lambda n: ksa_principal(n, spec.project, spec.namespace, spec.ksa))
        self.viewer = gcp.projects.IAMMember(f"{name}-monitoring-viewer", project=spec.project, role=spec.role, member=member,
                                             opts=child(self, opts))  # after the cluster: its Workload Identity pool
        namespace = kube_resource(spec.objects[0], child(self, opts))
        rest = child(self, opts, namespace, self.viewer)
        self.resources = [namespace] + [kube_resource(o, rest) for o in spec.objects[1:]]
        self.register_outputs({})
