"""The assessment as a GitHub-flavoured Markdown summary, fit for a pull-request comment.

:func:`render_markdown` gives the score and coverage, a table per group (each practice's score
and outcome counts), the tasks that need attention, the top of the remediation list and the open
findings. It stays under a size bound (GitHub refuses comments over 65,536 characters): lists are
cut with an "and N more" line, long cells are clipped, and if the whole still would not fit it is
truncated with a note pointing at the full reports.

Text from the assessment is escaped for table cells: ``|`` and backslashes are escaped, newlines
become spaces, and Markdown and HTML punctuation (``* _ ` [ ] < >``) is backslash-escaped so a
message cannot open a link, an emphasis or an HTML element in the comment.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ssdf_ai._version import __version__
from ssdf_ai.report._assessment import (
    OUTCOME_LABEL,
    OUTCOME_ORDER,
    attention_tasks,
    day,
    open_findings,
    remediations,
    waived_findings,
)

if TYPE_CHECKING:
    from ssdf_ai.assess.model import Assessment, FindingStatus

MAX_BYTES = 60_000
"""Default size bound of the summary in UTF-8 bytes (GitHub's comment limit is 65,536 chars)."""

CELL_LIMIT = 240
"""Longest text kept in one table cell, in characters."""

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_KIND_LABEL = {
    "ai-model-producer": "AI model producer",
    "ai-system-producer": "AI system producer",
    "acquirer": "acquirer",
}


def cell(text: str, *, limit: int = CELL_LIMIT) -> str:
    """Make ``text`` safe inside a GitHub table cell.

    Args:
        text: Any text.
        limit: Longest text kept; longer text is clipped with an ellipsis.

    Returns:
        One line with ``|``, backslashes and Markdown/HTML punctuation escaped.
    """
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return _SPECIAL.sub(r"\\\1", flat)


def code(text: str, *, limit: int = CELL_LIMIT) -> str:
    """Make ``text`` an inline code span that is safe inside a table cell.

    Args:
        text: The code (a command, a path).
        limit: Longest text kept.

    Returns:
        The code span; ``|`` is escaped (GitHub applies table escapes inside code spans).
    """
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    flat = flat.replace("|", r"\|")
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or longest else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def render_markdown(
    assessment: Assessment,
    *,
    top: int = 10,
    max_findings: int = 15,
    max_bytes: int = MAX_BYTES,
) -> str:
    """Render an assessment as a Markdown summary for a pull-request comment.

    Args:
        assessment: The assessment.
        top: How many remediation items to list.
        max_findings: How many open findings to list.
        max_bytes: Size bound of the result in UTF-8 bytes.

    Returns:
        The Markdown text, ending with a newline, at most ``max_bytes`` bytes long.
    """
    a = assessment
    blocks: list[list[str]] = [
        _head(a),
        *(_group(a, g.id) for g in a.groups),
        _attention(a),
        _remediation(a, top),
        _findings(a, max_findings),
        _rejected(a),
    ]
    footer = [
        "",
        f"<sub>ssdf-ai {cell(__version__)} · assessment {cell(a.id)} · "
        "the HTML and OSCAL reports carry every task, control and piece of evidence.</sub>",
    ]
    note = [
        "",
        f"> **Note:** this summary was truncated to stay under {max_bytes // 1000} KB; "
        "see the HTML or JSON report for the rest.",
    ]
    budget = max_bytes - _size(footer) - _size(note)
    out: list[str] = []
    used = 0
    truncated = False
    for block in blocks:
        for line in block:
            size = len(line.encode("utf-8")) + 1
            if used + size > budget:
                truncated = True
                break
            out.append(line)
            used += size
        if truncated:
            break
    if truncated:
        out += note
    out += footer
    return "\n".join(out) + "\n"


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _head(a: Assessment) -> list[str]:
    cov = a.coverage
    kind = _KIND_LABEL.get(a.organization_kind, a.organization_kind)
    warnings = [f"> **Warning:** {cell(w, limit=400)}" for w in a.warnings[:10]]
    if len(a.warnings) > 10:
        warnings.append(f"> …and {len(a.warnings) - 10} more warnings.")
    return [
        f"## SSDF assessment of {cell(a.project)}: {a.score:.1f} / 100",
        "",
        f"{cell(a.profile)} · {cell(kind)} · assessed {day(a.created)}",
        "",
        *(warnings + [""] if warnings else []),
        "| Coverage | Tasks |",
        "| --- | ---: |",
        f"| Automated (a control evaluated evidence) | {cov.automated} |",
        f"| Attested (a signed attestation only) | {cov.attested} |",
        f"| Inherited (another party performs it) | {cov.inherited} |",
        f"| No evidence (needs attestation) | {cov.none} |",
        f"| **All tasks** | **{cov.total}** |",
    ]


def _group(a: Assessment, group_id: str) -> list[str]:
    group = next(g for g in a.groups if g.id == group_id)
    score = "–" if group.score is None else f"{group.score:.1f}"
    header = "| Practice | Score | " + " | ".join(OUTCOME_LABEL[o] for o in OUTCOME_ORDER) + " |"
    rule = "| --- | ---: | " + " | ".join("---:" for _ in OUTCOME_ORDER) + " |"
    lines = ["", f"### {cell(group.id)} {cell(group.title)}: {score} / 100", "", header, rule]
    for p in a.practices:
        if not p.id.startswith(f"{group_id}."):
            continue
        p_score = "–" if p.score is None else f"{p.score:.1f}"
        counts = " | ".join(str(p.counts.get(o, 0) or "") for o in OUTCOME_ORDER)
        lines.append(f"| {cell(p.id)} {cell(p.title, limit=80)} | {p_score} | {counts} |")
    return lines


def _attention(a: Assessment) -> list[str]:
    tasks = attention_tasks(a)
    if not tasks:
        return ["", "### Tasks that need attention", "", "None: every task is done or waived."]
    lines = [
        "",
        f"### Tasks that need attention ({len(tasks)})",
        "",
        "| Task | Outcome | Priority | Basis | Why |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {cell(t.task_id)} | {cell(OUTCOME_LABEL[t.outcome])} | {cell(t.priority)} | "
        f"{cell(t.basis.value)} | {cell(t.rationale)} |"
        for t in tasks
    ]
    return lines


def _remediation(a: Assessment, top: int) -> list[str]:
    items = remediations(a)
    if not items:
        return ["", "### Remediation", "", "Nothing to fix: every control is satisfied."]
    shown = items[: max(top, 0)]
    count = f"top {len(shown)} of {len(items)}" if len(shown) < len(items) else str(len(items))
    lines = [
        "",
        f"### Remediation ({count})",
        "",
        "| # | Control | Tasks | Priority | Effort | Fix |",
        "| ---: | --- | --- | --- | --- | --- |",
    ]
    for n, r in enumerate(shown, 1):
        m = r.entry.meta
        lines.append(
            f"| {n} | {cell(m.title, limit=100)} ({code(m.id)}) | "
            f"{cell(', '.join(r.task_ids), limit=100)} | {cell(r.priority)} | "
            f"{cell(m.effort.value)} | {code(m.remediation)} |"
        )
    if len(items) > len(shown):
        lines += ["", f"…and {len(items) - len(shown)} more controls to remediate."]
    return lines


def _location(status: FindingStatus) -> str:
    loc = status.finding.location
    where = loc.path or ""
    if loc.line:
        where += f":{loc.line}"
    if loc.address:
        where = f"{where} ({loc.address})" if where else loc.address
    return where


def _findings(a: Assessment, limit: int) -> list[str]:
    found = open_findings(a)
    waived = len(waived_findings(a))
    waived_note = f"; {waived} more covered by a waiver" if waived else ""
    if not found:
        return ["", "### Open findings", "", f"No open finding without a waiver{waived_note}."]
    shown = found[: max(limit, 0)]
    lines = [
        "",
        f"### Open findings ({len(found)}{waived_note})",
        "",
        "| Severity | Rule | Location | Message | Tasks |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in shown:
        f = s.finding
        where = _location(s)
        lines.append(
            f"| {cell(f.severity.value)} | {code(f.rule_id)} | "
            f"{code(where, limit=120) if where else '–'} | {cell(f.message)} | "
            f"{cell(', '.join(f.task_ids), limit=100)} |"
        )
    if len(found) > len(shown):
        lines += ["", f"…and {len(found) - len(shown)} more open findings."]
    return lines


def _rejected(a: Assessment) -> list[str]:
    if not a.rejected:
        return []
    lines = ["", f"### Rejected signed records ({len(a.rejected)})", ""]
    lines += [f"- {cell(r.kind)} {code(r.digest)}: {cell(r.reason)}" for r in a.rejected[:20]]
    if len(a.rejected) > 20:
        lines.append(f"- …and {len(a.rejected) - 20} more.")
    return lines
