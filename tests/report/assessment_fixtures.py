"""Realistic :class:`Assessment` objects built by hand, for the report renderers' tests.

:func:`sample_assessment` covers every task of the catalog (48), every outcome and basis, controls
with remediation commands and evidence, findings with valid, invalid and no waivers, attestations
(one expired), rejected records and a task whose verdict was imported from another party.
:func:`big_assessment` blows the same up to thousands of controls and findings.

Roll-ups, coverage and the score are computed here with the default scoring rules, so they agree
with the task verdicts the way the real evaluation's do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ssdf_ai.assess.model import (
    Assessment,
    AttestationSummary,
    Basis,
    ControlEntry,
    ControlMeta,
    ControlResult,
    Coverage,
    Effort,
    EvidenceLink,
    FindingStatus,
    ImportedAssessment,
    RejectedRecord,
    RollUp,
    Scoring,
    TaskVerdict,
    WaiverSummary,
)
from ssdf_ai.findings import Finding, Location, Outcome, Severity
from ssdf_ai.profile import load_catalog

CREATED = dt.datetime(2024, 11, 5, 14, 30, tzinfo=dt.UTC)
ASSESSMENT_ID = "7d0c6f9e-3a51-4b8e-9f61-2b7f0c1d4e5a"


def digest(name: str) -> str:
    """A fake but well-formed ``sha256:`` digest derived from ``name``."""
    import hashlib

    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


# -- controls: id -> (title, tasks, outcome, effort, remediation, rationale, evidence) --------

_CONTROLS: list[tuple[str, str, tuple[str, ...], Outcome, Effort, str, str]] = [
    (
        "security-requirements-documented",
        "Security requirements documented",
        ("PO.1.1", "PO.1.2"),
        Outcome.SATISFIED,
        Effort.MEDIUM,
        "ssdf init --requirements docs/security-requirements.md",
        "docs/security-requirements.md exists and lists AI-specific requirements.",
    ),
    (
        "roles-defined",
        "Roles defined",
        ("PO.2.1",),
        Outcome.SATISFIED,
        Effort.LOW,
        "add [[roles]] to ssdf.toml",
        "ssdf.toml defines 4 roles with named members.",
    ),
    (
        "toolchain-configured",
        "Security toolchain configured",
        ("PO.3.1", "PO.3.2"),
        Outcome.SATISFIED,
        Effort.LOW,
        "ssdf config init",
        "Scan, sign and provenance are enabled in ssdf.toml.",
    ),
    (
        "evidence-retained",
        "Evidence retained for every release",
        ("PO.3.3", "PO.4.2"),
        Outcome.PARTIAL,
        Effort.MEDIUM,
        "ssdf evidence archive --release v1.4.0",
        "2 of 3 releases have archived evidence; v1.4.0 has none.",
    ),
    (
        "check-criteria-defined",
        "Security check criteria defined",
        ("PO.4.1",),
        Outcome.NOT_SATISFIED,
        Effort.LOW,
        'set checks.fail_on = "high" in ssdf.toml',
        "checks.fail_on is not set, so no finding ever fails a build.",
    ),
    (
        "environment-hardened",
        "Build environment hardened",
        ("PO.5.1", "PO.5.2"),
        Outcome.STALE,
        Effort.HIGH,
        "ssdf code permissions --fix .github/workflows",
        "The last environment check is 94 days old (limit 30).",
    ),
    (
        "model-artifacts-signed",
        "Model artifacts signed",
        ("PS.1.1", "PS.2.1"),
        Outcome.NOT_SATISFIED,
        Effort.LOW,
        "ssdf sign model models/ --key keys/release.pem",
        "models/classifier.safetensors has no signature.",
    ),
    (
        "release-archived",
        "Releases archived with their BOM",
        ("PS.3.1", "PS.3.2"),
        Outcome.SATISFIED,
        Effort.MEDIUM,
        "ssdf bom create models/ && ssdf evidence archive",
        "Every release has an archived ML-BOM and provenance.",
    ),
    (
        "training-data-verified",
        "Training data integrity verified",
        ("PW.3.1",),
        Outcome.NOT_SATISFIED,
        Effort.HIGH,
        "ssdf data verify data/train --manifest data/MANIFEST.json",
        "data/train has 3 shards whose digests differ from the manifest.",
    ),
    (
        "data-poisoning-checked",
        "Training data checked for poisoning",
        ("PW.3.2",),
        Outcome.UNKNOWN,
        Effort.MEDIUM,
        "ssdf data poisoning data/train",
        "The poisoning check could not read data/train/part-0003.parquet.",
    ),
    (
        "dependencies-audited",
        "Dependencies audited for known vulnerabilities",
        ("PW.4.1", "RV.1.1"),
        Outcome.UNKNOWN,
        Effort.LOW,
        "ssdf vulns audit requirements.txt",
        "No dependency audit has been recorded.",
    ),
    (
        "model-artifacts-scanned",
        "Model artifacts scanned, no unresolved high findings",
        ("PW.4.4",),
        Outcome.WAIVED,
        Effort.MEDIUM,
        "ssdf scan models/ && ssdf scan convert models/legacy.pkl",
        "1 critical finding in models/legacy.pkl, covered by an approved waiver.",
    ),
    (
        "secrets-absent",
        "No secrets in source",
        ("PW.5.1",),
        Outcome.SATISFIED,
        Effort.LOW,
        "ssdf code secrets .",
        "The secrets scan of the repository found nothing.",
    ),
    (
        "provenance-recorded",
        "Training provenance recorded",
        ("PW.6.2",),
        Outcome.SATISFIED,
        Effort.MEDIUM,
        "ssdf provenance record -- python train.py",
        "Run 41 recorded SLSA provenance with interpreter and CUDA versions.",
    ),
    (
        "code-reviewed",
        "Code reviewed before merge",
        ("PW.7.1", "PW.7.2"),
        Outcome.SATISFIED,
        Effort.LOW,
        "require reviews in branch protection",
        "Branch protection requires one approving review.",
    ),
    (
        "adversarial-tests-pass",
        "Adversarial regression tests pass",
        ("PW.8.2",),
        Outcome.NOT_SATISFIED,
        Effort.MEDIUM,
        "ssdf adversarial run --suite prompt-injection",
        "7 of 120 prompt-injection cases succeed (threshold 0).",
    ),
    (
        "guardrails-configured",
        "Guardrails configured by default",
        ("PW.9.1",),
        Outcome.NOT_APPLICABLE,
        Effort.MEDIUM,
        "ssdf guard init",
        "The model is not served by this project.",
    ),
    (
        "vulnerabilities-triaged",
        "Vulnerabilities triaged with VEX",
        ("RV.2.1",),
        Outcome.PARTIAL,
        Effort.MEDIUM,
        "ssdf vulns triage --vex vex.json",
        "4 of 6 advisories have a VEX statement.",
    ),
]

# -- task verdicts: id -> (outcome, basis, controls, attestation keys, party, imported_from) --

_AUTOMATED = {task: (outcome, name) for name, _, tasks, outcome, *_ in _CONTROLS for task in tasks}

_ATTESTED = {
    "PO.2.2": "att-po22",
    "PO.2.3": "att-po23-expired",
    "PW.1.1": "att-pw11",
    "PW.2.1": "att-pw21",
    "PW.4.2": "att-pw42",
    "PW.8.1": "att-pw81",
    "RV.1.2": "att-rv12",
    "RV.3.3": "att-rv33",
}

_ATTESTED_OUTCOME = {"PO.2.3": Outcome.STALE, "PW.4.2": Outcome.NOT_APPLICABLE}

_INHERITED = {"PO.5.3": "cloud-provider", "PW.6.1": "ml-platform"}
_IMPORTED = {"PS.1.2": "acme-hosting"}


def _attestations() -> list[AttestationSummary]:
    people = {
        "att-po22": ("PO.2.2", "Security training is given to every new ML engineer."),
        "att-po23-expired": ("PO.2.3", "Leadership reviewed AI security responsibilities."),
        "att-pw11": ("PW.1.1", "A threat model covers prompt injection and model theft."),
        "att-pw21": ("PW.2.1", "The design was reviewed against the security requirements."),
        "att-pw42": ("PW.4.2", "No reusable modules are created by this project."),
        "att-pw81": ("PW.8.1", "Red-team exercises were run before release 1.4."),
        "att-rv12": ("RV.1.2", "Model and code are reviewed for vulnerabilities quarterly."),
        "att-rv33": ("RV.3.3", "Root-cause analyses feed back into the training pipeline."),
    }
    out = []
    for key, (task, statement) in people.items():
        expired = key.endswith("expired")
        created = CREATED - dt.timedelta(days=400 if expired else 20)
        out.append(
            AttestationSummary(
                digest=digest(key),
                subject_id=task,
                task_id=task,
                statement=statement,
                by="Ana Lead <ana@example.org>",
                role="security-lead",
                created=created,
                expires=created + dt.timedelta(days=365),
                evidence=(
                    EvidenceLink(
                        kind="file",
                        ref=f"docs/attestations/{task}.pdf",
                        note="signed minutes",
                        observed_at=created,
                    ),
                ),
                expired=expired,
            )
        )
    return out


def _findings() -> list[Finding]:
    return [
        Finding(
            rule_id="SSDF-SCAN-001",
            severity=Severity.CRITICAL,
            message="pickle in models/legacy.pkl imports os.system",
            location=Location(path="models/legacy.pkl", address="opcode 12"),
            cwe=("CWE-502",),
            task_ids=("PW.4.4", "PW.4.4.R2"),
            remediation="ssdf scan convert models/legacy.pkl",
        ),
        Finding(
            rule_id="SSDF-CODE-002",
            severity=Severity.HIGH,
            message="hard-coded Hugging Face token",
            location=Location(path="train.py", line=12, column=9),
            cwe=("CWE-798",),
            task_ids=("PS.1.1",),
            remediation="move the token to the environment and rotate it",
        ),
        Finding(
            rule_id="SSDF-DATA-003",
            severity=Severity.MEDIUM,
            message="1.8% of training rows duplicate evaluation rows",
            location=Location(path="data/train/part-0001.parquet"),
            task_ids=("PW.3.1",),
        ),
        Finding(
            rule_id="SSDF-ADV-004",
            severity=Severity.LOW,
            message="jailbreak success rate 5.8% (threshold 0%)",
            location=Location(address="suite prompt-injection"),
            task_ids=("PW.8.2",),
        ),
        Finding(
            rule_id="SSDF-VULN-005",
            severity=Severity.INFO,
            message="numpy 1.26.0 has an advisory that does not affect this use",
            location=Location(path="requirements.txt", line=4),
            task_ids=("RV.1.1",),
        ),
    ]


def _waivers(findings: list[Finding]) -> list[WaiverSummary]:
    return [
        WaiverSummary(
            digest=digest("waiver-control"),
            target="control:model-artifacts-scanned",
            justification="legacy.pkl is loaded only in an isolated converter job until Q1.",
            by="Ben Builder",
            role="ml-engineer",
            created=CREATED - dt.timedelta(days=10),
            expires=CREATED + dt.timedelta(days=80),
            needs_approval=True,
            approved_by=("Dana Reviewer",),
            valid=True,
        ),
        WaiverSummary(
            digest=digest("waiver-finding"),
            target=f"finding:{findings[0].fingerprint}",
            justification="Same legacy file; converted in the next release.",
            by="Ben Builder",
            role="ml-engineer",
            created=CREATED - dt.timedelta(days=10),
            expires=CREATED + dt.timedelta(days=80),
            needs_approval=False,
            valid=True,
        ),
        WaiverSummary(
            digest=digest("waiver-pending"),
            target=f"finding:{findings[3].fingerprint}",
            justification="Accepted until the guard is deployed.",
            by="Ben Builder",
            role="ml-engineer",
            created=CREATED - dt.timedelta(days=2),
            expires=CREATED + dt.timedelta(days=28),
            needs_approval=True,
            valid=False,
            reason="needs an approval from a role in checks.approver_roles",
        ),
    ]


def _control_entries() -> list[ControlEntry]:
    out = []
    for i, (cid, title, tasks, outcome, effort, remediation, rationale) in enumerate(_CONTROLS):
        evidence = (
            EvidenceLink(
                kind="config", ref="config:checks.fail_on", note="threshold", observed_at=CREATED
            ),
            EvidenceLink(
                kind="run",
                ref=f"run:{40 + i}",
                note=f"ssdf run for {cid}",
                observed_at=CREATED - dt.timedelta(hours=i),
            ),
            EvidenceLink(kind="artifact", ref=digest(f"artifact-{cid}"), note="report"),
        )
        if i % 3 == 0:
            evidence += (EvidenceLink(kind="file", ref=f"reports/{cid} (1).json"),)
        out.append(
            ControlEntry(
                meta=ControlMeta(
                    id=cid,
                    title=title,
                    question=f"Is this true: {title.lower()}?",
                    task_ids=tasks,
                    item_ids=(f"{tasks[0]}.R1",),
                    motivation=f"{title} is what SP 800-218A asks of {', '.join(tasks)}.",
                    remediation=remediation,
                    effort=effort,
                ),
                result=ControlResult(
                    control_id=cid,
                    outcome=outcome,
                    rationale=rationale,
                    evidence=evidence,
                    waiver=digest("waiver-control") if outcome is Outcome.WAIVED else None,
                ),
            )
        )
    return out


def _verdicts(attestations: list[AttestationSummary]) -> list[TaskVerdict]:
    catalog = load_catalog()
    by_task = {a.task_id: a.digest for a in attestations}
    controls_of: dict[str, list[str]] = {}
    for cid, _, tasks, *_ in _CONTROLS:
        for task in tasks:
            controls_of.setdefault(task, []).append(cid)
    out = []
    for task in catalog.tasks():
        kwargs: dict[str, Any] = {
            "task_id": task.id,
            "practice_id": task.practice_id,
            "group_id": task.group_id,
            "priority": task.priority.value,
            "controls": tuple(controls_of.get(task.id, ())),
        }
        if task.id in _AUTOMATED:
            outcome, name = _AUTOMATED[task.id]
            kwargs |= {
                "outcome": outcome,
                "basis": Basis.AUTOMATED,
                "rationale": f"Control {name} is {outcome.value}.",
            }
        elif task.id in _ATTESTED:
            outcome = _ATTESTED_OUTCOME.get(task.id, Outcome.SATISFIED)
            kwargs |= {
                "outcome": outcome,
                "basis": Basis.ATTESTED,
                "attestations": (by_task[task.id],),
                "rationale": "Signed attestation by Ana Lead (security-lead)"
                + (", expired on 2024-10-06." if outcome is Outcome.STALE else "."),
            }
        elif task.id in _INHERITED:
            kwargs |= {
                "outcome": Outcome.INHERITED,
                "basis": Basis.INHERITED,
                "party": _INHERITED[task.id],
                "rationale": f"Performed by {_INHERITED[task.id]}; no assessment imported.",
            }
        elif task.id in _IMPORTED:
            party = _IMPORTED[task.id]
            kwargs |= {
                "outcome": Outcome.SATISFIED,
                "basis": Basis.INHERITED,
                "party": party,
                "imported_from": party,
                "rationale": f"Satisfied in {party}'s signed assessment of 2024-10-30.",
            }
        else:
            kwargs |= {
                "outcome": Outcome.NEEDS_ATTESTATION,
                "basis": Basis.NONE,
                "rationale": "No control covers this task and nobody has attested to it.",
            }
        verdict = TaskVerdict(**kwargs)
        value = _task_value(verdict)
        out.append(verdict.model_copy(update={"score": value}))
    return out


def _task_value(task: TaskVerdict) -> float | None:
    scoring = Scoring()
    if task.outcome in scoring.excluded:
        return None
    return scoring.values[task.outcome]


def _roll_up(node_id: str, title: str, tasks: list[TaskVerdict]) -> RollUp:
    scoring = Scoring()
    counts: dict[Outcome, int] = {}
    for t in tasks:
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    weight = earned = 0.0
    for t in tasks:
        value = _task_value(t)
        if value is not None:
            weight += scoring.weights[t.priority]
            earned += scoring.weights[t.priority] * value
    done = {Outcome.SATISFIED, Outcome.WAIVED, Outcome.NOT_APPLICABLE, Outcome.INHERITED}
    if all(t.outcome in done for t in tasks):
        outcome = Outcome.SATISFIED
    elif not any(t.outcome in {Outcome.SATISFIED, Outcome.WAIVED} for t in tasks):
        outcome = Outcome.NOT_SATISFIED
    else:
        outcome = Outcome.PARTIAL
    score = round(100 * earned / weight, 1) if weight else None
    return RollUp(id=node_id, title=title, outcome=outcome, score=score, counts=counts)


def assemble(
    *,
    tasks: list[TaskVerdict],
    controls: list[ControlEntry] | None = None,
    findings: list[FindingStatus] | None = None,
    attestations: list[AttestationSummary] | None = None,
    waivers: list[WaiverSummary] | None = None,
    rejected: list[RejectedRecord] | None = None,
    imported: list[ImportedAssessment] | None = None,
    warnings: list[str] | None = None,
    project: str = "sentiment-classifier",
) -> Assessment:
    """Build an :class:`Assessment` around ``tasks``, computing roll-ups, coverage and score."""
    catalog = load_catalog()
    practices = [
        _roll_up(p.id, p.title, [t for t in tasks if t.practice_id == p.id])
        for p in catalog.practices()
    ]
    groups = [
        _roll_up(g.id, g.title, [t for t in tasks if t.group_id == g.id]) for g in catalog.groups
    ]
    everything = _roll_up("all", "all", tasks)
    coverage = Coverage(
        automated=sum(t.basis is Basis.AUTOMATED for t in tasks),
        attested=sum(t.basis is Basis.ATTESTED for t in tasks),
        inherited=sum(t.basis is Basis.INHERITED for t in tasks),
        none=sum(t.basis is Basis.NONE for t in tasks),
    )
    return Assessment(
        id=ASSESSMENT_ID,
        created=CREATED,
        project=project,
        organization_kind="ai-model-producer",
        config_file="ssdf.toml",
        score=everything.score or 0.0,
        coverage=coverage,
        controls=controls or [],
        tasks=tasks,
        practices=practices,
        groups=groups,
        findings=findings or [],
        attestations=attestations or [],
        waivers=waivers or [],
        rejected=rejected or [],
        imported=imported or [],
        warnings=warnings or [],
        run_id=57,
    )


def sample_assessment() -> Assessment:
    """The realistic assessment described in the module docstring."""
    attestations = _attestations()
    findings = _findings()
    waivers = _waivers(findings)
    statuses = [
        FindingStatus(
            finding=f,
            run_id=50 + i,
            fingerprint=f.fingerprint,
            waiver={0: digest("waiver-finding"), 3: digest("waiver-pending")}.get(i),
        )
        for i, f in enumerate(findings)
    ]
    return assemble(
        tasks=_verdicts(attestations),
        controls=_control_entries(),
        findings=statuses,
        attestations=attestations,
        waivers=waivers,
        rejected=[
            RejectedRecord(
                digest=digest("rejected-attestation"),
                kind="attestation",
                reason="signature does not verify with any key in [[signers]]",
            ),
            RejectedRecord(
                digest=digest("rejected-waiver"),
                kind="waiver",
                reason="signed by carl@example.org, whose role ml-engineer may not waive",
            ),
        ],
        warnings=["plugin control 'acme-check' was rejected: it has no id"],
        imported=[
            ImportedAssessment(
                party="acme-hosting",
                digest=digest("imported-acme"),
                signer="security@acme-hosting.example",
                project="acme-hosting-platform",
                created=CREATED - dt.timedelta(days=6),
                task_ids=("PS.1.2",),
            )
        ],
    )


def with_task(assessment: Assessment, task_id: str, **update: Any) -> Assessment:
    """Return a copy of ``assessment`` with one task verdict changed, roll-ups recomputed."""
    tasks = []
    for t in assessment.tasks:
        if t.task_id == task_id:
            changed = TaskVerdict.model_validate(t.model_dump() | update)
            tasks.append(changed.model_copy(update={"score": _task_value(changed)}))
        else:
            tasks.append(t)
    return assemble(
        tasks=tasks,
        controls=assessment.controls,
        findings=assessment.findings,
        attestations=assessment.attestations,
        waivers=assessment.waivers,
        rejected=assessment.rejected,
        imported=assessment.imported,
        warnings=assessment.warnings,
        project=assessment.project,
    )


def big_assessment(n_controls: int = 1500, n_findings: int = 4000) -> Assessment:
    """The sample blown up: many failing controls and open findings with long text."""
    base = sample_assessment()
    catalog_tasks = [t.task_id for t in base.tasks]
    controls = list(base.controls)
    for i in range(n_controls):
        task = catalog_tasks[i % len(catalog_tasks)]
        cid = f"generated-control-{i:05d}"
        controls.append(
            ControlEntry(
                meta=ControlMeta(
                    id=cid,
                    title=f"Generated control {i} | with a pipe",
                    question="Is it so?",
                    task_ids=(task,),
                    motivation="Size test.",
                    remediation=f"ssdf fix --control {cid} " + "--flag value " * 10,
                    effort=list(Effort)[i % 3],
                ),
                result=ControlResult(
                    control_id=cid, outcome=Outcome.NOT_SATISFIED, rationale="x" * 300
                ),
            )
        )
    findings = list(base.findings)
    for i in range(n_findings):
        f = Finding(
            rule_id="SSDF-SCAN-009",
            severity=list(Severity)[i % 5],
            message=f"finding {i}: " + "long message | with pipes\nand newlines " * 8,
            location=Location(path=f"models/shard-{i:05d}.bin"),
            task_ids=(catalog_tasks[i % len(catalog_tasks)],),
        )
        findings.append(FindingStatus(finding=f, fingerprint=f.fingerprint))
    return base.model_copy(update={"controls": controls, "findings": findings})


def uniform_assessment(outcome: Outcome = Outcome.SATISFIED) -> Assessment:
    """Every task with the same outcome, resting on automated evidence; no controls or records."""
    tasks = []
    for task in load_catalog().tasks():
        verdict = TaskVerdict(
            task_id=task.id,
            practice_id=task.practice_id,
            group_id=task.group_id,
            priority=task.priority.value,
            outcome=outcome,
            basis=Basis.AUTOMATED,
            rationale=f"All {outcome.value}.",
        )
        tasks.append(verdict.model_copy(update={"score": _task_value(verdict)}))
    return assemble(tasks=tasks)
