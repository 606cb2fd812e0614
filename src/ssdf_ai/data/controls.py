"""The assessment's controls for data checks and adversarial samples (PW.3.1, PS.1.2, PW.3.3).

They read the recorded ``ssdf data check`` runs (every one, newest first:
:data:`~ssdf_ai.assess._facts.HISTORY_COMMANDS`) and the dataset registry; they never read data.
The datasets they ask about are the registered ones (``ssdf data register``); a project that
registered none is asked about the datasets it checked. PW.3.3 is satisfied by a recorded
``ssdf data augment --adversarial`` run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlResult, Effort, EvidenceLink
from ssdf_ai.data import rules
from ssdf_ai.findings import Outcome, Severity
from ssdf_ai.store.records import RunStatus

if TYPE_CHECKING:
    from ssdf_ai.assess._facts import Facts
    from ssdf_ai.store import RunDetail

CHECK_COMMAND = "data check"
AUGMENT_COMMAND = "data augment"
SAMPLES_KIND = "adversarial-samples"
NO_CHECK = "no data check is recorded; run `ssdf data check DATASET --label COL ...`"


def _short(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def newest_checks(facts: Facts, command: str = CHECK_COMMAND) -> dict[str, RunDetail]:
    """The newest finished run of ``command`` per dataset (its subject's name)."""
    found: dict[str, RunDetail] = {}
    for detail in facts.history.get(command, []):  # newest first
        if detail.run.status is not RunStatus.FINISHED:
            continue
        for subject in detail.subjects:
            found.setdefault(subject.name, detail)
    return found


def _datasets(facts: Facts, checked: dict[str, RunDetail]) -> list[str]:
    from ssdf_ai.provenance.controls import registry

    registered = sorted(registry(facts))
    return registered or sorted(checked)


def _link(detail: RunDetail, name: str) -> EvidenceLink:
    return EvidenceLink(
        kind="run",
        ref=f"run:{detail.run.id}",
        note=f"ssdf data check {name}: {len(detail.findings)} finding(s)",
        observed_at=detail.run.finished_at,
    )


def _waived(facts: Facts) -> set[str]:
    return {s.finding.fingerprint for s in facts.findings if s.waiver}


@control(
    "data-checked",
    title="Training data analysed for poisoning, bias, duplication and hazards",
    question="Has every registered dataset been checked with `ssdf data check` (label issues, "
    "backdoor patterns, text triggers, bias, duplicates, outliers, secrets and personal data) "
    "in its current version, with no unresolved high or critical finding?",
    task_ids=("PW.3.1",),
    item_ids=("PW.3.1.R2", "PW.3.1.C1"),
    motivation="Poisoned, biased or duplicated training data becomes a poisoned, biased or "
    "memorising model; SP 800-218A asks to analyse data for these before use, with anomaly "
    "and bias detection, and a person reviewing what the analysis flags.",
    remediation="Run `ssdf data check DATASET --label COL [--sensitive COL] --html "
    "report.html` for each dataset, review the report, and remove what it flags "
    "(`ssdf data clean`) or record a waiver with `ssdf waive`.",
    effort=Effort.MEDIUM,
)
def data_checked(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every dataset's newest check matches it and left no high finding open."""
    checked = newest_checks(facts)
    datasets = _datasets(facts, checked)
    if not checked:
        return this.result(Outcome.NOT_SATISFIED, NO_CHECK)
    from ssdf_ai.provenance.controls import registry

    registered = registry(facts)
    waived = _waived(facts)
    missing, outdated, failing = [], [], []
    links = []
    for name in datasets:
        detail = checked.get(name)
        if detail is None:
            missing.append(name)
            continue
        links.append(_link(detail, name))
        entry = registered.get(name)
        subject = next((s for s in detail.subjects if s.name == name), None)
        if entry is not None and subject is not None and subject.digest != entry.entry.digest:
            outdated.append(name)
        if any(
            r.finding.severity >= Severity.HIGH and r.finding.fingerprint not in waived
            for r in detail.findings
        ):
            failing.append(name)
    if failing:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"unresolved high or critical data findings in {_short(failing)}",
            links,
        )
    if missing or outdated:
        parts = []
        if missing:
            parts.append(f"{len(missing)} dataset(s) never checked: {_short(missing)}")
        if outdated:
            parts.append(f"checked content differs from the registered version: {_short(outdated)}")
        return this.result(Outcome.PARTIAL, "; ".join(parts), links)
    return this.result(
        Outcome.SATISFIED,
        f"all {len(datasets)} dataset(s) checked in their current version; no open high finding",
        links,
    )


@control(
    "data-integrity-monitored",
    title="Integrity of training data checked against its registration",
    question="Did the newest check of every registered dataset compare it with its registered "
    "digest and its last recorded profile, and find it unchanged (or the change reviewed)?",
    task_ids=("PS.1.2", "PW.3.1"),
    item_ids=("PS.1.2.R1", "PW.3.1.R1"),
    motivation="Data can be tampered with between collection and training; comparing it with "
    "what was registered and with its last profile finds modified, replaced or appended data.",
    remediation="Register datasets with `ssdf data register`, and run `ssdf data check` before "
    "each training run (in CI); investigate SSDF-DATA-013/014/016 findings.",
    effort=Effort.LOW,
)
def data_integrity_monitored(this: Control, facts: Facts) -> ControlResult:
    """Not satisfied while a dataset's newest check reports it changed since registration."""
    checked = newest_checks(facts)
    if not checked:
        return this.result(Outcome.NOT_SATISFIED, NO_CHECK)
    from ssdf_ai.provenance.controls import registry

    registered = sorted(registry(facts))
    if not registered:
        return this.result(
            Outcome.PARTIAL,
            f"{len(checked)} dataset(s) checked, but none is registered: there is no digest to "
            "check them against (`ssdf data register`)",
            [_link(d, n) for n, d in sorted(checked.items())],
        )
    waived = _waived(facts)
    tampered, unchecked, links = [], [], []
    for name in registered:
        detail = checked.get(name)
        if detail is None:
            unchecked.append(name)
            continue
        links.append(_link(detail, name))
        if any(
            r.finding.rule_id == rules.TAMPERED and r.finding.fingerprint not in waived
            for r in detail.findings
        ):
            tampered.append(name)
    if tampered:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"changed since registration: {_short(tampered)}",
            links,
        )
    if unchecked:
        return this.result(
            Outcome.PARTIAL,
            f"{len(unchecked)} registered dataset(s) not checked: {_short(unchecked)}",
            links,
        )
    return this.result(
        Outcome.SATISFIED,
        f"all {len(registered)} registered dataset(s) match their registration",
        links,
    )


def _accuracy(facts: Facts, detail: RunDetail) -> str:
    for artifact in detail.artifacts:
        if artifact.kind != SAMPLES_KIND:
            continue
        data = facts.artifact_bytes(artifact.digest)
        try:
            record = json.loads(data or b"")
            return (
                f"{record['attack']['attack']} eps {record['attack']['eps']}: accuracy "
                f"{record['clean_accuracy']:.2f} -> {record['adversarial_accuracy']:.2f}"
            )
        except (ValueError, KeyError, TypeError):
            return "parameters unreadable"
    return "no parameters recorded"


@control(
    "adversarial-samples",
    title="Adversarial samples made for training and testing",
    question="Have adversarial samples been generated against the models' classifiers "
    "(`ssdf data augment --adversarial`), kept apart from the data, with the attack's "
    "parameters recorded?",
    task_ids=("PW.3.3",),
    item_ids=("PW.3.3.R1",),
    motivation="Training and testing with adversarial samples makes models more robust and "
    "measures how robust they are; recording the attack's parameters makes it repeatable.",
    remediation="Run `ssdf data augment DATASET --adversarial --model MODEL --label COL --to "
    "OUT.npz` and add the samples to training or testing, or attest how adversarial samples "
    "are produced (`ssdf attest PW.3.3`) and waive this control.",
    effort=Effort.HIGH,
)
def adversarial_samples(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by a recorded augmentation run; the rationale gives the accuracy drop."""
    runs: dict[int, RunDetail] = {}
    for detail in facts.history.get(AUGMENT_COMMAND, []):
        if detail.run.status is RunStatus.FINISHED and not detail.run.exit_code:
            runs.setdefault(detail.run.id, detail)
    if not runs:
        return this.result(
            Outcome.NOT_SATISFIED,
            "no adversarial samples are recorded; run `ssdf data augment --adversarial`",
        )
    newest = max(runs.values(), key=lambda d: d.run.id)
    names = sorted({s.name for d in runs.values() for s in d.subjects if s.kind == "model"})
    link = EvidenceLink(
        kind="run",
        ref=f"run:{newest.run.id}",
        note=f"ssdf data augment: {_accuracy(facts, newest)}",
        observed_at=newest.run.finished_at,
    )
    return this.result(
        Outcome.SATISFIED,
        f"{len(runs)} adversarial sample set(s) recorded, for {_short(names)}; the newest: "
        f"{_accuracy(facts, newest)}",
        [link],
    )


CONTROLS: tuple[Control, ...] = (data_checked, data_integrity_monitored, adversarial_samples)
