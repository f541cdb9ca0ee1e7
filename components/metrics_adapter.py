"""Custom Metrics Stackdriver Adapter as published upstream (profiles/metrics_adapter.py) plus
roles/monitoring.viewer for its KSA principal; the program creates it only when it creates an HPA."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.kube import kube_resource
from profiles.gke.adapter import adapter_objects
from profiles.gke.identity import ADAPTER_KSA, ADAPTER_NAMESPACE, ADAPTER_ROLE, ksa_principal


class CustomMetricsAdapter(pulumi.ComponentResource):
    def __init__(self, name: str, project: str, project_number: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:monitoring:CustomMetricsAdapter", name, {}, opts)
        member = pulumi.Output.from_input(project_number).apply(
            lambda n: ksa_principal(n, project, ADAPTER_NAMESPACE, ADAPTER_KSA))
        self.viewer = gcp.projects.IAMMember(f"{name}-monitoring-viewer", project=project, role=ADAPTER_ROLE, member=member,
                                             opts=pulumi.ResourceOptions(parent=self))
        objects = adapter_objects()
        namespace = kube_resource(objects[0], pulumi.ResourceOptions(parent=self))
        rest = pulumi.ResourceOptions(parent=self, depends_on=[namespace, self.viewer])
        self.resources = [namespace] + [kube_resource(o, rest) for o in objects[1:]]
        self.register_outputs({})
