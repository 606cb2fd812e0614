"""Partitions: the counting checks run on separate parts of a dataset and merge to the result
one pass over all of it gives (the profile with its prefix digest and duplicate keys, bias,
text triggers, the outlier detector's sample, near-duplicates)."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ssdf_ai.data.bias import BiasAccumulator
from ssdf_ai.data.check import BLOCK_ROWS, _Profile
from ssdf_ai.data.outliers import OutlierDetector
from ssdf_ai.data.readers import Chunk
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


def _profile_chunks(n: int, chunk_rows: int, *, changed_row: int | None = None) -> list[Chunk]:
    """A tabular dataset (two numeric columns, one categorical, one text) as chunks."""
    # One generator per column, so a longer dataset starts with the same rows.
    x = np.random.default_rng(11).normal(size=n).round(4)
    y = np.random.default_rng(12).integers(0, 5, size=n)
    colours = ["red", "green", "blue"]
    chunks = []
    for start in range(0, n, chunk_rows):
        stop = min(n, start + chunk_rows)
        columns: dict[str, list[Any]] = {
            "x": x[start:stop].tolist(),
            "y": y[start:stop].tolist(),
            "colour": [colours[i % 3] for i in range(start, stop)],
            "note": [f"row {i}" for i in range(start, stop)],
        }
        if changed_row is not None and start <= changed_row < stop:
            columns["x"][changed_row - start] += 1.0
        chunks.append(Chunk(start=start, columns=columns))
    return chunks


SCHEMA = {"x": "float", "y": "integer", "colour": "string", "note": "string"}


def _profile(
    chunks: list[Chunk], previous: int | None, start: int = 0, keys: bool = True
) -> _Profile:
    profile = _Profile(SCHEMA, previous, np, start=start)
    for chunk in chunks:
        profile.update(chunk, keep_keys=keys)
    return profile


@pytest.mark.parametrize("previous", [None, 1000, BLOCK_ROWS, BLOCK_ROWS + 7, 2 * BLOCK_ROWS + 3])
def test_profile_partitions_merge_to_the_one_pass_profile(previous: int | None) -> None:
    n = 2 * BLOCK_ROWS + 5000
    whole = _profile(_profile_chunks(n, 10_000), previous)
    # Same rows, other chunk sizes, three partitions cut at block boundaries.
    chunks = _profile_chunks(n, 4096)
    cuts = [0, BLOCK_ROWS, 2 * BLOCK_ROWS, n]
    parts = [
        _profile([c for c in chunks if lo <= c.start < hi], previous, start=lo)
        for lo, hi in itertools.pairwise(cuts)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    labels: Counter[Any] = Counter()
    one, other = whole.result(labels), merged.result(labels)
    assert one["prefix_sha256"] == other["prefix_sha256"]
    assert one["prefix_at_previous"] == other["prefix_at_previous"]
    assert (one["prefix_at_previous"] is None) == (previous is None)
    assert one["rows"] == other["rows"] == n
    assert one["nulls"] == other["nulls"]
    assert one["mean_text_length"] == other["mean_text_length"]
    for name in ("x", "y"):
        for key in ("min", "max", "count"):
            assert one["numeric"][name][key] == other["numeric"][name][key]
        assert one["numeric"][name]["mean"] == pytest.approx(other["numeric"][name]["mean"])
    assert whole.duplicates() == merged.duplicates()


def test_prefix_digest_tells_appended_rows_from_changed_ones() -> None:
    old_rows = BLOCK_ROWS + 100
    before = _profile(_profile_chunks(old_rows, 5000), None, keys=False).result(Counter())
    appended = _profile(_profile_chunks(old_rows + 900, 5000), old_rows, keys=False)
    assert appended.prefix_at_previous == before["prefix_sha256"]
    changed = _profile(_profile_chunks(old_rows + 900, 5000, changed_row=30_000), old_rows)
    assert changed.prefix_at_previous != before["prefix_sha256"]
    after_cut = _profile(_profile_chunks(old_rows + 900, 5000, changed_row=old_rows + 1), old_rows)
    assert after_cut.prefix_at_previous == before["prefix_sha256"]


def test_profile_merge_refuses_misaligned_partitions() -> None:
    chunks = _profile_chunks(BLOCK_ROWS + 10, 5000)
    with pytest.raises(ValueError, match="multiple"):
        _Profile(SCHEMA, None, np, start=5000)
    first = _profile([c for c in chunks if c.start < 10_000], None)
    later = _profile([c for c in chunks if c.start >= 10_000], None, start=0)
    with pytest.raises(ValueError, match="does not follow"):
        first.merge(later)


def test_row_keys_are_the_same_in_every_process(tmp_path: Path) -> None:
    """Duplicate keys made by two workers must match: no per-process salted hash."""
    chunk = _profile_chunks(50, 50)[0]
    mine = _Profile(SCHEMA, None, np)._row_keys(chunk).tolist()
    script = (
        "import json, sys, numpy as np\n"
        "from ssdf_ai.data.check import _Profile\n"
        "from ssdf_ai.data.readers import Chunk\n"
        "columns = json.loads(sys.stdin.read())\n"
        f"profile = _Profile({SCHEMA!r}, None, np)\n"
        "print(json.dumps(profile._row_keys(Chunk(start=0, columns=columns)).tolist()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(chunk.columns),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(done.stdout) == mine
