"""Schema migrations: a new store is at head, reopening is idempotent, old stores upgrade,
newer stores are refused, and the models match the migrations exactly."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from evidence_helpers import populate

from ssdf_ai.errors import StoreError
from ssdf_ai.store import EvidenceStore, _db
from ssdf_ai.store._models import Base

TABLES = {"alembic_version", "runs", "subjects", "run_subjects", "artifacts", "findings"}


def _revision(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}


def test_schema_head_constant_matches_the_migration_scripts() -> None:
    assert _db.head_revision() == _db.SCHEMA_HEAD
    assert _db.SCHEMA_HEAD in _db.known_revisions()


def test_new_store_is_at_head_with_every_table(project: Path) -> None:
    EvidenceStore.open(project).close()
    db = project / ".ssdf" / "evidence.db"
    assert _revision(db) == [_db.SCHEMA_HEAD]
    assert _tables(db) >= TABLES


def test_opening_twice_is_idempotent(project: Path) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
    with EvidenceStore.open(project) as store:
        assert len(store.runs()) == 2
    assert _revision(project / ".ssdf" / "evidence.db") == [_db.SCHEMA_HEAD]


def test_models_match_the_migrations(store: EvidenceStore) -> None:
    assert store._engine is not None
    with store._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_an_older_store_is_upgraded(project: Path) -> None:
    EvidenceStore.open(project).close()
    engine = _db.make_engine(_db.sqlite_url(project / ".ssdf" / "evidence.db"))
    with engine.begin() as conn:
        command.downgrade(_db._alembic_config(conn), "base")
    engine.dispose()
    db = project / ".ssdf" / "evidence.db"
    assert _revision(db) == []
    assert "runs" not in _tables(db)
    with EvidenceStore.open(project) as store:
        populate(store)
    assert _revision(db) == [_db.SCHEMA_HEAD]


def test_a_store_from_a_newer_version_is_refused(project: Path) -> None:
    EvidenceStore.open(project).close()
    db = project / ".ssdf" / "evidence.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(StoreError, match="newer ssdf-ai") as info:
        EvidenceStore.open(project)
    assert "upgrade ssdf-ai" in info.value.diagnostics()
    assert _revision(db) == ["9999_future"]  # left untouched


def test_tables_without_a_revision_are_refused(project: Path) -> None:
    (project / ".ssdf").mkdir()
    with sqlite3.connect(project / ".ssdf" / "evidence.db") as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreError, match="no schema revision"):
        EvidenceStore.open(project)


def test_opening_a_store_at_head_does_not_import_alembic(project: Path) -> None:
    EvidenceStore.open(project).close()
    code = (
        "import sys\n"
        "from ssdf_ai.store import EvidenceStore\n"
        f"EvidenceStore.open({str(project)!r}, create=False).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_start_up_imports_no_database_code() -> None:
    code = (
        "import sys\n"
        "import ssdf_ai.cli\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'ssdf_ai.store._store') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
