"""The one-shot weights loader (profiles/manifests/loader.py): objectUser on the bucket for its own KSA through
Workload Identity, then the KSA and the Job, which Pulumi awaits until Complete. The serving Deployment depends on
this component's Job, so it is created only once the checkpoint is in the bucket."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.kube import kube_resource
from components.wiring import child
from profiles.gke.identity import ksa_principal
from profiles.stack.specs import WeightsLoaderSpec


class WeightsLoader(pulumi.ComponentResource):
    job: pulumi.CustomResource

    def __init__(self, name: str, spec: WeightsLoaderSpec, project_number: pulumi.Input[str], bucket: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        """`opts.depends_on`: the cluster (its WI pool), the Namespace and the HF token Secret."""
        super().__init__("gke-inference:storage:WeightsLoader", name, {}, opts)
        member = pulumi.Output.from_input(project_number).apply(
            lambda n: ksa_principal(n, spec.project, spec.namespace, spec.ksa))
        self.writer = gcp.storage.BucketIAMMember(f"{name}-writer", bucket=bucket, role=spec.role, member=member,
                                                  opts=child(self, opts))
        account = kube_resource(spec.objects[0], child(self, opts))
        minutes = f"{spec.timeout_s // 60 + 30}m"  # the Job's deadline plus node provisioning
        self.job = kube_resource(spec.objects[1], child(self, opts, account, self.writer,
                                                        custom_timeouts=pulumi.CustomTimeouts(create=minutes, update=minutes)))
        self.register_outputs({})
