"""Secret hf-secret/hf_api_token from the stack's encrypted hfToken; the value stays a Pulumi secret
(encrypted in state, `[secret]` in previews and outputs)."""

from __future__ import annotations

import pulumi

from components.kube import kube_resource
from components.wiring import child
from profiles.manifests.objects import hf_secret_object
from profiles.stack.specs import HuggingFaceSecretSpec


class HuggingFaceSecret(pulumi.ComponentResource):
    def __init__(self, name: str, spec: HuggingFaceSecretSpec, token: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("gke-inference:workload:HuggingFaceSecret", name, {}, opts)
        secret = pulumi.Output.secret(token)
        self.secret = kube_resource(hf_secret_object(spec.namespace, secret),
                                    child(self, opts, additional_secret_outputs=["stringData", "data"]))
        self.register_outputs({})
