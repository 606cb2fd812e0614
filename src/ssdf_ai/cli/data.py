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

from ssdf_ai.cli._common import FORMATS_NO_SARIF, Output, command
from ssdf_ai.cli.evidence import Project

if TYPE_CHECKING:
    from ssdf_ai.provenance.registry import DatasetEntry
    from ssdf_ai.provenance.reports import (
        ConsumedRow,
        DataListReport,
        RegistrationReport,
        RegistryRow,
        SensitiveRow,
    )
    from ssdf_ai.provenance.runs import RecordedRun

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
