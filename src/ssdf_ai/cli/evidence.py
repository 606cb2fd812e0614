"""``ssdf evidence``: list, show, add, export and verify evidence.

The store lives in ``PROJECT/.ssdf`` (``--project``, default the current directory); the
environment variable ``SSDF_DATABASE_URL`` selects another database. SQLAlchemy and Alembic are
imported inside the commands, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, FORMATS_NO_SARIF, Output, command

if TYPE_CHECKING:
    from ssdf_ai.store import EvidenceStore
    from ssdf_ai.store.reports import (
        AddReport,
        ArtifactReport,
        EvidenceListReport,
        ExportReport,
        RunReport,
        VerifyReport,
    )

app = typer.Typer(
    help="List, show, add, export and verify evidence (the store is PROJECT/.ssdf).",
    no_args_is_help=True,
)

DATABASE_URL_ENV = "SSDF_DATABASE_URL"


Project = Annotated[
    Path,
    typer.Option(
        "--project",
        help="The project root; the evidence store is PROJECT/.ssdf. "
        f"{DATABASE_URL_ENV} overrides the database.",
        file_okay=False,
        show_default=False,
    ),
]


def database_url(root: Path) -> str | None:
    """The store's database URL: ``SSDF_DATABASE_URL``, else ``[store] url`` in the config.

    Args:
        root: The project root.

    Returns:
        The URL, or ``None`` for the default SQLite file under ``root/.ssdf``.
    """
    from ssdf_ai.config import load_config

    return os.environ.get(DATABASE_URL_ENV) or load_config(root).config.store.url or None


def _project(project: Path) -> Path:
    from ssdf_ai.config import find_project_root
    from ssdf_ai.errors import InputError

    if not project.is_dir():
        raise InputError(
            f"project directory {project} does not exist",
            where=project,
            hint="pass --project with the folder that holds ssdf.toml",
        )
    return find_project_root(project)


def _open(project: Path, *, create: bool) -> EvidenceStore:
    from ssdf_ai.store import EvidenceStore

    root = _project(project)
    return EvidenceStore.open(root, url=database_url(root), create=create)


def _store_name(root: Path) -> str:
    from ssdf_ai.store._db import redact_url

    url = database_url(root)
    return redact_url(url) if url else str(root / ".ssdf")


@command(app, "list", formats=FORMATS_NO_SARIF)
def list_(
    kind: Annotated[
        str,
        typer.Option("--kind", "-k", help="What to list: runs, artifacts or findings."),
    ] = "runs",
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="Show at most N, newest first; 0 for all.")
    ] = 50,
    project: Project = Path("."),
    *,
    out: Output,
) -> EvidenceListReport:
    """List recorded runs, artifacts or findings (newest first)."""
    from ssdf_ai.errors import InputError
    from ssdf_ai.store import EvidenceStore
    from ssdf_ai.store.reports import EvidenceListReport, ListKind

    try:
        what = ListKind(kind.lower())
    except ValueError:
        raise InputError(
            f"cannot list {kind!r}", hint="use --kind runs, artifacts or findings"
        ) from None
    root = _project(project)
    name = _store_name(root)
    if not EvidenceStore.exists(root, url=database_url(root)):
        return EvidenceListReport(store=name, kind=what)
    n = limit or None
    with _open(project, create=False) as store:
        counts = store.counts()
        report = EvidenceListReport(store=name, kind=what, total=counts[what.value])
        if what is ListKind.RUNS:
            report.runs = store.runs(limit=n)
        elif what is ListKind.ARTIFACTS:
            report.artifacts = store.artifacts(limit=n)
        else:
            report.findings = store.findings(limit=n)
    return report


def _parse_id(store: EvidenceStore, ident: str) -> int | str:
    """Resolve ``ident`` to a run id (int) or a full artifact digest (str)."""
    from ssdf_ai.errors import InputError
    from ssdf_ai.store._store import MIN_PREFIX

    text = ident.strip().lower()
    if text.startswith("run:"):
        number = text.removeprefix("run:")
        if not number.isdigit():
            raise InputError(f"not a run id: {ident!r}", hint="give run:N, e.g. run:3")
        return int(number)
    if text.startswith("sha256:"):
        return store.resolve_digest(text)
    if text.isdigit() and len(text) < MIN_PREFIX:
        return int(text)
    if text.isdigit():
        # Eight or more digits could be either; refuse to guess when both exist.
        is_run = _run_exists(store, int(text))
        try:
            digest = store.resolve_digest(text)
        except InputError:
            return int(text)
        if is_run:
            raise InputError(
                f"{ident!r} is both a run id and an artifact digest prefix",
                hint=f"say which: run:{text} or sha256:{text}",
            )
        return digest
    return store.resolve_digest(text)


def _run_exists(store: EvidenceStore, run_id: int) -> bool:
    from ssdf_ai.errors import InputError

    try:
        store.get_run(run_id)
    except InputError:
        return False
    return True


@command(app, "show", formats=FORMATS_ALL)
def show(
    ident: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A run id (3, run:3) or an artifact digest or unique prefix of at least 8 hex "
            "digits (sha256:…).",
            show_default=False,
        ),
    ],
    project: Project = Path("."),
    *,
    out: Output,
) -> RunReport | ArtifactReport:
    """Show a run and everything it recorded, or an artifact and where it came from.

    For a run, --format sarif gives the run's findings as SARIF.
    """
    from ssdf_ai.store.reports import ArtifactReport, RunReport

    with _open(project, create=False) as store:
        target = _parse_id(store, ident)
        if isinstance(target, int):
            detail = store.get_run(target)
            return RunReport(detail=detail, findings=[r.finding for r in detail.findings])
        records = store.artifacts(digest=target)
        # Showing evidence vouches for it: re-hash the blob (VerificationError if changed).
        data = store.read_blob(target)
        subject_ids = {r.subject_id for r in records if r.subject_id is not None}
        run_ids = sorted({r.run_id for r in records})
        return ArtifactReport(
            digest=target,
            size=len(data),
            records=records,
            subjects=store.subjects(subject_ids) if subject_ids else [],
            runs=[store.get_run(run_id).run for run_id in run_ids],
        )


@command(app, "add", formats=FORMATS_NO_SARIF)
def add(
    file: Annotated[
        Path,
        typer.Argument(
            help="The file to record, e.g. a data card or a review record.", show_default=False
        ),
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="What the file is: lower-case words joined by '-', e.g. data-card, "
            "review-record, model-card.",
            show_default=False,
        ),
    ],
    media_type: Annotated[
        str | None,
        typer.Option("--media-type", help="Its media type; guessed from the name if omitted."),
    ] = None,
    subject: Annotated[
        Path | None,
        typer.Option(
            "--subject",
            help="The file or directory the evidence is about; its content is hashed.",
        ),
    ] = None,
    subject_kind: Annotated[
        str | None,
        typer.Option(
            "--subject-kind",
            help="What the subject is: model, dataset, repository or file (default: file for "
            "a file; required for a directory).",
            show_default=False,
        ),
    ] = None,
    project: Project = Path("."),
    *,
    out: Output,
) -> AddReport:
    """Record a file that a person or another tool produced as evidence (itself a run)."""
    from ssdf_ai.errors import InputError
    from ssdf_ai.evidence import SubjectKind
    from ssdf_ai.store import guess_media_type, subject_for_path, validate_kind
    from ssdf_ai.store.reports import AddReport

    root = _project(project)
    # Check every input before the run starts, so that a typo records no failed run.
    if not file.is_file():
        raise InputError(f"no file at {file}", where=file, hint="give the file to record")
    validate_kind(kind)
    media = media_type or guess_media_type(file)
    what: SubjectKind | None = None
    if subject_kind is not None:
        try:
            what = SubjectKind(subject_kind.lower())
        except ValueError:
            names = ", ".join(k.value for k in SubjectKind)
            raise InputError(
                f"unknown subject kind {subject_kind!r}", hint=f"use {names}"
            ) from None
    subject_value = None
    if subject is None:
        if what is not None:
            raise InputError("--subject-kind needs --subject", hint="name the subject's path")
    else:
        if what is None:
            if subject.is_dir():
                raise InputError(
                    f"say what the directory {subject} is",
                    hint="add --subject-kind model, dataset or repository",
                )
            what = SubjectKind.FILE
        subject_value = subject_for_path(subject, what, root=root)
    # The command line as parsed, with the defaults it resolved to.
    argv = ["evidence", "add", str(file), "--kind", kind, "--media-type", media]
    if subject is not None and what is not None:
        argv += ["--subject", str(subject), "--subject-kind", what.value]
    with _open(root, create=True) as store:
        with store.run("evidence add", argv) as run:
            subject_id = run.add_subject(subject_value) if subject_value else None
            run.add_artifact_file(file, kind=kind, media_type=media, subject_id=subject_id)
        artifact = store.artifacts(run_id=run.id)[0]
        subject_record = store.subjects({subject_id})[0] if subject_id is not None else None
    return AddReport(run_id=run.id, artifact=artifact, subject=subject_record)


@command(app, "export", formats=FORMATS_NO_SARIF)
def export(
    archive: Annotated[
        Path,
        typer.Argument(
            help="The archive to write: .tar, .tar.gz (.tgz) or .tar.xz; written atomically.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    run: Annotated[
        list[int] | None,
        typer.Option("--run", "-r", help="A run to include (repeatable); default: every run."),
    ] = None,
    project: Project = Path("."),
    *,
    out: Output,
) -> ExportReport:
    """Write runs, their records and blobs to one archive with a manifest (SP 800-218A PS.3.1)."""
    from ssdf_ai.store.reports import ExportReport

    with _open(project, create=False) as store:
        result = store.export(archive, run_ids=run or None)
    return ExportReport(export=result)


@command(app, "verify", formats=FORMATS_ALL)
def verify(
    archive: Annotated[
        Path | None,
        typer.Argument(
            help="The archive to verify. Without it, the project's store is checked instead.",
            show_default=False,
        ),
    ] = None,
    max_members: Annotated[
        int, typer.Option("--max-members", min=1, help="Refuse archives with more members.")
    ] = 100_000,
    max_size: Annotated[
        int,
        typer.Option(
            "--max-size", min=0, help="Refuse archives whose content exceeds this many bytes."
        ),
    ] = 16 << 30,
    project: Project = Path("."),
    *,
    out: Output,
) -> VerifyReport:
    """Verify an evidence archive without extracting it (exit 1 if tampered).

    Checks each member against the manifest, and each blob against its name.
    Refuses unsafe names, links, devices and oversized input.
    Without ARCHIVE, checks the project's store (database and blobs) instead.
    """
    from ssdf_ai.store import ArchiveLimits, verify_archive
    from ssdf_ai.store.reports import VerifyReport

    if archive is None:
        with _open(project, create=False) as store:
            checked, problems = store.check()
            return VerifyReport(
                target=str(store.directory),
                target_kind="store",
                members=checked,
                findings=problems,
            )
    result = verify_archive(
        archive, ArchiveLimits(max_members=max_members, max_total_size=max_size)
    )
    return VerifyReport(
        target=result.archive,
        target_kind="archive",
        sha256=result.sha256,
        members=result.members,
        summary=result.summary,
        findings=result.problems,
    )
