"""The GCS bucket holding the weights (created, or an existing one) and read access for the serving KSA
through Workload Identity Federation."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.wiring import child as child_opts
from profiles.gke.identity import ksa_principal
from profiles.stack.specs import ModelBucketSpec


class ModelBucket(pulumi.ComponentResource):
    bucket: pulumi.Output[str]
    reader: gcp.storage.BucketIAMMember

    def __init__(self, name: str, spec: ModelBucketSpec, project_number: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:storage:ModelBucket", name, {}, opts)
        child = child_opts(self, opts)  # the API enablement, and the cluster: its Workload Identity pool
        if spec.create:
            created = gcp.storage.Bucket(name, name=spec.bucket, project=spec.project, location=spec.location.upper(),
                                         uniform_bucket_level_access=True, public_access_prevention="enforced",
                                         force_destroy=False, opts=child)
            self.bucket = created.name
        else:
            self.bucket = pulumi.Output.from_input(spec.bucket)
        member = pulumi.Output.from_input(project_number).apply(
            lambda n: ksa_principal(n, spec.project, spec.namespace, spec.ksa))
        self.reader = gcp.storage.BucketIAMMember(f"{name}-reader", bucket=self.bucket, role=spec.role, member=member, opts=child)
        self.register_outputs({"bucket": self.bucket, "reader": member})
