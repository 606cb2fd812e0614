"""The Markdown summary: content, table escaping, and the size bound."""

from __future__ import annotations

import re

import pytest
from assessment_fixtures import big_assessment, sample_assessment, uniform_assessment, with_task

from ssdf_ai.assess.model import Assessment
from ssdf_ai.report._assessment import OUTCOME_ORDER, attention_tasks, open_findings, remediations
from ssdf_ai.report.markdown import MAX_BYTES, cell, code, render_markdown

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def assessment() -> Assessment:
    return sample_assessment()


@pytest.fixture(scope="module")
def text(assessment: Assessment) -> str:
    return render_markdown(assessment)


def _tables(text: str) -> list[list[str]]:
    """Every table in the text, as its lines."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_tables_are_rectangular(text: str) -> None:
    tables = _tables(text)
    assert len(tables) >= 8  # coverage, 4 groups, attention, remediation, findings
    for table in tables:
        widths = {len(UNESCAPED_PIPE.findall(line)) for line in table}
        assert len(widths) == 1, table[:3]
        assert re.fullmatch(r"\|( -+:? \|| ---:? \|)+", table[1].replace("---:", "---")), table[1]


def test_summary_content(assessment: Assessment, text: str) -> None:
    assert text.startswith("## SSDF assessment of sentiment-classifier: 52.4 / 100\n")
    assert "| Automated (a control evaluated evidence) | 26 |" in text
    assert "| **All tasks** | **48** |" in text
    for group in assessment.groups:
        assert f"### {group.id} {group.title}: {group.score:.1f} / 100" in text
    for practice in assessment.practices:
        assert f"| {practice.id} " in text
    # PO.2: 2 satisfied, 1 stale, in outcome-column order.
    po2 = next(line for line in text.splitlines() if line.startswith("| PO.2 "))
    cells = [c.strip() for c in UNESCAPED_PIPE.split(po2)[1:-1]]
    assert cells[1] == "87.5"
    counts = dict(zip(OUTCOME_ORDER, cells[2:], strict=True))
    assert counts[OUTCOME_ORDER[0]] == "2"
    assert sum(int(c or 0) for c in cells[2:]) == 3


def test_attention_remediation_findings(assessment: Assessment, text: str) -> None:
    attention = attention_tasks(assessment)
    assert f"### Tasks that need attention ({len(attention)})" in text
    for task in attention:
        assert f"| {task.task_id} | " in text
    for done in ("PO.1.1", "PW.4.4", "PO.5.3", "PW.9.1"):  # satisfied, waived, inherited, n/a
        assert f"| {done} | " not in text
    fixes = remediations(assessment)
    assert f"### Remediation ({len(fixes)})" in text
    assert "| 1 | Dependencies audited for known vulnerabilities (`dependencies-audited`)" in text
    assert "`ssdf sign model models/ --key keys/release.pem`" in text
    found = open_findings(assessment)
    assert f"### Open findings ({len(found)}; 1 more covered by a waiver)" in text
    assert "`SSDF-CODE-002`" in text
    assert "`SSDF-SCAN-001`" not in text  # waived
    assert "signature does not verify with any key in \\[\\[signers\\]\\]" in text


def test_top_n_and_more_lines(assessment: Assessment) -> None:
    text = render_markdown(assessment, top=3, max_findings=2)
    assert "### Remediation (top 3 of 9)" in text
    assert "…and 6 more controls to remediate." in text
    assert "…and 2 more open findings." in text
    assert text.count("| `SSDF-") == 2


def test_nothing_to_do() -> None:
    text = render_markdown(uniform_assessment())
    assert "None: every task is done or waived." in text
    assert "Nothing to fix: every control is satisfied." in text
    assert "No open finding without a waiver." in text


def test_cells_escape_pipes_newlines_and_markup(assessment: Assessment) -> None:
    hostile = "a | b\nc <script>x</script> [link](https://evil.example) *bold* `tick` \\"
    text = render_markdown(with_task(assessment, "PO.1.3", rationale=hostile))
    row = next(line for line in text.splitlines() if line.startswith("| PO.1.3 |"))
    assert len(UNESCAPED_PIPE.findall(row)) == 6  # five cells
    assert "\n" not in row
    assert (
        r"a \| b c \<script\>x\</script\> \[link\](https://evil.example) \*bold\* \`tick\` \\"
        in row
    )
    assert "<script>" not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("a|b", r"a\|b"),
        ("two\nlines\r\n  here", "two lines here"),
        ("<b>", r"\<b\>"),
        ("back\\slash", r"back\\slash"),
        ("x" * 300, "x" * 239 + "…"),
    ],
)
def test_cell(raw: str, expected: str) -> None:
    assert cell(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ssdf scan .", "`ssdf scan .`"),
        ("a | b", r"`a \| b`"),
        ("use `x`", "`` use `x` ``"),
        ("multi\nline", "`multi line`"),
    ],
)
def test_code(raw: str, expected: str) -> None:
    assert code(raw) == expected


def test_big_input_stays_under_bound() -> None:
    big = big_assessment()
    text = render_markdown(big)
    assert len(text.encode("utf-8")) <= MAX_BYTES
    assert f"…and {len(remediations(big)) - 10} more controls to remediate." in text
    assert f"…and {len(open_findings(big)) - 15} more open findings." in text
    # Asked for everything, it is truncated with a note, still under the bound.
    everything = render_markdown(big, top=100_000, max_findings=100_000)
    assert len(everything.encode("utf-8")) <= MAX_BYTES
    assert "> **Note:** this summary was truncated" in everything
    assert everything.rstrip().endswith("</sub>")


@pytest.mark.parametrize("bound", [2_000, 5_000, 20_000])
def test_any_bound_is_kept(assessment: Assessment, bound: int) -> None:
    full = render_markdown(assessment)
    text = render_markdown(assessment, max_bytes=bound)
    assert len(text.encode("utf-8")) <= bound
    assert ("truncated" in text) == (len(full.encode("utf-8")) > bound)
