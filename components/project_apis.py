"""The Google APIs the stack needs (profiles.gke.cluster.REQUIRED_APIS), enabled unless the stack says they already
are (`enableApis: false`)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from profiles.stack.specs import ProjectApisSpec


class ProjectApis(pulumi.ComponentResource):
    services: list[gcp.projects.Service]

    def __init__(self, name: str, spec: ProjectApisSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:project:ProjectApis", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # disable_on_destroy False: destroying this stack must not switch off APIs other workloads use
        self.services = [gcp.projects.Service(f"{name}-{api.split('.')[0]}", project=spec.project, service=api,
                                              disable_on_destroy=False, opts=child) for api in spec.apis]
        self.register_outputs({"services": [s.service for s in self.services]})
