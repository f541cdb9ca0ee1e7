"""The GCS bucket holding the weights (created, or an existing one), read access for the serving KSA through
Workload Identity Federation, write access on the shared XLA cache prefix only (an IAM condition); beside it the
weights preflight (`modelSource.loader: preflight`), an invoke that stops `pulumi up` with the commands to run while
the checkpoint's config.json is missing."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.wiring import child as child_opts
from profiles.gke.identity import BUCKET_WRITER_ROLE, ksa_principal, prefix_condition
from profiles.stack.specs import ModelBucketSpec


def preflight(spec: ModelBucketSpec) -> None:
    """`modelSource.loader: preflight`: called by the program before it registers anything, so a missing
    checkpoint (or no read access to it) stops `pulumi preview`/`up` with the commands to run and creates nothing."""
    try:
        found = gcp.storage.get_bucket_object(bucket=spec.bucket, name=spec.preflight_object)
    except Exception as exc:  # noqa: BLE001 - the provider's error text varies; the message says what to do
        raise pulumi.RunError(f"gke-inference:modelSource.loader preflight: gs://{spec.bucket}/{spec.preflight_object} "
                              f"is not readable ({str(exc).splitlines()[0][:200]}); {spec.preflight_message}") from None
    if not getattr(found, "md5hash", None) and not getattr(found, "crc32c", None):
        raise pulumi.RunError(f"gke-inference:modelSource.loader preflight: gs://{spec.bucket}/{spec.preflight_object} "
                              f"does not exist; {spec.preflight_message}")


class ModelBucket(pulumi.ComponentResource):
    bucket: pulumi.Output[str]
    reader: gcp.storage.BucketIAMMember
    cache_writer: gcp.storage.BucketIAMMember | None

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
        self.cache_writer = None
        if spec.writer_prefix:
            self.cache_writer = gcp.storage.BucketIAMMember(
                f"{name}-xla-cache-writer", bucket=self.bucket, role=BUCKET_WRITER_ROLE, member=member,
                condition=prefix_condition(spec.bucket, spec.writer_prefix), opts=child)
        self.register_outputs({"bucket": self.bucket, "reader": member})
