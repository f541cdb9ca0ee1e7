"""The vLLM workload: the objects of the profiles/ manifests builder as typed resources, after the namespace,
the HF secret, the bucket grant and the metrics adapter they rely on."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.kube import kube_resource


class VllmService(pulumi.ComponentResource):
    service: pulumi.CustomResource

    def __init__(self, name: str, objects: Sequence[dict], startup_budget_s: int, depends_on: Sequence[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:workload:VllmService", name, {}, opts)
        deps = list(depends_on)
        # the Deployment is awaited until ready: node provisioning plus the startup budget (fetch + load + compile)
        ready = pulumi.CustomTimeouts(create=f"{startup_budget_s // 60 + 30}m", update=f"{startup_budget_s // 60 + 30}m")
        self.resources = {}
        for obj in objects:
            timeouts = ready if obj["kind"] == "Deployment" else None
            self.resources[obj["kind"]] = kube_resource(obj, pulumi.ResourceOptions(
                parent=self, depends_on=deps, custom_timeouts=timeouts))
        self.service = self.resources["Service"]
        self.register_outputs({})
