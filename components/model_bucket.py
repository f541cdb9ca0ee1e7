"""The GCS bucket holding the weights (created, or an existing one) and read access for the serving KSA
through Workload Identity Federation."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from profiles.gke.identity import BUCKET_READER_ROLE, ksa_principal


class ModelBucket(pulumi.ComponentResource):
    bucket: pulumi.Output[str]
    reader: gcp.storage.BucketIAMMember

    def __init__(self, name: str, project: str, project_number: pulumi.Input[str], bucket: str, create: bool, location: str,
                 namespace: str, ksa: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:storage:ModelBucket", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        if create:
            created = gcp.storage.Bucket(name, name=bucket, project=project, location=location.upper(),
                                         uniform_bucket_level_access=True, public_access_prevention="enforced",
                                         force_destroy=False, opts=child)
            self.bucket = created.name
        else:
            self.bucket = pulumi.Output.from_input(bucket)
        member = pulumi.Output.from_input(project_number).apply(lambda n: ksa_principal(n, project, namespace, ksa))
        self.reader = gcp.storage.BucketIAMMember(f"{name}-reader", bucket=self.bucket, role=BUCKET_READER_ROLE,
                                                  member=member, opts=child)
        self.register_outputs({"bucket": self.bucket, "reader": member})
