"""An Artifact Registry remote repository that mirrors Docker Hub (`image.mirror: true`): nodes pull the server image
from the region's registry (through Private Google Access on private nodes) instead of from Docker Hub through the
NAT's one IP, where anonymous pulls are rate limited. Arguments are pulumi-gcp 10.2 `artifactregistry.Repository`
inputs (format, mode, remote_repository_config.docker_repository.public_repository)."""

from __future__ import annotations

from typing import Any

from profiles.errors import UsageError

API = "artifactregistry.googleapis.com"
READER_ROLE = "roles/artifactregistry.reader"  # granted to the node service account on the repository only
DOCKER_HUB = "docker.io/"


def mirrored_image(image: str, region: str, project: str, repository: str) -> str:
    """docker.io/vllm/vllm-openai:v1 -> REGION-docker.pkg.dev/PROJECT/REPO/vllm/vllm-openai:v1. Docker Hub's
    official images (one path segment, e.g. python:3) live under library/ in a remote repository."""
    if not image.startswith(DOCKER_HUB):
        raise UsageError(f"gke-inference:image.mirror: value True: the image {image} is not on Docker Hub (docker.io/...); "
                         "the mirror is a Docker Hub remote repository")
    path = image.removeprefix(DOCKER_HUB)
    if "/" not in path.split(":", 1)[0]:
        path = f"library/{path}"
    return f"{region}-docker.pkg.dev/{project}/{repository}/{path}"


def repository_args(project: str, region: str, repository: str) -> dict[str, Any]:
    return {"project": project, "location": region, "repository_id": repository, "format": "DOCKER",
            "mode": "REMOTE_REPOSITORY", "description": "Docker Hub mirror for the model-server image (gke-inference)",
            "remote_repository_config": {"description": "Docker Hub", "docker_repository": {"public_repository": "DOCKER_HUB"}}}
