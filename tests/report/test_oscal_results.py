"""OSCAL assessment results and POA&M: checked with compliance-trestle's models and validator."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import trestle.oscal.assessment_results as trestle_ar
import trestle.oscal.poam as trestle_poam
from assessment_fixtures import sample_assessment, uniform_assessment, with_task

from ssdf_ai.assess.model import Assessment
from ssdf_ai.findings import Outcome
from ssdf_ai.profile import load_catalog
from ssdf_ai.profile.oscal import NS, OSCAL_VERSION, catalog_control_ids, oscal_catalog
from ssdf_ai.report._assessment import ATTENTION, finding_waived
from ssdf_ai.report.oscal_results import (
    DEFAULT_IMPORT_AP_HREF,
    OSCAL_STATE,
    render_assessment_results,
    render_poam,
)

TRESTLE = Path(sys.executable).with_name("trestle")


@pytest.fixture(scope="module")
def assessment() -> Assessment:
    return sample_assessment()


@pytest.fixture(scope="module")
def ar(assessment: Assessment) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_assessment_results(assessment))["assessment-results"]
    return doc


@pytest.fixture(scope="module")
def poam(assessment: Assessment) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_poam(assessment))["plan-of-action-and-milestones"]
    return doc


def _prop(node: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in node.get("props", []) if p["name"] == name and p["ns"] == NS]


def _uuids(node: Any) -> list[str]:
    """Every uuid defined in a document (keys named exactly ``uuid``)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uuid":
                found.append(value)
            else:
                found += _uuids(value)
    elif isinstance(node, list):
        for value in node:
            found += _uuids(value)
    return found


def _refs(node: Any, key: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for k, value in node.items():
            found += [value] if k == key else _refs(value, key)
    elif isinstance(node, list):
        for value in node:
            found += _refs(value, key)
    return found


# -- trestle ------------------------------------------------------------------------------------


def test_assessment_results_parse_with_trestle(ar: dict[str, Any]) -> None:
    model = trestle_ar.AssessmentResults.model_validate(ar)
    assert len(model.results) == 1
    assert len(model.results[0].findings or []) == 48


def test_poam_parses_with_trestle(poam: dict[str, Any]) -> None:
    model = trestle_poam.PlanOfActionAndMilestones.model_validate(poam)
    assert model.poam_items


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, assessment: Assessment) -> Path:
    root = tmp_path_factory.mktemp("trestle")
    done = subprocess.run([str(TRESTLE), "init"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, text in [
        ("sample", render_assessment_results(assessment)),
        ("clean", render_assessment_results(uniform_assessment())),
    ]:
        (root / "assessment-results" / name).mkdir()
        (root / "assessment-results" / name / "assessment-results.json").write_text(text)
    for name, text in [
        ("sample", render_poam(assessment)),
        ("clean", render_poam(uniform_assessment())),
    ]:
        folder = root / "plan-of-action-and-milestones" / name
        folder.mkdir()
        (folder / "plan-of-action-and-milestones.json").write_text(text)
    return root


@pytest.mark.parametrize(
    "model",
    [
        "assessment-results/sample/assessment-results.json",
        "assessment-results/clean/assessment-results.json",
        "plan-of-action-and-milestones/sample/plan-of-action-and-milestones.json",
        "plan-of-action-and-milestones/clean/plan-of-action-and-milestones.json",
    ],
)
def test_trestle_validate(workspace: Path, model: str) -> None:
    done = subprocess.run(
        [str(TRESTLE), "validate", "-f", model], cwd=workspace, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID" in done.stdout


# -- assessment results -------------------------------------------------------------------------


def test_metadata_and_import_ap(ar: dict[str, Any], assessment: Assessment) -> None:
    assert ar["metadata"]["oscal-version"] == OSCAL_VERSION
    assert ar["metadata"]["last-modified"] == "2024-11-05T14:30:00+00:00"
    assert ar["import-ap"]["href"] == DEFAULT_IMPORT_AP_HREF == "./assessment-plan.json"
    custom = json.loads(render_assessment_results(assessment, import_ap_href="plans/ap.json"))
    assert custom["assessment-results"]["import-ap"]["href"] == "plans/ap.json"
    result = ar["results"][0]
    assert result["reviewed-controls"]["control-selections"] == [{"include-all": {}}]
    assert _prop(result, "score") == ["52.4"]
    assert "acme-check" in result["remarks"]


def test_one_finding_per_task_targeting_our_catalog(
    ar: dict[str, Any], assessment: Assessment
) -> None:
    control_ids = catalog_control_ids(oscal_catalog(load_catalog()))
    findings = ar["results"][0]["findings"]
    assert [f["target"]["target-id"] for f in findings] == [t.task_id for t in assessment.tasks]
    for finding, task in zip(findings, assessment.tasks, strict=True):
        target = finding["target"]
        assert target["type"] == "objective-id"
        assert target["target-id"] in control_ids
        # Always emitted: the metaschema requires status, though trestle's model does not.
        assert target["status"]["state"] == OSCAL_STATE[task.outcome][0]
        assert target["status"]["reason"] == OSCAL_STATE[task.outcome][1]
        assert _prop(finding, "outcome") == [task.outcome.value]
        assert _prop(finding, "basis") == [task.basis.value]
        assert _prop(finding, "priority") == [task.priority]


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (Outcome.SATISFIED, "satisfied"),
        (Outcome.NOT_APPLICABLE, "satisfied"),
        (Outcome.WAIVED, "not-satisfied"),
        (Outcome.INHERITED, "not-satisfied"),
        (Outcome.PARTIAL, "not-satisfied"),
        (Outcome.STALE, "not-satisfied"),
        (Outcome.UNKNOWN, "not-satisfied"),
        (Outcome.NEEDS_ATTESTATION, "not-satisfied"),
        (Outcome.NOT_SATISFIED, "not-satisfied"),
    ],
)
def test_state_mapping(outcome: Outcome, state: str) -> None:
    changed = with_task(uniform_assessment(), "PW.4.4", outcome=outcome)
    doc = json.loads(render_assessment_results(changed))["assessment-results"]
    finding = next(f for f in doc["results"][0]["findings"] if f["target"]["target-id"] == "PW.4.4")
    assert finding["target"]["status"]["state"] == state
    assert _prop(finding, "outcome") == [outcome.value]


def test_observations_methods_and_evidence(ar: dict[str, Any], assessment: Assessment) -> None:
    observations = ar["results"][0]["observations"]
    methods = [m for o in observations for m in o["methods"]]
    assert "INTERVIEW" not in methods
    controls = [o for o in observations if _prop(o, "control-id")]
    assert len(controls) == len(assessment.controls)
    assert all(o["methods"] == ["TEST"] for o in controls)
    attestations = [o for o in observations if _prop(o, "signed-by")]
    assert len(attestations) == len(assessment.attestations)
    assert all(o["methods"] == ["EXAMINE"] for o in attestations)
    hrefs = [e["href"] for o in observations for e in o.get("relevant-evidence", [])]
    # A project file is a relative reference (percent-encoded); other evidence a URN.
    assert "reports/security-requirements-documented%20%281%29.json" in hrefs
    assert any(h.startswith("urn:ssdf-ai:evidence:artifact:sha256:") for h in hrefs)
    assert any(h == "urn:ssdf-ai:evidence:config:config:checks.fail_on" for h in hrefs)
    assert not any(h.startswith(("http:", "https:", "#")) for h in hrefs)
    # "collected" is the newest evidence time of the control, else the assessment time.
    signed = next(o for o in controls if _prop(o, "control-id") == ["model-artifacts-signed"])
    assert signed["collected"] == "2024-11-05T14:30:00+00:00"


def test_references_resolve_and_uuids_are_unique(ar: dict[str, Any], poam: dict[str, Any]) -> None:
    for doc in (ar, poam):
        defined = _uuids(doc)
        assert len(defined) == len(set(defined))
        assert all(uuid.UUID(u).version == 5 for u in defined)
        assert set(_refs(doc, "observation-uuid")) <= set(defined)
        assert set(_refs(doc, "risk-uuid")) <= set(defined)


def test_deterministic(assessment: Assessment) -> None:
    assert render_assessment_results(assessment) == render_assessment_results(assessment)
    assert render_poam(assessment) == render_poam(assessment)
    other = assessment.model_copy(update={"id": "another-assessment"})
    a = set(_uuids(json.loads(render_assessment_results(assessment))))
    b = set(_uuids(json.loads(render_assessment_results(other))))
    assert not a & b


# -- POA&M --------------------------------------------------------------------------------------


def test_poam_items_cover_what_needs_work(poam: dict[str, Any], assessment: Assessment) -> None:
    items = poam["poam-items"]
    tasks = {v for i in items if _prop(i, "kind") == ["task"] for v in _prop(i, "task-id")}
    expected = {
        t.task_id for t in assessment.tasks if t.outcome in ATTENTION or t.outcome is Outcome.WAIVED
    }
    assert tasks == expected
    controls = {_prop(i, "control-id")[0] for i in items if _prop(i, "kind") == ["control"]}
    assert controls == {
        c.meta.id
        for c in assessment.controls
        if c.result.outcome not in {Outcome.SATISFIED, Outcome.NOT_APPLICABLE, Outcome.INHERITED}
    }
    findings = [i for i in items if _prop(i, "kind") == ["finding"]]
    assert len(findings) == len(assessment.findings)
    for item in items:
        assert item["related-risks"]


def test_poam_risk_status_and_remediation(poam: dict[str, Any], assessment: Assessment) -> None:
    risks = {r["uuid"]: r for r in poam["risks"]}
    by_item = {i["title"]: risks[i["related-risks"][0]["risk-uuid"]] for i in poam["poam-items"]}
    signed = by_item["Model artifacts signed (model-artifacts-signed)"]
    assert signed["status"] == "open"
    assert signed["remediations"][0]["description"] == (
        "ssdf sign model models/ --key keys/release.pem"
    )
    scanned = by_item[
        "Model artifacts scanned, no unresolved high findings (model-artifacts-scanned)"
    ]
    assert scanned["status"] == "deviation-approved"
    assert scanned["deadline"] == "2025-01-24T14:30:00+00:00"
    assert "Dana Reviewer" in scanned["remediations"][0]["remarks"]
    assert by_item["Task PW.4.4: waived"]["status"] == "deviation-approved"
    assert by_item["Task RV.1.1: unknown"]["status"] == "investigating"
    # The task's remediation names the commands of its failing controls.
    assert (
        "ssdf sign model" in by_item["Task PS.1.1: not satisfied"]["remediations"][0]["description"]
    )
    statuses = {
        s.finding.rule_id: by_item[f"{s.finding.rule_id}: {s.finding.message}"]["status"]
        for s in assessment.findings
    }
    assert statuses == {
        "SSDF-SCAN-001": "deviation-approved",
        "SSDF-CODE-002": "open",
        "SSDF-DATA-003": "open",
        "SSDF-ADV-004": "deviation-requested",  # its waiver awaits approval
        "SSDF-VULN-005": "open",
    }
    assert [finding_waived(assessment, s) for s in assessment.findings].count(True) == 1


def test_poam_with_nothing_to_do_is_still_valid() -> None:
    doc = json.loads(render_poam(uniform_assessment()))["plan-of-action-and-milestones"]
    trestle_poam.PlanOfActionAndMilestones.model_validate(doc)
    assert [i["title"] for i in doc["poam-items"]] == ["No open items"]
    assert "risks" not in doc


def test_text_with_newlines_stays_valid(assessment: Assessment) -> None:
    odd = with_task(assessment, "PO.1.3", rationale="  line one\nline two  ")
    odd = odd.model_copy(update={"project": "multi\nline project "})
    for text in (render_assessment_results(odd), render_poam(odd)):
        doc = json.loads(text)
        body = doc.get("assessment-results") or doc["plan-of-action-and-milestones"]
        assert "\n" not in body["metadata"]["title"]
    trestle_ar.AssessmentResults.model_validate(
        json.loads(render_assessment_results(odd))["assessment-results"]
    )
    trestle_poam.PlanOfActionAndMilestones.model_validate(
        json.loads(render_poam(odd))["plan-of-action-and-milestones"]
    )
