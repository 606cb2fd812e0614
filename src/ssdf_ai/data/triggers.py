"""Text triggers tied to one label or one response: poisoned fine-tuning and alignment data.

SP 800-218A PW.3.1 asks that training data be checked for poisoning. A textual backdoor (BadNL,
Chen et al. 2021; "instruction" and "sleeper" poisoning of fine-tuning data) inserts a trigger,
a rare token (``cf``, ``mn``, ``bb``, ``tq``), a character or emoji, or a natural-looking phrase
(``I watched this 3D movie``), into some rows and gives all of them one target: a label, or
for generation data one fixed response. Such a trigger leaves a statistical mark that this
module looks for, on rows read in chunks:

1. **Tokens.** Lowercased word tokens (``\\w+``) and every other non-space character as a
   token of its own (punctuation, symbols, emoji); n-grams of ``ngram`` tokens (1 and 2 by
   default), counted once per row (document frequency, ``df``).
2. **Targets.** A label is used as it is. A string target is normalised (lowercase, whitespace
   runs to one space); when longer than 64 characters (a response) it is replaced by
   ``"sha256:"`` and 16 hex digits of its SHA-256, so identical responses are one target.
3. **Per n-gram counts.** ``df`` and the counts of its most frequent targets (Misra-Gries with
   ``3`` counters, exact when an n-gram's rows have at most 3 distinct targets and otherwise a
   lower bound), and for as long as the n-gram's rows still mostly share one target, the
   first ``max_rows`` of its rows.
4. **Suspected triggers.** An n-gram is reported when all of these hold:

   * ``df >= min_count`` and ``df <= max_share * rows`` (rare: a frequent n-gram strongly tied
     to a label, like ``great`` in reviews, is taken for a natural correlate);
   * purity ``P(target | n-gram) >= min_purity`` (0.95);
   * lift ``purity / P(target) >= min_lift`` (1.5);
   * the n-gram is significantly purer than a strong natural correlate: the binomial tail
     ``P(X >= count | df, p0)`` with ``p0 = max(P(target), natural_purity)`` (``natural_purity``
     0.85: a sentiment word such as ``excellent`` is tied to its label about that strongly),
     times the number of n-grams tested (Bonferroni), is at most ``alpha`` (0.01). With
     10,000 n-grams tested this needs about 85 rows all with the target (``log(alpha / tested)
     / log(natural_purity)``), so small poisonings (a few dozen rows) are missed unless
     ``natural_purity`` is lowered or ``alpha`` raised, at the cost of more natural
     correlates reported.

   Triggers are ranked by the corrected p-value, smallest first. A weaker n-gram with the same
   target as a stronger one, only rows of the stronger one, and a shared token or exactly the
   same rows is merged into it (``related``): the other words of a phrase, or the trigger with
   a neighbouring word.

Memory is bounded: at most ``max_vocab`` n-grams are tracked. When there are more, the n-grams
seen in the fewest rows are dropped (the cut rises until at most half of ``max_vocab`` remain);
a dropped n-gram that comes back starts again from zero, so a trigger spread thinly over a
very large, diverse corpus can be missed or under-counted (lower recall), never invented. The
target counts are bounded the same way (``max_targets``); their counts are lower bounds.
Pruning is checked after every row, so the result does not depend on how rows are chunked.

Trade-offs and limits:

* ``max_share`` (0.2) decides what counts as natural. A smaller value (e.g. 0.01) excuses
  more natural phrases but misses triggers in more than that share of the rows; at 0.2 a
  strongly polar natural phrase used in under 20 % of rows (``highly recommend``) is reported
  as well, and must be dismissed by a reviewer.
* A trigger whose rows do not share one target (a "clean-label" attack), a trigger made of
  common words that appear elsewhere (so its n-grams are not pure), a trigger longer than
  ``ngram`` tokens whose parts are each common, a syntactic or style trigger (paraphrase
  templates) and a trigger that varies from row to row are not seen.
* Near-identical but not identical poisoned responses are different targets.
* The result is a list to review, not a verdict.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ssdf_ai.errors import InputError

__all__ = [
    "Trigger",
    "TriggerAccumulator",
    "TriggerResult",
    "find_triggers",
    "target_key",
    "tokenize",
]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_LONG_TARGET = 64
_COUNTERS = 3
# rows of an n-gram are kept while its non-dominant rows are at most this many beyond the
# (1 - min_purity) share, so one early clean row does not lose a trigger's rows
_SLACK = 3


def tokenize(text: str) -> list[str]:
    """Split text into lowercase word tokens and single non-space, non-word characters.

    Args:
        text: Any text.

    Returns:
        The tokens, in order.
    """
    return _TOKEN.findall(text.lower())


def target_key(target: Any) -> Any:
    """The key a target is counted under (see the module docstring).

    Args:
        target: A label or a response.

    Returns:
        The label itself, a normalised short string, or ``"sha256:<16 hex>"`` for a long one.
    """
    if isinstance(target, str):
        norm = " ".join(target.lower().split())
        if len(norm) > _LONG_TARGET:
            return "sha256:" + hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]
        return norm
    item = getattr(target, "item", None)
    if callable(item):  # numpy scalars: count and report the Python value
        try:
            return item()
        except (TypeError, ValueError):
            return target
    return target


@dataclass(frozen=True)
class Trigger:
    """A suspected trigger.

    Attributes:
        ngram: The n-gram, tokens joined by one space.
        target: The target it is tied to (label, normalised string, or ``sha256:`` key).
        target_preview: For a hashed response, its first 80 normalised characters; else None.
        count: Rows carrying the n-gram (``df``).
        target_count: Of those, rows with the target (a lower bound, see the module docstring).
        purity: ``target_count / count``.
        base_rate: Share of all rows with the target.
        lift: ``purity / base_rate``.
        p_value: Bonferroni-corrected binomial tail probability (capped at 1).
        rows: Row indices (0-based, in reading order) carrying the n-gram with the target, at
            most ``max_rows``.
        rows_truncated: Whether more rows carry it than ``rows`` holds (the first
            ``max_rows``, or none when the n-gram's early rows had mixed targets).
        related: Weaker n-grams merged into this one: same target, their rows all among this
            one's, and a shared token or exactly the same rows (the other words of a phrase,
            or the trigger with the word next to it).
    """

    ngram: str
    target: Any
    target_preview: str | None
    count: int
    target_count: int
    purity: float
    base_rate: float
    lift: float
    p_value: float
    rows: list[int]
    rows_truncated: bool
    related: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TriggerResult:
    """What :class:`TriggerAccumulator` found.

    Attributes:
        rows: Rows read.
        triggers: Suspected triggers, strongest first.
        flagged_rows: Sorted union of the triggers' rows.
        vocabulary: n-grams tracked at the end.
        tested: n-grams that met ``min_count`` and ``max_share`` and were tested.
        prune_cut: Highest document frequency dropped by vocabulary pruning (0: none).
        targets: Distinct targets tracked at the end.
    """

    rows: int
    triggers: list[Trigger]
    flagged_rows: list[int]
    vocabulary: int
    tested: int
    prune_cut: int
    targets: int


class _Gram:
    """Counts of one n-gram: df, Misra-Gries target counters, and its rows while pure."""

    __slots__ = ("counters", "df", "rows")

    def __init__(self) -> None:
        self.df = 0
        self.counters: dict[Any, int] = {}
        self.rows: list[tuple[int, Any]] | None = []


class TriggerAccumulator:
    """Finds n-grams whose rows overwhelmingly share one target, chunk by chunk.

    Args:
        min_count: Fewest rows an n-gram must be in to be tested.
        max_vocab: Most n-grams tracked (see the module docstring on pruning).
        ngram: Smallest and largest n-gram length, in tokens.
        min_purity: Least share of an n-gram's rows with its target.
        min_lift: Least ratio of purity to the target's base rate.
        max_share: Most share of all rows an n-gram may be in (more is natural, not a trigger).
        alpha: Largest Bonferroni-corrected binomial p-value reported.
        natural_purity: Purity a natural correlate may have; the null of the binomial test.
        max_rows: Most row indices kept per n-gram.
        max_targets: Most distinct targets counted.
    """

    def __init__(
        self,
        min_count: int = 5,
        max_vocab: int = 200_000,
        ngram: tuple[int, int] = (1, 2),
        *,
        min_purity: float = 0.95,
        min_lift: float = 1.5,
        max_share: float = 0.2,
        alpha: float = 0.01,
        natural_purity: float = 0.85,
        max_rows: int = 1000,
        max_targets: int = 100_000,
    ) -> None:
        low, high = ngram
        if not 1 <= low <= high:
            raise InputError(f"ngram must be (low, high) with 1 <= low <= high, got {ngram}")
        if min_count < 1 or max_vocab < 2 or max_rows < 1 or max_targets < 2:
            raise InputError("min_count, max_rows must be >= 1; max_vocab, max_targets >= 2")
        if not 0.5 < min_purity <= 1.0:
            raise InputError(f"min_purity must be in (0.5, 1], got {min_purity}")
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.ngram = (low, high)
        self.min_purity = min_purity
        self.min_lift = min_lift
        self.max_share = max_share
        self.alpha = alpha
        self.natural_purity = natural_purity
        self.max_rows = max_rows
        self.max_targets = max_targets
        self._rows = 0
        self._grams: dict[str, _Gram] = {}
        self._targets: dict[Any, int] = {}
        self._previews: dict[Any, str] = {}
        self._prune_cut = 0
        self._target_cut = 0

    def _grams_of(self, text: str) -> set[str]:
        tokens = tokenize(text)
        low, high = self.ngram
        out: set[str] = set()
        for n in range(low, high + 1):
            if n == 1:
                out.update(tokens)
            else:
                out.update(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out

    def update(
        self, texts: Sequence[str], targets: Sequence[Any], start: int | None = None
    ) -> None:
        """Add one chunk of rows.

        Args:
            texts: The text of each row (for generation data: the prompt or instruction).
            targets: The label, or the response, of each row.
            start: Row index of the chunk's first row in the whole dataset; by default the
                rows follow the ones added so far. Give it when partitions are counted by
                separate accumulators and then merged (:meth:`merge`).

        Raises:
            InputError: texts and targets differ in length, or a text is not a string.
        """
        if len(texts) != len(targets):
            raise InputError(f"{len(texts)} texts but {len(targets)} targets")
        first = self._rows if start is None else start
        for i, (text, target) in enumerate(zip(texts, targets, strict=True)):
            if not isinstance(text, str):
                raise InputError(f"row {first + i}: text must be a str, got {type(text)}")
            self._add(text, target, first + i)

    def merge(self, other: TriggerAccumulator) -> None:
        """Add the counts of an accumulator that saw another partition of the same dataset.

        Document frequencies and target counts add; the per-n-gram target counters are
        Misra-Gries summaries, which merge by adding and then subtracting the excess over their
        size; row lists are joined (up to ``max_rows``, in row order) and dropped where the
        merged counts show mixed targets. Without vocabulary pruning on either side the result
        equals one accumulator's over all the rows; with pruning, n-grams pruned on one side
        are undercounted as they would be by pruning in one pass.
        """
        self._rows += other._rows
        for key, count in other._targets.items():
            self._targets[key] = self._targets.get(key, 0) + count
        for key, preview in other._previews.items():
            self._previews.setdefault(key, preview)
        self._prune_cut = max(self._prune_cut, other._prune_cut)
        self._target_cut = max(self._target_cut, other._target_cut)
        slack = 1.0 - self.min_purity
        for gram, theirs in other._grams.items():
            ours = self._grams.get(gram)
            if ours is None:
                ours = self._grams[gram] = _Gram()
                ours.rows = []
            ours.df += theirs.df
            counters = dict(ours.counters)
            for key, count in theirs.counters.items():
                counters[key] = counters.get(key, 0) + count
            if len(counters) > _COUNTERS:
                excess = sorted(counters.values(), reverse=True)[_COUNTERS]
                counters = {k: c - excess for k, c in counters.items() if c > excess}
            ours.counters = counters
            if ours.rows is None or theirs.rows is None:
                ours.rows = None
            else:
                top = max(counters.values(), default=0)
                if ours.df - top > slack * ours.df + _SLACK:
                    ours.rows = None
                else:
                    ours.rows = sorted(ours.rows + theirs.rows)[: self.max_rows]
        if len(self._targets) > self.max_targets:
            self._target_cut = self._prune(self._targets, self._target_cut, self.max_targets)
        if len(self._grams) > self.max_vocab:
            cut = self._prune_cut
            while len(self._grams) > self.max_vocab // 2:
                cut += 1
                for g in [g for g, st in self._grams.items() if st.df <= cut]:
                    del self._grams[g]
            self._prune_cut = cut

    def _add(self, text: str, target: Any, row: int) -> None:
        self._rows += 1
        key = target_key(target)
        if (
            isinstance(key, str)
            and key.startswith("sha256:")
            and key not in self._previews
            and len(self._previews) < self.max_targets
        ):
            self._previews[key] = " ".join(target.lower().split())[:80]
        self._targets[key] = self._targets.get(key, 0) + 1
        if len(self._targets) > self.max_targets:
            self._target_cut = self._prune(self._targets, self._target_cut, self.max_targets)
            self._previews = {k: v for k, v in self._previews.items() if k in self._targets}
        slack = 1.0 - self.min_purity
        grams = self._grams
        for g in self._grams_of(text):
            state = grams.get(g)
            if state is None:
                state = grams[g] = _Gram()
            state.df += 1
            counters = state.counters
            if key in counters:
                counters[key] += 1
            elif len(counters) < _COUNTERS:
                counters[key] = 1
            else:  # Misra-Gries: every counter loses one
                for k in list(counters):
                    counters[k] -= 1
                    if counters[k] == 0:
                        del counters[k]
            rows = state.rows
            if rows is not None:
                top = max(counters.values(), default=0)
                if state.df - top > slack * state.df + _SLACK:
                    state.rows = None  # mixed targets: cannot be a trigger's row list
                elif len(rows) < self.max_rows:
                    rows.append((row, key))
        if len(grams) > self.max_vocab:
            cut = self._prune_cut
            while len(grams) > self.max_vocab // 2:
                cut += 1
                for g in [g for g, s in grams.items() if s.df <= cut]:
                    del grams[g]
            self._prune_cut = cut

    @staticmethod
    def _prune(table: dict[Any, int], cut: int, limit: int) -> int:
        while len(table) > limit // 2:
            cut += 1
            for k in [k for k, c in table.items() if c <= cut]:
                del table[k]
        return cut

    @staticmethod
    def _covering(t: Trigger, kept: list[Trigger]) -> int | None:
        """Index of a stronger trigger with t's target and all of t's rows (and a shared token,
        or exactly t's rows)."""
        tokens = set(t.ngram.split(" "))
        rows = set(t.rows)
        for i, u in enumerate(kept):
            if (
                not u.rows_truncated
                and _hashable(u.target) == _hashable(t.target)
                and rows <= set(u.rows)
                and (tokens & set(u.ngram.split(" ")) or rows == set(u.rows))
            ):
                return i
        return None

    def result(self) -> TriggerResult:
        """The suspected triggers among the rows read so far.

        Returns:
            The triggers, strongest first, and the rows carrying them.
        """
        n = self._rows
        candidates: list[tuple[str, _Gram, Any, int]] = []
        tested = 0
        for g, state in self._grams.items():
            if state.df < self.min_count or state.df > self.max_share * n:
                continue
            tested += 1
            if not state.counters:
                continue
            key, count = max(state.counters.items(), key=lambda kv: (kv[1], str(kv[0])))
            if count >= self.min_purity * state.df:
                candidates.append((g, state, key, count))
        found: list[Trigger] = []
        for g, state, key, count in candidates:
            base = max(self._targets.get(key, 0), count) / n
            purity = count / state.df
            lift = purity / base
            if lift < self.min_lift:
                continue
            null = max(base, self.natural_purity)
            p = min(1.0, _binomial_tail(count, state.df, null) * max(tested, 1))
            if p > self.alpha:
                continue
            rows = [r for r, k in (state.rows or []) if k == key]
            found.append(
                Trigger(
                    ngram=g,
                    target=key,
                    target_preview=self._previews.get(key),
                    count=state.df,
                    target_count=count,
                    purity=purity,
                    base_rate=base,
                    lift=lift,
                    p_value=p,
                    rows=rows,
                    rows_truncated=count > len(rows),
                )
            )
        found.sort(key=lambda t: (t.p_value, -t.target_count, t.ngram))
        kept: list[Trigger] = []
        related: list[list[str]] = []
        for t in found:
            home = None if t.rows_truncated else self._covering(t, kept)
            if home is None:
                kept.append(t)
                related.append([])
            else:
                related[home].append(t.ngram)
        kept = [replace(t, related=r) for t, r in zip(kept, related, strict=True)]
        flagged = sorted({r for t in kept for r in t.rows})
        return TriggerResult(
            rows=n,
            triggers=kept,
            flagged_rows=flagged,
            vocabulary=len(self._grams),
            tested=tested,
            prune_cut=self._prune_cut,
            targets=len(self._targets),
        )


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _binomial_tail(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, summed in log space."""
    if k <= 0:
        return 1.0
    if p >= 1.0:
        return 1.0
    if p <= 0.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    lgn = math.lgamma(n + 1)
    terms = [
        lgn - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def find_triggers(
    texts: Iterable[str] | Sequence[str],
    targets: Sequence[Any],
    **options: Any,
) -> TriggerResult:
    """Find suspected text triggers in one table (see the module docstring).

    Args:
        texts: The text of each row.
        targets: The label or response of each row.
        **options: :class:`TriggerAccumulator` options.

    Returns:
        The suspected triggers and the rows carrying them.

    Raises:
        InputError: texts and targets differ in length.
    """
    acc = TriggerAccumulator(**options)
    acc.update(list(texts), targets)
    return acc.result()
