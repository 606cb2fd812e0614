"""The assessment's controls for code and environment checks (PW.5.1, PW.7, PO.5.1, PS.1.1,
PS.1.3, PW.4.1, PW.4.4, RV.1.1, PO.3.2).

They read the recorded runs of ``ssdf code``, ``ssdf secrets``, ``ssdf deps``, ``ssdf env``
and ``ssdf advisories update`` (newest first: :data:`~ssdf_ai.assess._facts.HISTORY_COMMANDS`);
they never read the code. ``ssdf assess`` runs the four checks first when they have not run
recently (see :mod:`ssdf_ai.code.auto`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlResult, Effort, EvidenceLink
from ssdf_ai.findings import Outcome, Severity
from ssdf_ai.store.records import RunStatus

if TYPE_CHECKING:
    from ssdf_ai.assess._facts import Facts
    from ssdf_ai.store import RunDetail

CODE_COMMAND = "code"
SECRETS_COMMAND = "secrets"  # noqa: S105 - a command name
DEPS_COMMAND = "deps"
ENV_COMMAND = "env"
ADVISORIES_COMMAND = "advisories update"
# The advisory database is stale after this long (RV.1.1 R3: monitor vulnerability databases).
ADVISORIES_MAX_AGE = dt.timedelta(days=7)


def newest(facts: Facts, command: str) -> RunDetail | None:
    """The newest finished run of ``command`` (a run that failed with exit 2 does not count)."""
    for detail in facts.history.get(command, []):  # newest first
        if detail.run.status is RunStatus.FINISHED and detail.run.exit_code in (0, 1, None):
            return detail
    return None


def _open(facts: Facts, detail: RunDetail, at_least: Severity = Severity.HIGH) -> list[str]:
    """Rule ids of the run's findings at or above ``at_least`` that no waiver covers."""
    waived = {s.finding.fingerprint for s in facts.findings if s.waiver}
    return [
        r.finding.rule_id
        for r in detail.findings
        if r.finding.severity >= at_least and r.finding.fingerprint not in waived
    ]


def _link(detail: RunDetail, what: str) -> EvidenceLink:
    names = ", ".join(s.name for s in detail.subjects) or "the project"
    return EvidenceLink(
        kind="run",
        ref=f"run:{detail.run.id}",
        note=f"ssdf {what} {names}: {len(detail.findings)} finding(s)",
        observed_at=detail.run.finished_at,
    )


def _counts(rule_ids: list[str]) -> str:
    counted: dict[str, int] = {}
    for rule_id in rule_ids:
        counted[rule_id] = counted.get(rule_id, 0) + 1
    return ", ".join(f"{n} {rule}" for rule, n in sorted(counted.items()))


def _verdict(
    this: Control, facts: Facts, command: str, what: str, missing: str
) -> ControlResult | RunDetail:
    """The common part: the failing result (no run, a stale run, open high findings), or the
    newest run when it passes."""
    detail = newest(facts, command)
    if detail is None:
        return this.result(Outcome.NOT_SATISFIED, missing)
    link = _link(detail, what)
    if facts.is_stale(detail.run.finished_at):
        if facts.loaded.config.checks.unsafe_accept_stale_evidence:
            return detail
        days = facts.loaded.config.checks.evidence.max_age_days
        return this.result(
            Outcome.STALE, f"the newest `ssdf {what}` is older than {days} days", [link]
        )
    found = _open(facts, detail)
    if found:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"the newest `ssdf {what}` left high or critical findings open: {_counts(found)}",
            [link],
        )
    return detail


def _no_high_open(this: Control, facts: Facts, command: str, missing: str) -> ControlResult:
    """Satisfied by a recent run of ``ssdf COMMAND`` with no open high or critical finding."""
    found = _verdict(this, facts, command, command, missing)
    if isinstance(found, ControlResult):
        return found
    return this.result(
        Outcome.SATISFIED,
        f"`ssdf {command}` ran recently; {len(found.findings)} lower-severity finding(s), "
        "none high or open",
        [_link(found, command)],
    )


@control(
    "code-analysed",
    title="AI code analysed for unsafe model loading and output handling",
    question="Has the project's code (Python and notebooks) been analysed with `ssdf code` "
    "recently, with no open high or critical finding (unsafe deserialisation, remote code, "
    "unpinned downloads, model output reaching eval, shells, SQL or HTML, prompt injection "
    "paths, agents that run code, TLS turned off, hard-coded tokens)?",
    task_ids=("PW.5.1", "PW.7.1", "PW.7.2"),
    item_ids=("PW.5.1.R1", "PW.5.1.R2", "PW.5.1.R3", "PW.7.1.R1", "PW.7.1.C1"),
    motivation="SP 800-218A extends secure coding to AI: model files loaded with pickle run "
    "code, model output is untrusted input, and prompts built from user input can be "
    "hijacked; code analysis that knows these patterns finds them before review does.",
    remediation="Run `ssdf code .`, fix what it reports (each finding names the fix), or "
    "suppress a reviewed line with `# ssdf: ignore[RULE] why` or waive it with `ssdf waive`.",
    effort=Effort.MEDIUM,
)
def code_analysed(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by a recent `ssdf code` run with no open high or critical finding."""
    return _no_high_open(
        this, facts, CODE_COMMAND, "no code analysis is recorded; run `ssdf code .`"
    )


@control(
    "secrets-absent",
    title="No plaintext secrets in code, history, notebooks or model metadata",
    question="Has `ssdf secrets` scanned the working tree, the git history, notebooks' saved "
    "outputs and model metadata recently, with every credential it found removed and rotated "
    "or accepted in the baseline with a reason?",
    task_ids=("PO.5.1", "PO.5.3"),
    item_ids=("PO.5.1.R6", "PO.5.3.R1"),
    motivation="A token committed once stays in the history and in every clone; one printed "
    "in a notebook output or written into a model's metadata ships with the model.",
    remediation="Run `ssdf secrets .`; rotate every credential it finds, remove it (rewrite the "
    "history where needed), load credentials from the environment or a secret store, and "
    "record reviewed false positives with `ssdf secrets . --update-baseline`.",
    effort=Effort.MEDIUM,
)
def secrets_absent(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by a recent `ssdf secrets` run with no open finding of medium or more."""
    detail = _verdict(
        this, facts, SECRETS_COMMAND, "secrets", "no secret scan is recorded; run `ssdf secrets .`"
    )
    if isinstance(detail, ControlResult):
        return detail
    found = _open(facts, detail, Severity.MEDIUM)
    if found:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"possible secrets are open: {_counts(found)}",
            [_link(detail, "secrets")],
        )
    return this.result(
        Outcome.SATISFIED, "no open secret in the newest scan", [_link(detail, "secrets")]
    )


@control(
    "dependencies-checked",
    title="Dependencies checked against a current vulnerability database",
    question="Have the project's declared and installed dependencies (the ML frameworks "
    "included) been matched with `ssdf deps` against an OSV advisory database updated in "
    "the last 7 days, with no open high or critical advisory?",
    task_ids=("PW.4.1", "PW.4.4", "RV.1.1"),
    item_ids=("PW.4.4.R1", "RV.1.1.R3"),
    motivation="ML frameworks have had critical advisories (torch.load's weights_only bypass, "
    "remote code in model loaders); SP 800-218A asks to monitor vulnerability databases for "
    "the frameworks used and to use well-secured components.",
    remediation="Run `ssdf advisories update` (or `--from` an OSV export offline), then "
    "`ssdf deps .`; upgrade to the fix versions it names, pin versions with hashes.",
    effort=Effort.LOW,
)
def dependencies_checked(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by a recent `ssdf deps` run with a fresh database and no open high advisory."""
    detail = _verdict(
        this,
        facts,
        DEPS_COMMAND,
        "deps",
        "no dependency check is recorded; run `ssdf advisories update` and `ssdf deps .`",
    )
    if isinstance(detail, ControlResult):
        return detail
    links = [_link(detail, "deps")]
    update = newest(facts, ADVISORIES_COMMAND)
    if update is None:
        return this.result(
            Outcome.PARTIAL,
            "dependencies were read, but no advisory database update is recorded "
            "(`ssdf advisories update`)",
            links,
        )
    links.append(_link(update, "advisories update"))
    finished = update.run.finished_at
    if finished is not None and finished.tzinfo is None:
        finished = finished.replace(tzinfo=dt.UTC)
    if finished is None or facts.now - finished > ADVISORIES_MAX_AGE:
        return this.result(
            Outcome.PARTIAL,
            "the advisory database was last updated more than 7 days ago",
            links,
        )
    return this.result(
        Outcome.SATISFIED,
        "dependencies matched against advisories updated in the last 7 days; none high open",
        links,
    )


@control(
    "environment-least-privilege",
    title="Weights, data, keys and CI kept apart and with least privilege",
    question="Has `ssdf env` checked recently that weights, datasets and keys are not world "
    "readable or writable, that no key, token file or weights are committed, that reward "
    "models and weights are kept apart from models and data, and that CI workflows pin "
    "actions, declare least permissions and do not run untrusted code with secrets?",
    task_ids=("PO.5.1", "PS.1.1", "PS.1.3", "PO.3.2"),
    item_ids=(
        "PO.5.1.R2",
        "PO.5.1.R3",
        "PO.5.1.R5",
        "PS.1.1.R1",
        "PS.1.1.R2",
        "PS.1.1.R3",
        "PS.1.3.R1",
        "PS.1.3.R3",
        "PO.3.2.R2",
    ),
    motivation="Weights anyone on the host can read or replace, keys in git, reward models "
    "beside the policy they score, and CI that runs a fork's code with the repository's "
    "secrets are the ordinary ways models and pipelines are stolen or altered.",
    remediation="Run `ssdf env .` and fix what it reports (chmod, git rm --cached and rotate, "
    "move reward models and weights to their own locations, pin actions by commit and set "
    "`permissions:`).",
    effort=Effort.MEDIUM,
)
def environment_least_privilege(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by a recent `ssdf env` run with no open high or critical finding."""
    return _no_high_open(
        this, facts, ENV_COMMAND, "no environment check is recorded; run `ssdf env .`"
    )


CONTROLS: tuple[Control, ...] = (
    code_analysed,
    secrets_absent,
    dependencies_checked,
    environment_least_privilege,
)
