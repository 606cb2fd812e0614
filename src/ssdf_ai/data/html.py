"""The HTML data report of ``ssdf data check --html``: one self-contained page for a reviewer.

PW.3.1 C1 asks for a human in the loop with exploratory data analysis. The page shows the
dataset's schema and statistics, each check's outcome, charts (label distribution, per-group
favourable rates, numeric column ranges, outlier scores) and the flagged examples with the reason
each was flagged. It loads nothing from the network (inline CSS and SVG, no script), and every
value from the data is escaped: the data is untrusted. Previews of text have detected secrets
and personal data masked (``[github-token]``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ssdf_ai._version import __version__

if TYPE_CHECKING:
    from ssdf_ai.data.report import DataCheckReport

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1.5em;
color:#1f2328}h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #d0d7de;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
.ran{color:#1a7f37;font-weight:600}.skipped{color:#57606a}.not-run{color:#bc4c00;font-weight:600}
.sev{color:#fff;border-radius:3px;padding:0 5px;font-size:12px;font-weight:600}
.critical{background:#82071e}.high{background:#cf222e}.medium{background:#bc4c00}
.low{background:#9a6700}.info{background:#57606a}
.muted{color:#57606a}code{font-size:12px;word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}.chart{flex:1 1 440px}
"""
_BAR = "#0969da"
_FLAG = "#cf222e"
_MAX_EXAMPLES = 200


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(
    title: str, bars: Sequence[tuple[str, float]], *, unit: str = "", colour: str = _BAR
) -> str:
    """A horizontal bar chart as inline SVG (labels and values escaped)."""
    if not bars:
        return ""
    bars = list(bars)[:40]
    top = max((v for _, v in bars), default=0.0) or 1.0
    row, label_w, width = 22, 170, 620
    height = row * len(bars) + 30
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" font-size="13" font-weight="600">{_e(title)}</text>',
    ]
    for i, (name, value) in enumerate(bars):
        y = 24 + i * row
        length = max(1.0, (width - label_w - 80) * value / top)
        shown = name if len(name) <= 24 else name[:23] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{_e(shown)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 7}" '
            f'fill="{colour}"><title>{_e(name)}: {_e(_num(value))}{_e(unit)}</title></rect>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + 14}" font-size="12">'
            f"{_e(_num(value))}{_e(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _num(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def _checks(report: DataCheckReport) -> str:
    rows = [
        (
            _e(c.name),
            f'<span class="{_e(c.status)}">{_e(c.status)}</span>',
            _e(c.flagged_rows if c.status == "ran" else ""),
            _e(c.detail),
        )
        for c in report.checks
    ]
    return _table(("check", "status", "flagged rows", "result"), rows)


def _schema(report: DataCheckReport) -> str:
    profile = report.profile
    numeric = profile.get("numeric", {})
    lengths = profile.get("mean_text_length", {})
    nulls = profile.get("nulls", {})
    rows = []
    for name, kind in report.dataset.columns.items():
        stats = numeric.get(name)
        if stats:
            summary = (
                f"min {_num(stats['min'])}, max {_num(stats['max'])}, "
                f"mean {_num(stats['mean'] or 0)}"
            )
        elif name in lengths:
            summary = f"mean length {lengths[name]}"
        else:
            summary = ""
        rows.append((f"<code>{_e(name)}</code>", _e(kind), _e(nulls.get(name, 0)), _e(summary)))
    return _table(("column", "type", "empty", "statistics"), rows)


def _charts(report: DataCheckReport, plots: dict[str, Any]) -> str:
    charts: list[str] = []
    labels = plots.get("labels") or {}
    if labels:
        ordered = sorted(labels.items(), key=lambda kv: -kv[1])
        charts.append(bar_chart("Rows per label", [(k, float(v)) for k, v in ordered]))
    for check in report.checks:
        if check.name == "bias" and check.status == "ran":
            for attribute, groups in (check.figures.get("rates") or {}).items():
                bars = [(str(g), float(r)) for g, r in groups.items() if r is not None]
                charts.append(bar_chart(f"Favourable-label rate by {attribute}", bars))
        if check.name == "text" and check.status == "ran":
            found = check.figures.get("by_category") or {}
            bars = [(k, float(v)) for k, v in found.items()]
            charts.append(bar_chart("Text hazards by category", bars, colour=_FLAG))
        if check.name == "outliers" and check.status == "ran":
            histogram = check.figures.get("score_histogram") or []
            bars = [(str(edge), float(n)) for edge, n in histogram]
            charts.append(bar_chart("Outlier scores (rows per bin)", bars))
    flagged = [(name, float(len(rows))) for name, rows in report.flagged.items() if rows]
    if flagged:
        charts.append(bar_chart("Flagged rows per check", flagged, colour=_FLAG))
    inner = "".join(f'<div class="chart">{c}</div>' for c in charts if c)
    return f'<div class="charts">{inner}</div>' if inner else '<p class="muted">No charts.</p>'


def _examples(report: DataCheckReport, plots: dict[str, Any]) -> str:
    examples: dict[int, str] = plots.get("examples") or {}
    rows = []
    for check, ids in report.flagged.items():
        for row in ids[:_MAX_EXAMPLES]:
            preview = examples.get(row, "")
            rows.append((_e(row), _e(check), f"<code>{_e(preview)}</code>"))
            if len(rows) >= _MAX_EXAMPLES * 3:
                break
    if not rows:
        return '<p class="muted">No rows were flagged.</p>'
    return _table(("row", "flagged by", "preview (hazards masked)"), rows)


def _findings(report: DataCheckReport) -> str:
    if not report.findings:
        return '<p class="muted">No findings.</p>'
    rows = [
        (
            f'<span class="sev {_e(f.severity.value)}">{_e(f.severity.value)}</span>',
            f"<code>{_e(f.rule_id)}</code>",
            _e(f.location.address or ""),
            _e(f.message),
        )
        for f in sorted(report.findings, key=lambda f: -f.severity.rank)
    ]
    return _table(("severity", "rule", "where", "message"), rows)


def render_data_report(report: DataCheckReport, plots: dict[str, Any]) -> str:
    """The data report as one HTML page.

    Args:
        report: What the check found.
        plots: Chart data from :attr:`ssdf_ai.data.check.DataCheck.plots`, and under
            ``"examples"`` the previews of flagged rows (:func:`ssdf_ai.data.check.preview_rows`).
    """
    d = report.dataset
    digest = f"{d.digest_method}:{d.digest}" if d.digest else "not computed"
    header = (
        f"<h1>Data report: <code>{_e(d.path)}</code></h1>"
        f'<p class="muted">{_e(d.format)}, {d.rows} row(s), {len(d.columns)} column(s), '
        f"{d.files} file(s); digest <code>{_e(digest)}</code>; "
        f"{'registered' if d.registered else 'not registered'}. "
        f"ssdf-ai {_e(__version__)}.</p>"
    )
    sections = [
        ("Checks", _checks(report)),
        ("Charts", _charts(report, plots)),
        ("Flagged rows", _examples(report, plots)),
        ("Findings", _findings(report)),
        ("Columns", _schema(report)),
    ]
    body = "".join(f"<h2>{_e(title)}</h2>{content}" for title, content in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>Data report: {_e(d.path)}</title><style>{_CSS}</style></head>"
        f"<body>{header}{body}</body></html>\n"
    )
