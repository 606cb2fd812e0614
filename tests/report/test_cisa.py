"""The CISA attestation form view: the mapping, row statuses, JSON and text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from assessment_fixtures import sample_assessment, uniform_assessment, with_task

from ssdf_ai.assess.model import Assessment
from ssdf_ai.findings import Outcome
from ssdf_ai.profile import load_catalog
from ssdf_ai.report.cisa import ROWS, SCHEMA, evaluate_rows, render_cisa_json, render_cisa_text

ROW_LABELS = ["1a", "1b", "1c", "1d", "1e", "1f", "2", "3", "4"]


def _formats_mapping(shared_dir: Path) -> dict[str, set[str]]:
    """The form row -> SSDF task table from shared/FORMATS.md."""
    text = (shared_dir / "FORMATS.md").read_text(encoding="utf-8")
    section = text.split("## CISA Secure Software Development Attestation Form", 1)[1]
    mapping: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.fullmatch(r"\| ([0-9a-f, ]+) \| ([A-Z0-9., ]+) \|", line.strip())
        if not match:
            continue
        tasks = {t.strip() for t in match.group(2).split(",")}
        for row in match.group(1).split(","):
            mapping[row.strip()] = tasks
    return mapping


def test_rows_match_the_shared_mapping(shared_dir: Path) -> None:
    mapping = _formats_mapping(shared_dir)
    assert sorted(mapping) == sorted(ROW_LABELS)
    assert [r.row for r in ROWS] == ROW_LABELS
    for row in ROWS:
        assert set(row.task_ids) == mapping[row.row], row.row
        assert len(row.task_ids) == len(set(row.task_ids))
        assert row.asks.strip()


def test_mapped_tasks_exist_in_the_catalog() -> None:
    catalog_tasks = {t.id for t in load_catalog().tasks()}
    for row in ROWS:
        assert set(row.task_ids) <= catalog_tasks


def test_json_rows_cover_exactly_the_mapped_tasks() -> None:
    doc = json.loads(render_cisa_json(sample_assessment()))
    assert doc["schema"] == SCHEMA
    assert [r["row"] for r in doc["rows"]] == ROW_LABELS
    for row, spec in zip(doc["rows"], ROWS, strict=True):
        assert [t["task_id"] for t in row["tasks"]] == list(spec.task_ids)
        assert row["section"] == ("1" if row["row"].startswith("1") else row["row"])


def test_all_satisfied_is_attestable() -> None:
    doc = json.loads(render_cisa_json(uniform_assessment()))
    assert doc["attestable"] is True
    assert doc["rows_attestable"] == doc["rows_total"] == 9
    for row in doc["rows"]:
        assert row["status"] == "attestable"
        assert row["blocking_tasks"] == []
        assert row["depends_on_third_party"] is False


# PO.5.2 sits in rows 1c, 1e, 1f, 2 and 3; nowhere else.
PO52_ROWS = {"1c", "1e", "1f", "2", "3"}


@pytest.mark.parametrize(
    ("outcome", "blocks", "third_party"),
    [
        (Outcome.NOT_SATISFIED, True, False),
        (Outcome.PARTIAL, True, False),
        (Outcome.UNKNOWN, True, False),
        (Outcome.STALE, True, False),
        (Outcome.NEEDS_ATTESTATION, True, False),
        (Outcome.SATISFIED, False, False),
        (Outcome.WAIVED, False, False),
        (Outcome.NOT_APPLICABLE, False, False),
        (Outcome.INHERITED, False, True),
    ],
)
def test_row_status_for_each_outcome(outcome: Outcome, blocks: bool, third_party: bool) -> None:
    changed = with_task(uniform_assessment(), "PO.5.2", outcome=outcome, party="cloud-provider")
    rows = {r.row.row: r for r in evaluate_rows(changed)}
    for label, row in rows.items():
        if label in PO52_ROWS:
            assert row.status == ("not-attestable" if blocks else "attestable"), label
            assert row.blocking_tasks == (["PO.5.2"] if blocks else [])
            assert row.third_party_tasks == (["PO.5.2"] if third_party else [])
        else:
            assert row.status == "attestable", label
            assert row.third_party_tasks == []


def test_imported_verdict_is_flagged_as_third_party() -> None:
    changed = with_task(
        uniform_assessment(), "PS.1.1", party="acme-hosting", imported_from="acme-hosting"
    )
    doc = json.loads(render_cisa_json(changed))
    row2 = next(r for r in doc["rows"] if r["row"] == "2")
    assert row2["status"] == "attestable"
    assert row2["third_party_tasks"] == ["PS.1.1"]
    assert row2["depends_on_third_party"] is True
    task = next(t for t in row2["tasks"] if t["task_id"] == "PS.1.1")
    assert task["imported_from"] == "acme-hosting"
    assert task["third_party"] is True
    assert task["blocking"] is False


def test_missing_task_blocks() -> None:
    full = uniform_assessment()
    missing = full.model_copy(update={"tasks": [t for t in full.tasks if t.task_id != "RV.1.1"]})
    rows = {r.row.row: r for r in evaluate_rows(missing)}
    for label in ("2", "3", "4"):
        assert rows[label].blocking_tasks == ["RV.1.1"]
    doc = json.loads(render_cisa_json(missing))
    task = next(
        t for r in doc["rows"] if r["row"] == "2" for t in r["tasks"] if t["task_id"] == "RV.1.1"
    )
    assert task["outcome"] == "unknown"
    assert task["rationale"] == "not in the assessment"


def test_sample_rows() -> None:
    sample: Assessment = sample_assessment()
    doc = json.loads(render_cisa_json(sample))
    rows = {r["row"]: r for r in doc["rows"]}
    assert rows["1a"]["blocking_tasks"] == ["PO.5.1"]  # stale
    assert rows["1f"]["blocking_tasks"] == ["PO.3.3", "PO.5.1", "PO.5.2"]
    assert "PW.6.1" in rows["4"]["third_party_tasks"]  # inherited from ml-platform
    assert "PW.4.4" not in rows["2"]["blocking_tasks"]  # waived
    assert doc["attestable"] is False
    assert doc["warnings"] == sample.warnings


def test_text_form() -> None:
    sample = sample_assessment()
    text = render_cisa_text(sample)
    for row in ROWS:
        assert f"\n{row.row}. " in text
    assert text.count("Status: NOT ATTESTABLE") == 9
    assert "Blocked by: PO.3.3, PO.5.1, PO.5.2" in text
    assert "Depends on a third party for: PW.6.1 (ml-platform)" in text
    assert "Warning: plugin control 'acme-check' was rejected" in text
    clean = render_cisa_text(uniform_assessment())
    assert clean.count("Status: ATTESTABLE") == 9
    assert "9 of 9 attestable" in clean
    assert max(len(line) for line in text.splitlines()) <= 92
