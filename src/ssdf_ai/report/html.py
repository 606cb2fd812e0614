"""The assessment as one self-contained HTML page.

:func:`render_html` writes a single file a person can open offline, mail, print or archive with
a release: inline CSS, inline SVG charts with accessible ``<title>`` elements, no JavaScript and
no external URL of any kind (no fonts, scripts, images or style sheets), so that viewing the
report never fetches anything. Every string from the assessment is escaped with
:func:`html.escape`; outcomes are shown as colour *and* text, never colour alone.

Sections: header (project, organisation kind, date, profile, score, coverage); a chart per group
and per practice; the remediation list; open and waived findings; every task with its controls,
evidence, attestations and waivers; attestations; waivers and approvals; rejected records;
imported assessments; how the score is computed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ssdf_ai._version import __version__
from ssdf_ai.findings import Outcome, Severity
from ssdf_ai.report._assessment import (
    OUTCOME_LABEL,
    OUTCOME_ORDER,
    day,
    finding_waived,
    open_findings,
    remediations,
    score_breakdown,
    waived_findings,
    waivers_by_digest,
)

if TYPE_CHECKING:
    from ssdf_ai.assess.model import (
        Assessment,
        AttestationSummary,
        ControlEntry,
        EvidenceLink,
        FindingStatus,
        RollUp,
        TaskVerdict,
        WaiverSummary,
    )
    from ssdf_ai.profile import Catalog

# Colours chosen for contrast with white text (WCAG AA at the badge's bold small text) and to
# stay apart for the common colour-vision deficiencies; the text label always goes with them.
OUTCOME_COLOUR: dict[Outcome, str] = {
    Outcome.SATISFIED: "#1a7f37",
    Outcome.WAIVED: "#1b7c83",
    Outcome.PARTIAL: "#9a6700",
    Outcome.STALE: "#bc4c00",
    Outcome.NEEDS_ATTESTATION: "#8250df",
    Outcome.NOT_SATISFIED: "#cf222e",
    Outcome.UNKNOWN: "#57606a",
    Outcome.INHERITED: "#0969da",
    Outcome.NOT_APPLICABLE: "#8c959f",
}

SEVERITY_COLOUR: dict[Severity, str] = {
    Severity.CRITICAL: "#82071e",
    Severity.HIGH: "#cf222e",
    Severity.MEDIUM: "#bc4c00",
    Severity.LOW: "#9a6700",
    Severity.INFO: "#57606a",
}

_KIND_LABEL = {
    "ai-model-producer": "AI model producer",
    "ai-system-producer": "AI system producer",
    "acquirer": "Acquirer",
}


def render_html(assessment: Assessment, *, catalog: Catalog | None = None) -> str:
    """Render an assessment as one self-contained HTML document.

    Args:
        assessment: The assessment.
        catalog: The SP 800-218A catalog for task statements and practice titles; the packaged
            one by default.

    Returns:
        The HTML text, ending with a newline.
    """
    if catalog is None:
        from ssdf_ai.profile import load_catalog

        catalog = load_catalog()
    a = assessment
    title = f"SSDF assessment: {a.project}"
    body = "\n".join(
        [
            _header(a),
            _nav(),
            '<main id="content">',
            _summary(a),
            _charts(a),
            _remediation(a),
            _findings(a),
            _tasks(a, catalog),
            _attestations(a),
            _waivers(a),
            _rejected(a),
            _imported(a),
            _scoring(a),
            "</main>",
            _footer(a),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="ssdf-ai {_e(__version__)}">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


# -- small helpers -----------------------------------------------------------------------------


def _e(value: object) -> str:
    """Escape any value for HTML text and attribute values alike."""
    return html.escape(str(value), quote=True)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)


def _badge(outcome: Outcome) -> str:
    return (
        f'<span class="badge" style="--c:{OUTCOME_COLOUR[outcome]}">'
        f"{_e(OUTCOME_LABEL[outcome])}</span>"
    )


def _sev(severity: Severity) -> str:
    return (
        f'<span class="badge" style="--c:{SEVERITY_COLOUR[severity]}">{_e(severity.value)}</span>'
    )


def _code(text: str) -> str:
    return f"<code>{_e(text)}</code>"


def _short(digest: str, keep: int = 12) -> str:
    """A digest shortened for display, the whole of it in the tooltip."""
    algo, _, hexpart = digest.partition(":")
    shown = f"{algo}:{hexpart[:keep]}…" if hexpart and len(hexpart) > keep else digest
    return f'<code class="digest" title="{_e(digest)}">{_e(shown)}</code>'


def _task_link(a: Assessment, node_id: str) -> str:
    """A link to the task's row (an item id links to its task); plain text if there is none."""
    task_id = ".".join(node_id.split(".")[:3])
    if not any(t.task_id == task_id for t in a.tasks):
        return _e(node_id)
    return f'<a href="#task-{_e(_slug(task_id))}">{_e(node_id)}</a>'


def _table(headers: Sequence[str], rows: Iterable[str], *, cls: str = "") -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "\n".join(rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _section(anchor: str, heading: str, content: str, *, lead: str = "") -> str:
    intro = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{anchor}">\n<h2>{_e(heading)}</h2>\n{intro}\n{content}\n</section>'


def _none(text: str) -> str:
    return f'<p class="empty">{_e(text)}</p>'


def _fmt_score(score: float | None) -> str:
    return "–" if score is None else f"{score:.1f}"


# -- header and summary -------------------------------------------------------------------------


def _header(a: Assessment) -> str:
    kind = _KIND_LABEL.get(a.organization_kind, a.organization_kind)
    facts = [
        ("Organisation", kind),
        ("Assessed", day(a.created)),
        ("Profile", a.profile),
        ("Configuration", a.config_file or "none"),
        ("Assessment id", a.id),
    ]
    if a.run_id is not None:
        facts.append(("Evidence run", str(a.run_id)))
    meta = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    return f"""<header class="masthead">
<div class="masthead-text">
<p class="eyebrow">SSDF community profile assessment · NIST SP 800-218A</p>
<h1>{_e(a.project)}</h1>
<dl class="facts">{meta}</dl>
</div>
<div class="score-box">{_gauge(a.score)}<p class="score-caption">weighted score out of 100</p></div>
</header>"""


def _gauge(score: float) -> str:
    """A ring gauge with the score in its middle."""
    radius = 52.0
    circumference = 2 * 3.141592653589793 * radius
    filled = circumference * max(0.0, min(score, 100.0)) / 100.0
    colour = "#1a7f37" if score >= 80 else "#9a6700" if score >= 50 else "#cf222e"
    return (
        '<svg class="gauge" viewBox="0 0 140 140" width="150" height="150" role="img" '
        'aria-labelledby="gauge-title">'
        f'<title id="gauge-title">Score {score:.1f} out of 100</title>'
        f'<circle cx="70" cy="70" r="{radius}" fill="none" stroke="#ffffff33" '
        'stroke-width="14"/>'
        f'<circle cx="70" cy="70" r="{radius}" fill="none" stroke="{colour}" stroke-width="14" '
        f'stroke-dasharray="{filled:.2f} {circumference:.2f}" stroke-linecap="butt" '
        'transform="rotate(-90 70 70)"/>'
        f'<circle cx="70" cy="70" r="{radius - 7}" fill="#ffffff"/>'
        f'<text x="70" y="78" text-anchor="middle" class="gauge-num">{score:.1f}</text>'
        '<text x="70" y="98" text-anchor="middle" class="gauge-unit">/ 100</text>'
        "</svg>"
    )


def _nav() -> str:
    links = [
        ("summary", "Summary"),
        ("charts", "Charts"),
        ("remediation", "Remediation"),
        ("findings", "Findings"),
        ("tasks", "Tasks"),
        ("attestations", "Attestations"),
        ("waivers", "Waivers"),
        ("rejected", "Rejected"),
        ("imported", "Imported"),
        ("scoring", "Scoring"),
    ]
    items = "".join(f'<li><a href="#{k}">{_e(v)}</a></li>' for k, v in links)
    return f'<nav class="toc" aria-label="Sections"><ul>{items}</ul></nav>'


_COVERAGE = (
    ("automated", "Automated", "a control evaluated evidence", "#1a7f37"),
    ("attested", "Attested", "a signed attestation only", "#8250df"),
    ("inherited", "Inherited", "another party performs it", "#0969da"),
    ("none", "No evidence", "needs attestation", "#8c959f"),
)


def _summary(a: Assessment) -> str:
    cov = a.coverage
    total = cov.total or 1
    cards = []
    for key, label, explain, colour in _COVERAGE:
        n = getattr(cov, key)
        cards.append(
            f'<div class="card" style="--c:{colour}"><p class="card-num">{n}</p>'
            f'<p class="card-label">{_e(label)}</p><p class="card-note">{_e(explain)} · '
            f"{100 * n / total:.0f}% of tasks</p></div>"
        )
    segments = [(label, getattr(cov, key), colour) for key, label, _, colour in _COVERAGE]
    bar = _stacked_svg(
        [("Coverage", segments, f"{cov.total} tasks")],
        title=f"Coverage of {cov.total} tasks by basis",
        label_width=0,
        row_height=26,
    )
    counts: dict[Outcome, int] = dict.fromkeys(OUTCOME_ORDER, 0)
    for t in a.tasks:
        counts[t.outcome] += 1
    legend = "".join(
        f'<li>{_badge(o)} <span class="count">{counts[o]}</span></li>' for o in OUTCOME_ORDER
    )
    open_n = len(open_findings(a))
    attention = sum(
        t.outcome in {Outcome.NOT_SATISFIED, Outcome.NEEDS_ATTESTATION, Outcome.UNKNOWN}
        for t in a.tasks
    )
    key_facts = (
        f'<ul class="keyfacts"><li><strong>{len(a.tasks)}</strong> tasks assessed</li>'
        f"<li><strong>{attention}</strong> not satisfied, unknown or unattested</li>"
        f"<li><strong>{len(remediations(a))}</strong> controls to remediate</li>"
        f"<li><strong>{open_n}</strong> open findings without a waiver</li>"
        f"<li><strong>{len(a.rejected)}</strong> rejected signed records</li></ul>"
    )
    warnings = ""
    if a.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in a.warnings)
        warnings = (
            f'<div class="warnings" role="note"><strong>Warnings</strong><ul>{items}</ul></div>\n'
        )
    content = (
        f'{warnings}<div class="cards">{"".join(cards)}</div>\n{bar}\n'
        f'<h3>Task outcomes</h3><ul class="legend">{legend}</ul>\n{key_facts}'
    )
    return _section(
        "summary",
        "Summary",
        content,
        lead="What each task's verdict rests on, and how the 48 tasks came out.",
    )


# -- charts --------------------------------------------------------------------------------------


def _stacked_svg(
    rows: Sequence[tuple[str, Sequence[tuple[str, int, str]], str]],
    *,
    title: str,
    label_width: int = 400,
    row_height: int = 24,
) -> str:
    """Horizontal stacked bars: one row per (label, [(segment, count, colour)], right text)."""
    width = 1000
    right = 115
    bar_width = width - label_width - right
    gap = 8
    height = len(rows) * (row_height + gap) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
    ]
    for i, (label, segments, note) in enumerate(rows):
        y = gap + i * (row_height + gap)
        total = sum(n for _, n, _ in segments) or 1
        if label_width:
            parts.append(
                f'<text class="row-label" x="0" y="{y + row_height * 0.68:.1f}">'
                f"{_e(_clip(label, 52))}<title>{_e(label)}</title></text>"
            )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{bar_width}" height="{row_height}" '
            'fill="#eaeef2" rx="3"/>'
        )
        x = float(label_width)
        for name, n, colour in segments:
            if not n:
                continue
            w = bar_width * n / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_height}" '
                f'fill="{colour}"><title>{_e(label)}: {n} {_e(name)}</title></rect>'
            )
            if w >= 22:
                parts.append(
                    f'<text class="seg" x="{x + w / 2:.1f}" y="{y + row_height * 0.68:.1f}" '
                    f'text-anchor="middle" aria-hidden="true">{n}</text>'
                )
            x += w
        parts.append(
            f'<text class="row-note" x="{width - 4}" y="{y + row_height * 0.68:.1f}" '
            f'text-anchor="end">{_e(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _rollup_rows(rollups: Sequence[RollUp]) -> list[tuple[str, list[tuple[str, int, str]], str]]:
    rows = []
    for r in rollups:
        segments = [
            (OUTCOME_LABEL[o], r.counts.get(o, 0), OUTCOME_COLOUR[o]) for o in OUTCOME_ORDER
        ]
        rows.append((f"{r.id} {r.title}", segments, f"{_fmt_score(r.score)} / 100"))
    return rows


def _charts(a: Assessment) -> str:
    legend = "".join(
        f'<li><span class="swatch" style="--c:{OUTCOME_COLOUR[o]}"></span>{_e(OUTCOME_LABEL[o])}'
        "</li>"
        for o in OUTCOME_ORDER
    )
    groups = _stacked_svg(
        _rollup_rows(a.groups), title="Task outcomes per group, with each group's score"
    )
    practices = _stacked_svg(
        _rollup_rows(a.practices),
        title="Task outcomes per practice, with each practice's score",
        row_height=20,
    )
    content = (
        f'<ul class="chart-legend" aria-label="Colour legend">{legend}</ul>\n'
        f"<h3>Groups</h3>\n{groups}\n<h3>Practices</h3>\n{practices}"
    )
    return _section(
        "charts",
        "Outcomes by group and practice",
        content,
        lead="Each bar splits a group's or practice's tasks by outcome; the number at the right "
        "is its weighted score (hover a segment for its count).",
    )


# -- remediation and findings ------------------------------------------------------------------


def _remediation(a: Assessment) -> str:
    items = remediations(a)
    if not items:
        return _section("remediation", "Remediation", _none("Every control is satisfied."))
    rows = []
    for n, r in enumerate(items, 1):
        m, res = r.entry.meta, r.entry.result
        tasks = ", ".join(_task_link(a, t) for t in r.task_ids)
        rows.append(
            f"<tr><td class='num'>{n}</td>"
            f"<td><strong>{_e(m.title)}</strong><br><code class='id'>{_e(m.id)}</code></td>"
            f"<td>{tasks}</td><td>{_e(r.priority)}</td><td>{_e(m.effort.value)}</td>"
            f"<td>{_badge(res.outcome)}</td><td>{_e(res.rationale)}</td>"
            f"<td><code class='cmd'>{_e(m.remediation)}</code></td></tr>"
        )
    table = _table(
        ["#", "Control", "Tasks", "Priority", "Effort", "Outcome", "Why", "Fix"],
        rows,
        cls="remediation",
    )
    return _section(
        "remediation",
        "Remediation",
        table,
        lead="Controls that are not satisfied, ordered by the priority of the tasks they bear "
        "on, then by effort (quick wins first). Each gives the exact command or action.",
    )


def _where(status: FindingStatus) -> str:
    loc = status.finding.location
    where = loc.path or ""
    if loc.line:
        where += f":{loc.line}"
        if loc.column:
            where += f":{loc.column}"
    if loc.address:
        where = f"{where} ({loc.address})" if where else loc.address
    return where or "–"


def _finding_rows(a: Assessment, statuses: Sequence[FindingStatus]) -> list[str]:
    waivers = waivers_by_digest(a)
    rows = []
    for s in statuses:
        f = s.finding
        tasks = ", ".join(_task_link(a, t) for t in f.task_ids)
        note = ""
        if s.waiver:
            w = waivers.get(s.waiver)
            if w is not None and not w.valid:
                note = f"<br><span class='warn'>waiver {_short(w.digest)} not in effect: " + (
                    f"{_e(w.reason or 'invalid')}</span>"
                )
            elif w is not None:
                note = (
                    f"<br><span class='ok'>waived by {_e(w.by)} until {_e(day(w.expires))}</span>"
                )
        cwe = f"<br><small>{_e(', '.join(f.cwe))}</small>" if f.cwe else ""
        rows.append(
            f"<tr><td>{_sev(f.severity)}</td>"
            f"<td><code class='rule'>{_e(f.rule_id)}</code>{cwe}</td>"
            f"<td><code>{_e(_where(s))}</code></td><td>{_e(f.message)}{note}</td>"
            f"<td>{tasks}</td><td>{_e(f.remediation or '–')}</td></tr>"
        )
    return rows


def _findings(a: Assessment) -> str:
    headers = ["Severity", "Rule", "Location", "Message", "Tasks", "Remediation"]
    open_ = open_findings(a)
    waived = waived_findings(a)
    parts = [
        _table(headers, _finding_rows(a, open_), cls="findings")
        if open_
        else _none("No open findings without a waiver.")
    ]
    if waived:
        parts.append(f"<h3>Waived findings ({len(waived)})</h3>")
        parts.append(_table(headers, _finding_rows(a, waived), cls="findings waived"))
    return _section(
        "findings",
        f"Open findings ({len(open_)})",
        "\n".join(parts),
        lead="Findings from the newest evidence that no valid waiver covers, most severe first.",
    )


# -- tasks ----------------------------------------------------------------------------------------


def _evidence(links: Sequence[EvidenceLink]) -> str:
    if not links:
        return ""
    items = []
    for link in links:
        when = f" <small>({_e(day(link.observed_at))})</small>" if link.observed_at else ""
        note = f" — {_e(link.note)}" if link.note else ""
        items.append(
            f"<li><span class='kind'>{_e(link.kind)}</span> {_code(link.ref)}{note}{when}</li>"
        )
    return f"<ul class='evidence'>{''.join(items)}</ul>"


def _waiver_line(w: WaiverSummary) -> str:
    if w.approved_by:
        approval = f"approved by {_e(', '.join(w.approved_by))}"
    elif w.needs_approval:
        approval = "awaiting approval"
    else:
        approval = "no approval required"
    state = "in effect" if w.valid else f"not in effect: {_e(w.reason or 'invalid')}"
    return (
        f"<div class='waiver'><strong>Waiver</strong> {_short(w.digest)} by {_e(w.by)} "
        f"({_e(w.role)}), {approval}, expires {_e(day(w.expires))}; {state}.<br>"
        f"<em>{_e(w.justification)}</em></div>"
    )


def _control_block(entry: ControlEntry, waivers: dict[str, WaiverSummary]) -> str:
    m, res = entry.meta, entry.result
    waiver = ""
    if res.waiver:
        w = waivers.get(res.waiver)
        waiver = _waiver_line(w) if w else f"<div class='waiver'>Waiver {_short(res.waiver)}</div>"
    return (
        f"<div class='control'>{_badge(res.outcome)} <strong>{_e(m.title)}</strong> "
        f"<code class='id'>{_e(m.id)}</code><p>{_e(res.rationale)}</p>"
        f"{_evidence(res.evidence)}{waiver}</div>"
    )


def _attestation_line(att: AttestationSummary) -> str:
    expired = " <span class='warn'>expired</span>" if att.expired else ""
    return (
        f"<div class='attestation'><strong>Attestation</strong> {_short(att.digest)} by "
        f"{_e(att.by)} ({_e(att.role)}), signed {_e(day(att.created))}, expires "
        f"{_e(day(att.expires))}{expired}<br><em>{_e(att.statement)}</em>"
        f"{_evidence(att.evidence)}</div>"
    )


def _tasks(a: Assessment, catalog: Catalog) -> str:
    from ssdf_ai.profile import Practice, Task

    controls = {c.meta.id: c for c in a.controls}
    attestations = {x.digest: x for x in a.attestations}
    waivers = waivers_by_digest(a)
    by_practice: dict[str, list[TaskVerdict]] = {}
    for t in a.tasks:
        by_practice.setdefault(t.practice_id, []).append(t)
    rollups = {r.id: r for r in a.practices}
    rows = []
    for practice_id, tasks in by_practice.items():
        node = catalog.find(practice_id)
        ptitle = node.title if isinstance(node, Practice) else ""
        roll = rollups.get(practice_id)
        extra = f" · score {_fmt_score(roll.score)}" if roll else ""
        rows.append(
            f"<tr class='practice'><th colspan='6' scope='rowgroup'>{_e(practice_id)} "
            f"{_e(ptitle)}<span class='practice-score'>{extra}</span></th></tr>"
        )
        for t in tasks:
            task_node = catalog.find(t.task_id)
            statement = task_node.statement if isinstance(task_node, Task) else ""
            if t.imported_from:
                party_html = (
                    f"{_e(t.party)}<br><small>verdict imported from {_e(t.imported_from)}</small>"
                )
            elif t.party != "self":
                party_html = f"{_e(t.party)}<br><small>no verdict imported</small>"
            else:
                party_html = "this project"
            rows.append(
                f"<tr id='task-{_e(_slug(t.task_id))}' class='task'>"
                f"<td><strong>{_e(t.task_id)}</strong><p class='statement'>{_e(statement)}</p></td>"
                f"<td>{_badge(t.outcome)}</td><td>{_e(t.priority)}</td>"
                f"<td>{_e(t.basis.value)}</td><td>{party_html}</td><td>{_e(t.rationale)}</td></tr>"
            )
            detail = [_control_block(controls[c], waivers) for c in t.controls if c in controls]
            detail += [
                f"<div class='control'>Control <code>{_e(c)}</code> (no result recorded)</div>"
                for c in t.controls
                if c not in controls
            ]
            detail += [
                _attestation_line(attestations[d]) for d in t.attestations if d in attestations
            ]
            related = [
                s
                for s in a.findings
                if any(x == t.task_id or x.startswith(f"{t.task_id}.") for x in s.finding.task_ids)
            ]
            if related:
                items = "".join(
                    f"<li>{_sev(s.finding.severity)} <code>{_e(s.finding.rule_id)}</code> "
                    f"{_e(s.finding.message)}"
                    + (" <span class='ok'>(waived)</span>" if finding_waived(a, s) else "")
                    + "</li>"
                    for s in related[:10]
                )
                more = f"<li>and {len(related) - 10} more</li>" if len(related) > 10 else ""
                detail.append(
                    f"<div class='related'><strong>Findings</strong><ul>{items}{more}</ul></div>"
                )
            if detail:
                rows.append(
                    f"<tr class='detail'><td></td><td colspan='5'>{''.join(detail)}</td></tr>"
                )
    table = _table(
        ["Task", "Outcome", "Priority", "Basis", "Party", "Rationale"], rows, cls="tasks"
    )
    return _section(
        "tasks",
        f"Tasks ({len(a.tasks)})",
        table,
        lead="Every task of the profile with its verdict, what the verdict rests on, who "
        "performs the task, and the controls, evidence, attestations, waivers and findings "
        "behind it.",
    )


# -- records -------------------------------------------------------------------------------------


def _attestations(a: Assessment) -> str:
    if not a.attestations:
        return _section("attestations", "Attestations", _none("No attestations."))
    rows = [
        f"<tr><td>{_task_link(a, x.task_id)}"
        + (f"<br><small>{_e(x.subject_id)}</small>" if x.subject_id != x.task_id else "")
        + f"</td><td>{_e(x.statement)}</td><td>{_e(x.by)}<br><small>{_e(x.role)}</small></td>"
        f"<td>{_e(day(x.created))}</td><td>{_e(day(x.expires))}"
        + (" <span class='warn'>expired</span>" if x.expired else "")
        + f"</td><td>{_short(x.digest)}</td></tr>"
        for x in a.attestations
    ]
    table = _table(["Task", "Statement", "Signed by", "Signed", "Expires", "Envelope"], rows)
    return _section(
        "attestations",
        f"Attestations ({len(a.attestations)})",
        table,
        lead="Signed statements by people, verified against the configured signers. An expired "
        "attestation makes its task stale.",
    )


def _waivers(a: Assessment) -> str:
    if not a.waivers:
        return _section("waivers", "Waivers and approvals", _none("No waivers."))
    rows = []
    for w in a.waivers:
        if w.approved_by:
            approval = f"approved by {_e(', '.join(w.approved_by))}"
        elif w.needs_approval:
            approval = "<span class='warn'>awaiting approval</span>"
        else:
            approval = "not required"
        state = (
            "<span class='ok'>in effect</span>"
            if w.valid
            else f"<span class='warn'>not in effect</span><br><small>{_e(w.reason or '')}</small>"
        )
        rows.append(
            f"<tr><td><code>{_e(w.target)}</code></td><td>{_e(w.justification)}</td>"
            f"<td>{_e(w.by)}<br><small>{_e(w.role)}</small></td><td>{approval}</td>"
            f"<td>{_e(day(w.expires))}</td><td>{state}</td><td>{_short(w.digest)}</td></tr>"
        )
    table = _table(
        ["Target", "Justification", "Asked by", "Approval", "Expires", "Status", "Envelope"],
        rows,
    )
    return _section(
        "waivers",
        f"Waivers and approvals ({len(a.waivers)})",
        table,
        lead="Signed acceptances of a failing control or finding. Only waivers in effect change "
        "an outcome.",
    )


def _rejected(a: Assessment) -> str:
    if not a.rejected:
        return _section("rejected", "Rejected records", _none("No signed record was rejected."))
    rows = [
        f"<tr><td>{_e(r.kind)}</td><td>{_short(r.digest)}</td><td>{_e(r.reason)}</td></tr>"
        for r in a.rejected
    ]
    return _section(
        "rejected",
        f"Rejected records ({len(a.rejected)})",
        _table(["Kind", "Envelope", "Reason"], rows),
        lead="Signed records that did not count, and why. They changed no verdict.",
    )


def _imported(a: Assessment) -> str:
    if not a.imported:
        return _section("imported", "Imported assessments", _none("No assessment was imported."))
    rows = [
        f"<tr><td>{_e(i.party)}</td><td>{_e(i.project)}</td><td>{_e(i.signer)}</td>"
        f"<td>{_e(day(i.created))}</td><td>{', '.join(_task_link(a, t) for t in i.task_ids)}</td>"
        f"<td>{_short(i.digest)}</td></tr>"
        for i in a.imported
    ]
    return _section(
        "imported",
        f"Imported assessments ({len(a.imported)})",
        _table(["Party", "Project", "Signed by", "Created", "Tasks", "Envelope"], rows),
        lead="Other parties' signed assessments whose verdicts were used for the tasks they "
        "perform (shared responsibility).",
    )


def _scoring(a: Assessment) -> str:
    s = a.scoring
    b = score_breakdown(a)
    weights = ", ".join(f"{_e(k)} = {v}" for k, v in s.weights.items())
    values = "".join(
        f"<li>{_badge(o)} counts {v:g}</li>"
        for o, v in sorted(s.values.items(), key=lambda x: -x[1])
    )
    excluded = ", ".join(_e(OUTCOME_LABEL[o]) for o in s.excluded) or "none"
    recomputed = _fmt_score(b.score)
    check = ""
    if b.score is not None and abs(b.score - a.score) > 0.05:
        check = (
            f"<p class='warn'>The recorded score ({a.score:.1f}) differs from this recomputation "
            f"({recomputed}); the task values recorded by the assessment may differ from the "
            "defaults shown here.</p>"
        )
    content = f"""<div class="scoring">
<p>The score is a weighted average over the tasks that count:</p>
<p class="formula">score = 100 × Σ (weight × value) ÷ Σ weight</p>
<ul>
<li><strong>Weight</strong> by the task's priority in SP 800-218A: {weights}.</li>
<li><strong>Value</strong> by the task's outcome:<ul class="values">{values}</ul></li>
<li><strong>Left out</strong>: {excluded} tasks.</li>
</ul>
<p>Here {b.counted} tasks count and {b.excluded} are left out: Σ weight = {b.weight:g},
Σ (weight × value) = {b.earned:g}, so the score is 100 × {b.earned:g} ÷ {b.weight:g} =
<strong>{recomputed}</strong> (recorded: <strong>{a.score:.1f}</strong>).</p>
{check}
</div>"""
    return _section("scoring", "How the score is computed", content)


def _footer(a: Assessment) -> str:
    return (
        f"<footer>Generated by ssdf-ai {_e(a.tool.version)} from assessment "
        f"<code>{_e(a.id)}</code> on {_e(day(a.created))}. This page is self-contained: it "
        "loads nothing from the network.</footer>"
    )


_CSS = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0b3d91;
--font:"Segoe UI",system-ui,-apple-system,Roboto,"Helvetica Neue","Liberation Sans",
"DejaVu Sans",Arial,sans-serif;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,
"Liberation Mono","DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
html{font-size:15px}
body{margin:0;color:var(--ink);background:#fff;font-family:var(--font);line-height:1.45}
a{color:#0550ae;text-decoration:none}a:hover{text-decoration:underline}
code{font-family:var(--mono);font-size:.86em;background:var(--soft);border:1px solid #e6eaef;
border-radius:4px;padding:0 .3em;overflow-wrap:anywhere}
code.digest,code.rule,.nowrap{white-space:nowrap}
code.cmd{display:block;white-space:pre-wrap;word-break:break-word;padding:.3em .45em;
background:#0d1117;color:#e6edf3;border-color:#0d1117}
code.id{background:none;border:0;color:var(--muted);padding:0}
.masthead{display:flex;justify-content:space-between;align-items:center;gap:2rem;
padding:2rem 2.5rem;background:linear-gradient(120deg,#0b3d91,#13294b);color:#fff}
.eyebrow{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:.78rem;opacity:.8}
.masthead h1{margin:.2rem 0 1rem;font-size:2.2rem;font-weight:650}
.facts{display:grid;grid-template-columns:repeat(3,minmax(0,auto));gap:.4rem 2rem;margin:0}
.facts div{min-width:0}.facts dt{font-size:.72rem;text-transform:uppercase;letter-spacing:.06em;
opacity:.75}.facts dd{margin:0;font-size:.93rem;word-break:break-word}
.score-box{text-align:center;flex:none}
.score-caption{margin:.2rem 0 0;font-size:.8rem;opacity:.85}
.gauge-num{font:700 30px var(--font);fill:#1f2328}
.gauge-unit{font:500 13px var(--font);fill:#59636e}
.toc{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line)}
.toc ul{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:0;padding:.6rem 2.5rem;
list-style:none;font-size:.9rem}
main{padding:0 2.5rem 2rem;max-width:1400px}
section{margin-top:2rem}
h2{font-size:1.35rem;margin:0 0 .3rem;padding-bottom:.3rem;border-bottom:2px solid var(--accent)}
h3{font-size:1rem;margin:1.2rem 0 .4rem;color:var(--muted);text-transform:uppercase;
letter-spacing:.05em}
.lead{margin:.3rem 0 .9rem;color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:1rem;margin-bottom:.8rem}
.card{border:1px solid var(--line);border-top:5px solid var(--c);border-radius:6px;
padding:.7rem 1rem;background:#fff}
.card p{margin:0}.card-num{font-size:2rem;font-weight:700;color:var(--c)}
.card-label{font-weight:600}.card-note{font-size:.82rem;color:var(--muted)}
.badge{display:inline-block;white-space:nowrap;font-size:.78rem;font-weight:650;
line-height:1.5;padding:0 .55em;border-radius:999px;color:#fff;background:var(--c);
-webkit-print-color-adjust:exact;print-color-adjust:exact}
.legend,.chart-legend,.keyfacts{display:flex;flex-wrap:wrap;gap:.4rem 1.1rem;list-style:none;
padding:0;margin:.3rem 0}
.legend .count{font-weight:700;margin-left:.2rem}
.keyfacts{margin-top:.8rem;color:var(--muted)}.keyfacts strong{color:var(--ink)}
.chart-legend{font-size:.85rem}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;background:var(--c);
margin-right:.35em;vertical-align:-.1em;-webkit-print-color-adjust:exact;print-color-adjust:exact}
svg.chart{display:block;max-width:1100px;margin:.2rem 0 .6rem}
svg text{font-family:var(--font)}
.row-label{font-size:13px;fill:#1f2328}.row-note{font-size:13.5px;font-weight:600;fill:#1f2328}
.seg{font-size:12px;font-weight:700;fill:#fff}
table{width:100%;border-collapse:collapse;font-size:.88rem;margin:.3rem 0 1rem}
th,td{text-align:left;vertical-align:top;padding:.45rem .55rem;border-bottom:1px solid var(--line)}
thead th{background:var(--soft);font-size:.78rem;text-transform:uppercase;letter-spacing:.04em;
color:var(--muted);border-bottom:2px solid var(--line)}
td.num{color:var(--muted);width:2rem}
table.remediation td:nth-child(8){min-width:18rem}
tr.practice th{background:#eef2f8;color:#0b3d91;font-size:.92rem;border-top:2px solid #c5d2e8}
.practice-score{font-weight:400;color:var(--muted)}
tr.task td{border-bottom:0}
tr.task td:first-child{width:25%}
.statement{margin:.15rem 0 0;font-size:.8rem;color:var(--muted)}
tr.detail td{padding-top:0;background:#fff}
.control,.attestation,.waiver,.related{border-left:3px solid var(--line);
padding:.2rem 0 .2rem .6rem;
margin:.25rem 0;font-size:.84rem}
.control p{margin:.15rem 0}
.attestation{border-left-color:#8250df}.waiver{border-left-color:#1b7c83;margin-left:.6rem}
.related{border-left-color:#cf222e}.related ul{margin:.2rem 0;padding-left:1.1rem}
.evidence{margin:.15rem 0;padding-left:1.1rem;color:var(--muted)}
.kind{display:inline-block;min-width:4.5em;font-size:.74rem;text-transform:uppercase;
letter-spacing:.04em;color:var(--muted)}
.warn{color:#cf222e;font-weight:600}
.warnings{border:1px solid #d4a72c;background:#fff8c5;border-radius:6px;padding:.6rem 1rem;
margin-bottom:1rem}.warnings ul{margin:.3rem 0 0;padding-left:1.2rem}
.ok{color:#1a7f37;font-weight:600}
.scoring{max-width:60rem}.formula{font-family:var(--mono);background:var(--soft);
padding:.5rem .8rem;border-radius:4px;display:inline-block}
.values{list-style:none;padding-left:.4rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem}
footer{margin-top:2rem;padding:1rem 2.5rem;border-top:1px solid var(--line);color:var(--muted);
font-size:.82rem}
@media (max-width:900px){.masthead{flex-direction:column;align-items:flex-start}
.facts{grid-template-columns:1fr 1fr}.cards{grid-template-columns:1fr 1fr}}
@media print{
@page{size:A4;margin:12mm}
html{font-size:10pt}
.toc{display:none}
.masthead{background:none;color:#000;border-bottom:3px solid #0b3d91;padding:0 0 1rem}
.gauge circle:first-of-type{stroke:#eaeef2}
main,footer{padding-left:0;padding-right:0}
section{break-inside:auto}h2,h3{break-after:avoid}
tr{break-inside:avoid}
a{color:inherit}
code.cmd{background:#f6f8fa;color:#000;border-color:#d1d9e0}
}
"""
