"""Evaluation: roll-up rules, scoring, every task accounted for, plugins, failing controls."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from ssdf_ai.assess.controls import Control, Registry, control, load_registry
from ssdf_ai.assess.evaluate import assess_facts, combine, gather_facts, weighted_score
from ssdf_ai.assess.model import Basis, Effort, Scoring, TaskVerdict
from ssdf_ai.config import load_config
from ssdf_ai.findings import Outcome
from ssdf_ai.profile import load_catalog

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
S, W, P, N = Outcome.SATISFIED, Outcome.WAIVED, Outcome.PARTIAL, Outcome.NOT_SATISFIED
ST, U, NA, INH, NEED = (
    Outcome.STALE,
    Outcome.UNKNOWN,
    Outcome.NOT_APPLICABLE,
    Outcome.INHERITED,
    Outcome.NEEDS_ATTESTATION,
)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([S, S], S),
        ([S, W], W),
        ([S, ST], ST),
        ([S, U], U),
        ([S, ST, U], U),
        ([S, N], P),
        ([N, N], N),
        ([N, NEED], N),
        ([NEED, NEED], NEED),
        ([P], P),
        ([S, NEED], P),
        ([NA, S], S),
        ([NA, NA], NA),
        ([INH, INH], INH),
        ([INH, S], S),
        ([INH, NA], INH),
        ([], NA),
        ([N, U], N),
        ([ST, N], P),
    ],
)
def test_combine(outcomes: list[Outcome], expected: Outcome) -> None:
    assert combine(outcomes) is expected


def _verdict(priority: str, outcome: Outcome, score: float | None) -> TaskVerdict:
    return TaskVerdict(
        task_id="PO.1.1",
        practice_id="PO.1",
        group_id="PO",
        priority=priority,  # type: ignore[arg-type]
        outcome=outcome,
        basis=Basis.AUTOMATED,
        rationale="-",
        score=score,
    )


def test_weighted_score_uses_priority_weights_and_skips_excluded() -> None:
    scoring = Scoring()
    tasks = [
        _verdict("High", S, 1.0),  # 3 * 1
        _verdict("Medium", P, 0.5),  # 2 * 0.5
        _verdict("Low", N, 0.0),  # 1 * 0
        _verdict("High", INH, None),  # excluded
    ]
    assert weighted_score(tasks, scoring) == pytest.approx(round(100 * 4 / 6, 1))
    assert weighted_score([_verdict("High", INH, None)], scoring) is None


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "churn"
    shutil.copytree(REPO / "examples" / "churn", root)
    return root


def _assess(root: Path, registry: Registry | None = None):  # type: ignore[no-untyped-def]
    loaded = load_config(root)
    facts = gather_facts(root, loaded, now=NOW, url=None)
    return assess_facts(facts, registry=registry)


def test_every_task_has_exactly_one_verdict(example: Path) -> None:
    assessment = _assess(example)
    catalog = load_catalog()
    assert [t.task_id for t in assessment.tasks] == [t.id for t in catalog.tasks()]
    assert len(assessment.practices) == 20
    assert len(assessment.groups) == 4
    assert assessment.coverage.total == 48


def test_tasks_without_controls_need_attestation_never_pass(example: Path) -> None:
    assessment = _assess(example)
    controlled = {t for entry in assessment.controls for t in entry.meta.task_ids}
    for task in assessment.tasks:
        if task.task_id in controlled:
            assert task.basis is Basis.AUTOMATED
        elif task.party == "self":
            assert task.outcome is Outcome.NEEDS_ATTESTATION, task.task_id
            assert task.basis is Basis.NONE
            assert task.score == 0.0


def test_task_assigned_to_another_party_is_inherited(example: Path) -> None:
    # The example's ssdf.toml assigns PO.5.2 to corporate-it.
    assessment = _assess(example)
    task = next(t for t in assessment.tasks if t.task_id == "PO.5.2")
    assert (task.party, task.outcome, task.basis) == ("corporate-it", INH, Basis.INHERITED)
    assert task.score is None
    assert assessment.coverage.inherited == 1


def test_control_that_raises_is_unknown_not_a_crash(example: Path) -> None:
    @control(
        "always-raises",
        title="t",
        question="q?",
        task_ids=("PW.1.1",),
        motivation="m",
        remediation="r",
        effort=Effort.LOW,
    )
    def broken(this: Control, facts: object) -> object:
        raise RuntimeError("boom")

    assessment = _assess(example, Registry(controls=(broken,)))
    entry = assessment.controls[0]
    assert entry.result.outcome is Outcome.UNKNOWN
    assert "RuntimeError: boom" in entry.result.rationale
    task = next(t for t in assessment.tasks if t.task_id == "PW.1.1")
    assert task.outcome is Outcome.UNKNOWN


def test_score_matches_hand_computation(example: Path) -> None:
    assessment = _assess(example)
    weights = {"High": 3, "Medium": 2, "Low": 1}
    counted = [t for t in assessment.tasks if t.score is not None]
    expected = sum(weights[t.priority] * t.score for t in counted) / sum(  # type: ignore[misc]
        weights[t.priority] for t in counted
    )
    assert assessment.score == pytest.approx(round(100 * expected, 1))


PLUGIN = """
from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlMeta, Effort
from ssdf_ai.findings import Outcome

@control("plugin-check", title="t", question="q?", task_ids=("PW.9.1",), motivation="m",
         remediation="r", effort=Effort.LOW)
def good(this, facts):
    return this.result(Outcome.SATISFIED, "the plugin says yes")

duplicate = Control(meta=good.meta.model_copy(update={"id": "roles-defined"}),
                    evaluate=good.evaluate)
not_a_control = object()
"""


def test_entry_point_plugins_load_and_bad_ones_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    dist = site / "ssdf_plugin_demo-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "ssdf_plugin_demo.py").write_text(PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ssdf-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [ssdf_ai.controls]
            good = ssdf_plugin_demo:good
            dup = ssdf_plugin_demo:duplicate
            junk = ssdf_plugin_demo:not_a_control
            missing = ssdf_plugin_demo:nothing_here
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    registry = load_registry()
    assert registry.get("plugin-check") is not None
    assert len([c for c in registry.controls if c.id == "roles-defined"]) == 1
    joined = "\n".join(registry.warnings)
    assert "already taken" in joined
    assert "not an ssdf_ai.assess.controls.Control" in joined
    assert "failed to load" in joined
    sys.modules.pop("ssdf_plugin_demo", None)


@pytest.mark.parametrize(
    ("age_days", "accept_stale", "expected"),
    [(10, False, Outcome.SATISFIED), (200, False, Outcome.STALE), (200, True, Outcome.SATISFIED)],
)
def test_satisfied_control_on_old_evidence_is_stale(
    example: Path, age_days: int, accept_stale: bool, expected: Outcome
) -> None:
    from ssdf_ai.assess.model import EvidenceLink

    @control(
        "dated-evidence",
        title="t",
        question="q?",
        task_ids=("PW.1.1",),
        motivation="m",
        remediation="r",
        effort=Effort.LOW,
    )
    def dated(this: Control, facts: object) -> object:
        moment = NOW - dt.timedelta(days=age_days)
        link = EvidenceLink(kind="run", ref="run:1", observed_at=moment)
        return this.result(Outcome.SATISFIED, "it was checked", [link])

    if accept_stale:
        config = example / "ssdf.toml"
        config.write_text(
            config.read_text().replace(
                'fail_on = "low"', 'fail_on = "low"\nunsafe_accept_stale_evidence = true'
            )
        )
    assessment = _assess(example, Registry(controls=(dated,)))
    result = assessment.controls[0].result
    assert result.outcome is expected
    assert ("older than 30 days" in result.rationale) is (expected is Outcome.STALE)
