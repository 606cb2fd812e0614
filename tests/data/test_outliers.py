"""Outliers and anomalies in numeric features (ssdf_ai.data.outliers)."""

from __future__ import annotations

from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("sklearn")

from ssdf_ai.data.outliers import OutlierDetector, find_outliers  # noqa: E402
from ssdf_ai.errors import InputError  # noqa: E402


def _data(seed: int = 0, rows: int = 4000, planted: int = 40) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8))
    idx = rng.choice(rows, planted, replace=False)
    x[idx, 1] += rng.choice([-1, 1], planted) * rng.uniform(8, 12, planted)
    truth = np.zeros(rows, dtype=bool)
    truth[idx] = True
    return x, truth


def test_planted_outliers_found() -> None:
    x, truth = _data()
    result = find_outliers(x)
    flagged = np.zeros(len(x), dtype=bool)
    flagged[result.indices] = True
    tp = int((flagged & truth).sum())
    assert tp == truth.sum()
    assert tp / flagged.sum() >= 0.8
    # the reason names the shifted feature
    first = next(o for o in result.outliers if truth[o.row])
    assert first.features[0].feature == 1
    assert abs(first.features[0].z) > 6
    assert result.scores == [o.score for o in result.outliers]


def test_clean_data_few_flags() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5000, 10))
    result = find_outliers(x)
    assert len(result.indices) <= 0.01 * len(x)


def test_contamination_share() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4000, 5))
    result = find_outliers(x, contamination=0.05)
    assert 0.03 * len(x) <= len(result.indices) <= 0.07 * len(x)


def test_chunked_equals_one_shot() -> None:
    x, _ = _data(seed=1)
    one = find_outliers(x, sample_size=1000, chunk_size=len(x))
    det = OutlierDetector(sample_size=1000)
    for s in range(0, len(x), 333):
        det.fit_update(x[s : s + 333])
    det.fit()
    flagged = []
    scores = []
    for s in range(0, len(x), 500):
        flagged.extend(det.flag(x[s : s + 500], offset=s))
        scores.append(det.score(x[s : s + 500]))
    assert [o.row for o in flagged] == one.indices
    assert np.allclose([o.score for o in flagged], one.scores)
    assert len(np.concatenate(scores)) == len(x)
    assert one.sample_rows == 1000


def test_non_finite_rows_always_reported() -> None:
    x, _ = _data(seed=2)
    x[5, 3] = np.nan
    x[7, 0] = np.inf
    x[7, 4] = -np.inf
    result = find_outliers(x)
    by_row = {o.row: o for o in result.outliers}
    assert by_row[5].non_finite == [3]
    assert by_row[7].non_finite == [0, 4]
    assert all(np.isfinite(o.score) for o in result.outliers)
    assert all(f.feature not in (0, 4) for f in by_row[7].features)


def test_constant_features_do_not_divide_by_zero() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2000, 4))
    x[:, 2] = 7.0
    x[:, 3] = np.where(rng.random(2000) < 0.9, 0.0, 1.0)  # MAD 0, mean deviation > 0
    x[10, 2] = 8.0
    with np.errstate(all="raise"):
        result = find_outliers(x)
    by_row = {o.row: o for o in result.outliers}
    assert 10 in by_row
    assert by_row[10].features[0].feature == 2
    assert np.isfinite(by_row[10].score)


def test_bad_input() -> None:
    with pytest.raises(InputError):
        find_outliers(np.ones((3, 2, 2)))
    with pytest.raises(InputError):
        find_outliers(np.full((5, 2), np.nan))
    det = OutlierDetector()
    with pytest.raises(InputError):
        det.score(np.ones((3, 2)))
    det.fit_update(np.ones((3, 2)))
    with pytest.raises(InputError):
        det.fit_update(np.ones((3, 3)))
    with pytest.raises(InputError):
        OutlierDetector(contamination=0.9)


def test_result_serialises_to_json() -> None:
    import dataclasses
    import json

    x, _ = _data(seed=6)
    x[3, 2] = np.nan
    result = find_outliers(x)
    back = json.loads(json.dumps(dataclasses.asdict(result), allow_nan=False))
    assert back["indices"] == result.indices


def test_rows_that_break_the_features_correlation_are_found() -> None:
    """Each planted row stays inside every feature's range (|z| < 3.5) but breaks the strong
    correlation of the features: the Mahalanobis distance finds what max |z| cannot."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=(3000, 1))
    x = base + 0.1 * rng.normal(size=(3000, 6))
    idx = rng.choice(3000, 30, replace=False)
    x[idx, :3] = 1.5
    x[idx, 3:] = -1.5
    truth = np.zeros(3000, dtype=bool)
    truth[idx] = True
    result = find_outliers(x)
    flagged = np.zeros(3000, dtype=bool)
    flagged[result.indices] = True
    assert np.abs((x[idx] - np.median(x, axis=0)) / x.std(axis=0)).max() < 3.5
    assert (flagged & truth).sum() == 30
    # The forest also flags clean rows at the far ends of the line (about 2.5 %); the distance
    # alone finds every planted row and no clean one.
    assert (flagged & ~truth).sum() <= 0.03 * 3000
    detector = OutlierDetector()
    detector.fit_update(x)
    detector.fit()
    median, iqr = detector._norm[:2]
    by_distance = (detector._distance(detector._z(x)) - median) / iqr > detector.threshold
    assert by_distance[idx].all()
    assert not by_distance[~truth].any()


def test_wide_data_uses_principal_components_and_constant_features_are_fine() -> None:
    """300 features (like image pixels, a third of them blank): the distance is taken over 64
    components; planted rows are still found and blank pixels do not break the fit."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2000, 300))
    x[:, :100] = 0.0
    idx = rng.choice(2000, 20, replace=False)
    x[idx, 150:160] += 6.0
    truth = np.zeros(2000, dtype=bool)
    truth[idx] = True
    detector = OutlierDetector()
    detector.fit_update(x)
    detector.fit()
    assert detector._basis is not None
    assert detector._basis.shape == (300, 64)
    result = find_outliers(x)
    flagged = np.zeros(2000, dtype=bool)
    flagged[result.indices] = True
    assert (flagged & truth).sum() >= 18
    assert (flagged & ~truth).sum() <= 10
