"""Precision and recall of ``ssdf code`` on the labelled corpus must not regress.

The corpus is ``benchmarks/code/corpus`` (each file names its expected findings in an
``# expect:`` header); ``benchmarks/code/rules_vs_bandit.py`` prints the same figures beside
bandit's. The floors below are the figures measured when the rules were written: raise them
when the rules improve, never lower them to make a change pass.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ssdf_ai.code.analyze import analyze_path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "code"
# Measured: 64 expected pairs, 1 false positive (an allow-listed command), 1 miss (a password
# that is not random-looking).
MIN_PRECISION = 0.98
MIN_RECALL = 0.98
MIN_RULE_RECALL = 0.85


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rules_vs_bandit", BENCH / "rules_vs_bandit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("rules_vs_bandit", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


def test_corpus_is_balanced_and_labelled(bench: ModuleType) -> None:
    expected = bench.expectations()
    positives = sum(1 for ids in expected.values() if ids)
    negatives = len(expected) - positives
    assert len(expected) >= 80
    assert negatives >= 0.4 * len(expected)
    labelled = set().union(*expected.values())
    assert {f"SSDF-CODE-{n:03d}" for n in range(1, 13)} <= labelled


def test_precision_and_recall_stay_at_or_above_the_measured_figures(
    bench: ModuleType, tmp_path: Path
) -> None:
    expected = bench.expectations()
    result = analyze_path(tmp_path, bench.CORPUS)
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        found.setdefault(Path(finding.location.path or "").name, set()).add(finding.rule_id)
    scores = bench.score(expected, found)
    overall = scores["overall"]
    assert overall["precision"] >= MIN_PRECISION, scores
    assert overall["recall"] >= MIN_RECALL, scores
    for rule, row in scores.items():
        assert row["recall"] >= MIN_RULE_RECALL, (rule, row)
    assert result.files == len(expected)
