"""The model-server workload: the objects of the profiles/ manifests builder as typed resources, after the
namespace, the HF secret, the bucket grant and the metrics adapter they rely on."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.kube import kube_resource
from profiles.stack.specs import VllmServiceSpec


class VllmService(pulumi.ComponentResource):
    service: pulumi.CustomResource

    def __init__(self, name: str, spec: VllmServiceSpec, depends_on: Sequence[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:workload:VllmService", name, {}, opts)
        deps = list(depends_on)
        # the Deployment is awaited until ready: node provisioning plus the startup budget (fetch + load + compile)
        minutes = f"{spec.startup_budget_s // 60 + 30}m"
        ready = pulumi.CustomTimeouts(create=minutes, update=minutes)
        self.resources = {}
        hpa = any(o["kind"] == "HorizontalPodAutoscaler" for o in spec.objects)
        for obj in spec.objects:
            deployment = obj["kind"] == "Deployment"
            # the HPA owns replicas: never diff or reset them (the object carries none either)
            ignore = ["spec.replicas"] if deployment and hpa else None
            self.resources[obj["kind"]] = kube_resource(obj, pulumi.ResourceOptions(
                parent=self, depends_on=deps, custom_timeouts=ready if deployment else None, ignore_changes=ignore))
        self.service = self.resources["Service"]
        self.register_outputs({})
