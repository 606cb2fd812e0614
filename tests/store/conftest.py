"""Fixtures for the evidence store tests (helpers live in evidence_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from evidence_helpers import populate

from ssdf_ai.store import EvidenceStore


@pytest.fixture(autouse=True)
def _no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the default SQLite store unless they set SSDF_DATABASE_URL themselves."""
    monkeypatch.delenv("SSDF_DATABASE_URL", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory."""
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def store(project: Path) -> Iterator[EvidenceStore]:
    """A fresh, open store in ``project``."""
    with EvidenceStore.open(project) as opened:
        yield opened


@pytest.fixture
def exported(store: EvidenceStore, tmp_path: Path) -> Path:
    """A populated store's archive (plain tar)."""
    populate(store)
    path = tmp_path / "evidence.tar"
    store.export(path)
    return path
