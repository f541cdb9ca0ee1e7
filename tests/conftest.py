"""Shared fixtures. Tiers: tests/unit (in-process, `make test-fast`), tests/integration (processes, the Pulumi
program under the mock runtime, plan snapshots), tests/live (a real vLLM, checkov; marked `live`)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/live/" in str(item.fspath):
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def shared_dir() -> Path | None:
    """../shared beside the checkout (present in CI and sessions), else None."""
    path = ROOT.parent / "shared"
    return path if (path / "data").is_dir() else None


@pytest.fixture(autouse=True)
def _no_user_profiles(monkeypatch):
    monkeypatch.delenv("GKE_INFERENCE_PROFILES_DIR", raising=False)
