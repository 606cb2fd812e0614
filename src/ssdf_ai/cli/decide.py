"""``ssdf attest``, ``ssdf waive`` and ``ssdf approve``: signed decisions by people.

Each command checks its inputs, signs a DSSE envelope with the person's key and stores it in
the evidence store as one run (see docs/attestations.md). ``cryptography``, pydantic and
SQLAlchemy are imported inside the commands, so ``ssdf --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import Output, command
from ssdf_ai.cli.evidence import Project, _open, _project
from ssdf_ai.cli.keys import PassphraseEnv, signing_passphrase

if TYPE_CHECKING:
    from ssdf_ai.assess._decision_reports import DecisionReport
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.integrity import PrivateKey

By = Annotated[
    str,
    typer.Option(
        "--by",
        help="Who signs: a holder of --role, with a \\[\\[signers]] entry in ssdf.toml.",
        show_default=False,
    ),
]
Role = Annotated[
    str,
    typer.Option("--role", help="The role you sign in (a \\[\\[roles]] name).", show_default=False),
]
Key = Annotated[
    Path,
    typer.Option(
        "--key",
        help="Your private key file (from `ssdf keys generate`).",
        dir_okay=False,
        show_default=False,
    ),
]


def _setup(project: Path, key: Path, passphrase_env: str | None) -> tuple[LoadedConfig, PrivateKey]:
    """Load the configuration and the private key, before anything is stored."""
    from ssdf_ai.config import load_config
    from ssdf_ai.integrity import load_private_key

    loaded = load_config(_project(project))
    private_key = load_private_key(key, signing_passphrase(key, passphrase_env))
    return loaded, private_key


def attest(
    subject_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="The task or item id attested, e.g. PO.2.2 or PO.2.2.R1.",
            show_default=False,
        ),
    ],
    statement: Annotated[
        str,
        typer.Option("--statement", help="What you state is done, and how.", show_default=False),
    ],
    by: By,
    role: Role,
    key: Key,
    evidence: Annotated[
        list[Path] | None,
        typer.Option(
            "--evidence",
            metavar="FILE",
            help="A file in the project that supports the statement (repeatable); stored and "
            "named by its SHA-256.",
        ),
    ] = None,
    expires: Annotated[
        str,
        typer.Option(
            "--expires",
            help="When it stops counting: 90d, 12w, 6m (30-day months) or a date; "
            "at most 2 years away.",
        ),
    ] = "90d",
    passphrase_env: PassphraseEnv = None,
    project: Project = Path("."),
    *,
    out: Output,
) -> DecisionReport:
    """Sign an attestation that a task or item of SP 800-218A is done."""
    from ssdf_ai.assess._decision_reports import DecisionReport
    from ssdf_ai.assess.decisions import create_attestation, parse_expiry, utc_now

    now = utc_now()
    until = parse_expiry(expires, now=now)
    loaded, private_key = _setup(project, key, passphrase_env)
    files = evidence or []
    argv = ["attest", subject_id, "--statement", statement, "--by", by, "--role", role]
    argv += ["--expires", expires, *(a for f in files for a in ("--evidence", str(f)))]
    with _open(project, create=True) as store:
        result = create_attestation(
            store,
            loaded,
            subject_id=subject_id,
            statement_text=statement,
            by=by,
            role=role,
            private_key=private_key,
            expires=until,
            evidence=files,
            now=now,
            argv=argv,
        )
    return DecisionReport.from_result(result)


def waive(
    target: Annotated[
        str,
        typer.Argument(
            help="finding:<fingerprint> (16 hex digits) or control:<control id>.",
            show_default=False,
        ),
    ],
    justification: Annotated[
        str,
        typer.Option(
            "--justification",
            help="Why the risk is accepted until the waiver expires.",
            show_default=False,
        ),
    ],
    by: By,
    role: Role,
    key: Key,
    expires: Annotated[
        str,
        typer.Option(
            "--expires",
            help="When it lapses: 30d, 4w, 1m or a date; at most 2 years away.",
        ),
    ] = "30d",
    passphrase_env: PassphraseEnv = None,
    project: Project = Path("."),
    *,
    out: Output,
) -> DecisionReport:
    """Sign a waiver of a failing finding or control (it may need an approver)."""
    from ssdf_ai.assess._decision_reports import DecisionReport
    from ssdf_ai.assess.decisions import create_waiver, parse_expiry, parse_target, utc_now

    now = utc_now()
    until = parse_expiry(expires, now=now)
    parse_target(target)
    loaded, private_key = _setup(project, key, passphrase_env)
    argv = ["waive", target, "--justification", justification, "--by", by, "--role", role]
    argv += ["--expires", expires]
    with _open(project, create=True) as store:
        result = create_waiver(
            store,
            loaded,
            target=target,
            justification=justification,
            by=by,
            role=role,
            private_key=private_key,
            expires=until,
            now=now,
            argv=argv,
        )
    return DecisionReport.from_result(result)


def approve(
    waiver: Annotated[
        str,
        typer.Argument(
            metavar="WAIVER",
            help="The waiver's digest, or a unique prefix of 8+ hex digits.",
            show_default=False,
        ),
    ],
    by: By,
    role: Role,
    key: Key,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            help="When the approval lapses (default: with the waiver).",
            show_default=False,
        ),
    ] = None,
    passphrase_env: PassphraseEnv = None,
    project: Project = Path("."),
    *,
    out: Output,
) -> DecisionReport:
    """Approve another person's waiver (in a role of checks.approver_roles)."""
    from ssdf_ai.assess._decision_reports import DecisionReport
    from ssdf_ai.assess.decisions import create_approval, parse_expiry, utc_now

    now = utc_now()
    until = parse_expiry(expires, now=now) if expires is not None else None
    loaded, private_key = _setup(project, key, passphrase_env)
    argv = ["approve", waiver, "--by", by, "--role", role]
    if expires is not None:
        argv += ["--expires", expires]
    with _open(project, create=False) as store:
        result = create_approval(
            store,
            loaded,
            waiver=waiver,
            by=by,
            role=role,
            private_key=private_key,
            expires=until,
            now=now,
            argv=argv,
        )
    return DecisionReport.from_result(result)


def register(app: typer.Typer) -> None:
    """Add ``attest``, ``waive`` and ``approve`` to the root app."""
    command(app, "attest")(attest)
    command(app, "waive")(waive)
    command(app, "approve")(approve)
