"""Exact and near-duplicate detection for training data (SP 800-218A PW.3.1), with NumPy.

Rows are ``(row_id, text)`` pairs, read as a stream in chunks; what is kept per row is a
MinHash signature (``num_perm`` x 4 bytes), one 8-byte bucket key per LSH band and a
32-byte digest, so memory grows with the row count, never with the text.

The method (see ``docs/data-dedup.md``):

1. **Normalise**: lowercase, ASCII punctuation to spaces (``strip_punctuation``), whitespace
   runs collapsed to one space. Rows that normalise to ``""`` are counted as empty and skipped.
2. **Exact duplicates**: SHA-256 of the normalised text; later copies join the first row's
   group and are not shingled again.
3. **Shingles**: word 3-grams by default (``shingle="word"``, ``ngram=3``), or character
   k-grams (``shingle="char"``, e.g. ``ngram=5``, over the UTF-8 bytes). A chunk of texts is
   joined into one byte array and every word is hashed at once from 8-byte little-endian loads
   (character k-grams: a polynomial prefix-sum hash modulo 2**64); word hashes are combined
   into n-gram hashes and mixed with the SplitMix64 finaliser. A text shorter than ``ngram``
   words is one shingle.
4. **MinHash**: ``num_perm`` hash functions ``(a*x + b) mod 2**32`` (``a`` odd, so each is a
   permutation; drawn from ``seed``) of the high 32 bits of each shingle hash; the minimum
   over a row's shingles is taken for all rows of a chunk at once (``np.minimum.reduceat``).
5. **LSH**: ``bands`` x ``rows`` of the signature; each band of each row is folded into a
   64-bit bucket key. Rows whose key agrees in some band are candidates.
6. **Verification**: a candidate pair is reported when its estimated Jaccard similarity (the
   share of equal signature positions) is at least ``threshold``; pairs are joined into
   clusters with union-find.

NumPy is needed (``pip install 'ssdf-ai[data]'``); without it :class:`MinHasher` raises
:class:`~ssdf_ai.errors.MissingExtraError`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import string
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from ssdf_ai.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    U64 = npt.NDArray[np.uint64]
    U32 = npt.NDArray[np.uint32]
    I64 = npt.NDArray[np.int64]

__all__ = [
    "DedupResult",
    "DedupStats",
    "MinHasher",
    "NearDuplicateCluster",
    "choose_bands",
    "estimated_jaccard",
    "find_near_duplicates",
    "normalize_text",
]

ShingleKind = Literal["word", "char"]

_MASK64 = (1 << 64) - 1
_BASE = 0x100000001B3  # odd, so invertible modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_GRAM_KEYS = (
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
    0xFF51AFD7ED558CCD,
    0xC4CEB9FE1A85EC53,
    0x94D049BB133111EB,
    0xBF58476D1CE4E5B9,
)
# every character str.isspace() accepts (tests/data checks the list); mapped to " " first, the
# only whitespace left is " ", and a text without doubled, leading or trailing spaces is done
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACE_TABLE = str.maketrans(dict.fromkeys(_WHITESPACE, " "))
_PUNCT_TABLE = str.maketrans(dict.fromkeys(_WHITESPACE + string.punctuation, " "))
_SPACE = 32
_MASKS_INT = [(1 << (8 * i)) - 1 for i in range(8)] + [_MASK64]
_NEWLINE = 10


def _numpy() -> ModuleType:
    try:
        import numpy
    except ImportError as exc:
        raise MissingExtraError("data", "numpy") from exc
    return numpy


def normalize_text(text: str, *, strip_punctuation: bool = True) -> str:
    """Return ``text`` lowercased, with whitespace runs collapsed to one space.

    Args:
        text: Any text.
        strip_punctuation: Also turn ASCII punctuation into spaces.

    Returns:
        The normalised text; ``""`` when nothing but spaces (and punctuation) was there.
    """
    text = text.lower().translate(_PUNCT_TABLE if strip_punctuation else _SPACE_TABLE)
    if "  " in text or text[:1] == " " or text[-1:] == " ":
        return " ".join(text.split())
    return text


@functools.lru_cache(maxsize=64)
def choose_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """Choose LSH ``(bands, rows)`` with ``bands * rows <= num_perm`` for a similarity threshold.

    The probability that a pair at Jaccard ``s`` becomes a candidate is
    ``1 - (1 - s**rows)**bands`` (the S-curve). Candidates are verified afterwards, so a missed
    pair costs more than a spurious candidate: the choice minimises ``0.9 x`` the missed area
    above ``threshold`` plus ``0.1 x`` the candidate area below it (numeric integration).

    Args:
        threshold: The Jaccard similarity from which pairs are wanted, in (0, 1).
        num_perm: The signature length.

    Returns:
        ``(bands, rows)``.
    """
    if not 0.0 < threshold < 1.0:
        raise InputError(f"threshold must be between 0 and 1, not {threshold}")
    steps = 200
    best: tuple[float, int, int] | None = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        fp = fn = 0.0
        for i in range(steps):
            s = (i + 0.5) / steps
            p = 1.0 - (1.0 - s**rows) ** bands
            if s < threshold:
                fp += p / steps
            else:
                fn += (1.0 - p) / steps
        cost = 0.1 * fp + 0.9 * fn
        if best is None or cost < best[0]:
            best = (cost, bands, rows)
    assert best is not None  # noqa: S101 - num_perm >= 1
    return best[1], best[2]


class MinHasher:
    """MinHash signatures of texts, computed for many texts at once with NumPy.

    Args:
        num_perm: Signature length (hash functions); the estimate's standard error is
            ``sqrt(J (1 - J) / num_perm)``, about 0.042 at ``J = 0.6`` with 128.
        shingle: ``"word"`` for word n-grams, ``"char"`` for character (UTF-8 byte) k-grams.
        ngram: Words (or bytes) per shingle; 3 for words and 5 for characters are usual.
        seed: Seed of the hash functions: signatures are comparable only under the same seed,
            ``num_perm``, ``shingle``, ``ngram`` and normalisation.
        strip_punctuation: Normalisation setting (see :func:`normalize_text`).
    """

    def __init__(
        self,
        num_perm: int = 128,
        *,
        shingle: ShingleKind = "word",
        ngram: int | None = None,
        seed: int = 1,
        strip_punctuation: bool = True,
    ) -> None:
        np = _numpy()
        if num_perm < 1:
            raise InputError(f"num_perm must be at least 1, not {num_perm}")
        if shingle not in ("word", "char"):
            raise InputError(f"shingle must be 'word' or 'char', not {shingle!r}")
        ngram = (3 if shingle == "word" else 5) if ngram is None else ngram
        if not 1 <= ngram <= len(_GRAM_KEYS) and shingle == "word":
            raise InputError(f"word n-grams must have 1 to {len(_GRAM_KEYS)} words, not {ngram}")
        if ngram < 1:
            raise InputError(f"ngram must be at least 1, not {ngram}")
        self.num_perm = num_perm
        self.shingle: ShingleKind = shingle
        self.ngram = ngram
        self.seed = seed
        self.strip_punctuation = strip_punctuation
        rng = np.random.default_rng(seed)
        self._a: U32 = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint32) | np.uint32(1)
        self._b: U32 = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint32)
        self._masks: U64 = np.array(_MASKS_INT, dtype=np.uint64)  # low i bytes, i = 0..8
        self._pow: U64 = np.ones(0, dtype=np.uint64)
        self._pow_inv: U64 = np.ones(0, dtype=np.uint64)

    # -- hashing -------------------------------------------------------------------------

    def _powers(self, length: int) -> tuple[U64, U64]:
        np = _numpy()
        if len(self._pow) < length:
            size = max(length, 2 * len(self._pow), 1 << 16)
            self._pow = np.cumprod(np.full(size, _BASE, dtype=np.uint64), dtype=np.uint64)
            self._pow_inv = np.cumprod(np.full(size, _BASE_INV, dtype=np.uint64), dtype=np.uint64)
        return self._pow[:length], self._pow_inv[:length]

    @staticmethod
    def _mix(x: U64) -> U64:
        """SplitMix64's finaliser, in place."""
        np = _numpy()
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
        return x

    def shingle_hashes(self, normalized: Sequence[str]) -> tuple[U64, I64]:
        """Hash the shingles of already normalised, non-empty texts.

        Args:
            normalized: Texts as :func:`normalize_text` returns them, none empty.

        Returns:
            ``(hashes, offsets)``: 64-bit shingle hashes of all texts one after the other, and
            the index where each text's hashes start (every text has at least one).
        """
        hashes, offsets, _ = self._hash_chunk(normalized)
        return hashes, offsets

    def _hash_chunk(self, normalized: Sequence[str]) -> tuple[U64, I64, U64 | None]:
        """:meth:`shingle_hashes`, plus the word hashes when they were computed on the way."""
        np = _numpy()
        n = self.ngram
        if self.shingle == "char":
            return (*self._char_hashes(normalized), None)
        # texts joined by "\n" (never inside a normalised text): words end at " " or "\n"
        buf = np.frombuffer("\n".join(normalized).encode("utf-8"), dtype=np.uint8)
        delims = np.flatnonzero((buf == _SPACE) | (buf == _NEWLINE))
        words = self._words(buf, delims)
        text_ends = np.concatenate((np.flatnonzero(buf[delims] == _NEWLINE) + 1, [len(words)]))
        counts = np.diff(text_ends, prepend=0)
        doc_start = text_ends - counts
        total = len(words)
        # n-gram at every word position (slices, no gathers); the last n - 1 positions of
        # each text are dropped below, and a text shorter than n words is one shingle
        gram = words * np.uint64(_GRAM_KEYS[0])
        for k in range(1, n):
            gram[: total - k] += words[k:] * np.uint64(_GRAM_KEYS[k])
        keep = np.ones(total, dtype=bool)
        for k in range(1, n):
            tail = text_ends - k
            keep[tail[tail >= doc_start]] = False
        short = np.flatnonzero(counts < n)
        if len(short):
            starts_short = doc_start[short]
            partial = np.zeros(len(short), dtype=np.uint64)
            for k in range(n - 1):
                term = words[np.minimum(starts_short + k, total - 1)] * np.uint64(_GRAM_KEYS[k])
                term[k >= counts[short]] = 0
                partial += term
            gram[starts_short] = partial
            keep[starts_short] = True
        hashes = gram[keep]
        per_doc = np.maximum(counts - n + 1, 1)
        offsets = np.concatenate(([0], np.cumsum(per_doc)[:-1]))
        return self._mix(hashes), offsets, words

    def _words(self, buf: Any, delims: I64) -> U64:
        """Hashes of the words of ``buf`` (UTF-8 bytes), which end at the ``delims`` positions.

        A word is read 8 bytes at a time as little-endian integers (bytes past its end masked
        off); its length is mixed in, and longer words fold in each further 8 bytes through
        the SplitMix64 finaliser. Words are never empty here.
        """
        np = _numpy()
        length = len(buf)
        starts = np.concatenate(([0], delims + 1))
        lens = np.concatenate((delims, [length])) - starts
        pad = np.zeros(length + 8, dtype=np.uint8)
        pad[:length] = buf
        window = np.lib.stride_tricks.sliding_window_view(pad, 8)
        h: U64 = window[starts].view("<u8").ravel()
        h &= self._masks[np.minimum(lens, 8)]
        h ^= lens.astype(np.uint64) * np.uint64(_GRAM_KEYS[7])
        longer = np.flatnonzero(lens > 8)
        k = 1
        while len(longer):
            off = 8 * k
            part = window[starts[longer] + off].view("<u8").ravel()
            part &= self._masks[np.minimum(lens[longer] - off, 8)]
            h[longer] = self._mix(h[longer] * np.uint64(_GRAM_KEYS[6]) + part)
            k += 1
            longer = longer[lens[longer] > 8 * k]
        return self._mix(h)

    def _char_hashes(self, normalized: Sequence[str]) -> tuple[U64, I64]:
        """Byte k-gram hashes: a polynomial hash from prefix sums modulo 2**64."""
        np = _numpy()
        n = self.ngram
        buf = np.frombuffer(" ".join(normalized).encode("utf-8"), dtype=np.uint8)
        length = len(buf)
        counts = np.fromiter((len(t.encode()) for t in normalized), np.int64, len(normalized))
        starts = np.concatenate(([0], np.cumsum(counts + 1)[:-1]))
        pw, pw_inv = self._powers(length)
        prefix = np.empty(length + 1, dtype=np.uint64)
        prefix[0] = 0
        values = buf.astype(np.uint64)
        values += np.uint64(1)
        values *= pw
        np.cumsum(values, out=prefix[1:])
        per_doc = np.maximum(counts - n + 1, 1)
        offsets = np.concatenate(([0], np.cumsum(per_doc)[:-1]))
        first = np.repeat(starts - offsets, per_doc) + np.arange(int(per_doc.sum()))
        stop = np.minimum(first + n, np.repeat(starts + counts, per_doc))
        hashes = (prefix[stop] - prefix[first]) * pw_inv[first]
        return self._mix(hashes), offsets

    def word_hashes(self, normalized: Sequence[str]) -> U64:
        """64-bit hashes of the words of normalised, non-empty texts, one after the other."""
        np = _numpy()
        buf = np.frombuffer(" ".join(normalized).encode("utf-8"), dtype=np.uint8)
        return self._words(buf, np.flatnonzero(buf == _SPACE))

    def signatures_of_hashes(self, hashes: U64, offsets: I64) -> U32:
        """MinHash signatures from :meth:`shingle_hashes` output.

        Returns:
            A ``(texts, num_perm)`` ``uint32`` array.
        """
        np = _numpy()
        docs = len(offsets)
        sig: U32 = np.empty((docs, self.num_perm), dtype=np.uint32)
        if docs == 0:
            return sig
        values = (hashes >> np.uint64(32)).astype(np.uint32)
        block = max(1, min(self.num_perm, (1 << 20) // max(1, len(values))))
        tmp = np.empty((block, len(values)), dtype=np.uint32)
        for lo in range(0, self.num_perm, block):
            hi = min(lo + block, self.num_perm)
            out = tmp[: hi - lo]
            np.multiply(self._a[lo:hi, None], values[None, :], out=out)
            out += self._b[lo:hi, None]
            sig[:, lo:hi] = np.minimum.reduceat(out, offsets, axis=1).T
        return sig

    def signatures(self, texts: Iterable[str], *, chunk_size: int = 256) -> U32:
        """MinHash signatures of raw texts (normalised here).

        An empty text (after normalisation) gets the all-``0xFFFFFFFF`` signature.

        Args:
            texts: The texts.
            chunk_size: Texts hashed together.

        Returns:
            A ``(len(texts), num_perm)`` ``uint32`` array.
        """
        np = _numpy()
        parts: list[U32] = []
        batch: list[str] = []

        def flush() -> None:
            sig = np.full((len(batch), self.num_perm), 0xFFFFFFFF, dtype=np.uint32)
            full = [i for i, t in enumerate(batch) if t]
            if full:
                h, o = self.shingle_hashes([batch[i] for i in full])
                sig[full] = self.signatures_of_hashes(h, o)
            parts.append(sig)
            batch.clear()

        for text in texts:
            batch.append(normalize_text(text, strip_punctuation=self.strip_punctuation))
            if len(batch) >= chunk_size:
                flush()
        if batch or not parts:
            flush()
        out: U32 = np.concatenate(parts)
        return out


def estimated_jaccard(a: Any, b: Any) -> float:
    """The share of equal positions of two MinHash signatures of one :class:`MinHasher`."""
    np = _numpy()
    return float(np.mean(np.asarray(a) == np.asarray(b)))


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearDuplicateCluster:
    """Rows joined by near-duplicate pairs (and their exact copies).

    Attributes:
        row_ids: The rows, in input order.
        min_similarity: The lowest estimated Jaccard similarity among the pairs that joined it.
        max_similarity: The highest.
    """

    row_ids: tuple[Any, ...]
    min_similarity: float
    max_similarity: float


@dataclass(frozen=True)
class DedupStats:
    """Diversity statistics of a dataset.

    Attributes:
        rows: Rows read.
        empty_rows: Rows whose normalised text is empty (not shingled, not grouped).
        distinct_texts: Distinct normalised non-empty texts.
        distinct_ratio: ``distinct_texts / (rows - empty_rows)`` (1.0 with no text).
        exact_duplicate_rows: Rows that repeat an earlier row's normalised text.
        near_duplicate_pairs: Verified near-duplicate pairs (between distinct texts).
        candidate_pairs: LSH candidate pairs checked.
        clusters: Near-duplicate clusters.
        rows_in_clusters: Rows in those clusters (exact copies of members included).
        largest_cluster: Size of the largest cluster (0 when none).
        cluster_sizes: Cluster size -> how many clusters have it.
        mean_pairwise_similarity: Mean estimated Jaccard similarity of sampled pairs of
            distinct texts (homogeneity: near 0 for varied data); ``None`` with < 2 texts.
        sampled_pairs: Pairs sampled for it.
        token_entropy_bits: Shannon entropy of the word distribution, bits per word
            (estimated over hash buckets, see ``vocabulary_buckets``).
        distinct_tokens: Distinct words seen (estimated: hash buckets in use).
        tokens: Words seen.
    """

    rows: int
    empty_rows: int
    distinct_texts: int
    distinct_ratio: float
    exact_duplicate_rows: int
    near_duplicate_pairs: int
    candidate_pairs: int
    clusters: int
    rows_in_clusters: int
    largest_cluster: int
    cluster_sizes: dict[int, int]
    mean_pairwise_similarity: float | None
    sampled_pairs: int
    token_entropy_bits: float
    distinct_tokens: int
    tokens: int


@dataclass(frozen=True)
class DedupResult:
    """What :func:`find_near_duplicates` found.

    Attributes:
        exact_groups: Groups (two rows or more) of rows with the same normalised text.
        near_pairs: ``(row_id, row_id, estimated similarity)`` for each verified pair of
            distinct texts (the first row of each exact group stands for the group).
        clusters: Near-duplicate clusters, largest first.
        stats: Diversity statistics.
        bands: LSH bands used.
        rows_per_band: LSH rows per band.
        threshold: The similarity threshold.
        params: The hashing settings used (``num_perm``, ``shingle``, ``ngram``, ``seed``,
            ``strip_punctuation``).
    """

    exact_groups: list[tuple[Any, ...]]
    near_pairs: list[tuple[Any, Any, float]]
    clusters: list[NearDuplicateCluster]
    stats: DedupStats
    bands: int
    rows_per_band: int
    threshold: float
    params: dict[str, Any] = field(default_factory=dict)


# -- the search ----------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _chunks(rows: Iterable[tuple[Any, str]], size: int) -> Iterator[list[tuple[Any, str]]]:
    chunk: list[tuple[Any, str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _band_keys(sig: U32, bands: int, rows: int) -> U64:
    np = _numpy()
    keys: U64 = np.empty((len(sig), bands), dtype=np.uint64)
    for band in range(bands):
        k = np.full(len(sig), band + 1, dtype=np.uint64)
        for col in range(band * rows, (band + 1) * rows):
            k ^= sig[:, col].astype(np.uint64)
            k *= np.uint64(0x9E3779B97F4A7C15)
            k ^= k >> np.uint64(29)
        keys[:, band] = k
    return keys


def _candidates(keys: U64, max_bucket: int) -> tuple[I64, I64]:
    """Pairs ``(i, j)``, ``i < j``, sharing a bucket in some band, without repeats."""
    np = _numpy()
    n = len(keys)
    found: list[I64] = []
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        ordered = col[order]
        for d in range(1, max_bucket):
            if d >= n:
                break
            same = np.flatnonzero(ordered[:-d] == ordered[d:])
            if len(same) == 0:
                break
            i, j = order[same], order[same + d]
            found.append(np.minimum(i, j) * n + np.maximum(i, j))
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    flat = np.unique(np.concatenate(found))
    return flat // n, flat % n


def find_near_duplicates(
    rows: Iterable[tuple[Any, str]],
    *,
    threshold: float = 0.6,
    num_perm: int = 128,
    bands: int | None = None,
    rows_per_band: int | None = None,
    shingle: ShingleKind = "word",
    ngram: int | None = None,
    seed: int = 1,
    strip_punctuation: bool = True,
    chunk_size: int = 1024,
    max_bucket: int = 64,
    sample_pairs: int = 2000,
    vocabulary_buckets: int = 1 << 20,
    hasher: MinHasher | None = None,
) -> DedupResult:
    """Find exact and near-duplicate rows of a dataset, read as a stream.

    Args:
        rows: ``(row_id, text)`` pairs; ids are returned as given.
        threshold: Estimated Jaccard similarity (of shingle sets) from which two texts are
            near-duplicates.
        num_perm: MinHash signature length.
        bands: LSH bands; with ``rows_per_band``, ``bands * rows_per_band <= num_perm``.
            Chosen by :func:`choose_bands` when not given.
        rows_per_band: Signature positions per band.
        shingle: ``"word"`` (word n-grams) or ``"char"`` (byte k-grams).
        ngram: Words or bytes per shingle (default 3 words, 5 bytes).
        seed: Seed of the hash functions (results are deterministic for a seed).
        strip_punctuation: Normalisation setting.
        chunk_size: Rows hashed together.
        max_bucket: Within one band, each row is paired with at most ``max_bucket - 1``
            neighbours in its bucket (a larger bucket stays connected, as a chain).
        sample_pairs: Pairs of distinct texts sampled for the mean pairwise similarity.
        vocabulary_buckets: Counters (a power of two) for the token entropy: words are
            counted by hash bucket, so the entropy and distinct-word count are estimates
            that undercount once the vocabulary nears this size.
        hasher: A prepared :class:`MinHasher` (overrides the hashing settings).

    Returns:
        A :class:`DedupResult`.
    """
    acc = DedupAccumulator(
        threshold=threshold,
        num_perm=num_perm,
        bands=bands,
        rows_per_band=rows_per_band,
        shingle=shingle,
        ngram=ngram,
        seed=seed,
        strip_punctuation=strip_punctuation,
        chunk_size=chunk_size,
        max_bucket=max_bucket,
        sample_pairs=sample_pairs,
        vocabulary_buckets=vocabulary_buckets,
        hasher=hasher,
    )
    acc.update(rows)
    return acc.result()


class DedupAccumulator:
    """:func:`find_near_duplicates` in parts: ``update``, ``merge`` partitions, ``result``.

    Each partition of a dataset can be hashed by its own accumulator (another process or
    machine); :meth:`merge` then joins them, in row order, into the state one accumulator would
    have after all the rows, and :meth:`result` searches the LSH buckets of every partition
    together. The arguments are those of :func:`find_near_duplicates`.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        num_perm: int = 128,
        bands: int | None = None,
        rows_per_band: int | None = None,
        shingle: ShingleKind = "word",
        ngram: int | None = None,
        seed: int = 1,
        strip_punctuation: bool = True,
        chunk_size: int = 1024,
        max_bucket: int = 64,
        sample_pairs: int = 2000,
        vocabulary_buckets: int = 1 << 20,
        hasher: MinHasher | None = None,
    ) -> None:
        np = _numpy()
        if not 0.0 < threshold <= 1.0:
            raise InputError(f"threshold must be in (0, 1], not {threshold}")
        mh = hasher or MinHasher(
            num_perm, shingle=shingle, ngram=ngram, seed=seed, strip_punctuation=strip_punctuation
        )
        if bands is None or rows_per_band is None:
            auto_b, auto_r = choose_bands(min(threshold, 0.99), mh.num_perm)
            bands = bands or (mh.num_perm // rows_per_band if rows_per_band else auto_b)
            rows_per_band = rows_per_band or max(
                1, auto_r if bands == auto_b else mh.num_perm // bands
            )
        if bands < 1 or rows_per_band < 1 or bands * rows_per_band > mh.num_perm:
            raise InputError(
                f"bands x rows_per_band ({bands} x {rows_per_band}) must fit in num_perm "
                f"({mh.num_perm})"
            )

        all_ids: list[Any] = []
        empty_rows = 0
        first_of: dict[bytes, int] = {}  # digest -> row index of its first row
        copies: dict[int, list[int]] = {}  # first row index -> later row indexes
        rep_rows: list[int] = []  # row index of each distinct text, in order
        sig_parts: list[U32] = []
        key_parts: list[U64] = []
        if vocabulary_buckets < 1 or vocabulary_buckets & (vocabulary_buckets - 1):
            raise InputError(f"vocabulary_buckets must be a power of two, not {vocabulary_buckets}")
        vocab = np.zeros(vocabulary_buckets, dtype=np.int64)

        self.np, self.mh, self.threshold = np, mh, threshold
        self.bands, self.rows_per_band = bands, rows_per_band
        self.chunk_size, self.max_bucket, self.sample_pairs = chunk_size, max_bucket, sample_pairs
        self.vocabulary_buckets = vocabulary_buckets
        self.all_ids, self.empty_rows = all_ids, empty_rows
        self.first_of, self.copies, self.rep_rows = first_of, copies, rep_rows
        self.rep_digests: list[bytes] = []
        self.sig_parts, self.key_parts, self.vocab = sig_parts, key_parts, vocab

    def update(self, rows: Iterable[tuple[Any, str]]) -> None:
        """Add rows (``(row_id, text)`` pairs, in order) to the index."""
        np, mh = self.np, self.mh
        all_ids, first_of, copies, rep_rows = (
            self.all_ids,
            self.first_of,
            self.copies,
            self.rep_rows,
        )
        bucket_mask = np.uint64(self.vocabulary_buckets - 1)
        table = _PUNCT_TABLE if mh.strip_punctuation else _SPACE_TABLE
        sha256 = hashlib.sha256
        bands, rows_per_band, chunk_size = self.bands, self.rows_per_band, self.chunk_size
        for chunk in _chunks(rows, chunk_size):
            texts: list[str] = []
            for row_id, raw in chunk:
                index = len(all_ids)
                all_ids.append(row_id)
                text = raw.lower().translate(table)  # normalize_text, inlined
                if "  " in text or text[:1] == " " or text[-1:] == " ":
                    text = " ".join(text.split())
                if not text:
                    self.empty_rows += 1
                    continue
                digest = sha256(text.encode("utf-8")).digest()
                first = first_of.setdefault(digest, index)
                if first != index:
                    copies.setdefault(first, []).append(index)
                    continue
                rep_rows.append(index)
                self.rep_digests.append(digest)
                texts.append(text)
            if not texts:
                continue
            h, o, words = mh._hash_chunk(texts)
            if words is None:
                words = mh.word_hashes(texts)
            buckets = (words & bucket_mask).astype(np.int64)
            self.vocab += np.bincount(buckets, minlength=self.vocabulary_buckets)
            sig = mh.signatures_of_hashes(h, o)
            self.sig_parts.append(sig)
            self.key_parts.append(_band_keys(sig, bands, rows_per_band))

    def merge(self, other: DedupAccumulator) -> None:
        """Append the rows of an accumulator that saw the next partition (in row order).

        Texts that repeat one seen in an earlier partition become its copies, as in one pass.
        The word counts behind the token entropy include such repeats once per partition (an
        estimate, like the rest of those statistics).

        Raises:
            InputError: The hashing settings differ.
        """
        np = self.np
        mine = (self.mh.num_perm, self.mh.shingle, self.mh.ngram, self.mh.seed, self.bands)
        theirs = (other.mh.num_perm, other.mh.shingle, other.mh.ngram, other.mh.seed, other.bands)
        if mine != theirs or self.vocabulary_buckets != other.vocabulary_buckets:
            raise InputError("merged accumulators need the same hashing settings")
        offset = len(self.all_ids)
        self.all_ids.extend(other.all_ids)
        self.empty_rows += other.empty_rows
        keep: list[bool] = []
        for rep, digest in zip(other.rep_rows, other.rep_digests, strict=True):
            later = [offset + r for r in other.copies.get(rep, ())]
            first = self.first_of.get(digest)
            if first is None:
                self.first_of[digest] = offset + rep
                self.rep_rows.append(offset + rep)
                self.rep_digests.append(digest)
                if later:
                    self.copies[offset + rep] = later
                keep.append(True)
            else:
                self.copies.setdefault(first, []).extend([offset + rep, *later])
                keep.append(False)
        if other.sig_parts:
            mask = np.asarray(keep, dtype=bool)
            self.sig_parts.append(np.concatenate(other.sig_parts)[mask])
            self.key_parts.append(np.concatenate(other.key_parts)[mask])
        self.vocab += other.vocab

    def result(self) -> DedupResult:
        """Search the buckets, verify the pairs, cluster, and measure diversity."""
        np, mh = self.np, self.mh
        all_ids, copies, rep_rows = self.all_ids, self.copies, self.rep_rows
        sig_parts, key_parts, vocab = self.sig_parts, self.key_parts, self.vocab
        empty_rows, threshold = self.empty_rows, self.threshold
        bands, rows_per_band = self.bands, self.rows_per_band
        max_bucket, sample_pairs = self.max_bucket, self.sample_pairs
        sigs = np.concatenate(sig_parts) if sig_parts else np.empty((0, mh.num_perm), np.uint32)
        keys = np.concatenate(key_parts) if key_parts else np.empty((0, bands), np.uint64)
        ci, cj = _candidates(keys, max_bucket)
        sims = np.empty(len(ci), dtype=np.float64)
        step = max(1, (1 << 22) // mh.num_perm)
        for lo in range(0, len(ci), step):
            a, b = ci[lo : lo + step], cj[lo : lo + step]
            sims[lo : lo + step] = (sigs[a] == sigs[b]).mean(axis=1)
        keep = np.flatnonzero(sims >= threshold - 1e-9)

        uf = _UnionFind(len(rep_rows))
        near_pairs: list[tuple[Any, Any, float]] = []
        link_sims: dict[int, list[float]] = {}
        for k in keep.tolist():
            i, j, s = int(ci[k]), int(cj[k]), float(sims[k])
            near_pairs.append((all_ids[rep_rows[i]], all_ids[rep_rows[j]], s))
            uf.union(i, j)
        for k in keep.tolist():
            link_sims.setdefault(uf.find(int(ci[k])), []).append(float(sims[k]))
        members: dict[int, list[int]] = {}
        for i in range(len(rep_rows)):
            root = uf.find(i)
            if root in link_sims:
                members.setdefault(root, []).append(i)
        clusters: list[NearDuplicateCluster] = []
        for root, reps in members.items():
            row_indexes = sorted(
                r for i in reps for r in (rep_rows[i], *copies.get(rep_rows[i], ()))
            )
            linked = link_sims[root]
            clusters.append(
                NearDuplicateCluster(
                    tuple(all_ids[r] for r in row_indexes), min(linked), max(linked)
                )
            )
        clusters.sort(key=lambda c: -len(c.row_ids))
        exact_groups = [
            tuple(all_ids[r] for r in (first, *later)) for first, later in copies.items()
        ]

        # homogeneity: mean similarity of sampled pairs of distinct texts
        distinct = len(rep_rows)
        mean_sim: float | None = None
        sampled = 0
        if distinct >= 2 and sample_pairs > 0:
            rng = np.random.default_rng(mh.seed)
            a = rng.integers(0, distinct, size=sample_pairs)
            b = rng.integers(0, distinct - 1, size=sample_pairs)
            b = b + (b >= a)  # never a pair of a row with itself
            mean_sim = float((sigs[a] == sigs[b]).mean())
            sampled = sample_pairs
        entropy = 0.0
        tokens = int(vocab.sum())
        seen = vocab[vocab > 0]
        if tokens:
            p = seen / tokens
            entropy = float(-(p * np.log2(p)).sum())
        sizes = Counter(len(c.row_ids) for c in clusters)
        non_empty = len(all_ids) - empty_rows
        stats = DedupStats(
            rows=len(all_ids),
            empty_rows=empty_rows,
            distinct_texts=distinct,
            distinct_ratio=distinct / non_empty if non_empty else 1.0,
            exact_duplicate_rows=sum(len(v) for v in copies.values()),
            near_duplicate_pairs=len(near_pairs),
            candidate_pairs=len(ci),
            clusters=len(clusters),
            rows_in_clusters=sum(len(c.row_ids) for c in clusters),
            largest_cluster=max((len(c.row_ids) for c in clusters), default=0),
            cluster_sizes=dict(sorted(sizes.items())),
            mean_pairwise_similarity=mean_sim,
            sampled_pairs=sampled,
            token_entropy_bits=0.0 if math.isnan(entropy) else entropy,
            distinct_tokens=len(seen),
            tokens=tokens,
        )
        return DedupResult(
            exact_groups=exact_groups,
            near_pairs=near_pairs,
            clusters=clusters,
            stats=stats,
            bands=bands,
            rows_per_band=rows_per_band,
            threshold=threshold,
            params={
                "num_perm": mh.num_perm,
                "shingle": mh.shingle,
                "ngram": mh.ngram,
                "seed": mh.seed,
                "strip_punctuation": mh.strip_punctuation,
            },
        )
