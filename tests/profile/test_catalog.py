"""The catalog as data: compared with shared/sp800-218a/profile.yaml, read independently."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic
import pytest

from ssdf_ai.errors import InputError
from ssdf_ai.profile import (
    Catalog,
    Group,
    Item,
    ItemKind,
    Practice,
    Priority,
    Tag,
    Task,
    load_catalog,
    parse_catalog,
    read_catalog,
)

NEW_TASKS = ["PO.5.3", "PS.1.2", "PS.1.3", "PW.3.1", "PW.3.2", "PW.3.3"]
MODIFIED_TASKS = ["PO.1.3", "PS.3.2", "PW.2.1"]
# "No additions to SSDF 1.1" in the final publication (SEED-DIFFERENCES.md, "What matches").
TASKS_WITHOUT_ITEMS = [
    "PO.4.2",
    "PO.5.2",
    "PW.1.2",
    "PW.1.3",
    "PW.2.1",
    "PW.4.2",
    "PW.9.1",
    "RV.3.2",
    "RV.3.3",
    "RV.3.4",
]


def _all_ids(expected: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for group in expected["groups"]:
        ids.append(group["id"])
        for practice in group["practices"]:
            ids.append(practice["id"])
            for task in practice["tasks"]:
                ids.append(task["id"])
                ids += [item["id"] for item in task["items"]]
    return ids


def test_packaged_copy_is_the_shared_profile(profile_yaml: Path) -> None:
    packaged = resources.files("ssdf_ai.profile").joinpath("data/profile.yaml").read_bytes()
    assert packaged == profile_yaml.read_bytes(), "src/ssdf_ai/profile/data/profile.yaml is stale"


def test_counts_match_the_publication(catalog: Catalog, expected: dict[str, Any]) -> None:
    practices = [p for g in expected["groups"] for p in g["practices"]]
    tasks = [t for p in practices for t in p["tasks"]]
    items = [i for t in tasks for i in t["items"]]
    kinds = Counter(i["kind"] for i in items)

    assert [g.id for g in catalog.groups] == [g["id"] for g in expected["groups"]]
    assert [p.id for p in catalog.practices()] == [p["id"] for p in practices]
    assert [t.id for t in catalog.tasks()] == [t["id"] for t in tasks]
    assert [i.id for i in catalog.items()] == [i["id"] for i in items]
    assert Counter(i.kind.value for i in catalog.items()) == kinds
    # The final publication's own numbers (SEED-DIFFERENCES.md).
    assert (len(catalog.groups), len(catalog.practices()), len(catalog.tasks())) == (4, 20, 48)
    assert (len(catalog.items()), kinds["recommendation"], kinds["consideration"]) == (86, 59, 16)
    assert kinds["note"] == 11
    assert len(catalog.items(kind=ItemKind.NOTE)) == 11


def test_every_id_is_indexed_in_document_order(catalog: Catalog, expected: dict[str, Any]) -> None:
    assert catalog.ids() == _all_ids(expected)


def test_tasks_carry_priority_tag_references_and_items(
    catalog: Catalog, expected_tasks: list[dict[str, Any]]
) -> None:
    for raw in expected_tasks:
        task = catalog.task(raw["id"])
        assert task.statement == raw["statement"]
        assert task.priority is Priority(raw["priority"])
        assert task.tag is Tag(raw["tag"])
        assert task.references.model_dump() == raw["references"]
        assert [(i.id, i.kind.value, i.text) for i in task.items] == [
            (i["id"], i["kind"], i["text"]) for i in raw["items"]
        ]


def test_practices_carry_title_statement_and_tag(
    catalog: Catalog, expected: dict[str, Any]
) -> None:
    for group in expected["groups"]:
        assert catalog.group(group["id"]).title == group["title"]
        for raw in group["practices"]:
            practice = catalog.practice(raw["id"])
            assert (practice.title, practice.statement, practice.tag.value) == (
                raw["title"],
                raw["statement"],
                raw["tag"],
            )


def test_tags_and_priorities_of_known_tasks(catalog: Catalog) -> None:
    assert [t.id for t in catalog.tasks(tag=Tag.NEW)] == NEW_TASKS
    assert [t.id for t in catalog.tasks(tag=Tag.MODIFIED)] == MODIFIED_TASKS
    assert [p.id for p in catalog.practices() if p.tag is Tag.NEW] == ["PW.3"]
    assert [p.id for p in catalog.practices() if p.tag is Tag.MODIFIED] == ["PO.5", "PS.1"]
    assert [t.id for t in catalog.tasks() if not t.items] == TASKS_WITHOUT_ITEMS
    assert catalog.task("PO.4.2").priority is Priority.LOW
    assert catalog.task("PW.3.2").priority is Priority.MEDIUM
    assert catalog.task("PW.3.2").references.adv_ml is True
    assert catalog.task("PO.5.1").references.ai_rmf is None
    assert Priority.HIGH.rank > Priority.MEDIUM.rank > Priority.LOW.rank


def test_get_returns_every_kind_of_node(catalog: Catalog) -> None:
    assert isinstance(catalog.get("PW"), Group)
    assert isinstance(catalog.get("PW.3"), Practice)
    assert isinstance(catalog.get("PW.3.1"), Task)
    item = catalog.get("pw.3.1.r2")  # any case
    assert isinstance(item, Item)
    assert item.id == "PW.3.1.R2"
    assert item.label == "R2"
    assert item.task_id == "PW.3.1"
    assert item.kind is ItemKind.RECOMMENDATION
    assert catalog.find("PW.9.9") is None


def test_parents_children_and_ancestors(catalog: Catalog) -> None:
    assert catalog.parent_of("PO") is None
    assert catalog.parent_of("PO.1") is catalog.group("PO")
    assert catalog.parent_of("PO.1.2") is catalog.practice("PO.1")
    assert catalog.parent_of("PO.1.2.N1") is catalog.task("PO.1.2")
    assert [n.id for n in catalog.ancestors("PO.1.2.N1")] == ["PO", "PO.1", "PO.1.2"]
    assert [n.id for n in catalog.children_of("PO.1.2")] == ["PO.1.2.R1", "PO.1.2.C1", "PO.1.2.N1"]
    assert [n.id for n in catalog.children_of("PW.3")] == ["PW.3.1", "PW.3.2", "PW.3.3"]
    assert catalog.children_of("PO.1.2.N1") == ()
    assert len(catalog.children_of("RV")) == 3


@pytest.mark.parametrize(
    ("wanted", "in_hint"),
    [
        ("PO.1.9", "PO.1.1"),
        ("PW.3.1.R9", "PW.3.1.R1"),
        ("XX.9", "ids look like"),
    ],
)
def test_unknown_id_is_an_input_error_with_suggestions(
    catalog: Catalog, wanted: str, in_hint: str
) -> None:
    with pytest.raises(InputError, match="unknown profile id") as caught:
        catalog.get(wanted)
    assert caught.value.hint is not None
    assert in_hint in caught.value.hint
    assert wanted in caught.value.diagnostics()


def test_typed_getters_reject_the_wrong_level(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="unknown profile task 'PO.1'"):
        catalog.task("PO.1")
    with pytest.raises(InputError, match="unknown profile practice") as caught:
        catalog.practice("PO.9")
    assert caught.value.hint is not None
    assert "PW.3" in caught.value.hint  # few enough practices to list them all


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        ({"group": "PW", "tag": Tag.NEW}, ["PW.3.1", "PW.3.2", "PW.3.3"]),
        ({"practice": "ps.1"}, ["PS.1.1", "PS.1.2", "PS.1.3"]),
        (
            {"priority": Priority.LOW},
            ["PO.4.2", "PS.3.1", "PW.4.2", "PW.6.1", "PW.6.2"],
        ),
        ({"group": "RV", "priority": Priority.HIGH}, ["RV.1.1", "RV.2.2"]),
        ({"group": "RV", "tag": Tag.NEW}, []),
    ],
)
def test_task_filters_combine(catalog: Catalog, filters: dict[str, Any], ids: list[str]) -> None:
    assert [t.id for t in catalog.tasks(**filters)] == ids


def test_task_filters_reject_unknown_and_contradictory_ids(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="unknown profile group") as caught:
        catalog.tasks(group="XX")
    assert caught.value.hint == "use one of: PO, PS, PW, RV"
    with pytest.raises(InputError, match="unknown profile practice"):
        catalog.tasks(practice="PO.1.1")
    with pytest.raises(InputError, match="not in group PS"):
        catalog.tasks(group="PS", practice="PO.1")


def test_models_are_frozen(catalog: Catalog) -> None:
    task = catalog.task("PO.1.1")
    with pytest.raises(pydantic.ValidationError):
        task.priority = Priority.LOW  # type: ignore[misc]


def test_load_catalog_is_cached_and_fast() -> None:
    assert load_catalog() is load_catalog()
    start = time.perf_counter()
    fresh = load_catalog.__wrapped__()
    elapsed = time.perf_counter() - start
    assert len(fresh.tasks()) == 48
    # Only a sanity bound (it takes milliseconds); start-up figures live in benchmarks/.
    assert elapsed < 5.0, f"loading the catalog took {elapsed:.2f} s"


def test_read_catalog_reads_a_file(profile_yaml: Path, catalog: Catalog) -> None:
    assert read_catalog(profile_yaml) == catalog


def test_read_catalog_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read profile data"):
        read_catalog(tmp_path / "absent.yaml")


def _minimal(items: str = "[]", task_id: str = "PO.1.1", practice_id: str = "PO.1") -> str:
    return f"""
source: test
groups:
  - id: PO
    title: Prepare
    practices:
      - id: {practice_id}
        title: T
        statement: S
        tag: unchanged
        tasks:
          - id: {task_id}
            statement: S
            priority: High
            tag: new
            items: {items}
            references: {{ai_rmf: null, owasp_llm_v1_1: null, adv_ml: false}}
"""


def test_parse_catalog_accepts_a_minimal_document() -> None:
    small = parse_catalog(_minimal("[{id: PO.1.1.C1, kind: consideration, text: x}]"))
    assert small.ids() == ["PO", "PO.1", "PO.1.1", "PO.1.1.C1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: [", "not valid YAML"),
        ("- a list", "must be a mapping"),
        (_minimal("[{id: PO.1.1.R1, kind: note, text: x}]"), "its letter must be N"),
        (_minimal("[{id: PO.1.2.R1, kind: recommendation, text: x}]"), "listed under task"),
        (_minimal(task_id="PO.2.1"), "listed under practice"),
        (_minimal(practice_id="PS.1", task_id="PS.1.1"), "listed under group"),
        (
            _minimal(
                "[{id: PO.1.1.R1, kind: recommendation, text: x},"
                " {id: PO.1.1.R1, kind: recommendation, text: y}]"
            ),
            "appears more than once",
        ),
        (_minimal().replace("priority: High", "priority: Urgent"), "does not fit"),
        (_minimal().replace("tag: new", "tag: new\n            extra: 1"), "does not fit"),
        (_minimal().replace("adv_ml: false", "adv_ml: false, cwe: 1"), "does not fit"),
    ],
)
def test_parse_catalog_fails_closed(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_catalog(text, where="test.yaml")


def test_parse_catalog_never_constructs_python_objects(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    payload = f"!!python/object/apply:os.system ['touch {canary}']\n"
    with pytest.raises(InputError, match="not valid YAML") as caught:
        parse_catalog(payload, where="evil.yaml")
    assert not canary.exists()
    assert caught.value.where == "evil.yaml:1"


def test_profile_facade_imports_nothing_heavy() -> None:
    code = (
        "import sys, ssdf_ai.profile as p; "
        "p.Priority, p.Tag, p.ExportFormat, p.OscalKind; "
        "heavy = [m for m in ('pydantic', 'yaml') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_module_imports_only_light_modules_at_top_level() -> None:
    import ssdf_ai.cli.profile as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    top: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            top += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            top.append(node.module or "")
    allowed = {
        "__future__",
        "collections.abc",
        "datetime",
        "typing",
        "typer",
        "ssdf_ai.cli._common",
        "ssdf_ai.profile",
    }
    assert set(top) <= allowed, set(top) - allowed


def test_every_public_name_resolves() -> None:
    import ssdf_ai.profile as facade

    for name in facade.__all__:
        assert getattr(facade, name) is not None
    with pytest.raises(AttributeError):
        _ = facade.no_such_name
