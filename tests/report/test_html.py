"""The HTML report: self-contained, escaped, well-formed, complete, and rendered by Chromium."""

from __future__ import annotations

import html.parser
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from assessment_fixtures import sample_assessment, uniform_assessment, with_task

from ssdf_ai.assess.model import Assessment
from ssdf_ai.findings import Outcome
from ssdf_ai.report._assessment import OUTCOME_LABEL, remediations
from ssdf_ai.report.html import OUTCOME_COLOUR, render_html

CHROMIUM = Path("/usr/bin/chromium")
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
SVG_EMPTY = {"rect", "circle", "path", "line"}


@pytest.fixture(scope="module")
def assessment() -> Assessment:
    return sample_assessment()


@pytest.fixture(scope="module")
def page(assessment: Assessment) -> str:
    return render_html(assessment)


class _Checker(html.parser.HTMLParser):
    """Collects tags, attributes, ids and text; checks that elements nest and close."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.ids: list[str] = []
        self.tags: set[str] = set()
        self.badges: list[str] = []
        self._badge_depth: int | None = None
        self._badge_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
            if name == "id" and value:
                self.ids.append(value)
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "span" and ("class", "badge") in attrs:
            self._badge_depth = len(self.stack)
            self._badge_text = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        if self._badge_depth == len(self.stack):
            self.badges.append(self._badge_text)
            self._badge_depth = None
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._badge_depth is not None:
            self._badge_text += data


def _check(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    return checker


def test_markup_is_well_formed(page: str) -> None:
    checker = _check(page)
    assert not checker.errors, checker.errors[:5]
    assert checker.stack == [], checker.stack
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"


def test_self_contained_no_external_reference(page: str) -> None:
    checker = _check(page)
    # No element that loads anything, and no script at all.
    assert not checker.tags & {"script", "link", "img", "iframe", "object", "embed", "video"}
    for tag, name, value in checker.attrs:
        if name in {"src", "href", "srcset", "action", "data", "poster", "xlink:href"}:
            assert not re.match(r"(?i)\s*(https?:|//|data:|javascript:|file:)", value), (
                tag,
                name,
                value,
            )
            assert value.startswith("#"), f"{tag} {name}={value!r} is not an in-page link"
        assert not name.startswith("on"), f"event handler {name} on {tag}"
    style = page[page.index("<style>") : page.index("</style>")]
    assert "@import" not in style
    assert "url(" not in page
    for match in re.finditer(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?://[^\"' >]*)", page):
        pytest.fail(f"external reference {match.group(0)}")


def test_in_page_links_resolve(page: str) -> None:
    checker = _check(page)
    targets = set(checker.ids)
    links = {v[1:] for _, n, v in checker.attrs if n == "href"}
    assert links, "the page has in-page navigation"
    assert links <= targets, sorted(links - targets)


def test_hostile_text_is_escaped(assessment: Assessment) -> None:
    payload = "<script>alert('x')</script> & \"quoted\" <img src=https://evil.example/x.png>"
    hostile = with_task(assessment, "PO.1.3", rationale=payload)
    hostile = hostile.model_copy(update={"project": 'proj"><script>bad()</script>'})
    page = render_html(hostile)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert "proj&quot;&gt;&lt;script&gt;bad()&lt;/script&gt;" in page
    assert not _check(page).errors


def test_every_task_with_outcome_as_text(assessment: Assessment, page: str) -> None:
    for task in assessment.tasks:
        row_start = page.index(f"<tr id='task-{task.task_id}'")
        row = page[row_start : page.index("</tr>", row_start)]
        assert f">{OUTCOME_LABEL[task.outcome]}</span>" in row, task.task_id
        assert task.priority in row
        assert task.basis.value in row
    checker = _check(page)
    # Colour never alone: every badge has text, and every outcome colour comes with its name.
    assert checker.badges
    assert all(b.strip() for b in checker.badges)
    for outcome in Outcome:
        assert f'--c:{OUTCOME_COLOUR[outcome]}">{OUTCOME_LABEL[outcome]}<' in page


def test_header_score_coverage_and_sections(assessment: Assessment, page: str) -> None:
    assert f"<h1>{assessment.project}</h1>" in page
    assert "Score 52.4 out of 100" in page
    assert "AI model producer" in page
    assert "2024-11-05 14:30 UTC" in page
    cov = assessment.coverage
    for n, label in [
        (cov.automated, "Automated"),
        (cov.attested, "Attested"),
        (cov.inherited, "Inherited"),
        (cov.none, "No evidence"),
    ]:
        assert f'<p class="card-num">{n}</p><p class="card-label">{label}</p>' in page
    for section in ["summary", "charts", "remediation", "findings", "tasks", "scoring"]:
        assert f'<section id="{section}">' in page
    assert "Σ weight = 105" in page
    assert "<strong>52.4</strong>" in page


def test_charts_are_accessible_svg(assessment: Assessment, page: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    # The gauge, the coverage bar, one chart of groups and one of practices.
    assert len(svgs) == 4
    for svg in svgs:
        assert 'role="img"' in svg
        assert "<title" in svg
    practices = svgs[3]
    for p in assessment.practices:
        assert f"{p.id} " in practices
        for outcome, n in p.counts.items():
            if n:
                assert f"{p.id} {p.title}: {n} {OUTCOME_LABEL[outcome]}</title>" in practices


def test_remediation_list_in_priority_then_effort_order(assessment: Assessment, page: str) -> None:
    section = page[page.index('<section id="remediation">') : page.index('<section id="findings">')]
    shown = re.findall(r"<code class='id'>([a-z0-9-]+)</code>", section)
    expected = [r.entry.meta.id for r in remediations(assessment)]
    assert shown == expected
    # The rule itself, on the fixture: High before Medium, low effort before high effort.
    assert expected[:2] == ["dependencies-audited", "model-artifacts-signed"]
    assert expected.index("training-data-verified") < expected.index("check-criteria-defined")
    for r in remediations(assessment):
        assert r.entry.meta.remediation.replace('"', "&quot;") in section
    # Satisfied, waived and not-applicable controls are not listed.
    for cid in ["roles-defined", "model-artifacts-scanned", "guardrails-configured"]:
        assert cid not in shown


def test_findings_waivers_attestations_rejected(assessment: Assessment, page: str) -> None:
    findings = page[page.index('<section id="findings">') : page.index('<section id="tasks">')]
    open_part = findings.split("Waived findings")[0]
    assert "SSDF-CODE-002" in open_part
    assert "SSDF-SCAN-001" not in open_part
    # A waiver that is not in effect leaves its finding open, and says why.
    assert "SSDF-ADV-004" in open_part
    assert "needs an approval from a role" in open_part
    assert "SSDF-SCAN-001" in findings.split("Waived findings")[1]
    assert "approved by Dana Reviewer" in page
    assert page.count("<span class='warn'>expired</span>") >= 2  # task detail and table
    for record in assessment.rejected:
        assert record.reason in page
    assert "acme-hosting-platform" in page
    assert "verdict imported from acme-hosting" in page


def test_empty_sections_say_so() -> None:
    page = render_html(uniform_assessment())
    assert "Every control is satisfied." in page
    assert "No open findings without a waiver." in page
    assert "No signed record was rejected." in page
    assert not _check(page).errors


# -- Chromium screenshot ---------------------------------------------------------------------


def _png(path: Path) -> tuple[int, int, set[bytes]]:
    """Width, height and the set of distinct colours of an 8-bit RGB/RGBA PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    assert (depth, interlace) == (8, 0), (depth, interlace)
    assert ctype in (2, 6), ctype
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    colours: set[bytes] = set()
    prev = bytearray(stride)
    i = 0
    # Unfilter every 8th row only: enough to see the page's colours, fast enough for a test.
    for y in range(height):
        kind, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + (left + prev[x]) // 2) & 255
        elif kind == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 255
        if y % 8 == 0:
            colours.update(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
        prev = line
    return width, height, colours


def test_chromium_renders_the_report(page: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: CI must install Debian's chromium package "
            "(apt-get install -y chromium) to check that the HTML report renders"
        )
    source = tmp_path / "assessment.html"
    source.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1280,2400",
            source.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.exists(), done.stdout + done.stderr
    assert shot.stat().st_size > 20_000, "the screenshot is nearly blank"
    width, height, colours = _png(shot)
    assert (width, height) == (1280, 2400)
    # Text, charts and badges give a page hundreds of colours; a blank or unstyled page few.
    assert len(colours) > 200, len(colours)
    # The bars of the charts are drawn in the outcome colours (solid fills, no antialiasing).
    drawn = {
        o
        for o in (Outcome.SATISFIED, Outcome.NOT_SATISFIED, Outcome.NEEDS_ATTESTATION)
        if bytes.fromhex(OUTCOME_COLOUR[o][1:]) in colours
    }
    assert len(drawn) == 3, drawn
