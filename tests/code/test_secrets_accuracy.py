"""Recall and precision of ``ssdf secrets`` on a small version of the benchmark's project
(``benchmarks/code/secrets_vs_detect_secrets.py``): every provider kind planted among realistic
non-secrets, in source, configs, a notebook output, a key file, safetensors metadata and history.
The floors are what the benchmark measured; a change that loses a kind or adds a false positive
fails here."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ssdf_ai.code.secrets import scan_secrets

BENCH = Path(__file__).resolve().parents[2] / "benchmarks/code/secrets_vs_detect_secrets.py"
RECALL_FLOOR = 1.0
PRECISION_FLOOR = 1.0


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("secrets_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recall_and_precision(tmp_path: Path, seed: int) -> None:
    bench = _bench()
    truth = bench.build_project(tmp_path, scale=2, seed=seed)
    tree = scan_secrets(tmp_path, root=tmp_path, history=False)
    full = scan_secrets(tmp_path, root=tmp_path)
    tree_score = bench.score(truth, bench.ours_places(tree.model_dump(mode="json")), history=False)
    full_score = bench.score(truth, bench.ours_places(full.model_dump(mode="json")), history=True)
    assert tree_score.planted == 24
    assert full_score.planted == 26
    assert tree_score.recall >= RECALL_FLOOR, tree_score
    assert tree_score.precision >= PRECISION_FLOOR, tree_score
    assert full_score.recall >= RECALL_FLOOR, full_score
    assert full_score.precision >= PRECISION_FLOOR, full_score
    # Every detector kind planted in source was reported with its own kind.
    kinds = {d.kind for d in tree.secrets if d.path == "src/settings.py"}
    assert kinds == {k for (p, _), k in truth.kinds.items() if p == "src/settings.py"}
