"""The Artifact Registry remote repository mirroring Docker Hub (profiles/gke/registry.py) and read access on it for
the nodes' service account, so the model-server image is pulled from the region's registry."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.wiring import child
from profiles.gke.registry import READER_ROLE, repository_args
from profiles.stack.specs import ImageMirrorSpec


class ImageMirror(pulumi.ComponentResource):
    reader: gcp.artifactregistry.RepositoryIamMember | None

    def __init__(self, name: str, spec: ImageMirrorSpec, node_sa_email: pulumi.Input[str] | None,
                 opts: pulumi.ResourceOptions | None = None):
        """`node_sa_email` None: an existing cluster's nodes, whose account the stack does not know (the plan notes it)."""
        super().__init__("gke-inference:registry:ImageMirror", name, {}, opts)
        self.repository = gcp.artifactregistry.Repository(name, **repository_args(spec.project, spec.region, spec.repository),
                                                          opts=child(self, opts))
        self.reader = None
        if node_sa_email is not None:
            self.reader = gcp.artifactregistry.RepositoryIamMember(
                f"{name}-reader", project=spec.project, location=spec.region, repository=self.repository.repository_id,
                role=READER_ROLE, member=pulumi.Output.from_input(node_sa_email).apply(lambda e: f"serviceAccount:{e}"),
                opts=child(self, opts))
        self.register_outputs({"repository": self.repository.name})
