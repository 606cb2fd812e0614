"""``ssdf deps`` and ``ssdf advisories update``: vulnerable dependencies checked against a local
OSV advisory database (PW.4.1, PW.4.4, RV.1.1 R3, PO.3.2).

``advisories update`` imports OSV records (a file, a folder, a zip, or OSV's PyPI export
downloaded) into ``PROJECT/.ssdf/advisories.sqlite`` and records the import as evidence;
``deps`` reads requirement, pyproject and lock files (and optionally an environment) and
matches them against it. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import (
    FORMATS_ALL,
    FORMATS_NO_SARIF,
    FailOn,
    Output,
    RecordRun,
    command,
    fail_threshold,
)
from ssdf_ai.cli.evidence import Project

if TYPE_CHECKING:
    from ssdf_ai.code.advisories import ImportResult
    from ssdf_ai.code.deps_report import AdvisoriesUpdateReport, DepsReport

DEPS_COMMAND = "deps"
UPDATE_COMMAND = "advisories update"
UPDATE_REPORT_KIND = "advisories-update-report"

advisories_app = typer.Typer(
    help="The local OSV advisory database that `ssdf deps` checks against.",
    no_args_is_help=True,
)

Database = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="The advisory database (default PROJECT/.ssdf/advisories.sqlite).",
        dir_okay=False,
        show_default=False,
    ),
]


def _database(root: Path, db: Path | None) -> Path:
    from ssdf_ai.code.advisories import default_path

    return db if db is not None else default_path(root)


def _rel(root: Path, path: Path) -> str:
    from ssdf_ai.provenance.registry import project_path

    return project_path(root, path)


@command(advisories_app, "update", formats=FORMATS_NO_SARIF)
def update_(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Import from this OSV JSON file, folder of them, or zip (offline).",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Download the zip from here (default OSV's PyPI/all.zip).",
            show_default=False,
        ),
    ] = None,
    db: Database = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds before a stalled download fails.")
    ] = 60.0,
    project: Project = Path("."),
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the import as evidence.")
    ] = True,
    *,
    out: Output,
) -> AdvisoriesUpdateReport:
    """Import OSV advisories into the local database (RV.1.1 R3: monitor vulnerability data).

    Without --from, OSV's PyPI export is downloaded (--url to override). Records are validated
    (malformed ones are counted and skipped) and upserted by id, keeping the newer `modified`.
    """
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.code.advisories import DEFAULT_URL, download, import_advisories
    from ssdf_ai.code.deps_report import AdvisoriesUpdateReport
    from ssdf_ai.errors import InputError

    root = _project(project)
    database = _database(root, db)
    if source is not None and url is not None:
        raise InputError("give either --from or --url, not both")
    if source is not None:
        result = import_advisories(source, database, label=_rel(root, source))
    else:
        address = url or DEFAULT_URL
        if not out.quiet:
            out.status(f"downloading {address}")
        fetched = download(address, database.parent, timeout=timeout)
        try:
            result = import_advisories(fetched, database, label=address)
        finally:
            fetched.unlink(missing_ok=True)
    report = AdvisoriesUpdateReport(
        source=result.source,
        database=_rel(root, database),
        read=result.read,
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        malformed=result.malformed,
        other_ecosystem=result.other_ecosystem,
        problems=result.problems,
        total=result.total,
        newest_modified=result.newest_modified,
        imported_at=result.imported_at,
        digest=result.digest,
    )
    if record:
        report.run_id = _record_update(root, database_url(root), report, result)
    return report


def _record_update(
    root: Path, url: str | None, report: AdvisoriesUpdateReport, result: ImportResult
) -> int:
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.store import EvidenceStore

    with (
        EvidenceStore.open(root, url=url) as store,
        store.run(UPDATE_COMMAND, ["ssdf", *sys.argv[1:]]) as run,
    ):
        subject_id = run.add_subject(
            Subject(kind=SubjectKind.FILE, name=report.database, digest=result.digest)
        )
        run.add_artifact(
            report.model_dump_json(indent=2).encode("utf-8"),
            kind=UPDATE_REPORT_KIND,
            media_type="application/json",
            subject_id=subject_id,
            name="advisories-update.json",
        )
        return run.id


def _deps(
    path: Path,
    *,
    installed: bool,
    python_env: Path | None,
    db: Path | None,
    fail_on: str | None,
    project: Path,
    record: bool,
) -> DepsReport:
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.code._deps_check import check_dependencies
    from ssdf_ai.code._record import record_check
    from ssdf_ai.code.deps import collect, current_environment, read_installed
    from ssdf_ai.config import load_config
    from ssdf_ai.errors import InputError

    root = _project(project)
    threshold = fail_threshold(fail_on, load_config(root).config.checks.fail_on)
    if not path.exists() and not path.is_symlink():
        raise InputError(
            f"{path} does not exist", where=path, hint="give the project folder or a file"
        )
    declarations = collect(path, root)
    if python_env is not None:
        read_installed(python_env, declarations, label=f"installed:{_rel(root, python_env)}")
    elif installed:
        read_installed(current_environment(), declarations, label="installed:current")
    database = _database(root, db)
    rel = _rel(root, path)
    report = check_dependencies(
        declarations,
        path=rel,
        database=database,
        database_label=_rel(root, database),
        fail_on=threshold,
    )
    if record:
        report.run_id = record_check(
            root, database_url(root), command=DEPS_COMMAND, subject=report.path, report=report
        )
    return report


def register(app: typer.Typer) -> None:
    """Add the top-level ``deps`` command and the ``advisories`` group to ``app``."""

    @command(app, "deps", formats=FORMATS_ALL)
    def deps(
        path: Annotated[
            Path,
            typer.Argument(
                help="The project folder (or one file) whose dependency declarations to read.",
                show_default=False,
            ),
        ],
        installed: Annotated[
            bool,
            typer.Option(
                "--installed/--no-installed",
                help="Also check the packages installed in the running environment.",
            ),
        ] = False,
        python_env: Annotated[
            Path | None,
            typer.Option(
                "--python-env",
                help="Also check the packages installed in this virtualenv or site-packages "
                "folder (METADATA is read; nothing is imported).",
                file_okay=False,
                show_default=False,
            ),
        ] = None,
        db: Database = None,
        fail_on: FailOn = None,
        project: Project = Path("."),
        record: RecordRun = True,
        *,
        out: Output,
    ) -> DepsReport:
        """Check dependencies against the local OSV advisory database (PW.4.4, RV.1.1 R3).

        Reads requirements*.txt / *.in (with -r/-c includes), pyproject.toml, poetry.lock,
        uv.lock, Pipfile.lock and pylock.toml, and optionally an installed environment. An
        empty or missing database is a finding. Exit 0 clean, 1 findings at or above
        --fail-on, 2 usage errors.
        """
        return _deps(
            path,
            installed=installed,
            python_env=python_env,
            db=db,
            fail_on=fail_on,
            project=project,
            record=record,
        )

    app.add_typer(advisories_app, name="advisories")
