"""Bias in training data: label-rate disparity across sensitive attributes, and class imbalance.

SP 800-218A PW.3.1 (R2) asks that training data be checked for bias. This module measures the
two kinds of bias that can be seen from the labels alone, on data read in chunks:

1. **Outcome disparity across groups.** For every declared sensitive attribute (a column such
   as ``sex`` or ``region``) and every value of it (a *group*), the rate of the *favourable*
   label among the group's rows is compared with the other rows:

   * *statistical parity difference* ``SPD = rate(group) - rate(all other rows)``;
   * *disparate impact* ``DI = rate(group) / rate(reference)``, where the reference is the
     most-favoured group among those large enough to judge (``min_group`` rows), or the group
     itself when its own rate is higher (so ``0 <= DI <= 1``; ``DI = 1`` when no row is
     favourable).

   A group of at least ``min_group`` rows is flagged when ``DI < 0.8`` (the four-fifths rule of
   the US Uniform Guidelines on Employee Selection Procedures, 29 CFR 1607.4(D)) or
   ``|SPD| > 0.1``; smaller groups are reported as too small to judge. Any group with less than
   5 % of the rows is flagged as under-represented.
2. **Class imbalance.** Class counts, the imbalance ratio ``smallest / largest`` (flagged below
   0.1) and the entropy balance ``H(labels) / log(k)`` (1 for equal classes).

The favourable label is the one given. Otherwise, for two classes, the more frequent of ``1``,
``True``, ``"1"``, ``"yes"``, ``"positive"`` that occurs, else the larger by ``str()`` order.
With more than two classes and no favourable label given, every class is taken in turn as the
outcome and each group reports its worst disparity (largest ``|SPD|``, then smallest ``DI``)
over the classes, with the class it was found for.

Memory is bounded: one counter per (attribute, group, label). An attribute is allowed
``max_groups`` distinct values; later values go to the group ``"(other)"`` and the attribute
is noted as looking like an identifier rather than a group. Missing values (``None``, ``""``,
NaN) form the group ``"(missing)"``.

Limits: this sees only the labels and the declared attributes. It cannot see bias through
proxies (an attribute that is not declared but correlates with one), bias in the features
themselves, intersectional groups unless they are declared as one attribute, or whether a
disparity is justified. Small groups are not judged; the figures are descriptive, with no
significance test. The result is a list to review, not a verdict.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ssdf_ai.errors import InputError

__all__ = [
    "MISSING",
    "OTHER",
    "AttributeBias",
    "BiasAccumulator",
    "BiasResult",
    "ClassBalance",
    "GroupBias",
    "measure_bias",
]

MISSING = "(missing)"
OTHER = "(other)"

_POSITIVE = (1, True, "1", "yes", "positive")
_FLAG_DI = "disparate_impact"
_FLAG_SPD = "parity_difference"
_FLAG_UNDER = "under_represented"


@dataclass(frozen=True)
class GroupBias:
    """One group of one attribute.

    Attributes:
        group: The attribute's value (``"(missing)"``, ``"(other)"``, or the value itself when
            it is a str, int, float or bool, else its ``str()``).
        count: Rows in the group.
        share: ``count / rows``.
        favorable_rate: Share of the group's rows with the favourable label (for multiclass
            data: of the class in ``outcome``).
        parity_difference: Statistical parity difference (group rate minus the rate of all
            other rows); 0 when the group holds every row.
        disparate_impact: Group rate over the reference rate (see the module docstring), in
            ``[0, 1]``.
        outcome: The label the rates are about (the favourable one, or for multiclass data the
            class of the worst disparity).
        judged: Whether the group has at least ``min_group`` rows; smaller groups are never
            flagged for disparity.
        flags: ``"disparate_impact"``, ``"parity_difference"``, ``"under_represented"``.
    """

    group: Any
    count: int
    share: float
    favorable_rate: float
    parity_difference: float
    disparate_impact: float
    outcome: Any
    judged: bool
    flags: list[str]


@dataclass(frozen=True)
class AttributeBias:
    """The groups of one sensitive attribute.

    Attributes:
        attribute: The attribute's name.
        groups: Its groups, largest first.
        capped: Whether more than ``max_groups`` distinct values were seen (the rest went to
            ``"(other)"``).
        note: Why the attribute needs a look (e.g. it looks like an identifier), or None.
        flagged: Whether any group is flagged for disparity.
    """

    attribute: str
    groups: list[GroupBias]
    capped: bool
    note: str | None
    flagged: bool


@dataclass(frozen=True)
class ClassBalance:
    """Class imbalance of the labels.

    Attributes:
        classes: The labels, most frequent first.
        counts: Their row counts, in ``classes`` order.
        imbalance_ratio: Smallest over largest count (1 for a single class).
        entropy_balance: Shannon entropy over ``log(k)`` (1 for balanced classes or a single
            class).
        flagged: ``imbalance_ratio < 0.1``.
    """

    classes: list[Any]
    counts: list[int]
    imbalance_ratio: float
    entropy_balance: float
    flagged: bool


@dataclass(frozen=True)
class BiasResult:
    """What :class:`BiasAccumulator` measured.

    Attributes:
        rows: Rows seen.
        favorable: The favourable label, or None for multiclass data without one.
        attributes: Per sensitive attribute, in the order first given.
        balance: Class imbalance.
        min_group: Smallest group judged for disparity.
        flagged: Whether any attribute or the class balance is flagged.
    """

    rows: int
    favorable: Any
    attributes: list[AttributeBias]
    balance: ClassBalance
    min_group: int
    flagged: bool


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _group_key(value: Any) -> Any:
    if value is None or value == "":
        return MISSING
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    try:
        hash(value)
    except TypeError:
        return str(value)
    return value


def _label_key(value: Any) -> Any:
    key = _group_key(value)
    # numpy scalars hash like Python numbers but do not serialise: keep the Python value
    item = getattr(key, "item", None)
    if callable(item) and not isinstance(key, str):
        try:
            return item()
        except (TypeError, ValueError):
            return key
    return key


class BiasAccumulator:
    """Counts labels per group of each sensitive attribute, chunk by chunk.

    Args:
        favorable: The favourable label; None picks it for two classes and takes every
            class in turn for more (see the module docstring).
        min_group: Smallest group judged for disparity.
        max_groups: Distinct values kept per attribute (the rest go to ``"(other)"``).
        di_threshold: Disparate impact below this is flagged (four-fifths rule).
        spd_threshold: ``|SPD|`` above this is flagged.
        min_share: Groups with a smaller share of rows are flagged as under-represented.
        imbalance_threshold: Class imbalance ratio below this is flagged.
    """

    def __init__(
        self,
        favorable: Any | None = None,
        *,
        min_group: int = 30,
        max_groups: int = 1000,
        di_threshold: float = 0.8,
        spd_threshold: float = 0.1,
        min_share: float = 0.05,
        imbalance_threshold: float = 0.1,
    ) -> None:
        if min_group < 1:
            raise InputError(f"min_group must be at least 1, got {min_group}")
        if max_groups < 1:
            raise InputError(f"max_groups must be at least 1, got {max_groups}")
        self.favorable = favorable
        self.min_group = min_group
        self.max_groups = max_groups
        self.di_threshold = di_threshold
        self.spd_threshold = spd_threshold
        self.min_share = min_share
        self.imbalance_threshold = imbalance_threshold
        self._rows = 0
        self._labels: Counter[Any] = Counter()
        self._attributes: dict[str, dict[Any, Counter[Any]]] = {}
        self._capped: set[str] = set()

    def update(self, labels: Sequence[Any], groups: Mapping[str, Sequence[Any]]) -> None:
        """Add one chunk of rows.

        Args:
            labels: The label of each row.
            groups: Attribute name to that attribute's value for each row (same length as
                ``labels``). The first chunk fixes the attributes; every chunk must give the
                same ones.

        Raises:
            InputError: A column's length differs from the labels', or the attributes differ
                from the first chunk's.
        """
        n = len(labels)
        if self._rows == 0 and not self._attributes:
            for name in groups:
                self._attributes[str(name)] = {}
        if set(map(str, groups)) != set(self._attributes):
            raise InputError(
                f"attributes {sorted(map(str, groups))} differ from the first chunk's "
                f"{sorted(self._attributes)}",
                hint="give the same sensitive attributes in every chunk",
            )
        for name, values in groups.items():
            if len(values) != n:
                raise InputError(f"attribute {name!r} has {len(values)} values for {n} labels")
        keys = [_label_key(v) for v in labels]
        self._labels.update(keys)
        for name, values in groups.items():
            table = self._attributes[str(name)]
            for value, label in zip(values, keys, strict=True):
                group = _label_key(value)
                counts = table.get(group)
                if counts is None:
                    if len(table) >= self.max_groups and group != OTHER:
                        self._capped.add(str(name))
                        group = OTHER
                        counts = table.get(group)
                    if counts is None:
                        counts = table[group] = Counter()
                counts[label] += 1
        self._rows += n

    def merge(self, other: BiasAccumulator) -> None:
        """Add the counts of an accumulator that saw another partition of the same rows.

        Counts add, so merging partitions gives the result one accumulator would give over
        all of them (the ``max_groups`` cap applies per attribute after the merge).

        Raises:
            InputError: The attributes differ.
        """
        if self._rows and other._rows and set(self._attributes) != set(other._attributes):
            raise InputError(
                f"attributes {sorted(other._attributes)} differ from {sorted(self._attributes)}"
            )
        self._rows += other._rows
        self._labels.update(other._labels)
        self._capped |= other._capped
        for name, groups in other._attributes.items():
            table = self._attributes.setdefault(name, {})
            for group, counts in groups.items():
                if group not in table and len(table) >= self.max_groups and group != OTHER:
                    self._capped.add(name)
                    group = OTHER
                table.setdefault(group, Counter()).update(counts)

    def _favorable(self) -> Any | None:
        if self.favorable is not None:
            return _label_key(self.favorable)
        if len(self._labels) > 2:
            return None  # multiclass: every class in turn, worst disparity reported
        present = [(self._labels[v], i) for i, v in enumerate(_POSITIVE) if v in self._labels]
        if present:
            best = max(present, key=lambda p: (p[0], -p[1]))
            return _label_key(_POSITIVE[best[1]])
        if len(self._labels) == 2:
            return max(self._labels, key=lambda v: (str(v), type(v).__name__))
        return next(iter(self._labels), None)

    def result(self) -> BiasResult:
        """The disparities and the class balance of every row seen so far.

        Returns:
            The measured bias.
        """
        favorable = self._favorable()
        # sorted, so ties between classes break the same way whatever the row order
        outcomes = (
            [favorable]
            if favorable is not None
            else sorted(self._labels, key=lambda v: (str(v), type(v).__name__))
        )
        attributes = [self._attribute(name, outcomes) for name in self._attributes]
        balance = self._balance()
        return BiasResult(
            rows=self._rows,
            favorable=_plain(favorable),
            attributes=attributes,
            balance=balance,
            min_group=self.min_group,
            flagged=balance.flagged or any(a.flagged for a in attributes),
        )

    def _attribute(self, name: str, outcomes: list[Any]) -> AttributeBias:
        table = self._attributes[name]
        totals = {g: sum(c.values()) for g, c in table.items()}
        judged = [g for g, t in totals.items() if t >= self.min_group]
        rows = self._rows
        # per outcome: the reference (highest) rate over the judged groups
        reference: dict[Any, float] = {}
        for outcome in outcomes:
            rates = [table[g][outcome] / totals[g] for g in judged]
            reference[outcome] = max(rates, default=0.0)
        groups: list[GroupBias] = []
        for group, counts in sorted(table.items(), key=lambda kv: (-totals[kv[0]], str(kv[0]))):
            count = totals[group]
            worst: tuple[float, float, float, Any] = (0.0, 0.0, 1.0, outcomes[0])
            for index, outcome in enumerate(outcomes):
                rate = counts[outcome] / count
                rest = rows - count
                rest_rate = (self._labels[outcome] - counts[outcome]) / rest if rest else rate
                spd = rate - rest_rate
                ref = max(reference[outcome], rate)
                di = rate / ref if ref > 0 else 1.0
                if index == 0 or (abs(spd), -di) > (abs(worst[1]), -worst[2]):
                    worst = (rate, spd, di, outcome)
            rate, spd, di, outcome = worst
            is_judged = count >= self.min_group
            flags: list[str] = []
            if is_judged and di < self.di_threshold:
                flags.append(_FLAG_DI)
            if is_judged and abs(spd) > self.spd_threshold:
                flags.append(_FLAG_SPD)
            if rows and count / rows < self.min_share:
                flags.append(_FLAG_UNDER)
            groups.append(
                GroupBias(
                    group=_plain(group),
                    count=count,
                    share=count / rows if rows else 0.0,
                    favorable_rate=rate,
                    parity_difference=spd,
                    disparate_impact=di,
                    outcome=_plain(outcome),
                    judged=is_judged,
                    flags=flags,
                )
            )
        capped = name in self._capped
        note = (
            f"more than {self.max_groups} distinct values: this looks like an identifier, "
            f"not a group; values beyond the first {self.max_groups} are counted as {OTHER!r}"
            if capped
            else None
        )
        flagged = any(_FLAG_DI in g.flags or _FLAG_SPD in g.flags for g in groups)
        return AttributeBias(
            attribute=name, groups=groups, capped=capped, note=note, flagged=flagged
        )

    def _balance(self) -> ClassBalance:
        ordered = sorted(self._labels.items(), key=lambda kv: (-kv[1], str(kv[0])))
        counts = [c for _, c in ordered]
        k = len(counts)
        total = sum(counts)
        if k <= 1:
            ratio, balance = 1.0, 1.0
        else:
            ratio = min(counts) / max(counts)
            entropy = -sum(c / total * math.log(c / total) for c in counts)
            balance = entropy / math.log(k)
        return ClassBalance(
            classes=[_plain(v) for v, _ in ordered],
            counts=counts,
            imbalance_ratio=ratio,
            entropy_balance=balance,
            flagged=ratio < self.imbalance_threshold,
        )


def measure_bias(
    labels: Sequence[Any],
    groups: Mapping[str, Sequence[Any]],
    *,
    favorable: Any | None = None,
    **options: Any,
) -> BiasResult:
    """Measure label-rate disparity and class imbalance of one table (see the module docstring).

    Args:
        labels: The label of each row.
        groups: Sensitive attribute name to its value for each row.
        favorable: The favourable label; None picks it automatically.
        **options: Further :class:`BiasAccumulator` options (``min_group``, ``max_groups``,
            thresholds).

    Returns:
        The measured bias.

    Raises:
        InputError: A column's length differs from the labels'.
    """
    acc = BiasAccumulator(favorable, **options)
    acc.update(labels, groups)
    return acc.result()
