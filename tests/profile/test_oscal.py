"""OSCAL export: checked with compliance-trestle, and the profile resolved against NIST's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trestle.oscal.catalog as trestle_catalog
import trestle.oscal.profile as trestle_profile
from trestle.core.profile_resolver import ProfileResolver

from ssdf_ai.errors import InputError
from ssdf_ai.profile import Catalog, ItemKind, Tag, parse_catalog
from ssdf_ai.profile.oscal import (
    NIST_SSDF_CATALOG_HREF,
    NS,
    SSDF_1_1_CONTROL_IDS,
    catalog_control_ids,
    dumps,
    oscal_catalog,
    oscal_profile,
    token,
)

WHEN = datetime(2024, 7, 26, tzinfo=UTC)
TRESTLE = Path(sys.executable).with_name("trestle")
# OSCAL's token datatype, ASCII part (our ids never use anything else).
TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _controls(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in nodes:
        out.append(node)
        out += _controls(node.get("controls", []))
    return out


def _prop(control: dict[str, Any] | Any, name: str) -> str | None:
    """The value of a property in our namespace, on a dict or a trestle model."""
    props = control["props"] if isinstance(control, dict) else (control.props or [])
    for prop in props:
        p_name, p_ns, p_value = (
            (prop["name"], prop.get("ns"), prop["value"])
            if isinstance(prop, dict)
            else (prop.name, str(prop.ns) if prop.ns else None, prop.value)
        )
        if p_name == name and p_ns == NS:
            return str(p_value)
    return None


@pytest.fixture(scope="module")
def catalog_doc(catalog: Catalog) -> dict[str, Any]:
    return oscal_catalog(catalog, last_modified=WHEN)


@pytest.fixture(scope="module")
def profile_doc(catalog: Catalog) -> dict[str, Any]:
    return oscal_profile(catalog, last_modified=WHEN)


# -- catalog --------------------------------------------------------------------------------


def test_catalog_parses_with_trestle(catalog_doc: dict[str, Any]) -> None:
    model = trestle_catalog.Catalog.model_validate(catalog_doc["catalog"])
    assert [g.id for g in model.groups or []] == ["PO", "PS", "PW", "RV"]


def test_catalog_structure_matches_the_profile(
    catalog_doc: dict[str, Any], expected_tasks: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    groups = catalog_doc["catalog"]["groups"]
    practices = [p for g in groups for p in g["controls"]]
    assert [p["id"] for p in practices] == [
        p["id"] for g in expected["groups"] for p in g["practices"]
    ]
    assert {p["class"] for p in practices} == {"practice"}
    tasks = [t for p in practices for t in p["controls"]]
    assert [t["id"] for t in tasks] == [t["id"] for t in expected_tasks]
    assert {t["class"] for t in tasks} == {"task"}
    for control, raw in zip(tasks, expected_tasks, strict=True):
        assert _prop(control, "priority") == raw["priority"]
        assert _prop(control, "ssdf-1.1-tag") == raw["tag"]
        assert _prop(control, "ai-rmf") == raw["references"]["ai_rmf"]
        assert _prop(control, "owasp-llm-v1.1") == raw["references"]["owasp_llm_v1_1"]
        assert _prop(control, "adv-ml") == str(raw["references"]["adv_ml"]).lower()
        statement, *items = control["parts"]
        assert (statement["name"], statement["prose"]) == ("statement", raw["statement"])
        assert [(p["id"], p["name"], p["ns"], p["prose"]) for p in items] == [
            (i["id"], i["kind"], NS, i["text"]) for i in raw["items"]
        ]
    names = [p["name"] for t in tasks for p in t["parts"] if p["name"] != "statement"]
    assert len(names) == 86
    assert set(names) == {kind.value for kind in ItemKind}


def test_catalog_ids_are_unique_tokens_and_uuids_are_v5(catalog_doc: dict[str, Any]) -> None:
    text = dumps(catalog_doc)
    ids = re.findall(r'"id": "([^"]+)"', text)
    assert len(ids) == len(set(ids))
    assert all(TOKEN.match(i) for i in ids)
    uuids = re.findall(r'"uuid": "([^"]+)"', text)
    assert uuids
    assert {uuid.UUID(u).version for u in uuids} == {5}


def test_catalog_is_deterministic_and_tracks_content(
    catalog: Catalog, catalog_doc: dict[str, Any], profile_yaml: Path
) -> None:
    assert oscal_catalog(catalog, last_modified=WHEN) == catalog_doc
    now = oscal_catalog(catalog)
    assert now["catalog"]["metadata"].pop("last-modified") != "2024-07-26T00:00:00+00:00"
    pinned = json.loads(json.dumps(catalog_doc))
    pinned["catalog"]["metadata"].pop("last-modified")
    assert now == pinned

    changed = parse_catalog(
        profile_yaml.read_text(encoding="utf-8").replace("Leadership should", "Leaders should")
    )
    assert changed != catalog
    assert (
        oscal_catalog(changed, last_modified=WHEN)["catalog"]["uuid"]
        != (catalog_doc["catalog"]["uuid"])
    )


def test_naive_last_modified_is_rejected(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="no time zone"):
        oscal_catalog(catalog, last_modified=datetime(2024, 7, 26))


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("PO.1.2.R1", "PO.1.2.R1"), ("a b/c", "a_b_c"), ("1x", "_1x"), ("-x", "_-x")],
)
def test_token(raw: str, safe: str) -> None:
    assert token(raw) == safe
    assert TOKEN.match(token(raw))


# -- profile --------------------------------------------------------------------------------


def test_builtin_ssdf_ids_match_nists_catalog(nist_catalog: dict[str, Any]) -> None:
    assert catalog_control_ids(nist_catalog) == SSDF_1_1_CONTROL_IDS
    assert len(SSDF_1_1_CONTROL_IDS) == 19 + 42


def test_profile_parses_with_trestle(profile_doc: dict[str, Any]) -> None:
    model = trestle_profile.Profile.model_validate(profile_doc["profile"])
    assert len(model.imports) == 2


def test_profile_alters_only_controls_nist_has(
    profile_doc: dict[str, Any], nist_catalog: dict[str, Any], catalog: Catalog
) -> None:
    nist_ids = catalog_control_ids(nist_catalog)
    profile = profile_doc["profile"]
    altered = [alter["control-id"] for alter in profile["modify"]["alters"]]
    assert len(altered) == len(set(altered))
    assert set(altered) <= nist_ids
    assert set(altered) == nist_ids  # every SSDF 1.1 practice and task gets its AI additions

    nist_import, ai_import = profile["imports"]
    assert nist_import["include-all"] == {}
    new_ids = ai_import["include-controls"][0]["with-ids"]
    assert new_ids == ["PO.5.3", "PS.1.2", "PS.1.3", "PW.3", "PW.3.1", "PW.3.2", "PW.3.3"]
    assert not set(new_ids) & nist_ids
    assert set(new_ids) | nist_ids == {p.id for p in catalog.practices()} | {
        t.id for t in catalog.tasks()
    }

    resources = {r["uuid"]: r for r in profile["back-matter"]["resources"]}
    nist_resource = resources[nist_import["href"].removeprefix("#")]
    assert nist_resource["rlinks"][0]["href"] == NIST_SSDF_CATALOG_HREF
    ai_resource = resources[ai_import["href"].removeprefix("#")]
    assert ai_resource["rlinks"][0]["href"] == "sp800-218a-catalog.json"


def test_profile_adds_items_and_props_to_each_task(
    profile_doc: dict[str, Any], catalog: Catalog
) -> None:
    alters = {a["control-id"]: a["adds"][0] for a in profile_doc["profile"]["modify"]["alters"]}
    for task in catalog.tasks():
        if task.tag is Tag.NEW:
            assert task.id not in alters
            continue
        add = alters[task.id]
        assert _prop(add, "priority") == task.priority.value
        assert _prop(add, "ssdf-1.1-tag") == task.tag.value
        parts = [p for p in add.get("parts", []) if p["name"] != "sp800-218a-statement"]
        assert [(p["id"], p["name"], p["prose"]) for p in parts] == [
            (i.id, i.kind.value, i.text) for i in task.items
        ]
    statement = alters["PS.1"]["parts"][0]
    assert statement["name"] == "sp800-218a-statement"
    assert (
        statement["title"]
        == "Protect All Forms of Code and Data from Unauthorized Access and Tampering"
    )


def test_profile_refuses_ids_missing_from_ssdf(catalog: Catalog) -> None:
    without = SSDF_1_1_CONTROL_IDS - {"PO.1.1"}
    with pytest.raises(InputError, match=r"PO\.1\.1 is not in the SSDF 1\.1 catalog"):
        oscal_profile(catalog, ssdf_control_ids=without)
    with pytest.raises(InputError, match=r"PW\.3 is tagged new"):
        oscal_profile(catalog, ssdf_control_ids=SSDF_1_1_CONTROL_IDS | {"PW.3"})
    with pytest.raises(InputError, match="must not be empty"):
        oscal_profile(catalog, nist_catalog_href="")


def test_catalog_control_ids_rejects_other_documents() -> None:
    with pytest.raises(InputError, match="not an OSCAL catalog"):
        catalog_control_ids({"profile": {}})


# -- trestle workspace: validate and resolve ------------------------------------------------


@pytest.fixture(scope="module")
def workspace(
    tmp_path_factory: pytest.TempPathFactory,
    nist_catalog_path: Path,
    catalog: Catalog,
) -> Path:
    root = tmp_path_factory.mktemp("trestle")
    done = subprocess.run([str(TRESTLE), "init"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (root / "catalogs" / "nist-ssdf").mkdir()
    shutil.copy(nist_catalog_path, root / "catalogs" / "nist-ssdf" / "catalog.json")
    (root / "catalogs" / "sp800-218a").mkdir()
    (root / "catalogs" / "sp800-218a" / "catalog.json").write_text(
        dumps(oscal_catalog(catalog, last_modified=WHEN)), encoding="utf-8"
    )
    (root / "profiles" / "sp800-218a").mkdir()
    profile = oscal_profile(
        catalog,
        nist_catalog_href="trestle://catalogs/nist-ssdf/catalog.json",
        ai_catalog_href="trestle://catalogs/sp800-218a/catalog.json",
        last_modified=WHEN,
    )
    (root / "profiles" / "sp800-218a" / "profile.json").write_text(dumps(profile), "utf-8")
    return root


@pytest.mark.parametrize(
    "model",
    ["catalogs/sp800-218a/catalog.json", "profiles/sp800-218a/profile.json"],
)
def test_trestle_validate(workspace: Path, model: str) -> None:
    done = subprocess.run(
        [str(TRESTLE), "validate", "-f", model], cwd=workspace, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID" in done.stdout


@pytest.fixture(scope="module")
def resolved(workspace: Path) -> dict[str, Any]:
    model = ProfileResolver.get_resolved_profile_catalog(
        workspace, str(workspace / "profiles" / "sp800-218a" / "profile.json")
    )
    data: dict[str, Any] = json.loads(model.oscal_serialize_json())["catalog"]
    return data


def test_resolved_profile_has_every_task_with_ai_items_and_priorities(
    resolved: dict[str, Any], catalog: Catalog
) -> None:
    controls = {c["id"]: c for g in resolved["groups"] for c in _controls(g["controls"])}
    assert {t.id for t in catalog.tasks()} <= set(controls)
    assert {p.id for p in catalog.practices()} <= set(controls)
    assert len(controls) == 20 + 48
    for task in catalog.tasks():
        control = controls[task.id]
        assert control["class"] == "task"
        assert _prop(control, "priority") == task.priority.value
        assert _prop(control, "ssdf-1.1-tag") == task.tag.value
        parts = {p.get("id"): p for p in control.get("parts", [])}
        for item in task.items:
            assert parts[item.id]["name"] == item.kind.value
            assert parts[item.id]["prose"] == item.text
    for practice in catalog.practices():
        assert _prop(controls[practice.id], "ssdf-1.1-tag") == practice.tag.value


def test_resolved_profile_keeps_nists_text(resolved: dict[str, Any]) -> None:
    controls = {c["id"]: c for g in resolved["groups"] for c in _controls(g["controls"])}
    po11 = controls["PO.1.1"]
    assert any(p["name"] == "example" for p in po11["parts"])  # SSDF 1.1's examples stay
    po13 = {p["name"]: p for p in controls["PO.1.3"]["parts"]}
    assert "reuse by" in po13["statement"]["prose"]  # NIST's SSDF 1.1 wording...
    assert "for use by" in po13["sp800-218a-statement"]["prose"]  # ...and SP 800-218A's
    # The new practice comes from our catalog, with its tasks nested.
    assert [c["id"] for c in controls["PW.3"]["controls"]] == ["PW.3.1", "PW.3.2", "PW.3.3"]
