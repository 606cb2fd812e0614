"""Engines and schema migrations of the evidence store.

SQLite connections get foreign keys, the WAL journal, full synchronous commits and a busy
timeout; transactions are begun explicitly (the pysqlite driver otherwise defers ``BEGIN`` and
runs DDL outside any transaction), so a migration is all-or-nothing.

Migrations are Alembic scripts shipped inside the package (``migrations/``), run
programmatically when a store is opened. Opening a store that is already at
:data:`SCHEMA_HEAD` does not import Alembic at all: it reads one row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from ssdf_ai.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

SCHEMA_HEAD = "0001"
"""The newest revision in ``migrations/versions``; a test checks it against Alembic's head."""

SCRIPT_LOCATION = "ssdf_ai.store:migrations"
_TABLES = ("runs", "subjects", "run_subjects", "artifacts", "findings")
_BEGIN_OPTION = "ssdf_sqlite_begin"
_BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: Path) -> str:
    """Return the SQLAlchemy URL of the SQLite database file at ``path``."""
    return f"sqlite:///{path.resolve()}"


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``, configured for the evidence store.

    Args:
        url: A SQLAlchemy database URL.

    Returns:
        The engine. Nothing is connected yet.

    Raises:
        StoreError: If the URL is malformed or names a driver that is not installed.
    """
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(
            f"cannot use the evidence database URL: {exc}",
            where=redact_url(url),
            hint="check SSDF_DATABASE_URL; PostgreSQL needs a driver such as psycopg installed",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def writer(engine: Engine) -> Engine:
    """Return a view of ``engine`` whose transactions take SQLite's write lock when they begin.

    A deferred transaction that reads and then writes can fail at once with "database is
    locked" when another process committed in between; ``BEGIN IMMEDIATE`` waits for the lock
    (up to the busy timeout) instead. Other databases are unaffected.
    """
    return engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event (SQLAlchemy's documented recipe
    # for transactional DDL and correct isolation on pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    statement = connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN")
    connection.exec_driver_sql(statement)


def redact_url(url: str) -> str:
    """Return ``url`` with any password masked, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "<unparseable URL>"


def current_revision(connection: Connection) -> str | None:
    """Return the schema revision recorded in the database, or ``None`` if there is none.

    Raises:
        StoreError: If the revision table holds more than one row (branched history).
    """
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(rows) > 1:
        raise StoreError(
            f"the evidence store records several schema revisions ({', '.join(rows)})",
            hint="the store was changed by hand; restore it from a backup or an export",
        )
    return str(rows[0]) if rows else None


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    """Return every revision id in the shipped migration scripts (imports Alembic)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    """Return the head revision of the shipped migration scripts (imports Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a migration
        raise StoreError("the package ships no schema migrations")
    return head


def ensure_schema(engine: Engine, *, create: bool, where: str) -> None:
    """Bring the database to :data:`SCHEMA_HEAD`, creating the schema if allowed.

    Args:
        engine: The store's engine.
        create: Whether an empty database may be given the schema.
        where: How to name the store in errors.

    Raises:
        StoreError: If the database cannot be read, is not an evidence store, has no schema
            and ``create`` is false, or was written by a newer ssdf-ai.
    """
    try:
        with engine.connect() as connection:
            revision = current_revision(connection)
            if revision == SCHEMA_HEAD:
                return
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read the evidence store: {_reason(exc)}",
            where=where,
            hint="if the file is damaged, restore .ssdf/ from a backup or an exported archive",
        ) from exc
    if revision is None:
        if not create:
            raise StoreError(
                "no evidence store here",
                where=where,
                hint="record evidence first, e.g. `ssdf evidence add FILE --kind KIND`",
            )
        if tables & set(_TABLES):
            raise StoreError(
                "the database has evidence tables but no schema revision",
                where=where,
                hint="it was not created by ssdf-ai; use another database or a new project",
            )
    elif revision not in known_revisions():
        raise StoreError(
            f"the evidence store has schema revision {revision!r}, which this version of "
            "ssdf-ai does not know: it was written by a newer ssdf-ai",
            where=where,
            hint="upgrade ssdf-ai (pip install -U ssdf-ai) to read it",
        )
    _upgrade(engine, where)


def _upgrade(engine: Engine, where: str) -> None:
    from alembic import command

    try:
        # One IMMEDIATE transaction around the whole upgrade: it is atomic on SQLite, and two
        # processes opening a new store at once take turns instead of failing.
        with writer(engine).begin() as connection:
            if current_revision(connection) == SCHEMA_HEAD:
                return
            command.upgrade(_alembic_config(connection), "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate the evidence store to schema {SCHEMA_HEAD}: {_reason(exc)}",
            where=where,
            hint="check that the store is writable; restore it from a backup if it is damaged",
        ) from exc


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig) if orig is not None else str(exc).splitlines()[0]
