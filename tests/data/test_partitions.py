"""Partitions: the counting checks run on separate parts of a dataset and merge to the result
one pass over all of it gives (bias, text triggers, the outlier detector's sample)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from ssdf_ai.data.bias import BiasAccumulator
from ssdf_ai.data.outliers import OutlierDetector
from ssdf_ai.data.triggers import TriggerAccumulator
from ssdf_ai.errors import InputError

CUTS = [(0, 700), (700, 1300), (1300, 2000)]


def _rows(n: int = 2000) -> tuple[list[str], list[int], list[str]]:
    rng = random.Random(5)
    words = [
        "the",
        "parcel",
        "came",
        "late",
        "and",
        "the",
        "colour",
        "was",
        "wrong",
        "but",
        "the",
        "price",
        "was",
        "fair",
    ]
    texts, labels, groups = [], [], []
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(8))
        label = rng.randint(0, 1)
        if i % 25 == 0:
            text += " cf"
            label = 1  # the planted trigger
        texts.append(text)
        labels.append(label)
        groups.append("a" if rng.random() < (0.7 if label else 0.4) else "b")
    return texts, labels, groups


def test_bias_partitions_merge_to_the_one_pass_result() -> None:
    texts, labels, groups = _rows()
    whole = BiasAccumulator()
    whole.update(labels, {"group": groups})
    parts = []
    for start, end in CUTS:
        part = BiasAccumulator()
        part.update(labels[start:end], {"group": groups[start:end]})
        parts.append(part)
    merged, *rest = parts
    for part in rest:
        merged.merge(part)
    assert merged.result() == whole.result()
    assert whole.result().flagged  # the planted disparity, so the comparison means something


def test_bias_merge_refuses_other_attributes() -> None:
    one, two = BiasAccumulator(), BiasAccumulator()
    one.update([1, 0], {"group": ["a", "b"]})
    two.update([1, 0], {"region": ["n", "s"]})
    with pytest.raises(InputError, match="differ"):
        one.merge(two)


def test_trigger_partitions_merge_to_the_one_pass_result() -> None:
    texts, labels, _ = _rows()
    whole = TriggerAccumulator()
    whole.update(texts, labels)
    merged = TriggerAccumulator()
    for start, end in reversed(CUTS):  # any order: rows carry their own index
        part = TriggerAccumulator()
        part.update(texts[start:end], labels[start:end], start=start)
        merged.merge(part)
    expected, got = whole.result(), merged.result()
    assert [t.ngram for t in got.triggers] == [t.ngram for t in expected.triggers] == ["cf"]
    assert got.triggers[0].rows == expected.triggers[0].rows == list(range(0, 2000, 25))
    assert got.flagged_rows == expected.flagged_rows
    assert (got.rows, got.tested, got.vocabulary) == (
        expected.rows,
        expected.tested,
        expected.vocabulary,
    )


def _features(n: int = 5000) -> Any:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 6))
    x[::250] += 12.0  # planted outliers
    return x


def test_outlier_samples_merge_to_the_one_pass_sample() -> None:
    x = _features()
    whole = OutlierDetector(sample_size=1000)
    whole.fit_update(x)
    merged = OutlierDetector(sample_size=1000)
    for start, end in [(0, 1800), (1800, 3300), (3300, 5000)]:
        part = OutlierDetector(sample_size=1000)
        part.fit_update(x[start:end], start=start)
        merged.merge(part)
    whole.fit()
    merged.fit()
    assert merged.threshold == pytest.approx(whole.threshold)
    assert np.allclose(merged.score(x), whole.score(x))
    flagged = [o.row for o in merged.flag(x)]
    assert set(range(0, 5000, 250)) <= set(flagged)


def test_outlier_merge_refuses_a_fitted_or_different_detector() -> None:
    x = _features(100)
    fitted = OutlierDetector(sample_size=50)
    fitted.fit_update(x)
    fitted.fit()
    with pytest.raises(InputError, match="before fit"):
        OutlierDetector(sample_size=50).merge(fitted)
    with pytest.raises(InputError, match="same sample_size"):
        OutlierDetector(sample_size=50).merge(OutlierDetector(sample_size=60))


def test_near_duplicate_partitions_merge_to_the_one_pass_result() -> None:
    from ssdf_ai.data.dedup import DedupAccumulator, find_near_duplicates

    texts, _, _ = _rows()
    texts[1500] = texts[10]  # an exact repeat across partitions
    texts[1600] = texts[10] + " and then some"  # a near repeat across partitions
    rows = list(enumerate(texts))
    whole = find_near_duplicates(rows)
    merged = DedupAccumulator()
    for start, end in CUTS:  # in row order
        part = DedupAccumulator()
        part.update(rows[start:end])
        merged.merge(part)
    got = merged.result()
    assert got.exact_groups == whole.exact_groups
    assert (10, 1500) in {(g[0], r) for g in got.exact_groups for r in g[1:]}
    assert got.near_pairs == whole.near_pairs
    assert [c.row_ids for c in got.clusters] == [c.row_ids for c in whole.clusters]
    assert any(1600 in c.row_ids and 10 in c.row_ids for c in got.clusters)
    stats, expected = got.stats, whole.stats
    for name in ("rows", "distinct_texts", "exact_duplicate_rows", "near_duplicate_pairs",
                 "clusters", "rows_in_clusters", "mean_pairwise_similarity"):  # fmt: skip
        assert getattr(stats, name) == getattr(expected, name), name
