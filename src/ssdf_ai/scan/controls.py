"""The assessment's controls for model scanning (PW.4.4, PW.7.2, RV.1.2, PW.6.1).

They read the newest recorded ``ssdf scan`` run from the evidence store; they never scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlResult, Effort, EvidenceLink
from ssdf_ai.findings import Outcome, Severity
from ssdf_ai.scan import rules

if TYPE_CHECKING:
    from ssdf_ai.assess._facts import Facts
    from ssdf_ai.store import RunDetail

SCAN_COMMAND = "scan"
NO_SCAN = "no model scan is recorded; run `ssdf scan` over the model paths"


def _scan_link(detail: RunDetail) -> EvidenceLink:
    return EvidenceLink(
        kind="run",
        ref=f"run:{detail.run.id}",
        note=f"ssdf scan: {len(detail.subjects)} file(s), {len(detail.findings)} finding(s)",
        observed_at=detail.run.finished_at,
    )


def _short(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@control(
    "models-scanned",
    title="Every model scanned, with no unresolved high or critical finding",
    question="Did the newest `ssdf scan` cover every file under the configured model paths, "
    "and is every high or critical finding it reported resolved or validly waived?",
    task_ids=("PW.4.4", "PW.7.2"),
    item_ids=("PW.4.4.R1", "PW.4.4.R2", "PW.7.2.R1"),
    motivation="Model files can carry code that runs when they are loaded (pickle), malformed "
    "content and hidden members; acquired and in-house models must be scanned before use.",
    remediation="Run `ssdf scan` over every model path in ssdf.toml, remove or convert what it "
    "flags (`ssdf convert MODEL --to safetensors`), or record a waiver with `ssdf waive`.",
    effort=Effort.MEDIUM,
)
def models_scanned(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when the newest scan covers every model file and no high finding is open."""
    detail = facts.latest.get(SCAN_COMMAND)
    if detail is None:
        return this.result(Outcome.NOT_SATISFIED, NO_SCAN)
    link = _scan_link(detail)
    open_high = [
        s
        for s in facts.findings
        if s.run_id == detail.run.id and s.finding.severity >= Severity.HIGH and not s.waiver
    ]
    if open_high:
        worst = max(open_high, key=lambda s: s.finding.severity)
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(open_high)} unresolved high or critical finding(s), e.g. "
            f"{worst.finding.rule_id} in {worst.finding.location.path}: {worst.finding.message}",
            [link],
        )
    scanned = {subject.name for subject in detail.subjects}
    models = facts.files_under(facts.loaded.config.paths.models)
    missed = [name for name in models if name not in scanned]
    if not models:
        return this.result(
            Outcome.NOT_APPLICABLE, "the configured model paths hold no files", [link]
        )
    if missed:
        return this.result(
            Outcome.PARTIAL,
            f"{len(missed)} of {len(models)} model file(s) not covered by the newest scan: "
            + _short(missed),
            [link],
        )
    return this.result(
        Outcome.SATISFIED,
        f"the newest scan covered all {len(models)} model file(s); no open high finding",
        [link],
    )


@control(
    "models-scanned-recently",
    title="Models are scanned frequently",
    question="Was the newest model scan within the configured maximum evidence age?",
    task_ids=("RV.1.2",),
    item_ids=("RV.1.2.R1", "RV.1.2.R2"),
    motivation="New attack techniques and scanner rules appear all the time; models must be "
    "scanned again regularly to find previously undetected vulnerabilities.",
    remediation="Run `ssdf scan` on a schedule (e.g. nightly in CI) so that a scan is always "
    "younger than checks.evidence.max_age_days.",
    effort=Effort.LOW,
)
def models_scanned_recently(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by a recent scan; the evaluation marks older ones stale."""
    detail = facts.latest.get(SCAN_COMMAND)
    if detail is None:
        return this.result(Outcome.NOT_SATISFIED, NO_SCAN)
    scans = sum(1 for run in facts.runs if run.command == SCAN_COMMAND)
    when = detail.run.finished_at
    stamp = when.strftime("%Y-%m-%d") if when else "an unknown date"
    return this.result(
        Outcome.SATISFIED,
        f"{scans} scan(s) recorded; the newest finished on {stamp}",
        [_scan_link(detail)],
    )


@control(
    "safe-serialization",
    title="Models use a serialization that cannot run code",
    question="Are all scanned models stored in formats that cannot run code when loaded "
    "(e.g. safetensors rather than pickle)?",
    task_ids=("PW.6.1",),
    item_ids=("PW.6.1.C1",),
    motivation="Pickle-based formats execute code on load; safe formats remove the vector "
    "entirely rather than relying on scanning.",
    remediation="Convert pickle-based models with `ssdf convert MODEL --to safetensors` and "
    "load the safetensors files instead.",
    effort=Effort.MEDIUM,
)
def safe_serialization(this: Control, facts: Facts) -> ControlResult:
    """Partial while any scanned model uses a pickle-based format."""
    detail = facts.latest.get(SCAN_COMMAND)
    if detail is None:
        return this.result(Outcome.NOT_SATISFIED, NO_SCAN)
    unsafe = sorted(
        {
            r.finding.location.path or "?"
            for r in detail.findings
            if r.finding.rule_id == rules.UNSAFE_SERIALIZATION
        }
    )
    link = _scan_link(detail)
    if unsafe:
        return this.result(
            Outcome.PARTIAL,
            f"{len(unsafe)} model file(s) use a pickle-based format: {_short(unsafe)}",
            [link],
        )
    return this.result(
        Outcome.SATISFIED, "no scanned model uses a format that runs code on load", [link]
    )


CONTROLS: tuple[Control, ...] = (models_scanned, models_scanned_recently, safe_serialization)
