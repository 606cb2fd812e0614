"""``ssdf assess``, ``ssdf gate`` and ``ssdf controls``: evaluate evidence against SP 800-218A."""

from __future__ import annotations

import datetime as dt
import enum
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, assert_never

import typer

from ssdf_ai.cli._common import FORMATS_ALL, Output, command

if TYPE_CHECKING:
    from ssdf_ai.assess.gate import GateReport
    from ssdf_ai.assess.model import Assessment, ImportedAssessment
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.report.base import Report

controls_app = typer.Typer(help="List the controls the assessment evaluates.", no_args_is_help=True)

# An imported assessment is a small JSON document; anything larger is refused unread.
MAX_IMPORT_BYTES = 16 << 20


class AssessFormat(enum.StrEnum):
    """What ``ssdf assess`` writes."""

    TERMINAL = "terminal"
    JSON = "json"
    HTML = "html"
    MARKDOWN = "markdown"
    OSCAL_AR = "oscal-ar"
    OSCAL_POAM = "oscal-poam"
    CISA = "cisa"
    CISA_TEXT = "cisa-text"


ProjectPath = Annotated[
    Path,
    typer.Argument(
        help="The project (a directory; searched upwards for ssdf.toml).", file_okay=False
    ),
]
RunChecks = Annotated[
    bool,
    typer.Option(
        "--run-checks/--no-run-checks",
        help="First run `ssdf code`, `secrets`, `deps` and `env` over the project when their "
        "newest recorded run is older than --checks-max-age (and record them).",
    ),
]
ChecksMaxAge = Annotated[
    float,
    typer.Option(
        "--checks-max-age",
        metavar="HOURS",
        min=0.0,
        help="How recent a code or environment check must be to be reused.",
    ),
]
Imports = Annotated[
    list[Path] | None,
    typer.Option(
        "--import",
        help="Another party's signed assessment (DSSE envelope) to use for the tasks that "
        "[responsibility] assigns to it. Repeatable.",
        dir_okay=False,
        exists=True,
    ),
]


def _project(path: Path) -> tuple[Path, LoadedConfig, str | None]:
    from ssdf_ai.cli.evidence import _project as project_root
    from ssdf_ai.cli.evidence import database_url
    from ssdf_ai.config import load_config

    root = project_root(path)
    return root, load_config(root), database_url(root)


def _import(path: Path, loaded: LoadedConfig) -> tuple[ImportedAssessment, Assessment]:
    import json

    from pydantic import ValidationError

    from ssdf_ai.assess.decisions import verify_assessment
    from ssdf_ai.assess.model import Assessment, ImportedAssessment
    from ssdf_ai.errors import InputError, VerificationError
    from ssdf_ai.evidence import sha256_bytes
    from ssdf_ai.profile import load_catalog

    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise InputError(f"{path} is larger than 16 MiB", where=path)
    data = path.read_bytes()
    try:
        envelope = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path} is not JSON: {exc}",
            where=path,
            hint="import the signed assessment another party wrote with `ssdf assess --format "
            "json --sign KEY`",
        ) from None
    parties = sorted({p for p in loaded.config.responsibility.values() if p != "self"})
    if not parties:
        raise InputError(
            "no task is assigned to another party, so there is nothing to import",
            hint='assign tasks in [responsibility] of ssdf.toml, e.g. "PW.4.4" = "provider"',
        )
    reasons = []
    for party in parties:
        try:
            payload, signer = verify_assessment(envelope, loaded, party)
        except VerificationError as error:
            reasons.append(f"{party}: {error.message}")
            continue
        try:
            theirs = Assessment.model_validate(payload)
        except ValidationError as exc:
            raise InputError(
                f"{path} is signed by {party} but is not an ssdf-ai assessment "
                f"({exc.error_count()} problem(s))",
                where=path,
            ) from None
        tasks = tuple(
            t.id for t in load_catalog().tasks() if loaded.config.party_for(t.id) == party
        )
        source = ImportedAssessment(
            party=party,
            digest=f"sha256:{sha256_bytes(data)}",
            signer=signer,
            project=theirs.project,
            created=theirs.created,
            task_ids=tasks,
        )
        return source, theirs
    raise VerificationError(
        f"{path} is not validly signed by any party this project shares tasks with",
        where=path,
        hint="; ".join(reasons) + " (add the party's key under [[signers]])",
    )


def _evaluate(
    path: Path,
    imports: list[Path] | None,
    argv: list[str],
    *,
    record: bool,
    checks_max_age: float | None = None,
    out: Output | None = None,
) -> tuple[Path, LoadedConfig, Assessment]:
    """Gather the facts and evaluate them; with ``checks_max_age`` (hours) and ``record``, first
    run the code and environment checks that have not run that recently."""
    from ssdf_ai.assess.evaluate import assess_facts, gather_facts

    root, loaded, url = _project(path)
    imported = [_import(p, loaded) for p in imports or []]
    now = dt.datetime.now(dt.UTC)
    if record and checks_max_age is not None:
        _run_checks(root, url, now, checks_max_age, ["ssdf", *argv], out)
    facts = gather_facts(root, loaded, now=now, url=url)
    assessment = assess_facts(facts, imported=imported)
    if record:
        from ssdf_ai.store import EvidenceStore

        with EvidenceStore.open(root, url=url) as store, store.run("assess", argv) as run:
            assessment = assessment.model_copy(update={"run_id": run.id})
            run.add_artifact(
                assessment.model_dump_json(indent=2).encode(),
                kind="assessment",
                media_type="application/json",
                name="assessment.json",
            )
    return root, loaded, assessment


def _run_checks(
    root: Path, url: str | None, now: dt.datetime, hours: float, argv: list[str], out: Output | None
) -> None:
    from ssdf_ai.code.auto import run_stale_checks

    quiet = out is None or out.quiet

    def started(name: str) -> None:
        if not quiet and out is not None:
            out.status(f"running ssdf {name} . (not run in the last {hours:g} hours)")

    for done in run_stale_checks(
        root, url, now=now, max_age=dt.timedelta(hours=hours), argv=argv, on_start=started
    ):
        if done.error is not None and out is not None:
            out.status(f"ssdf {done.command} could not run: {done.error}")
        elif not quiet and out is not None:
            out.status(f"  {done.findings} finding(s), recorded as run:{done.run_id}")


def _previous(
    root: Path, loaded: LoadedConfig, against: int | None, current: Assessment
) -> Assessment:
    from ssdf_ai.assess.model import Assessment
    from ssdf_ai.cli.evidence import database_url
    from ssdf_ai.errors import InputError
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(root, url=database_url(root), create=False) as store:
        earlier = [
            a
            for a in store.artifacts(kind="assessment")
            if a.run_id != current.run_id and (against is None or a.run_id == against)
        ]
        if not earlier:
            what = f"in run {against}" if against is not None else "before this one"
            raise InputError(
                f"no assessment recorded {what}",
                hint="list the assess runs with `ssdf evidence list`",
            )
        newest = max(earlier, key=lambda a: (a.created_at, a.id))
        return Assessment.model_validate_json(store.read_blob(newest.digest))


def _passphrase(env: str | None) -> bytes | None:
    from ssdf_ai.errors import InputError

    if env is None:
        return None
    value = os.environ.get(env)
    if value is None:
        raise InputError(f"environment variable {env} is not set", hint="export it first")
    return value.encode()


def _render(assessment: Assessment, fmt: AssessFormat) -> str | Report:
    if fmt is AssessFormat.TERMINAL:
        return assessment
    if fmt is AssessFormat.JSON:
        return assessment.model_dump_json(indent=2) + "\n"
    if fmt is AssessFormat.HTML:
        from ssdf_ai.report.html import render_html

        return render_html(assessment)
    if fmt is AssessFormat.MARKDOWN:
        from ssdf_ai.report.markdown import render_markdown

        return render_markdown(assessment)
    if fmt is AssessFormat.OSCAL_AR:
        from ssdf_ai.report.oscal_results import render_assessment_results

        return render_assessment_results(assessment)
    if fmt is AssessFormat.OSCAL_POAM:
        from ssdf_ai.report.oscal_results import render_poam

        return render_poam(assessment)
    if fmt is AssessFormat.CISA:
        from ssdf_ai.report.cisa import render_cisa_json

        return render_cisa_json(assessment)
    if fmt is AssessFormat.CISA_TEXT:
        from ssdf_ai.report.cisa import render_cisa_text

        return render_cisa_text(assessment)
    assert_never(fmt)


def register(app: typer.Typer) -> None:
    """Add ``assess``, ``gate`` and the ``controls`` group to the root app."""
    command(app, "assess", formats=None)(assess)
    command(app, "gate", formats=FORMATS_ALL)(gate_)
    app.add_typer(controls_app, name="controls")


def assess(
    path: ProjectPath = Path("."),
    fmt: Annotated[
        AssessFormat,
        typer.Option(
            "--format",
            "-f",
            help="terminal, json (the assessment, schema in docs/schema), html (one "
            "self-contained file), markdown (for a pull-request comment), oscal-ar, "
            "oscal-poam, cisa (the CISA attestation form as JSON) or cisa-text.",
            case_sensitive=False,
        ),
    ] = AssessFormat.TERMINAL,
    imports: Imports = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="Show what changed since the previous assessment."),
    ] = False,
    against: Annotated[
        int | None,
        typer.Option("--against", metavar="RUN", help="With --compare: the run to compare with."),
    ] = None,
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            metavar="KEY",
            help="With --format json: write the assessment as a DSSE envelope signed with "
            "this private key, for another party to import.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    passphrase_env: Annotated[
        str | None,
        typer.Option("--passphrase-env", metavar="VAR", help="Read the key's passphrase from VAR."),
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record/--no-record", help="Record the assessment in the evidence store."),
    ] = True,
    run_checks: RunChecks = True,
    checks_max_age: ChecksMaxAge = 24.0,
    *,
    out: Output,
) -> Report | str:
    """Evaluate every control and roll the results up to the 48 tasks of SP 800-218A.

    First runs `ssdf code`, `secrets`, `deps` and `env` over the project when they have not
    run within --checks-max-age hours (recorded as those commands record them);
    --no-run-checks or --no-record skips that.
    """
    import json

    from ssdf_ai.errors import InputError

    if sign is not None and fmt is not AssessFormat.JSON:
        raise InputError("--sign applies to --format json", hint="add --format json")
    if against is not None and not compare:
        raise InputError("--against needs --compare")
    if compare and fmt not in (AssessFormat.TERMINAL, AssessFormat.JSON):
        raise InputError("--compare writes terminal or json output", hint="use --format json")
    root, loaded, assessment = _evaluate(
        path,
        imports,
        sys.argv[1:],
        record=record or compare,
        checks_max_age=checks_max_age if run_checks and record else None,
        out=out,
    )
    if compare:
        from ssdf_ai.assess.compare import compare as compare_assessments

        report = compare_assessments(_previous(root, loaded, against, assessment), assessment)
        return report if fmt is AssessFormat.TERMINAL else report.model_dump_json(indent=2) + "\n"
    if sign is not None:
        from ssdf_ai.assess.decisions import sign_assessment
        from ssdf_ai.integrity.keys import load_private_key

        key = load_private_key(sign, _passphrase(passphrase_env))
        envelope = sign_assessment(assessment.model_dump_json().encode(), key)
        return json.dumps(envelope, indent=2) + "\n"
    return _render(assessment, fmt)


def gate_(
    path: ProjectPath = Path("."),
    imports: Imports = None,
    run_checks: RunChecks = True,
    checks_max_age: ChecksMaxAge = 24.0,
    *,
    out: Output,
) -> GateReport:
    """Exit 1 unless the project meets its security-check criteria (\\[checks] in ssdf.toml)."""
    from ssdf_ai.assess.gate import gate

    _, loaded, assessment = _evaluate(
        path,
        imports,
        sys.argv[1:],
        record=True,
        checks_max_age=checks_max_age if run_checks else None,
        out=out,
    )
    return gate(assessment, loaded.config.checks)


@command(controls_app, "list")
def list_controls(*, out: Output) -> Report:
    """List every control with the tasks it bears on and how to satisfy it."""
    from ssdf_ai.assess.controls import load_registry
    from ssdf_ai.assess.docs import ControlsReport

    registry = load_registry()
    return ControlsReport(
        controls=[c.meta for c in registry.controls], warnings=list(registry.warnings)
    )
