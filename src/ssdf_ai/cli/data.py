"""``ssdf data``: training, testing, fine-tuning and aligning data (PW.3, PS.1.2, PS.3.2).

``data register`` records where a dataset came from, under which licence, how sensitive it is,
and its digest, as evidence (see :mod:`ssdf_ai.provenance.registry`); ``data list`` shows the
registry, flags datasets that changed since they were registered, datasets recorded runs used
without known provenance (PW.3.2 N1), and models made from sensitive data with the access
restriction ``[data]`` sets for them (PS.3.2 R2). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import re
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
    from ssdf_ai.data.augment import AttackSettings
    from ssdf_ai.data.report import DataAugmentReport, DataCheckReport, DataCleanReport
    from ssdf_ai.provenance.registry import DatasetEntry
    from ssdf_ai.provenance.reports import (
        ConsumedRow,
        DataListReport,
        RegistrationReport,
        RegistryRow,
        SensitiveRow,
    )
    from ssdf_ai.provenance.runs import RecordedRun
    from ssdf_ai.store import EvidenceStore

app = typer.Typer(
    help="Training, testing, fine-tuning and aligning data: the dataset registry and data checks.",
    no_args_is_help=True,
)

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_LICENSE_ID = re.compile(
    r"^(LicenseRef-[A-Za-z0-9.-]+|DocumentRef-[A-Za-z0-9.-]+:LicenseRef-[A-Za-z0-9.-]+"
    r"|[A-Za-z0-9][A-Za-z0-9.-]*\+?)$"
)
_OPERATORS = frozenset({"AND", "OR", "WITH"})
_OTHER = re.compile(r"^other:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_SOURCE = 2048
MAX_DESCRIPTION = 10_000


def check_source(source: str) -> str:
    """A dataset's source: a URI (``https://…``, ``s3://…``, ``hf://…``, ``file:…``,
    ``internal:…``) without whitespace or credentials.

    Raises:
        InputError: If it is empty, not URI-like, too long, or carries a password.
    """
    from urllib.parse import urlsplit

    from ssdf_ai.errors import InputError

    value = source.strip()
    hint = "give a URI such as https://…, s3://bucket/key, hf://datasets/org/name or internal:NAME"
    if not value or len(value) > MAX_SOURCE or not _URI.match(value):
        raise InputError(f"--source {source!r} is not a URI", hint=hint)
    try:
        parts = urlsplit(value)
        secret = bool(parts.password) or ("://" in value and bool(parts.username))
    except ValueError:
        raise InputError(f"--source {source!r} is not a URI", hint=hint) from None
    if secret:
        raise InputError(
            "--source carries credentials; they would be kept in the evidence store",
            hint="give the URI without user:password@ (keep secrets out of evidence, PO.5.1)",
        )
    return value


def check_license(license_id: str) -> str:
    """An SPDX licence id or expression (``MIT``, ``Apache-2.0 OR MIT``), ``LicenseRef-…``,
    ``NOASSERTION`` or ``NONE``.

    Raises:
        InputError: If it is not one.
    """
    from ssdf_ai.errors import InputError

    value = " ".join(license_id.split())
    tokens = value.replace("(", " ").replace(")", " ").split()
    ok = bool(tokens) and len(value) <= 500 and value.count("(") == value.count(")")
    for index, token in enumerate(tokens):
        if index % 2:
            ok = ok and token in _OPERATORS
        else:
            ok = ok and bool(_LICENSE_ID.match(token)) and token not in _OPERATORS
    if not ok or len(tokens) % 2 == 0:
        raise InputError(
            f"--license {license_id!r} is not an SPDX licence id or expression",
            hint="give an SPDX id such as MIT, Apache-2.0 or CC-BY-4.0 (https://spdx.org/"
            "licenses), LicenseRef-NAME for another licence, or NOASSERTION when unknown",
        )
    return value


def check_sensitive(categories: list[str]) -> tuple[str, ...]:
    """Sensitive-data categories: those of the registry, or ``other:NAME``; without repeats.

    Raises:
        InputError: For an unknown category.
    """
    from ssdf_ai.errors import InputError
    from ssdf_ai.provenance.registry import SENSITIVE_CATEGORIES

    found: list[str] = []
    for raw in categories:
        for part in raw.split(","):
            value = part.strip()
            lowered = value.lower()
            if lowered in SENSITIVE_CATEGORIES:
                value = lowered
            elif not _OTHER.match(value):
                raise InputError(
                    f"--sensitive {value!r} is not a sensitive-data category",
                    hint=f"use {', '.join(SENSITIVE_CATEGORIES)}, or other:NAME",
                )
            if value not in found:
                found.append(value)
    return tuple(found)


@command(app, "register", formats=FORMATS_NO_SARIF)
def register_(
    path: Annotated[
        Path, typer.Argument(help="The dataset: a file or a folder inside the project.")
    ],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Where it came from: a URI (https://…, s3://…, hf://datasets/…, internal:…).",
            show_default=False,
        ),
    ],
    license_: Annotated[
        str,
        typer.Option(
            "--license",
            help="Its licence: an SPDX id or expression, LicenseRef-NAME, or NOASSERTION.",
            show_default=False,
        ),
    ],
    provenance: Annotated[
        str,
        typer.Option(
            "--provenance",
            help="Whether its origin is known: known or unknown.",
            show_default=False,
        ),
    ],
    sensitive: Annotated[
        list[str] | None,
        typer.Option(
            "--sensitive",
            metavar="CATEGORY",
            help="A sensitive-data category it holds: pii, phi, pci, biometric, financial, "
            "confidential, minors, or other:NAME. Repeatable.",
            show_default=False,
        ),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option("--description", help="Free text about it.", show_default=False),
    ] = None,
    project: Project = Path("."),
    *,
    out: Output,
) -> RegistrationReport:
    """Register a dataset: its source, licence, provenance and sensitivity (PW.3.2, PS.1.2).

    The registration is recorded as evidence with the dataset's digest (SHA-256 of a file, the
    OMS root of a folder). Registering again records a new registration; the newest counts.
    """
    import datetime as dt
    import getpass

    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.errors import InputError
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.provenance.registry import (
        REGISTER_COMMAND,
        REGISTRATION_KIND,
        DatasetEntry,
        Provenance,
        content_digest,
    )
    from ssdf_ai.provenance.reports import RegistrationReport
    from ssdf_ai.store import EvidenceStore

    root = _project(project)
    if not path.exists():
        raise InputError(f"{path} does not exist", where=path, hint="give the dataset's path")
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(
            f"{path} is outside the project {root}",
            where=path,
            hint="registered datasets are named relative to the project root: move or link it "
            "into the project, or pass --project",
        ) from None
    if rel in ("", "."):
        raise InputError(
            "the project root itself cannot be registered as a dataset",
            hint="register the dataset's own file or folder",
        )
    try:
        kind = Provenance(provenance.strip().lower())
    except ValueError:
        raise InputError(
            f"--provenance {provenance!r} is neither known nor unknown",
            hint="use --provenance known when its origin is documented, else unknown",
        ) from None
    categories = check_sensitive(sensitive or [])
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InputError(f"--description is longer than {MAX_DESCRIPTION} characters")
    digest, method = content_digest(path)
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):
        user = None
    entry = DatasetEntry(
        path=rel,
        digest=digest,
        digest_method=method,
        source=check_source(source),
        license=check_license(license_),
        provenance=kind,
        sensitive=categories,
        description=description or None,
        registered_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        registered_by=user,
    )
    data = entry.model_dump_json(indent=2).encode("utf-8")
    with (
        EvidenceStore.open(root, url=database_url(root)) as store,
        store.run(REGISTER_COMMAND, ["ssdf", *sys.argv[1:]]) as run,
    ):
        subject_id = run.add_subject(Subject(kind=SubjectKind.DATASET, name=rel, digest=digest))
        run.add_artifact(
            data,
            kind=REGISTRATION_KIND,
            media_type="application/json",
            subject_id=subject_id,
            name=f"{Path(rel).name}.registration.json",
        )
        run_id = run.id
    warnings: list[str] = []
    if kind is Provenance.UNKNOWN:
        warnings.append(
            "its provenance is unknown: runs that use it are listed by `ssdf data list` (PW.3.2 N1)"
        )
    if entry.license == "NOASSERTION":
        warnings.append("its licence is unknown (NOASSERTION)")
    if categories:
        from ssdf_ai.config import load_config

        data_config = load_config(root).config.data
        warnings += [
            f"it holds {category} data: models made from it carry the restriction "
            f"{data_config.restriction_for(category)!r} (PS.3.2)"
            for category in categories
        ]
    return RegistrationReport(entry=entry.model_dump(mode="json"), run_id=run_id, warnings=warnings)


def _registry_rows(root: Path, registry: dict[str, DatasetEntry]) -> list[RegistryRow]:
    from ssdf_ai.errors import InputError
    from ssdf_ai.provenance.registry import content_digest
    from ssdf_ai.provenance.reports import RegistryRow

    rows: list[RegistryRow] = []
    for rel in sorted(registry):
        entry = registry[rel]
        target = root / rel
        current: str | None
        try:
            current = content_digest(target)[0] if target.exists() else None
        except (InputError, OSError):
            current = None
        if current is None:
            status = "missing"
        else:
            status = "unchanged" if current == entry.digest else "changed"
        rows.append(
            RegistryRow(
                path=rel,
                digest=entry.digest,
                current_digest=current,
                status=status,
                source=entry.source,
                license=entry.license,
                provenance=entry.provenance.value,
                sensitive=list(entry.sensitive),
                registered_at=entry.registered_at.isoformat().replace("+00:00", "Z"),
            )
        )
    return rows


def _unknown_provenance(
    runs: list[RecordedRun], registry: dict[str, DatasetEntry]
) -> list[ConsumedRow]:
    """Datasets runs consumed whose content is not registered with known provenance."""
    from ssdf_ai.provenance.registry import lookup
    from ssdf_ai.provenance.reports import ConsumedRow
    from ssdf_ai.provenance.runs import datasets_consumed

    rows: list[ConsumedRow] = []
    for consumed in datasets_consumed(runs):
        digests = consumed.digests or (None,)
        entries = [lookup(registry, consumed.name, d) for d in digests]
        if all(e is not None and e.provenance.value == "known" for e in entries):
            continue
        status = (
            "unknown"
            if all(e is not None for e in entries) or consumed.provenance == "unknown"
            else "unregistered"
        )
        rows.append(ConsumedRow(name=consumed.name, provenance=status, runs=list(consumed.runs)))
    return rows


def _sensitive(
    runs: list[RecordedRun], registry: dict[str, DatasetEntry], root: Path
) -> list[SensitiveRow]:
    from ssdf_ai.config import load_config
    from ssdf_ai.provenance.reports import SensitiveRow
    from ssdf_ai.provenance.runs import sensitive_outputs

    data = load_config(root).config.data
    return [
        SensitiveRow(
            name=s.name,
            kind=s.kind,
            categories=list(s.categories),
            restrictions={c: data.restriction_for(c) for c in s.categories},
            datasets=list(s.datasets),
            run=s.run,
        )
        for s in sensitive_outputs(runs, registry=registry)
    ]


@command(app, "list", formats=FORMATS_NO_SARIF)
def list_(project: Project = Path("."), *, out: Output) -> DataListReport:
    """Show the registry, data of unknown provenance, and models made from sensitive data.

    Registered datasets whose content changed since registration are flagged; datasets that
    recorded runs used unregistered or of unknown provenance are listed (PW.3.2 N1); outputs of
    runs that used sensitive data are listed with their access restriction (PS.3.2 R2).
    """
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.provenance.registry import load_registry
    from ssdf_ai.provenance.reports import DataListReport
    from ssdf_ai.provenance.runs import scan_log
    from ssdf_ai.store import EvidenceStore

    root = _project(project)
    url = database_url(root)
    registry: dict[str, DatasetEntry] = {}
    if EvidenceStore.exists(root, url=url):
        with EvidenceStore.open(root, url=url, create=False) as store:
            registry = load_registry(store)
    runs, problems = scan_log(root)
    unverified = [r for r in runs if not r.verified]
    if unverified:
        lines = ", ".join(str(r.line) for r in unverified[:20])
        problems.append(
            f"{len(unverified)} recorded run(s) did not verify (lines {lines}); "
            "see `ssdf provenance verify`"
        )
    return DataListReport(
        datasets=_registry_rows(root, registry),
        unknown_provenance=_unknown_provenance(runs, registry),
        sensitive_models=_sensitive(runs, registry, root),
        problems=problems,
    )


CHECK_COMMAND = "data check"
PROFILE_KIND = "data-profile"


def _previous_profile(store: EvidenceStore, rel: str) -> dict[str, object] | None:
    """The profile the newest recorded check of ``rel`` stored, if any."""
    import json

    for artifact in store.artifacts(PROFILE_KIND, subject=rel, limit=20):
        try:
            document = json.loads(store.read_blob(artifact.digest))
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("dataset") == rel:
            profile = document.get("profile")
            return profile if isinstance(profile, dict) else None
    return None


@command(app, "check", formats=FORMATS_ALL)
def check_(
    path: Annotated[
        Path, typer.Argument(help="The dataset: a file or a folder.", show_default=False)
    ],
    label: Annotated[
        str | None, typer.Option("--label", help="The label column.", show_default=False)
    ] = None,
    text: Annotated[
        list[str] | None,
        typer.Option("--text", help="A text column (repeatable); default: found by name."),
    ] = None,
    sensitive: Annotated[
        list[str] | None,
        typer.Option("--sensitive", help="A sensitive attribute column (repeatable)."),
    ] = None,
    response: Annotated[
        str | None,
        typer.Option("--response", help="The response column of generation data."),
    ] = None,
    checks: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="Run only this check (repeatable): text, duplicates, labels, backdoor, "
            "triggers, bias, outliers, integrity. A named check that cannot run is a finding.",
        ),
    ] = None,
    data_format: Annotated[
        str | None,
        typer.Option(
            "--data-format",
            help="The dataset's format when detection should be overridden: csv, jsonl, "
            "parquet, numpy, images, hf-arrow.",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option("--split", help="The split of a saved Hugging Face DatasetDict."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write the HTML data report (plots, flagged examples) here.",
            dir_okay=False,
        ),
    ] = None,
    fail_on: FailOn = None,
    max_rows: Annotated[
        int,
        typer.Option(
            "--max-rows", min=1, help="Most rows held in memory for the label and backdoor checks."
        ),
    ] = 200_000,
    project: Project = Path("."),
    record: RecordRun = True,
    *,
    out: Output,
) -> DataCheckReport:
    """Check a dataset for poisoning, backdoors, bias, duplication, tampering, secrets and PII.

    Reads CSV, JSON Lines (chat and instruction formats), Parquet, NumPy, image folders and
    Hugging Face datasets saved to disk, in chunks. Exit 0 clean, 1 findings at or above
    --fail-on, 2 usage errors.
    """
    return _check(
        path,
        label=label,
        text=tuple(text or ()),
        sensitive=tuple(sensitive or ()),
        response=response,
        checks=tuple(checks or ()),
        data_format=data_format,
        split=split,
        html=html,
        fail_on=fail_on,
        max_rows=max_rows,
        project=project,
        record=record,
        out=out,
    )


def _check(
    path: Path,
    *,
    label: str | None,
    text: tuple[str, ...],
    sensitive: tuple[str, ...],
    response: str | None,
    checks: tuple[str, ...],
    data_format: str | None,
    split: str | None,
    html: Path | None,
    fail_on: str | None,
    max_rows: int,
    project: Path,
    record: bool,
    out: Output,
) -> DataCheckReport:
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.config import load_config
    from ssdf_ai.data.check import CHECKS, CheckSettings, Previous, check_dataset, preview_rows
    from ssdf_ai.data.readers import open_dataset
    from ssdf_ai.data.report import DataCheckReport, DatasetInfo
    from ssdf_ai.errors import InputError
    from ssdf_ai.provenance.registry import content_digest, load_registry, lookup, project_path
    from ssdf_ai.store import EvidenceStore

    root = _project(project)
    threshold = fail_threshold(fail_on, load_config(root).config.checks.fail_on)
    unknown = sorted(set(checks) - set(CHECKS))
    if unknown:
        raise InputError(
            f"unknown check(s): {', '.join(unknown)}", hint="checks: " + ", ".join(CHECKS)
        )
    if not path.exists():
        raise InputError(f"{path} does not exist", where=path, hint="give a dataset file or folder")
    dataset = open_dataset(path, format=data_format, split=split)
    rel = project_path(root, path)
    wanted = frozenset(checks) if checks else None
    digest = method = None
    if wanted is None or "integrity" in wanted:
        digest, method = content_digest(path)
    url = database_url(root)
    registered = None
    profile = None
    if EvidenceStore.exists(root, url=url):
        with EvidenceStore.open(root, url=url, create=False) as store:
            registered = lookup(load_registry(store), rel)
            profile = _previous_profile(store, rel)
    previous = Previous(
        profile=profile,
        registered_digest=registered.digest if registered and registered.path == rel else None,
        current_digest=digest,
    )
    settings = CheckSettings(
        label=label,
        text=text,
        sensitive=sensitive,
        response=response,
        checks=wanted,
        max_rows_in_memory=max_rows,
    )
    if not out.quiet:
        out.status(f"checking {rel} ({dataset.format.value})")
    # A transient count of the rows read, on a terminal: a large dataset takes a while.
    status = out.stderr().status("reading rows") if out.progress_enabled() else None
    if status is not None and sys.stderr.isatty():
        status.start()
    else:
        status = None
    try:
        found = check_dataset(
            dataset,
            settings,
            display=rel,
            previous=previous,
            on_chunk=None if status is None else lambda n: status.update(f"{n:,} rows read"),
        )
    finally:
        if status is not None:
            status.stop()
    report = DataCheckReport(
        findings=found.findings,
        fail_on=threshold,
        dataset=DatasetInfo(
            path=rel,
            format=dataset.format.value,
            rows=int(found.profile.get("rows", 0)),
            columns=dataset.schema(),
            files=len(dataset.files()),
            digest=digest,
            digest_method=method,
            registered=registered is not None,
        ),
        settings={
            "label": label,
            "text": list(text),
            "sensitive": list(sensitive),
            "response": response,
            "checks": sorted(wanted) if wanted else list(CHECKS),
        },
        checks=found.checks,
        flagged=found.flagged,
        profile={k: v for k, v in found.profile.items() if k != "prefix_at_previous"},
    )
    page = None
    if html is not None:
        from ssdf_ai._io import atomic_write
        from ssdf_ai.data.html import render_data_report

        flagged = [row for rows in found.flagged.values() for row in rows[:200]]
        examples = preview_rows(dataset, flagged, settings)
        page = render_data_report(report, {**found.plots, "examples": examples})
        atomic_write(html, page)
        if not out.quiet:
            out.status(f"wrote the HTML data report to {html}")
    if record:
        run_id = _record_check(root, url, rel, digest, report, page)
        if not out.quiet:
            out.status(f"recorded as run:{run_id}")
    return report


def _record_check(
    root: Path,
    url: str | None,
    rel: str,
    digest: str | None,
    report: DataCheckReport,
    page: str | None,
) -> int:
    import json

    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.store import EvidenceStore

    with (
        EvidenceStore.open(root, url=url) as store,
        store.run(CHECK_COMMAND, ["ssdf", *sys.argv[1:]]) as run,
    ):
        subject_id = run.add_subject(Subject(kind=SubjectKind.DATASET, name=rel, digest=digest))
        for finding in report.findings:
            run.add_finding(finding, subject_id=subject_id)
        run.add_artifact(
            report.model_dump_json(indent=2).encode("utf-8"),
            kind="data-check-report",
            media_type="application/json",
            subject_id=subject_id,
            name="data-check-report.json",
        )
        profile = {"dataset": rel, "digest": digest, "profile": report.profile}
        run.add_artifact(
            json.dumps(profile, indent=2, sort_keys=True).encode("utf-8"),
            kind=PROFILE_KIND,
            media_type="application/json",
            subject_id=subject_id,
            name=f"{Path(rel).name}.profile.json",
        )
        if page is not None:
            run.add_artifact(
                page.encode("utf-8"),
                kind="data-report-html",
                media_type="text/html",
                subject_id=subject_id,
                name="data-report.html",
            )
        run.set_exit_code(report.exit_code())
        return run.id


CLEAN_COMMAND = "data clean"


@command(app, "clean", formats=FORMATS_NO_SARIF)
def clean_(
    path: Annotated[Path, typer.Argument(help="The dataset to clean.", show_default=False)],
    output: Annotated[
        Path,
        typer.Option(
            "--to",
            help="Where the cleaned copy goes (a new path; the source is never modified).",
            show_default=False,
        ),
    ],
    remove: Annotated[
        list[str] | None,
        typer.Option(
            "--remove",
            help="Remove the rows this check flags (repeatable): duplicates, backdoor, "
            "triggers, injection, labels, outliers, secrets, pii, unreadable. Default: "
            "duplicates, backdoor, triggers, injection, unreadable.",
            show_default=False,
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact/--no-redact",
            help="Replace secrets and personal data in kept text (CSV, JSON Lines).",
        ),
    ] = True,
    log: Annotated[
        Path | None,
        typer.Option(
            "--log",
            help="The change log (default: beside the copy, .clean-log.jsonl).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="The label column.", show_default=False)
    ] = None,
    text: Annotated[
        list[str] | None, typer.Option("--text", help="A text column (repeatable).")
    ] = None,
    response: Annotated[
        str | None, typer.Option("--response", help="The response column of generation data.")
    ] = None,
    data_format: Annotated[
        str | None,
        typer.Option("--data-format", help="Override the detected format.", show_default=False),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="As for `ssdf data check`.")
    ] = 200_000,
    project: Project = Path("."),
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the cleaning as evidence.")
    ] = True,
    *,
    out: Output,
) -> DataCleanReport:
    """Write a filtered copy of a dataset without the rows the checks flag, and a change log.

    Runs the checks of `ssdf data check`, removes the rows of the chosen checks, redacts
    secrets and personal data in the rest, and logs every removed or altered row with the
    reason. The source is never modified.
    """
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.data.check import CheckSettings, check_dataset
    from ssdf_ai.data.clean import DEFAULT_REMOVE, clean_dataset
    from ssdf_ai.data.readers import open_dataset
    from ssdf_ai.data.report import DataCleanReport
    from ssdf_ai.errors import InputError
    from ssdf_ai.provenance.registry import content_digest, project_path

    root = _project(project)
    if not path.exists():
        raise InputError(f"{path} does not exist", where=path, hint="give a dataset file or folder")
    choices = tuple(remove or DEFAULT_REMOVE)
    log_path = log or output.with_name(output.name + ".clean-log.jsonl")
    if log_path.exists():
        raise InputError(f"{log_path} exists", where=log_path, hint="give a new path with --log")
    dataset = open_dataset(path, format=data_format)
    settings = CheckSettings(
        label=label,
        text=tuple(text or ()),
        response=response,
        checks=frozenset(("text", "duplicates", "labels", "backdoor", "triggers", "outliers")),
        max_rows_in_memory=max_rows,
    )
    rel = project_path(root, path)
    if not out.quiet:
        out.status(f"checking {rel} ({dataset.format.value})")
    found = check_dataset(dataset, settings, display=rel)
    done = clean_dataset(
        dataset,
        found,
        output,
        log=log_path,
        remove=choices,
        redact_text=redact,
        unreadable=found.unreadable,
    )
    digest, _method = content_digest(output)
    report = DataCleanReport(
        source=rel,
        output=project_path(root, output),
        log=project_path(root, log_path),
        removal=list(choices),
        redacted=redact,
        rows_in=done.rows_in,
        rows_out=done.rows_out,
        removed=done.removed,
        altered=done.altered,
        unreadable=done.unreadable,
        output_digest=digest,
    )
    if record:
        report.run_id = _record_clean(root, database_url(root), path, output, log_path, report)
    return report


def _record_clean(
    root: Path, url: str | None, source: Path, output: Path, log: Path, report: DataCleanReport
) -> int:
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.provenance.registry import content_digest
    from ssdf_ai.store import EvidenceStore

    source_digest, _ = content_digest(source)
    with (
        EvidenceStore.open(root, url=url) as store,
        store.run(CLEAN_COMMAND, ["ssdf", *sys.argv[1:]]) as run,
    ):
        run.add_subject(Subject(kind=SubjectKind.DATASET, name=report.source, digest=source_digest))
        output_id = run.add_subject(
            Subject(kind=SubjectKind.DATASET, name=report.output, digest=report.output_digest)
        )
        run.add_artifact_file(
            log, kind="data-clean-log", media_type="application/jsonl", subject_id=output_id
        )
        run.add_artifact(
            report.model_dump_json(indent=2).encode("utf-8"),
            kind="data-clean-report",
            media_type="application/json",
            subject_id=output_id,
            name="data-clean-report.json",
        )
        return run.id


AUGMENT_COMMAND = "data augment"


@command(app, "augment", formats=FORMATS_NO_SARIF)
def augment_(
    path: Annotated[Path, typer.Argument(help="The dataset.", show_default=False)],
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help="The classifier: a skops file or a TorchScript archive.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--to", help="Where the adversarial samples go (.npz; a new path).", show_default=False
        ),
    ],
    label: Annotated[str, typer.Option("--label", help="The label column.", show_default=False)],
    adversarial: Annotated[
        bool,
        typer.Option("--adversarial", help="Make adversarial samples (the one kind so far)."),
    ] = False,
    attack: Annotated[str, typer.Option("--attack", help="fgsm or pgd.")] = "pgd",
    eps: Annotated[
        float, typer.Option("--eps", help="L-infinity radius, in the units of the features.")
    ] = 0.1,
    steps: Annotated[int, typer.Option("--steps", min=1, help="PGD iterations.")] = 10,
    step_size: Annotated[
        float | None,
        typer.Option(
            "--step-size", help="PGD step; default 2.5 * eps / steps.", show_default=False
        ),
    ] = None,
    fraction: Annotated[
        float, typer.Option("--fraction", help="Share of the rows to attack (seeded sample).")
    ] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample and PGD's start.")] = 0,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Most rows read into memory.")
    ] = 200_000,
    project: Project = Path("."),
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the samples as evidence.")
    ] = True,
    *,
    out: Output,
) -> DataAugmentReport:
    """Make adversarial samples (FGSM or PGD) against a classifier, kept apart from the data.

    The samples, their source rows and true labels go to a new .npz file, and the attack's
    parameters and the model's accuracy before and after to a JSON file beside it (PW.3.3).
    Models are loaded only from skops files and TorchScript archives that scan clean.
    """
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.data.augment import AttackSettings
    from ssdf_ai.errors import InputError

    if not adversarial:
        raise InputError(
            "say which samples to make: --adversarial is the one kind so far",
            hint="ssdf data augment DATA --adversarial --model MODEL --label COL --to OUT.npz",
        )
    root = _project(project)
    settings = AttackSettings(
        attack=attack.lower(),
        eps=eps,
        steps=steps,
        step_size=step_size,
        fraction=fraction,
        seed=seed,
    )
    settings.check()
    report, parameters, digests = _augment(root, path, model, output, label, settings, max_rows)
    if record:
        report.run_id = _record_augment(
            root, database_url(root), output, parameters, digests, report
        )
    return report


def _augment(
    root: Path,
    path: Path,
    model: Path,
    output: Path,
    label: str,
    settings: AttackSettings,
    max_rows: int,
) -> tuple[DataAugmentReport, Path, dict[str, str]]:
    """Make the samples and write them; return the report, the parameters file and the
    digests of the dataset and the model (hashed once, for the record and the evidence)."""
    import dataclasses
    import json

    import numpy as np

    from ssdf_ai._io import atomic_write
    from ssdf_ai.data.augment import adversarial_samples
    from ssdf_ai.data.check import numeric_features
    from ssdf_ai.data.readers import open_dataset
    from ssdf_ai.data.report import DataAugmentReport
    from ssdf_ai.errors import InputError
    from ssdf_ai.provenance.registry import content_digest, project_path

    if not path.exists():
        raise InputError(f"{path} does not exist", where=path, hint="give a dataset file or folder")
    parameters = output.with_name(output.name + ".json")
    for target in (output, parameters):
        if target.exists() or target.is_symlink():
            raise InputError(f"{target} exists", where=target, hint="give a new path with --to")
    dataset = open_dataset(path)
    x, y, names = numeric_features(dataset, label, max_rows)
    found = adversarial_samples(x, y, model, settings)
    data = {
        "X": found.features.astype(np.float32),
        "y": np.asarray([str(v) for v in found.labels]),
        "source_row": np.asarray(found.source_rows, dtype=np.int64),
    }
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        with tmp.open("wb") as handle:
            np.savez(handle, **data)  # no object arrays: loads with allow_pickle=False
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    digests = {"dataset": content_digest(path)[0], "model": content_digest(model)[0]}
    attack = dataclasses.asdict(settings)
    attack["step_size"] = settings.step_size or 2.5 * settings.eps / settings.steps
    record = {
        "adversarial": True,
        "attack": attack,
        "method": found.method,
        "model": {"path": project_path(root, model), "sha256": digests["model"]},
        "dataset": {"path": project_path(root, path), "digest": digests["dataset"]},
        "features": names,
        "label": label,
        "rows": len(found.source_rows),
        "clean_accuracy": found.clean_accuracy,
        "adversarial_accuracy": found.adversarial_accuracy,
        "clip_range": list(found.bounds),
    }
    atomic_write(parameters, json.dumps(record, indent=2, sort_keys=True) + "\n")
    report = DataAugmentReport(
        source=project_path(root, path),
        model=project_path(root, model),
        output=project_path(root, output),
        parameters=project_path(root, parameters),
        attack=attack,
        method=found.method,
        rows=len(found.source_rows),
        clean_accuracy=found.clean_accuracy,
        adversarial_accuracy=found.adversarial_accuracy,
    )
    return report, parameters, digests


def _record_augment(
    root: Path,
    url: str | None,
    output: Path,
    parameters: Path,
    digests: dict[str, str],
    report: DataAugmentReport,
) -> int:
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.provenance.registry import content_digest
    from ssdf_ai.store import EvidenceStore

    with (
        EvidenceStore.open(root, url=url) as store,
        store.run(AUGMENT_COMMAND, ["ssdf", *sys.argv[1:]]) as run,
    ):
        run.add_subject(
            Subject(kind=SubjectKind.DATASET, name=report.source, digest=digests["dataset"])
        )
        run.add_subject(Subject(kind=SubjectKind.MODEL, name=report.model, digest=digests["model"]))
        output_id = run.add_subject(
            Subject(kind=SubjectKind.DATASET, name=report.output, digest=content_digest(output)[0])
        )
        run.add_artifact_file(
            parameters,
            kind="adversarial-samples",
            media_type="application/json",
            subject_id=output_id,
        )
        return run.id
