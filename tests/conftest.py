"""Fixtures shared by the whole suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# shared/ sits beside the repository (the developers' checkout and CI's clone alike).
SHARED_DIR = REPO_ROOT.parent / "shared"
SSDF = Path(sys.executable).with_name("ssdf")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared/ folder (profile, reference catalog, official schemas)."""
    if not SHARED_DIR.is_dir():
        pytest.fail(f"shared/ not found at {SHARED_DIR}: the tests need it beside the repository")
    return SHARED_DIR


@pytest.fixture(scope="session", autouse=True)
def _no_evidence_written_into_the_repository() -> Iterator[None]:
    """Commands record evidence in the current project; tests must point them elsewhere."""
    store = REPO_ROOT / ".ssdf"
    existed = store.exists()
    yield
    if not existed and store.exists():
        pytest.fail(f"a test wrote an evidence store into the repository: {store}")
