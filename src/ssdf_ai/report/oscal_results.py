"""The assessment in OSCAL: assessment results, and a plan of action and milestones (POA&M).

**Assessment results** (:func:`render_assessment_results`), OSCAL 1.1.2: one ``result`` whose
``reviewed-controls`` include all controls of the profile, with

- an *observation* per control result (method ``TEST``: an automated check of evidence; plus
  ``EXAMINE`` where the control read signed attestations), per verified attestation
  (``EXAMINE``: a person's signed statement was examined), per imported assessment
  (``EXAMINE``) and per open finding (``TEST``, type ``finding``); each lists its evidence as
  ``relevant-evidence``. ``INTERVIEW`` is never used: ssdf-ai interviews nobody.
- a *finding* per task, whose ``target`` is ``{type: objective-id, target-id: <task id as in our
  OSCAL catalog>, status: {state, reason}}``. OSCAL knows only ``satisfied`` and
  ``not-satisfied``, so the detailed outcome rides along in the ``outcome`` property (namespace
  :data:`~ssdf_ai.profile.oscal.NS`); see :data:`OSCAL_STATE` for the mapping. Waived and
  inherited tasks are *not* reported as satisfied: a waiver accepts a risk, it does not remove
  it (the POA&M records it as ``deviation-approved``), and an inherited task without an imported
  verdict has not been shown to be done by anyone.

``import-ap`` must point at the assessment plan. ssdf-ai does not write one (its plan is the
configuration plus the profile), and OSCAL forbids a bare ``#`` (a fragment must name a
back-matter resource), so the default is the relative reference ``./assessment-plan.json``: put
an assessment plan beside the results, or pass the real location.

**POA&M** (:func:`render_poam`): a ``poam-item`` with its ``risk`` for every task that needs
work (not satisfied, partial, stale, unknown, needs attestation) or is waived, every control
that is not satisfied or is waived, and every open finding; the risk's ``remediations`` carry
the control's exact command. Risk status: ``open`` (``investigating`` for unknown outcomes),
``deviation-requested`` for a finding whose waiver awaits approval, ``deviation-approved`` for a
waived task, control or finding (with the waiver's expiry as the deadline). OSCAL requires at
least one item, so a POA&M with nothing to do holds one closed item saying so.

Every uuid is a UUIDv5 of the assessment id and the element it names
(:func:`~ssdf_ai.profile.oscal.stable_uuid`), so re-rendering the same assessment gives the
same document, and the same task has the same finding uuid in every rendering of it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ssdf_ai._version import __version__
from ssdf_ai.findings import Outcome
from ssdf_ai.profile.oscal import NS, OSCAL_VERSION, stable_uuid, token
from ssdf_ai.report._assessment import (
    ATTENTION,
    OUTCOME_LABEL,
    finding_waived,
    stamp,
    utc,
    waivers_by_digest,
)

if TYPE_CHECKING:
    from ssdf_ai.assess.model import (
        Assessment,
        AttestationSummary,
        ControlEntry,
        EvidenceLink,
        FindingStatus,
        ImportedAssessment,
        TaskVerdict,
        WaiverSummary,
    )

DEFAULT_IMPORT_AP_HREF = "./assessment-plan.json"
"""Where the assessment results say the assessment plan is, unless told otherwise."""

EVIDENCE_URN = "urn:ssdf-ai:evidence"
"""Prefix of the hrefs of evidence that is not a project file: ``urn:ssdf-ai:evidence:<kind>:<ref>``
(a run, an artifact or envelope digest, a configuration key, a finding fingerprint); the
evidence store resolves them."""

OSCAL_STATE: dict[Outcome, tuple[str, str]] = {
    Outcome.SATISFIED: ("satisfied", "pass"),
    Outcome.NOT_APPLICABLE: ("satisfied", "other"),
    Outcome.WAIVED: ("not-satisfied", "other"),
    Outcome.PARTIAL: ("not-satisfied", "fail"),
    Outcome.NOT_SATISFIED: ("not-satisfied", "fail"),
    Outcome.STALE: ("not-satisfied", "other"),
    Outcome.NEEDS_ATTESTATION: ("not-satisfied", "other"),
    Outcome.UNKNOWN: ("not-satisfied", "other"),
    Outcome.INHERITED: ("not-satisfied", "other"),
}
"""OSCAL objective status (state, reason) for each outcome."""

_STATE_REMARK: dict[Outcome, str] = {
    Outcome.NOT_APPLICABLE: "Not applicable to this project.",
    Outcome.WAIVED: "The failure is accepted by a valid waiver (deviation approved); not remedied.",
    Outcome.STALE: "The evidence or attestation has expired.",
    Outcome.NEEDS_ATTESTATION: "No evidence and no attestation.",
    Outcome.UNKNOWN: "The evidence could not be evaluated.",
    Outcome.INHERITED: "Performed by another party; no verdict from that party was imported.",
}

# What to do about a task, by outcome, when its controls give no command.
_TASK_ACTION: dict[Outcome, str] = {
    Outcome.NOT_SATISFIED: "Fix the failing controls listed for the task.",
    Outcome.PARTIAL: "Complete the controls that are only partly satisfied.",
    Outcome.STALE: "Renew the expired attestation, or re-run the checks to refresh the evidence.",
    Outcome.UNKNOWN: "Re-run the checks whose evidence could not be evaluated, and fix the cause.",
    Outcome.NEEDS_ATTESTATION: (
        "Cover the task with an automated control, or have a person in a configured role sign "
        "an attestation for it."
    ),
    Outcome.WAIVED: "Remedy the waived failure before the waiver expires.",
}


def render_assessment_results(
    assessment: Assessment, *, import_ap_href: str = DEFAULT_IMPORT_AP_HREF
) -> str:
    """Render an assessment as an OSCAL 1.1.2 assessment-results document.

    Args:
        assessment: The assessment.
        import_ap_href: Where the assessment plan is (see the module docstring).

    Returns:
        The JSON text, ending with a newline.
    """
    a = assessment
    ids = _Ids(a.id)
    observations: list[dict[str, Any]] = []
    observations += [_control_observation(ids, c, a.created) for c in a.controls]
    observations += [_attestation_observation(ids, x) for x in a.attestations]
    observations += [_imported_observation(ids, i) for i in a.imported]
    keys = _finding_keys(a)
    observations += [
        _finding_observation(ids, a, s, k) for s, k in zip(a.findings, keys, strict=True)
    ]
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": _line(f"SP 800-218A assessment of {a.project}"),
        "description": (
            f"Evaluation of {len(a.controls)} controls over the project's evidence, rolled up to "
            f"the {len(a.tasks)} tasks of {a.profile}. Score {a.score:.1f} of 100."
        ),
        "start": stamp(a.created),
        "end": stamp(a.created),
        "props": _props(
            ("score", f"{a.score:.1f}"),
            ("coverage-automated", str(a.coverage.automated)),
            ("coverage-attested", str(a.coverage.attested)),
            ("coverage-inherited", str(a.coverage.inherited)),
            ("coverage-none", str(a.coverage.none)),
            ("run-id", None if a.run_id is None else str(a.run_id)),
        ),
        "reviewed-controls": {
            "description": "Every task of the SP 800-218A profile (ssdf-ai OSCAL catalog).",
            "control-selections": [{"include-all": {}}],
        },
    }
    if observations:
        result["observations"] = observations
    if a.warnings:
        result["remarks"] = "Warnings:\n" + "\n".join(f"- {w}" for w in a.warnings)
    findings = [_task_finding(ids, a, t) for t in a.tasks]
    if findings:
        result["findings"] = findings
    doc = {
        "uuid": ids("assessment-results"),
        "metadata": _metadata(a, f"SP 800-218A assessment results: {a.project}"),
        "import-ap": {
            "href": import_ap_href,
            "remarks": "ssdf-ai's plan is the project's configuration and the SP 800-218A profile.",
        },
        "results": [result],
    }
    return json.dumps({"assessment-results": doc}, indent=2, ensure_ascii=False) + "\n"


def render_poam(assessment: Assessment) -> str:
    """Render an assessment as an OSCAL 1.1.2 plan of action and milestones.

    Args:
        assessment: The assessment.

    Returns:
        The JSON text, ending with a newline.
    """
    a = assessment
    ids = _Ids(a.id)
    waivers = waivers_by_digest(a)
    controls = {c.meta.id: c for c in a.controls}
    observations: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []

    for t in a.tasks:
        if t.outcome not in ATTENTION and t.outcome is not Outcome.WAIVED:
            continue
        entries = [controls[c] for c in t.controls if c in controls]
        failing = [e for e in entries if e.result.outcome not in _OK_CONTROL]
        commands = [f"{e.meta.id}: {e.meta.remediation}" for e in failing]
        action = _TASK_ACTION[t.outcome]
        remedy = action + ("\n" + "\n".join(commands) if commands else "")
        status = _risk_status(t.outcome)
        risk = _risk(
            ids,
            f"task/{t.task_id}",
            title=f"Task {t.task_id} is {OUTCOME_LABEL[t.outcome]}",
            description=t.rationale,
            statement=(
                f"SP 800-218A task {t.task_id} ({t.priority} priority) is not shown to be "
                "performed, so the risk it addresses is not reduced."
            ),
            status=status,
            remedy=remedy,
            props=[("task-id", t.task_id), ("priority", t.priority), ("outcome", t.outcome)],
            observations=[ids(f"observation/control/{e.meta.id}") for e in failing],
        )
        risks.append(risk)
        items.append(
            _item(
                ids,
                f"task/{t.task_id}",
                title=f"Task {t.task_id}: {OUTCOME_LABEL[t.outcome]}",
                description=f"{t.rationale}\n\nRemediation: {remedy}",
                props=[
                    ("kind", "task"),
                    ("task-id", t.task_id),
                    ("priority", t.priority),
                    ("outcome", t.outcome),
                    ("basis", t.basis),
                ],
                risk=risk["uuid"],
                observations=[ids(f"observation/control/{e.meta.id}") for e in failing],
            )
        )

    for entry in a.controls:
        res = entry.result
        if res.outcome in _OK_CONTROL:
            continue
        waiver = waivers.get(res.waiver) if res.waiver else None
        observations.append(_control_observation(ids, entry, a.created))
        status = _risk_status(res.outcome)
        risk = _risk(
            ids,
            f"control/{entry.meta.id}",
            title=f"Control {entry.meta.id} is {OUTCOME_LABEL[res.outcome]}",
            description=f"{entry.meta.question} {res.rationale}",
            statement=entry.meta.motivation,
            status=status,
            remedy=entry.meta.remediation,
            props=[("control-id", entry.meta.id), ("effort", entry.meta.effort)]
            + [("task-id", t) for t in entry.meta.task_ids],
            observations=[ids(f"observation/control/{entry.meta.id}")],
            waiver=waiver,
        )
        risks.append(risk)
        items.append(
            _item(
                ids,
                f"control/{entry.meta.id}",
                title=f"{entry.meta.title} ({entry.meta.id})",
                description=(
                    f"{res.rationale}\n\nRemediation ({entry.meta.effort.value} effort): "
                    f"{entry.meta.remediation}"
                ),
                props=[("kind", "control"), ("control-id", entry.meta.id), ("outcome", res.outcome)]
                + [("task-id", t) for t in entry.meta.task_ids],
                risk=risk["uuid"],
                observations=[ids(f"observation/control/{entry.meta.id}")],
            )
        )

    for s, fkey in zip(a.findings, _finding_keys(a), strict=True):
        f = s.finding
        waiver = waivers.get(s.waiver) if s.waiver else None
        waived = finding_waived(a, s)
        if waived:
            status = "deviation-approved"
        elif waiver is not None and waiver.needs_approval and not waiver.approved_by:
            status = "deviation-requested"
        else:
            status = "open"
        observations.append(_finding_observation(ids, a, s, fkey))
        key = f"finding/{fkey}"
        risk = _risk(
            ids,
            key,
            title=f"{f.rule_id} ({f.severity.value}): {f.message}",
            description=f.message,
            statement=f"A {f.severity.value} finding bearing on "
            + (", ".join(f.task_ids) or "no task")
            + ".",
            status=status,
            remedy=f.remediation
            or "Fix the cause of the finding, or waive it with a justification.",
            props=[("severity", f.severity), ("rule-id", f.rule_id), ("fingerprint", s.fingerprint)]
            + [("task-id", t) for t in f.task_ids],
            observations=[ids(f"observation/{key}")],
            waiver=waiver if waived else None,
        )
        risks.append(risk)
        items.append(
            _item(
                ids,
                key,
                title=f"{f.rule_id}: {f.message}",
                description=f.message
                + (f"\n\nRemediation: {f.remediation}" if f.remediation else ""),
                props=[
                    ("kind", "finding"),
                    ("rule-id", f.rule_id),
                    ("severity", f.severity),
                    ("fingerprint", s.fingerprint),
                ],
                risk=risk["uuid"],
                observations=[ids(f"observation/{key}")],
            )
        )

    if not items:
        items.append(
            {
                "uuid": ids("poam-item/none"),
                "title": "No open items",
                "description": "Every task and control is satisfied and no finding is open.",
                "props": _props(("kind", "none"), ("status", "closed")),
            }
        )
    doc: dict[str, Any] = {
        "uuid": ids("poam"),
        "metadata": _metadata(a, f"SP 800-218A plan of action and milestones: {a.project}"),
        "system-id": {"identifier-type": "urn:ssdf-ai:project", "id": _line(a.project)},
    }
    if observations:
        doc["observations"] = observations
    if risks:
        doc["risks"] = risks
    doc["poam-items"] = items
    return json.dumps({"plan-of-action-and-milestones": doc}, indent=2, ensure_ascii=False) + "\n"


# -- building blocks -----------------------------------------------------------------------------

_OK_CONTROL = frozenset({Outcome.SATISFIED, Outcome.NOT_APPLICABLE, Outcome.INHERITED})


class _Ids:
    """Deterministic uuids: UUIDv5 of the assessment id and an element name."""

    def __init__(self, assessment_id: str) -> None:
        self._prefix = f"assessment/{assessment_id}/"

    def __call__(self, element: str) -> str:
        return stable_uuid(self._prefix + element)


def _line(text: str) -> str:
    """One line with no leading or trailing space (OSCAL titles and property values)."""
    flat = " ".join(text.split())
    return flat or "-"


def _props(*pairs: tuple[str, object | None]) -> list[dict[str, str]]:
    out = []
    for name, value in pairs:
        if value is None:
            continue
        text = _line(str(value))
        out.append({"name": name, "ns": NS, "value": text})
    return out


def _metadata(a: Assessment, title: str) -> dict[str, Any]:
    return {
        "title": _line(title),
        "last-modified": stamp(a.created),
        "version": _line(a.id),
        "oscal-version": OSCAL_VERSION,
        "props": _props(
            ("project", a.project),
            ("organization-kind", a.organization_kind),
            ("profile", a.profile),
            ("config-file", a.config_file),
            ("tool", f"ssdf-ai {a.tool.version or __version__}"),
        ),
        "remarks": (
            f"Produced by ssdf-ai from assessment {a.id}. Detailed outcomes, priorities and "
            f"scores are properties in the namespace {NS}."
        ),
    }


def _href(link: EvidenceLink) -> str:
    if link.kind == "file" and ":" not in link.ref.split("/", 1)[0]:
        return quote(link.ref, safe="/._-~")
    return f"{EVIDENCE_URN}:{link.kind}:{quote(link.ref, safe=':@-._~')}"


def _evidence(links: tuple[EvidenceLink, ...]) -> list[dict[str, Any]]:
    out = []
    for link in links:
        entry: dict[str, Any] = {
            "href": _href(link),
            "description": f"{link.kind} {link.ref}" + (f": {link.note}" if link.note else ""),
            "props": _props(("evidence-kind", link.kind)),
        }
        if link.observed_at is not None:
            entry["props"] += _props(("observed-at", stamp(link.observed_at)))
        out.append(entry)
    return out


def _control_observation(ids: _Ids, entry: ControlEntry, created: dt.datetime) -> dict[str, Any]:
    m, res = entry.meta, entry.result
    methods = ["TEST"]
    if any(e.kind == "attestation" for e in res.evidence):
        methods.append("EXAMINE")
    seen = [utc(e.observed_at) for e in res.evidence if e.observed_at is not None]
    obs: dict[str, Any] = {
        "uuid": ids(f"observation/control/{m.id}"),
        "title": _line(f"Control {m.id}: {OUTCOME_LABEL[res.outcome]}"),
        "description": f"{m.question} {res.rationale}",
        "props": _props(
            ("control-id", m.id),
            ("outcome", res.outcome),
            ("effort", m.effort),
            ("waiver", res.waiver),
            *(("task-id", t) for t in m.task_ids),
        ),
        "methods": methods,
        # When the newest evidence was produced; the assessment time when none says.
        "collected": stamp(max(seen) if seen else created),
    }
    if res.evidence:
        obs["relevant-evidence"] = _evidence(res.evidence)
    return obs


def _attestation_observation(ids: _Ids, att: AttestationSummary) -> dict[str, Any]:
    envelope = f"{EVIDENCE_URN}:attestation:{quote(att.digest, safe=':@-._~')}"
    evidence = [
        {"href": envelope, "description": f"Signed attestation envelope {att.digest}"},
        *_evidence(att.evidence),
    ]
    return {
        "uuid": ids(f"observation/attestation/{att.digest}"),
        "title": _line(f"Attestation of {att.subject_id} by {att.by}"),
        "description": att.statement,
        "props": _props(
            ("task-id", att.task_id),
            ("subject-id", att.subject_id),
            ("signed-by", att.by),
            ("role", att.role),
            ("expired", "true" if att.expired else "false"),
        ),
        "methods": ["EXAMINE"],
        "relevant-evidence": evidence,
        "collected": stamp(att.created),
        "expires": stamp(att.expires),
    }


def _imported_observation(ids: _Ids, imp: ImportedAssessment) -> dict[str, Any]:
    return {
        "uuid": ids(f"observation/imported/{imp.digest}"),
        "title": _line(f"Assessment imported from {imp.party}"),
        "description": (
            f"{imp.party}'s signed assessment of {imp.project}, signed by {imp.signer}, supplied "
            f"the verdicts of {', '.join(imp.task_ids)}."
        ),
        "props": _props(("party", imp.party), *(("task-id", t) for t in imp.task_ids)),
        "methods": ["EXAMINE"],
        "relevant-evidence": [
            {
                "href": f"{EVIDENCE_URN}:assessment:{quote(imp.digest, safe=':@-._~')}",
                "description": f"Signed assessment envelope {imp.digest}",
            }
        ],
        "collected": stamp(imp.created),
    }


def _finding_keys(a: Assessment) -> list[str]:
    """A unique key per open finding: its fingerprint, numbered when two share one."""
    seen: dict[str, int] = {}
    keys = []
    for s in a.findings:
        n = seen.get(s.fingerprint, 0)
        seen[s.fingerprint] = n + 1
        keys.append(s.fingerprint if n == 0 else f"{s.fingerprint}-{n + 1}")
    return keys


def _finding_observation(ids: _Ids, a: Assessment, s: FindingStatus, key: str) -> dict[str, Any]:
    f = s.finding
    loc = f.location
    where = (loc.path or "") + (f":{loc.line}" if loc.line else "")
    if loc.address:
        where = f"{where} ({loc.address})" if where else loc.address
    evidence: list[dict[str, Any]] = [
        {
            "href": f"{EVIDENCE_URN}:finding:{quote(s.fingerprint, safe=':@-._~')}",
            "description": f"Finding {f.rule_id} at {where or 'no location'}",
        }
    ]
    if loc.path:
        evidence.append({"href": quote(loc.path, safe="/._-~"), "description": "Where it is"})
    return {
        "uuid": ids(f"observation/finding/{key}"),
        "title": _line(f"{f.rule_id} ({f.severity.value}) {where}"),
        "description": f.message,
        "props": _props(
            ("rule-id", f.rule_id),
            ("severity", f.severity),
            ("confidence", f.confidence),
            ("fingerprint", s.fingerprint),
            ("waived", "true" if finding_waived(a, s) else "false"),
            ("run-id", None if s.run_id is None else str(s.run_id)),
            *(("cwe", c) for c in f.cwe),
            *(("task-id", t) for t in f.task_ids),
        ),
        "methods": ["TEST"],
        "types": ["finding"],
        "relevant-evidence": evidence,
        "collected": stamp(a.created),
    }


def _task_finding(ids: _Ids, a: Assessment, t: TaskVerdict) -> dict[str, Any]:
    state, reason = OSCAL_STATE[t.outcome]
    status: dict[str, Any] = {"state": state, "reason": reason}
    if t.outcome in _STATE_REMARK:
        status["remarks"] = _STATE_REMARK[t.outcome]
    related = [ids(f"observation/control/{c}") for c in t.controls if _has_control(a, c)]
    related += [
        ids(f"observation/attestation/{d}")
        for d in t.attestations
        if any(x.digest == d for x in a.attestations)
    ]
    related += [
        ids(f"observation/imported/{i.digest}") for i in a.imported if t.task_id in i.task_ids
    ]
    related += [
        ids(f"observation/finding/{key}")
        for s, key in zip(a.findings, _finding_keys(a), strict=True)
        if any(x == t.task_id or x.startswith(f"{t.task_id}.") for x in s.finding.task_ids)
    ]
    finding: dict[str, Any] = {
        "uuid": ids(f"finding/{t.task_id}"),
        "title": _line(f"{t.task_id}: {OUTCOME_LABEL[t.outcome]}"),
        "description": t.rationale or OUTCOME_LABEL[t.outcome],
        "props": _props(
            ("outcome", t.outcome),
            ("basis", t.basis),
            ("priority", t.priority),
            ("party", t.party),
            ("score", None if t.score is None else f"{t.score:g}"),
            ("imported-from", t.imported_from),
            ("practice-id", t.practice_id),
            ("group-id", t.group_id),
        ),
        "target": {
            "type": "objective-id",
            "target-id": token(t.task_id),
            "title": _line(f"SP 800-218A task {t.task_id}"),
            "status": status,
        },
    }
    if related:
        finding["related-observations"] = [{"observation-uuid": u} for u in dict.fromkeys(related)]
    return finding


def _has_control(a: Assessment, control_id: str) -> bool:
    return any(c.meta.id == control_id for c in a.controls)


def _risk_status(outcome: Outcome) -> str:
    if outcome is Outcome.WAIVED:
        return "deviation-approved"
    if outcome is Outcome.UNKNOWN:
        return "investigating"
    return "open"


def _risk(
    ids: _Ids,
    key: str,
    *,
    title: str,
    description: str,
    statement: str,
    status: str,
    remedy: str,
    props: Sequence[tuple[str, object | None]],
    observations: list[str],
    waiver: WaiverSummary | None = None,
) -> dict[str, Any]:
    risk: dict[str, Any] = {
        "uuid": ids(f"risk/{key}"),
        "title": _line(title),
        "description": description or title,
        "statement": statement or title,
        "props": _props(*props),
        "status": status,
        "remediations": [
            {
                "uuid": ids(f"remediation/{key}"),
                "lifecycle": "recommendation",
                "title": _line(f"Remediate {key.split('/', 1)[1]}"),
                "description": remedy,
            }
        ],
    }
    if waiver is not None:
        risk["deadline"] = stamp(waiver.expires)
        approval = f", approved by {', '.join(waiver.approved_by)}" if waiver.approved_by else ""
        risk["props"] += _props(("waiver", waiver.digest))
        risk["remediations"][0]["remarks"] = (
            f"Risk accepted by waiver {waiver.digest} from {waiver.by} ({waiver.role}){approval}, "
            f"until {stamp(waiver.expires)}: {waiver.justification}"
        )
    if observations:
        risk["related-observations"] = [{"observation-uuid": u} for u in observations]
    return risk


def _item(
    ids: _Ids,
    key: str,
    *,
    title: str,
    description: str,
    props: Sequence[tuple[str, object | None]],
    risk: str,
    observations: list[str],
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "uuid": ids(f"poam-item/{key}"),
        "title": _line(title),
        "description": description,
        "props": _props(*props),
        "related-risks": [{"risk-uuid": risk}],
    }
    if observations:
        item["related-observations"] = [{"observation-uuid": u} for u in observations]
    return item
