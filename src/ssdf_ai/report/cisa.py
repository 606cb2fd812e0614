"""The assessment against the CISA Secure Software Development Attestation Form.

The form (CISA, "Secure Software Development Attestation Form", the common form under OMB memos
M-22-18 and M-23-16) asks a software producer to attest to a set of minimum practices. Each of
its rows maps to SSDF tasks (the mapping in the form's own references, see :data:`ROWS`); this
module shows, row by row, the verdicts of those tasks from one assessment and whether the row
could be attested on that evidence.

Row status:

- ``attestable``: every mapped task is satisfied, waived or not applicable, or is performed by
  another party (inherited or with an imported verdict).
- ``not-attestable``: some mapped task is not satisfied, partial, stale, unknown, needs
  attestation, or missing from the assessment; those are the row's ``blocking_tasks``.

Tasks performed by another party are never blocking, but they are listed in
``third_party_tasks`` and the row's ``depends_on_third_party`` is true: the producer's signature
then rests on that party's own attestation or assessment, which the acquirer may ask for.

This is evidence for the person who signs the form (the CEO or a designee), not the form itself.

JSON structure of :func:`render_cisa_json` (``schema: ssdf-ai/cisa-attestation/v1``)::

    {
      "schema": "ssdf-ai/cisa-attestation/v1",
      "form": "CISA Secure Software Development Attestation Form",
      "project": str, "assessment_id": str, "assessed": ISO 8601 UTC, "profile": str,
      "score": float, "warnings": [str],      # what the assessment warned about
      "attestable": bool,                      # every row attestable
      "rows_attestable": int, "rows_total": int,
      "rows": [{
        "row": "1a",                           # 1a-1f, 2, 3, 4
        "section": "1",
        "asks": str,                           # what the form asks, paraphrased
        "status": "attestable" | "not-attestable",
        "blocking_tasks": [task id],
        "third_party_tasks": [task id],
        "depends_on_third_party": bool,
        "tasks": [{
          "task_id": str, "outcome": str, "basis": str, "priority": str,
          "party": str, "imported_from": str | null, "rationale": str,
          "blocking": bool, "third_party": bool
        }]
      }]
    }
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ssdf_ai.findings import Outcome
from ssdf_ai.report._assessment import OUTCOME_LABEL, day, stamp

if TYPE_CHECKING:
    from ssdf_ai.assess.model import Assessment, TaskVerdict

SCHEMA = "ssdf-ai/cisa-attestation/v1"
FORM = "CISA Secure Software Development Attestation Form"

SECTION_1 = (
    "The software is developed and built in secure environments, secured at a minimum by the "
    "actions in 1a to 1f."
)


@dataclass(frozen=True)
class FormRow:
    """One row of the form's attestation section.

    Attributes:
        row: The row's label on the form (``1a`` … ``1f``, ``2``, ``3``, ``4``).
        asks: What the row asks the producer to attest, paraphrased.
        task_ids: The SSDF tasks the form maps the row to.
    """

    row: str
    asks: str
    task_ids: tuple[str, ...]

    @property
    def section(self) -> str:
        """The numbered section the row belongs to (``1`` for ``1a``)."""
        return self.row.rstrip("abcdef")


ROWS: tuple[FormRow, ...] = (
    FormRow(
        "1a",
        "Each environment used to develop and build the software is separated from the others "
        "and protected.",
        ("PO.5.1",),
    ),
    FormRow(
        "1b",
        "Trust relationships used for authorisation and access to the development and build "
        "environments, and among their components, are logged, monitored and audited "
        "regularly.",
        ("PO.5.1",),
    ),
    FormRow(
        "1c",
        "Multi-factor authentication and conditional access are enforced across the "
        "environments used to develop and build the software.",
        ("PO.5.1", "PO.5.2"),
    ),
    FormRow(
        "1d",
        "Software products that create undue risk in the development and build environments "
        "are documented and their use or inclusion is kept to a minimum.",
        ("PO.5.1",),
    ),
    FormRow(
        "1e",
        "Sensitive data such as credentials is encrypted, as far as practicable and based on risk.",
        ("PO.5.2",),
    ),
    FormRow(
        "1f",
        "Defensive cybersecurity practices are in place, including continuous monitoring of "
        "operations and alerts and response to suspected and confirmed incidents.",
        ("PO.3.2", "PO.3.3", "PO.5.1", "PO.5.2"),
    ),
    FormRow(
        "2",
        "A good-faith effort is made to keep the source code supply chain trusted, using "
        "automated tools or comparable processes for internal code and third-party components "
        "and managing their vulnerabilities.",
        (
            "PO.1.1",
            "PO.3.1",
            "PO.3.2",
            "PO.5.1",
            "PO.5.2",
            "PS.1.1",
            "PS.2.1",
            "PS.3.1",
            "PW.4.1",
            "PW.4.4",
            "PW.7.1",
            "PW.8.1",
            "RV.1.1",
        ),
    ),
    FormRow(
        "3",
        "Provenance is maintained for internal code and third-party components incorporated "
        "into the software, as far as feasible.",
        (
            "PO.1.3",
            "PO.3.2",
            "PO.5.1",
            "PO.5.2",
            "PS.3.1",
            "PS.3.2",
            "PW.4.1",
            "PW.4.4",
            "RV.1.1",
            "RV.1.2",
        ),
    ),
    FormRow(
        "4",
        "Automated tools or comparable processes check for security vulnerabilities, on an "
        "ongoing basis and at least before each release; discovered vulnerabilities are "
        "addressed before release; and a vulnerability disclosure program accepts, reviews and "
        "addresses reports in a timely way.",
        (
            "PO.4.1",
            "PO.4.2",
            "PS.1.1",
            "PW.2.1",
            "PW.4.4",
            "PW.5.1",
            "PW.6.1",
            "PW.6.2",
            "PW.7.1",
            "PW.7.2",
            "PW.8.2",
            "PW.9.1",
            "PW.9.2",
            "RV.1.1",
            "RV.1.2",
            "RV.1.3",
            "RV.2.1",
            "RV.2.2",
            "RV.3.3",
        ),
    ),
)
"""The form's rows and the SSDF tasks each maps to (the form's own SSDF references)."""

RowStatus = Literal["attestable", "not-attestable"]

CLEAR: frozenset[Outcome] = frozenset({Outcome.SATISFIED, Outcome.WAIVED, Outcome.NOT_APPLICABLE})
"""Outcomes that let a row be attested."""


@dataclass(frozen=True)
class TaskStatus:
    """A mapped task's verdict as the form row sees it."""

    task_id: str
    outcome: Outcome
    verdict: TaskVerdict | None
    blocking: bool
    third_party: bool


@dataclass(frozen=True)
class RowResult:
    """A form row with its tasks' verdicts and its status."""

    row: FormRow
    tasks: tuple[TaskStatus, ...]

    @property
    def blocking_tasks(self) -> list[str]:
        """Tasks that keep the row from being attested."""
        return [t.task_id for t in self.tasks if t.blocking]

    @property
    def third_party_tasks(self) -> list[str]:
        """Tasks another party performs."""
        return [t.task_id for t in self.tasks if t.third_party]

    @property
    def status(self) -> RowStatus:
        """``attestable`` when nothing blocks, else ``not-attestable``."""
        return "not-attestable" if self.blocking_tasks else "attestable"


def task_status(task_id: str, verdict: TaskVerdict | None) -> TaskStatus:
    """Classify one mapped task for a form row.

    Args:
        task_id: The task.
        verdict: Its verdict in the assessment, or ``None`` when the assessment lacks it (then
            it counts as unknown and blocks).

    Returns:
        The task's status.
    """
    if verdict is None:
        return TaskStatus(task_id, Outcome.UNKNOWN, None, blocking=True, third_party=False)
    third_party = verdict.outcome is Outcome.INHERITED or verdict.imported_from is not None
    blocking = verdict.outcome not in CLEAR and verdict.outcome is not Outcome.INHERITED
    return TaskStatus(task_id, verdict.outcome, verdict, blocking, third_party)


def evaluate_rows(assessment: Assessment) -> list[RowResult]:
    """Evaluate every form row against an assessment.

    Args:
        assessment: The assessment.

    Returns:
        One result per row of :data:`ROWS`, in form order.
    """
    verdicts = {t.task_id: t for t in assessment.tasks}
    return [
        RowResult(row, tuple(task_status(t, verdicts.get(t)) for t in row.task_ids)) for row in ROWS
    ]


def cisa_document(assessment: Assessment) -> dict[str, Any]:
    """Return the CISA form view of an assessment as a JSON-ready dict (see the module doc).

    Args:
        assessment: The assessment.

    Returns:
        The document.
    """
    rows = evaluate_rows(assessment)
    attestable = sum(r.status == "attestable" for r in rows)
    return {
        "schema": SCHEMA,
        "form": FORM,
        "project": assessment.project,
        "assessment_id": assessment.id,
        "assessed": stamp(assessment.created),
        "profile": assessment.profile,
        "score": round(assessment.score, 1),
        "attestable": attestable == len(rows),
        "rows_attestable": attestable,
        "rows_total": len(rows),
        "rows": [_row_json(r) for r in rows],
        "warnings": list(assessment.warnings),
    }


def render_cisa_json(assessment: Assessment) -> str:
    """Render the CISA form view of an assessment as JSON.

    Args:
        assessment: The assessment.

    Returns:
        The JSON text, ending with a newline.
    """
    return json.dumps(cisa_document(assessment), indent=2, ensure_ascii=False) + "\n"


def render_cisa_text(assessment: Assessment, *, width: int = 92) -> str:
    """Render the CISA form view of an assessment as readable text.

    Args:
        assessment: The assessment.
        width: Line width to wrap prose at.

    Returns:
        The text, ending with a newline.
    """
    a = assessment
    rows = evaluate_rows(a)
    ok = sum(r.status == "attestable" for r in rows)
    wrap = textwrap.TextWrapper(width=width, subsequent_indent="      ")
    lines = [
        f"{FORM}: evidence from an SSDF assessment",
        "",
        f"Project:    {_flat(a.project)}",
        f"Assessed:   {day(a.created)} (assessment {a.id})",
        f"Profile:    {_flat(a.profile)}",
        f"Rows:       {ok} of {len(rows)} attestable on this evidence",
        "",
        "This is evidence for the person who signs the form, not the form itself.",
        "",
        *(f"Warning: {_flat(w)}" for w in a.warnings),
        *([""] if a.warnings else []),
        *wrap.wrap(f"1.    {SECTION_1}"),
    ]
    for r in rows:
        mark = "ATTESTABLE" if r.status == "attestable" else "NOT ATTESTABLE"
        lines.append("")
        lines += wrap.wrap(f"{r.row.row + '.':<5} {r.row.asks}")
        lines.append(f"      Status: {mark}")
        notes = []
        if r.blocking_tasks:
            notes.append(f"Blocked by: {', '.join(r.blocking_tasks)}")
        if r.third_party_tasks:
            parties = ", ".join(_party(t) for t in r.tasks if t.third_party)
            notes.append(f"Depends on a third party for: {parties}")
        for note in notes:
            lines += textwrap.wrap(
                note, width=width, initial_indent="      ", subsequent_indent=" " * 8
            )
        for t in r.tasks:
            flag = "x" if t.blocking else ("~" if t.third_party else " ")
            why = _flat(t.verdict.rationale) if t.verdict else "not in the assessment"
            lines += textwrap.wrap(
                f"[{flag}] {t.task_id:<7} {OUTCOME_LABEL[t.outcome]:<17} {why}",
                width=width,
                initial_indent="      ",
                subsequent_indent=" " * 38,
            )
    lines += [
        "",
        "Legend: [x] blocks the row  [~] performed by another party  [ ] clear",
    ]
    return "\n".join(lines) + "\n"


def _party(t: TaskStatus) -> str:
    if t.verdict is None:
        return t.task_id
    who = t.verdict.imported_from or t.verdict.party
    return f"{t.task_id} ({_flat(who)})"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _row_json(r: RowResult) -> dict[str, Any]:
    return {
        "row": r.row.row,
        "section": r.row.section,
        "asks": r.row.asks,
        "status": r.status,
        "blocking_tasks": r.blocking_tasks,
        "third_party_tasks": r.third_party_tasks,
        "depends_on_third_party": bool(r.third_party_tasks),
        "tasks": [
            {
                "task_id": t.task_id,
                "outcome": t.outcome.value,
                "basis": t.verdict.basis.value if t.verdict else None,
                "priority": t.verdict.priority if t.verdict else None,
                "party": t.verdict.party if t.verdict else None,
                "imported_from": t.verdict.imported_from if t.verdict else None,
                "rationale": t.verdict.rationale if t.verdict else "not in the assessment",
                "blocking": t.blocking,
                "third_party": t.third_party,
            }
            for t in r.tasks
        ],
    }
