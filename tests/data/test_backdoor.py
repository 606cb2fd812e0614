"""Backdoor (BadNets) detection (ssdf_ai.data.backdoor), on scikit-learn's digits."""

from __future__ import annotations

from typing import Any

import pytest

np = pytest.importorskip("numpy")
datasets = pytest.importorskip("sklearn.datasets")

from ssdf_ai.data.backdoor import find_backdoor  # noqa: E402
from ssdf_ai.errors import InputError  # noqa: E402


def _badnets(share: float, seed: int, target: int, size: int) -> tuple[Any, Any, Any]:
    """Stamp a bright ``size`` x ``size`` square in the bottom-right corner, relabel to target."""
    x, y = datasets.load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.choice(np.flatnonzero(y != target), int(share * len(y)), replace=False)
    x = x.copy()
    x.reshape(-1, 8, 8)[idx, 8 - size :, 8 - size :] = 16.0
    y = y.copy()
    y[idx] = target
    truth = np.zeros(len(y), dtype=bool)
    truth[idx] = True
    return x, y, truth


@pytest.mark.parametrize(
    ("share", "seed", "target", "size"),
    [(0.05, 0, 0, 3), (0.2, 1, 7, 2)],
)
def test_badnets_found(share: float, seed: int, target: int, size: int) -> None:
    x, y, truth = _badnets(share, seed, target, size)
    result = find_backdoor(x, y)
    flagged = np.zeros(len(y), dtype=bool)
    flagged[result.flagged] = True
    tp = int((flagged & truth).sum())
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / int(truth.sum())
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    # measured: F1 1.00 at 5 - 20 % poisoning
    assert f1 >= 0.8
    assert result.target_class == target
    corner = {r * 8 + c for r in range(8 - size, 8) for c in range(8 - size, 8)}
    assert result.trigger_features
    assert set(result.trigger_features) <= corner
    assert result.disagreement >= 0.5
    assert len(result.scores["spectral"]) == len(y)
    assert max(result.scores["rare_pattern"]) > 0


def test_clean_digits_not_flagged() -> None:
    x, y = datasets.load_digits(return_X_y=True)
    result = find_backdoor(x, y)
    assert len(result.flagged) <= 0.01 * len(y)
    assert result.target_class is None or len(result.flagged) < 20


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([[1.0], [2.0], [3.0]], [0, 1], "rows"),
        ([[1.0]] * 10, [0] * 10, "two distinct"),
        ([[1.0], [float("inf")]] * 5, [0, 1] * 5, "NaN or infinite"),
        ([1.0, 2.0], [0, 1], "2-D"),
    ],
)
def test_bad_input(x: Any, y: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        find_backdoor(x, y)
