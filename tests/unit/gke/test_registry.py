"""Issue #16 item 12: the Artifact Registry remote repository that mirrors Docker Hub, and the image path in it."""

from __future__ import annotations

import inspect

import pytest

from profiles.errors import UsageError
from profiles.gke.registry import mirrored_image, repository_args


def test_mirrored_image_keeps_the_docker_hub_path():
    image = mirrored_image("docker.io/vllm/vllm-openai:v0.32.0", "us-central1", "proj-1", "docker-hub")
    assert image == "us-central1-docker.pkg.dev/proj-1/docker-hub/vllm/vllm-openai:v0.32.0"  # not an official image


def test_official_images_live_under_library():
    assert mirrored_image("docker.io/python:3.12", "europe-west4", "p", "hub") == "europe-west4-docker.pkg.dev/p/hub/library/python:3.12"


def test_an_image_outside_docker_hub_is_refused_with_the_key():
    with pytest.raises(UsageError, match=r"gke-inference:image.mirror: .*not on Docker Hub"):
        mirrored_image("us-docker.pkg.dev/vertex-ai/vllm:1", "us-central1", "p", "hub")


def test_repository_args_use_pulumi_gcp_field_names():
    from pulumi_gcp.artifactregistry import Repository
    from pulumi_gcp.artifactregistry._inputs import (
        RepositoryRemoteRepositoryConfigArgs,
        RepositoryRemoteRepositoryConfigDockerRepositoryArgs,
    )

    args = repository_args("p", "us-central1", "hub")
    assert args["mode"] == "REMOTE_REPOSITORY" and args["format"] == "DOCKER"
    assert args["remote_repository_config"]["docker_repository"] == {"public_repository": "DOCKER_HUB"}
    assert set(args) <= set(inspect.signature(Repository._internal_init).parameters)
    remote = args["remote_repository_config"]
    assert set(remote) <= set(inspect.signature(RepositoryRemoteRepositoryConfigArgs.__init__).parameters)
    docker = inspect.signature(RepositoryRemoteRepositoryConfigDockerRepositoryArgs.__init__).parameters
    assert set(remote["docker_repository"]) <= set(docker)
