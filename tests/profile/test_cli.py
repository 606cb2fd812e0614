"""``ssdf profile list|show|export`` through typer's runner, and the real ``ssdf`` once."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ssdf_ai.profile import CSV_COLUMNS, Catalog, ProfileListReport, ProfileShowReport

Invoke = Callable[..., tuple[int, str, str]]
SSDF = Path(sys.executable).with_name("ssdf")
FULL_SUMMARY = (
    "4 groups, 20 practices, 48 tasks, 86 items (59 recommendations, 16 considerations, 11 notes)"
)


# -- list -----------------------------------------------------------------------------------


def test_list_shows_every_task_and_the_counts(invoke: Invoke, catalog: Catalog) -> None:
    code, out, err = invoke("list")
    assert code == 0, err
    for task in catalog.tasks():
        assert task.id in out
    assert out.rstrip().endswith(FULL_SUMMARY)


def test_list_json_has_full_task_data(invoke: Invoke, expected_tasks: list[dict[str, Any]]) -> None:
    code, out, err = invoke("list", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["report"] == "profile-list"
    assert data["tasks"] == expected_tasks  # same shape as profile.yaml, task by task
    assert data["summary"] == {
        "groups": 4,
        "practices": 20,
        "tasks": 48,
        "items": 86,
        "recommendations": 59,
        "considerations": 16,
        "notes": 11,
    }
    schema = ProfileListReport.model_json_schema()
    jsonschema.validate(data, schema)


@pytest.mark.parametrize(
    ("args", "ids", "summary"),
    [
        (
            ["--group", "pw", "--tag", "new"],
            ["PW.3.1", "PW.3.2", "PW.3.3"],
            "1 group, 1 practice, 3 tasks, 5 items (3 recommendations, 1 consideration, 1 note)",
        ),
        (
            ["--practice", "PS.1", "--priority", "High"],
            ["PS.1.1", "PS.1.2", "PS.1.3"],
            "1 group, 1 practice, 3 tasks, 12 items",
        ),
        (
            ["--priority", "low"],
            ["PO.4.2", "PS.3.1", "PW.4.2", "PW.6.1", "PW.6.2"],
            "3 groups, 4 practices, 5 tasks, 6 items",
        ),
        (["--group", "RV", "--tag", "new"], [], "0 groups, 0 practices, 0 tasks, 0 items"),
    ],
)
def test_list_filters_combine(
    invoke: Invoke, args: list[str], ids: list[str], summary: str
) -> None:
    code, out, err = invoke("list", *args, "--format", "json")
    assert code == 0, err
    assert [t["id"] for t in json.loads(out)["tasks"]] == ids
    code, out, err = invoke("list", *args)
    assert code == 0, err
    assert summary in out
    if not ids:
        assert "No tasks match the filters." in out


def test_list_items_shows_item_rows(invoke: Invoke) -> None:
    code, out, _ = invoke("list", "--practice", "PW.3")
    assert code == 0
    assert "PW.3.1.R2" not in out
    code, out, _ = invoke("list", "--practice", "PW.3", "--items")
    assert code == 0
    for item_id in ("PW.3.1.R1", "PW.3.1.R2", "PW.3.1.C1", "PW.3.2.N1", "PW.3.3.R1"):
        assert item_id in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group", "XX"], "use one of: PO, PS, PW, RV"),
        (["--practice", "PO.9"], "unknown profile practice"),
        (["--group", "PS", "--practice", "PO.1"], "not in group PS"),
        (["--format", "sarif"], "'sarif' is not one of"),
    ],
)
def test_list_usage_errors_exit_2(invoke: Invoke, args: list[str], message: str) -> None:
    code, out, err = invoke("list", *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_list_bad_choice_exits_2(invoke: Invoke) -> None:
    code, _, err = invoke("list", "--priority", "urgent")
    assert code == 2
    assert "urgent" in err


# -- show -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node_id", "level", "parents", "children"),
    [
        (
            "PW",
            "group",
            [],
            ["PW.1", "PW.2", "PW.3", "PW.4", "PW.5", "PW.6", "PW.7", "PW.8", "PW.9"],
        ),
        ("PW.3", "practice", ["PW"], ["PW.3.1", "PW.3.2", "PW.3.3"]),
        ("po.1.2", "task", ["PO", "PO.1"], ["PO.1.2.R1", "PO.1.2.C1", "PO.1.2.N1"]),
        ("PW.4.1.C1", "item", ["PW", "PW.4", "PW.4.1"], []),
    ],
)
def test_show_json(
    invoke: Invoke, node_id: str, level: str, parents: list[str], children: list[str]
) -> None:
    code, out, err = invoke("show", node_id, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["report"] == "profile-show"
    assert data["id"] == node_id.upper()
    assert data["level"] == level
    assert data["node"]["id"] == node_id.upper()
    assert [p["id"] for p in data["parents"]] == parents
    assert [c["id"] for c in data["children"]] == children
    jsonschema.validate(data, ProfileShowReport.model_json_schema())
    assert ProfileShowReport.model_validate(data).node.id == node_id.upper()


def test_show_task_terminal(invoke: Invoke, catalog: Catalog) -> None:
    code, out, err = invoke("show", "PO.5.3")
    assert code == 0, err
    for text in ("task PO.5.3", "priority: High", "new (not part of SSDF 1.1)", "Measure 2.4"):
        assert text in out
    for parent_or_child in ("PO ", "PO.5 ", "PO.5.3.R1", "PO.5.3.R2"):
        assert parent_or_child in out


def test_show_item_terminal(invoke: Invoke, catalog: Catalog) -> None:
    code, out, _ = invoke("show", "PS.1.1.C1")
    assert code == 0
    assert "item PS.1.1.C1" in out
    assert "Consider preventing all human access to model weights." in out
    assert "consideration" in out
    assert "PS.1.1" in out


@pytest.mark.parametrize(("node_id", "hint"), [("XX.9", "ids look like"), ("PO.1.9", "PO.1.1")])
def test_show_unknown_id_exits_2_with_suggestions(invoke: Invoke, node_id: str, hint: str) -> None:
    code, out, err = invoke("show", node_id)
    assert code == 2
    assert out == ""
    assert f"unknown profile id '{node_id}'" in err
    assert hint in err


# -- export ---------------------------------------------------------------------------------


def test_export_json_is_the_catalog_model(invoke: Invoke, expected: dict[str, Any]) -> None:
    code, out, err = invoke("export", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == expected  # same shape and content as profile.yaml


def test_export_csv_has_a_row_per_item_and_per_bare_task(
    invoke: Invoke, expected_tasks: list[dict[str, Any]]
) -> None:
    code, out, err = invoke("export", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    bare = [t["id"] for t in expected_tasks if not t["items"]]
    items = [(t["id"], i) for t in expected_tasks for i in t["items"]]
    assert len(rows) == len(items) + len(bare) == 96
    assert [r["task"] for r in rows if not r["item_id"]] == bare
    by_id = {r["item_id"]: r for r in rows if r["item_id"]}
    for task_id, item in items:
        row = by_id[item["id"]]
        assert (row["task"], row["kind"], row["text"]) == (task_id, item["kind"], item["text"])
    pw32 = by_id["PW.3.2.N1"]
    assert (pw32["group"], pw32["practice"], pw32["priority"], pw32["tag"]) == (
        "PW",
        "PW.3",
        "Medium",
        "new",
    )
    assert (pw32["ai_rmf"], pw32["owasp_llm_v1_1"], pw32["adv_ml"]) == (
        "Measure 2.1",
        "LLM03-1",
        "true",
    )
    assert by_id["PO.5.1.R1"]["ai_rmf"] == ""


def test_export_markdown_names_every_task_and_item(invoke: Invoke, catalog: Catalog) -> None:
    code, out, err = invoke("export", "--format", "markdown")
    assert code == 0, err
    assert out.startswith("# NIST SP 800-218A")
    for task in catalog.tasks():
        assert f"#### {task.id}" in out
    for item in catalog.items():
        assert f"**{item.id}**" in out
    assert "### PW.3: Confirm the Integrity of Training, Testing, Fine-Tuning, and Aligning" in out
    assert out.count("No additions to SSDF 1.1.") == 10


def test_export_oscal_is_reproducible_with_a_fixed_time(invoke: Invoke) -> None:
    args = ("export", "--format", "oscal", "--last-modified", "2024-07-26T00:00:00+00:00")
    first = invoke(*args)
    second = invoke(*args)
    assert first[0] == 0, first[2]
    assert first == second
    doc = json.loads(first[1])
    assert doc["catalog"]["metadata"]["last-modified"] == "2024-07-26T00:00:00+00:00"

    code, out, _ = invoke("export", "--last-modified", "2024-07-26")  # oscal is the default
    assert code == 0
    assert json.loads(out) == doc  # a date is midnight UTC

    code, out, _ = invoke("export")
    unpinned = json.loads(out)
    assert unpinned["catalog"]["metadata"].pop("last-modified") != "2024-07-26T00:00:00+00:00"
    doc["catalog"]["metadata"].pop("last-modified")
    assert unpinned == doc


def test_export_oscal_profile_with_hrefs(invoke: Invoke) -> None:
    code, out, err = invoke(
        "export",
        "--oscal-kind",
        "profile",
        "--catalog-href",
        "https://example.test/ssdf.json",
        "--ai-catalog-href",
        "ai.json",
    )
    assert code == 0, err
    profile = json.loads(out)["profile"]
    hrefs = [link["href"] for r in profile["back-matter"]["resources"] for link in r["rlinks"]]
    assert "https://example.test/ssdf.json" in hrefs
    assert "ai.json" in hrefs


def test_export_oscal_profile_defaults_to_nists_catalog(invoke: Invoke) -> None:
    code, out, _ = invoke("export", "--format", "oscal", "--oscal-kind", "profile")
    assert code == 0
    resources = json.loads(out)["profile"]["back-matter"]["resources"]
    hrefs = [link["href"] for r in resources for link in r["rlinks"]]
    assert (
        "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-218/ver1/"
        "json/NIST_SP800-218_ver1_catalog.json" in hrefs
    )
    assert "sp800-218a-catalog.json" in hrefs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "csv", "--oscal-kind", "profile"], "applies only to --format oscal"),
        (["--format", "markdown", "--last-modified", "2024-07-26"], "applies only to --format"),
        (["--catalog-href", "x.json"], "applies only to --oscal-kind profile"),
        (["--oscal-kind", "catalog", "--ai-catalog-href", "x"], "only to --oscal-kind profile"),
        (["--oscal-kind", "profile", "--catalog-href", " "], "must not be empty"),
        (["--last-modified", "yesterday"], "Invalid value for '--last-modified'"),
        (["--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_export_usage_errors_exit_2(invoke: Invoke, args: list[str], message: str) -> None:
    code, out, err = invoke("export", *args)
    assert code == 2
    assert out == ""
    assert message in err


def test_export_writes_output_file(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "profile.csv"
    code, out, err = invoke("export", "--format", "csv", "--output", str(target))
    assert code == 0, err
    assert out == ""
    assert f"wrote {target}" in err
    assert target.read_text(encoding="utf-8").startswith("group,practice,task,")


def test_export_output_into_missing_directory_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    code, _, err = invoke("export", "--output", str(tmp_path / "no" / "such.json"))
    assert code == 2
    assert "does not exist" in err


# -- the installed command ------------------------------------------------------------------


def test_real_ssdf_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SSDF), "profile", "show", "PW.3.1", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["level"] == "task"
    failed = subprocess.run(
        [str(SSDF), "profile", "show", "XX.9"], capture_output=True, text=True, cwd=tmp_path
    )
    assert failed.returncode == 2
    assert "unknown profile id" in failed.stderr
