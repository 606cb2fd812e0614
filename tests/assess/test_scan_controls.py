"""The scanning controls read the newest recorded `ssdf scan` run (recorded here through the
real store, as the scan command records it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ssdf_ai.assess.evaluate import gather_facts
from ssdf_ai.config import load_config
from ssdf_ai.evidence import Subject, SubjectKind
from ssdf_ai.findings import Finding, Outcome, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan.controls import models_scanned, models_scanned_recently, safe_serialization
from ssdf_ai.store import EvidenceStore

CONFIG = '[project]\nname = "p"\nkind = "ai-model-producer"\n[paths]\nmodels = ["models"]\n'


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    (root / "ssdf.toml").write_text(CONFIG)
    (root / "models" / "a.pt").write_bytes(b"x")
    (root / "models" / "b.safetensors").write_bytes(b"y")
    return root


def record_scan(root: Path, files: list[str], findings: list[Finding]) -> None:
    with EvidenceStore.open(root) as store, store.run("scan", ["scan", "models"]) as run:
        ids = {name: run.add_subject(Subject(kind=SubjectKind.MODEL, name=name)) for name in files}
        for finding in findings:
            run.add_finding(finding, subject_id=ids.get(finding.location.path or ""))


def outcome(root: Path, control, now: dt.datetime | None = None) -> tuple[Outcome, str]:  # type: ignore[no-untyped-def]
    facts = gather_facts(root, load_config(root), now=now or dt.datetime.now(dt.UTC), url=None)
    result = control.evaluate(facts)
    return result.outcome, result.rationale


def bad(severity: Severity, rule: str = rules.DANGEROUS_GLOBAL) -> Finding:
    return rules.finding(rule, "os.system", path="models/a.pt", severity=severity)


BOTH = ["models/a.pt", "models/b.safetensors"]


@pytest.mark.parametrize(
    ("files", "findings", "expected", "fragment"),
    [
        (None, [], Outcome.NOT_SATISFIED, "no model scan is recorded"),
        (BOTH, [], Outcome.SATISFIED, "covered all 2 model file(s)"),
        (["models/a.pt"], [], Outcome.PARTIAL, "1 of 2 model file(s) not covered"),
        (BOTH, [bad(Severity.CRITICAL)], Outcome.NOT_SATISFIED, "1 unresolved high or critical"),
        (BOTH, [bad(Severity.MEDIUM, rules.UNKNOWN_GLOBAL)], Outcome.SATISFIED, "no open high"),
    ],
)
def test_models_scanned(
    root: Path,
    files: list[str] | None,
    findings: list[Finding],
    expected: Outcome,
    fragment: str,
) -> None:
    if files is not None:
        record_scan(root, files, findings)
    got, rationale = outcome(root, models_scanned)
    assert got is expected, rationale
    assert fragment in rationale


def test_only_the_newest_scan_counts(root: Path) -> None:
    record_scan(root, BOTH, [bad(Severity.CRITICAL)])
    record_scan(root, BOTH, [])
    assert outcome(root, models_scanned)[0] is Outcome.SATISFIED


def test_safe_serialization(root: Path) -> None:
    assert outcome(root, safe_serialization)[0] is Outcome.NOT_SATISFIED
    pickled = rules.finding(rules.UNSAFE_SERIALIZATION, "pickle-based", path="models/a.pt")
    record_scan(root, BOTH, [pickled])
    got, rationale = outcome(root, safe_serialization)
    assert got is Outcome.PARTIAL
    assert "models/a.pt" in rationale
    record_scan(root, BOTH, [])
    assert outcome(root, safe_serialization)[0] is Outcome.SATISFIED


def test_scan_recency_goes_stale_through_the_assessment(root: Path) -> None:
    from ssdf_ai.assess.controls import Registry
    from ssdf_ai.assess.evaluate import assess_facts

    record_scan(root, BOTH, [])
    assert outcome(root, models_scanned_recently)[0] is Outcome.SATISFIED
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=120)
    facts = gather_facts(root, load_config(root), now=later, url=None)
    assessment = assess_facts(facts, registry=Registry(controls=(models_scanned_recently,)))
    assert assessment.controls[0].result.outcome is Outcome.STALE
    task = next(t for t in assessment.tasks if t.task_id == "RV.1.2")
    assert task.outcome is Outcome.STALE
