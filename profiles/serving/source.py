"""Where a replica's weights come from: Hugging Face (with the token Secret) or a GCS bucket path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from profiles.checks import bucket_name, object_path
from profiles.errors import UsageError

HF_SECRET, HF_SECRET_KEY = "hf-secret", "hf_api_token"  # the Secret (and key) holding the Hugging Face token
GCS_URI = re.compile(r"^gs://([^/]*)(?:/(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class ModelSource:
    """Hugging Face (bucket None) or a GCS bucket + path holding config.json and weights."""

    bucket: Any = None  # a name, or any object (a Pulumi Output) passed through unchanged
    path: str = ""

    @property
    def from_bucket(self) -> bool:
        return self.bucket is not None


def parse_bucket_uri(uri: str, key: str = "--model-bucket-uri") -> ModelSource:
    """gs://BUCKET[/PATH] -> ModelSource; the path must hold config.json and the weights."""
    match = GCS_URI.match(uri.rstrip("/"))
    if not match:
        raise UsageError(f"{key}: value is not gs://BUCKET[/PATH]")
    bucket_name(match.group(1), f"{key} (bucket)")
    return ModelSource(match.group(1), object_path(match.group(2) or "", f"{key} (path)"))
