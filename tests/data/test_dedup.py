"""Exact and near-duplicate detection (ssdf_ai.data.dedup)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssdf_ai.data import MinHasher, choose_bands, find_near_duplicates, normalize_text
from ssdf_ai.errors import InputError

_RNG = random.Random(20261129)
VOCAB = sorted(
    {"".join(_RNG.choices("abcdefghijklmnop", k=_RNG.randint(3, 9))) for _ in range(5000)}
)


def _doc(rng: random.Random, words: int = 150) -> list[str]:
    return rng.choices(VOCAB, k=words)


def _shingles(words: list[str], n: int = 3) -> set[tuple[str, ...]]:
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb)


def _variant(rng: random.Random, words: list[str], target: float) -> list[str]:
    """A copy of ``words`` with words replaced until its word 3-gram Jaccard is ~target."""
    out = list(words)
    positions = list(range(len(words)))
    rng.shuffle(positions)
    for pos in positions:
        if _jaccard(words, out) <= target:
            break
        out[pos] = rng.choice(VOCAB)
    return out


def test_normalize_text() -> None:
    assert normalize_text("  Hello,\tWORLD!\n\n again ") == "hello world again"
    assert normalize_text("a-b", strip_punctuation=False) == "a-b"
    assert normalize_text(" \n\t!!! ") == ""


def test_exact_duplicates_after_normalisation() -> None:
    rows = [
        ("a", "The quick brown fox jumps over the lazy dog"),
        ("b", "something else entirely, with other words in it"),
        ("c", "the  QUICK brown fox, jumps over the lazy dog!"),
        ("d", "The quick brown fox jumps over the lazy dog"),
    ]
    result = find_near_duplicates(rows)
    assert result.exact_groups == [("a", "c", "d")]
    assert result.stats.exact_duplicate_rows == 2
    assert result.stats.distinct_texts == 2
    assert result.stats.distinct_ratio == pytest.approx(0.5)
    assert result.near_pairs == []


def test_planted_near_duplicates_found_and_unrelated_not_paired() -> None:
    rng = random.Random(7)
    rows: list[tuple[str, str]] = []
    planted: dict[frozenset[str], float] = {}
    for i in range(60):
        base = _doc(rng)
        rows.append((f"base{i}", " ".join(base)))
        target = 0.8 if i % 2 else 0.7
        var = _variant(rng, base, target)
        planted[frozenset({f"base{i}", f"var{i}"})] = _jaccard(base, var)
        rows.append((f"var{i}", " ".join(var)))
    rows += [(f"neg{i}", " ".join(_doc(rng))) for i in range(300)]
    rng.shuffle(rows)
    result = find_near_duplicates(rows, threshold=0.6)
    found = {frozenset({a, b}) for a, b, _ in result.near_pairs}
    assert found <= set(planted), "an unrelated pair was reported"
    assert len(found) >= 0.9 * len(planted)
    for a, b, sim in result.near_pairs:
        assert abs(sim - planted[frozenset({a, b})]) < 0.2
    assert all(len(c.row_ids) == 2 for c in result.clusters)
    assert result.stats.clusters == len(found)
    assert result.stats.mean_pairwise_similarity is not None
    assert result.stats.mean_pairwise_similarity < 0.05


def test_clusters_include_exact_copies_and_chain() -> None:
    rng = random.Random(3)
    base = _doc(rng, 200)
    v1 = _variant(rng, base, 0.85)
    v2 = _variant(rng, v1, 0.85)
    rows = [
        ("base", " ".join(base)),
        ("v1", " ".join(v1)),
        ("v2", " ".join(v2)),
        ("copy", " ".join(base).upper()),
        ("other", " ".join(_doc(rng, 200))),
    ]
    result = find_near_duplicates(rows, threshold=0.6)
    assert result.exact_groups == [("base", "copy")]
    assert len(result.clusters) == 1
    cluster = result.clusters[0]
    assert set(cluster.row_ids) == {"base", "v1", "v2", "copy"}
    assert 0.6 <= cluster.min_similarity <= cluster.max_similarity <= 1.0
    assert result.stats.largest_cluster == 4
    assert result.stats.cluster_sizes == {4: 1}


def test_deterministic_with_a_seed() -> None:
    rng = random.Random(11)
    texts = [" ".join(_doc(rng, 80)) for _ in range(20)]
    a = MinHasher(64, seed=5).signatures(texts)
    b = MinHasher(64, seed=5).signatures(texts)
    c = MinHasher(64, seed=6).signatures(texts)
    assert a.dtype == np.uint32
    assert a.shape == (20, 64)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # a text's signature does not depend on the other texts of its batch
    alone = MinHasher(64, seed=5).signatures(texts[3:4])
    assert np.array_equal(alone[0], a[3])


def test_signature_estimates_jaccard() -> None:
    rng = random.Random(5)
    hasher = MinHasher(256)
    for target in (0.3, 0.6, 0.9):
        base = _doc(rng, 300)
        var = _variant(rng, base, target)
        sig = hasher.signatures([" ".join(base), " ".join(var)])
        estimate = float(np.mean(sig[0] == sig[1]))
        assert abs(estimate - _jaccard(base, var)) < 0.1


def test_empty_and_short_texts() -> None:
    rows = [(0, ""), (1, "   "), (2, "!!!"), (3, "hi"), (4, "hi there"), (5, "Hi."), (6, "x")]
    result = find_near_duplicates(rows)
    assert result.stats.rows == 7
    assert result.stats.empty_rows == 3
    assert result.exact_groups == [(3, 5)]
    assert result.near_pairs == []
    sig = MinHasher(16).signatures(["", "hi", "hi there"])
    assert (sig[0] == 0xFFFFFFFF).all()
    assert not np.array_equal(sig[1], sig[2])
    assert find_near_duplicates([]).stats.rows == 0
    assert MinHasher(16).signatures([]).shape == (0, 16)


def test_unicode_texts() -> None:
    rng = random.Random(9)
    greek = "αβγδεζηθικλμνξοπρστυφχψω"
    vocab = ["".join(rng.choices(greek, k=5)) + "é" for _ in range(500)] + ["日本語", "😀", "ﬁ"]
    base = rng.choices(vocab, k=120)
    near = list(base)
    near[60] = "Ωmega"
    rows = [("base", " ".join(base)), ("near", " ".join(near).upper())]
    rows += [(f"n{i}", " ".join(rng.choices(vocab, k=120))) for i in range(20)]
    result = find_near_duplicates(rows)
    assert [frozenset(p[:2]) for p in result.near_pairs] == [frozenset({"base", "near"})]


def test_character_shingles() -> None:
    rows = [
        ("a", "the cat sat on the mat with a hat and a bat"),
        ("b", "the cat sat on the mat with a hat and a rat"),
        ("c", "completely different sentence about ships at sea"),
    ]
    result = find_near_duplicates(rows, shingle="char", ngram=5, threshold=0.6)
    assert [frozenset(p[:2]) for p in result.near_pairs] == [frozenset({"a", "b"})]
    assert result.params["shingle"] == "char"


def test_bands_and_bad_parameters() -> None:
    bands, rows = choose_bands(0.6, 128)
    assert bands * rows <= 128
    # S-curve: a pair at J=0.65 is very likely a candidate, one at J=0.2 is not
    assert 1 - (1 - 0.65**rows) ** bands > 0.9
    assert 1 - (1 - 0.2**rows) ** bands < 0.05
    with pytest.raises(InputError):
        find_near_duplicates([], num_perm=16, bands=8, rows_per_band=4)
    with pytest.raises(InputError):
        find_near_duplicates([], threshold=0)
    with pytest.raises(InputError):
        MinHasher(0)
    with pytest.raises(InputError):
        choose_bands(1.5, 128)


def test_stats() -> None:
    rng = random.Random(1)
    rows = [(i, " ".join(_doc(rng, 50))) for i in range(50)]
    stats = find_near_duplicates(rows).stats
    assert stats.tokens == 50 * 50
    assert 0 < stats.distinct_tokens <= len(VOCAB)
    assert 8 < stats.token_entropy_bits < 13
    assert stats.sampled_pairs > 0
    same = find_near_duplicates([(0, "a b c"), (1, "a b c")]).stats
    assert same.distinct_ratio == 0.5
    assert same.mean_pairwise_similarity is None


_FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@_FUZZ
@given(st.lists(st.text(max_size=60), max_size=12))
def test_property_any_texts(texts: list[str]) -> None:
    """Any texts: no crash, ids preserved, pairs only between distinct rows, copies grouped."""
    rows = list(enumerate(texts))
    result = find_near_duplicates(rows, num_perm=32, chunk_size=5)
    ids = set(range(len(texts)))
    assert result.stats.rows == len(texts)
    for a, b, sim in result.near_pairs:
        assert a in ids
        assert b in ids
        assert a != b
        assert 0.0 <= sim <= 1.0
    grouped = [i for group in result.exact_groups for i in group]
    assert len(grouped) == len(set(grouped))
    for group in result.exact_groups:
        norm = {normalize_text(texts[i]) for i in group}
        assert len(norm) == 1
        assert norm != {""}
    sig = MinHasher(32).signatures(texts)
    assert sig.shape == (len(texts), 32)
    for i, j in ((i, j) for i in range(len(texts)) for j in range(len(texts))):
        if normalize_text(texts[i]) == normalize_text(texts[j]):
            assert np.array_equal(sig[i], sig[j])


def test_whitespace_table_is_every_isspace_character() -> None:
    from ssdf_ai.data.dedup import _WHITESPACE

    assert set(_WHITESPACE) | {" "} == {c for c in map(chr, range(0x110000)) if c.isspace()}


@_FUZZ
@given(st.text(max_size=80))
def test_normalize_matches_reference(text: str) -> None:
    punct = str.maketrans(dict.fromkeys("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", " "))
    assert normalize_text(text) == " ".join(text.lower().translate(punct).split())
    assert normalize_text(text, strip_punctuation=False) == " ".join(text.lower().split())


def test_word_hashes_long_words_and_lengths() -> None:
    h = MinHasher(8).word_hashes(
        ["abcdefghijklmnopqX", "abcdefghijklmnopqY", "abcdefghijklmnopqX", "a\x00", "a", "a"]
    )
    assert h[0] != h[1]
    assert h[0] == h[2]
    assert h[3] != h[4]
    assert h[4] == h[5]


def test_streamed_rows_and_large_buckets_stay_connected() -> None:
    """A template repeated with one word changed: one cluster, from a generator, in chunks."""
    rng = random.Random(13)
    base = _doc(rng, 120)

    def rows() -> Iterator[tuple[str, str]]:
        yield "base", " ".join(base)
        for i in range(300):
            var = list(base)
            var[rng.randrange(len(var))] = f"edit{i}"
            yield f"v{i}", " ".join(var)

    result = find_near_duplicates(rows(), chunk_size=37, max_bucket=8)
    assert result.stats.rows == 301
    assert [len(c.row_ids) for c in result.clusters] == [301]
    assert result.stats.candidate_pairs < 301 * 300 // 2 // 4  # buckets capped, not all pairs


def test_missing_numpy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from ssdf_ai.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(MissingExtraError) as info:
        MinHasher()
    assert info.value.extra == "data"
    assert info.value.module == "numpy"
