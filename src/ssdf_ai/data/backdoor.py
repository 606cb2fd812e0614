"""Backdoor (trigger) poisoning in training data: rare feature patterns tied to one label.

SP 800-218A PW.3.1 asks that training data be checked for poisoning. A BadNets-style backdoor
stamps a fixed trigger (for instance a bright 3x3 square in a corner of an image) on a share of
the rows and relabels them to one *target* class, so that a model learns "trigger -> target".
:func:`find_backdoor` looks for that pattern directly, in three steps:

1. **Rare extreme values tied to one label.** For every class ``c`` and feature ``f``, the
   threshold ``hi`` is the 99th percentile of ``f`` over the rows *not* labelled ``c``; the
   rows labelled ``c`` with ``f > hi`` are ``E[c, f]``. A trigger feature has a large ``E`` in
   the target class, since other classes almost never reach its value. Pairs with fewer than
   ``max(5, 1 %)`` of the rows are dropped.
2. **Co-occurrence.** A trigger sets several features at once, so the candidate features of a
   class are grouped when their row sets overlap (Jaccard index >= 0.7). Each group's rows are
   those of the class with at least half of the group's features extreme. A natural trait of a
   class (a stroke that only that digit has) shows up too, so:
3. **Content check.** A model is fitted on every row *except* the group's rows, and on every
   feature except the group's, and then predicts the group's rows (a ridge classifier
   screens each group quickly; a logistic regression, a second model family, must confirm,
   and its share is the one reported). Poisoned rows are really of other classes, and the
   model never saw the trigger tied to the target: they are predicted as something other than
   their label. A natural trait keeps its class. The group whose rows disagree most (share >=
   0.5, weighted by the number of rows) is the suspected backdoor: its class is the target, its
   features the trigger, its rows the flagged rows. A group is skipped when it would leave
   fewer than ``max(5, 10 %)`` of its class to train on.

Two classic representation defences are computed beside it, for every row, and returned in
``scores`` (they do not decide the flags, see ``docs/data-poisoning.md``):
``spectral`` is the spectral signature (Tran et al., 2018): the squared projection of the
row's standardised features, centred per class, on the class's top singular vector;
``rare_pattern`` is the share of the suspected trigger features at an extreme value.

Limits: the trigger must be a set of feature values that is rare outside the target class (a
patch, a token, a fixed value); blended, warped or input-specific triggers and clean-label
attacks (no label flip) are not found, and neither are triggers on under ``max(5, 1 %)`` of
the rows. Flags are for review.

numpy and scikit-learn are optional dependencies (the ``data`` extra): they are imported when
the function is called, and :class:`ssdf_ai.errors.MissingExtraError` is raised if missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ssdf_ai.errors import InputError, MissingExtraError

__all__ = ["BackdoorResult", "find_backdoor"]

JACCARD_MIN = 0.7
DISAGREE_MIN = 0.5
EXTREME_QUANTILE = 0.99


@dataclass(frozen=True)
class BackdoorResult:
    """What :func:`find_backdoor` found.

    Attributes:
        flagged: Row indices of the suspected poisoned rows (empty when nothing was found).
        target_class: The suspected target label, or ``None``.
        trigger_features: Column indices of the suspected trigger features.
        disagreement: Share of the flagged rows that a model without the trigger features
            assigns to another class (0 when nothing was flagged).
        scores: Per-method score of every row, in row order: ``"rare_pattern"`` (share of the
            trigger features at an extreme value) and ``"spectral"`` (spectral signature).
        candidates: Every candidate group examined, as dicts with ``class``, ``features``,
            ``rows`` and ``disagreement``, most suspect first.
    """

    flagged: list[int]
    target_class: Any
    trigger_features: list[int]
    disagreement: float
    scores: dict[str, list[float]] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)


def _imports() -> Any:
    try:
        import numpy as np
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError("data", "numpy") from exc
    try:
        import sklearn  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError("data", "scikit-learn") from exc
    return np


def _validate(np: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y)
    if x.ndim != 2:
        raise InputError(f"x must be a 2-D table of features, got {x.ndim} dimensions")
    if y.ndim != 1:
        raise InputError(f"y must be a 1-D list of labels, got {y.ndim} dimensions")
    if len(x) != len(y):
        raise InputError(f"x has {len(x)} rows but y has {len(y)} labels")
    if not np.all(np.isfinite(x)):
        raise InputError("x contains NaN or infinite values")
    classes, y_idx = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise InputError("y must hold at least two distinct labels to look for a backdoor")
    return x, classes, y_idx


def spectral_scores(np: Any, x: Any, y_idx: Any) -> Any:
    """Spectral signature score of every row (squared projection, per class, see module)."""
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    out = np.zeros(len(x))
    for c in np.unique(y_idx):
        rows = np.flatnonzero(y_idx == c)
        if len(rows) < 2:
            continue
        centred = z[rows] - z[rows].mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        out[rows] = (centred @ vt[0]) ** 2
    return out


def _groups(np: Any, x: Any, y_idx: Any, k: int) -> list[tuple[int, list[int], Any]]:
    """Candidate (class, features, extreme-value matrix) groups from steps 1 and 2."""
    n, d = x.shape
    min_rows = max(5, int(0.01 * n))
    found: list[tuple[int, list[int], Any]] = []
    for c in range(k):
        inside = y_idx == c
        if inside.all() or inside.sum() < min_rows:
            continue
        hi = np.quantile(x[~inside], EXTREME_QUANTILE, axis=0)
        ext = x[inside] > hi
        feats = [f for f in range(d) if ext[:, f].sum() >= min_rows]
        feats.sort(key=lambda f: -int(ext[:, f].sum()))
        used: set[int] = set()
        for f in feats:
            if f in used:
                continue
            group = [f]
            for g in feats:
                if g == f or g in used:
                    continue
                both = np.logical_and(ext[:, f], ext[:, g]).sum()
                either = np.logical_or(ext[:, f], ext[:, g]).sum()
                if either and both / either >= JACCARD_MIN:
                    group.append(g)
            used.update(group)
            found.append((c, sorted(group), ext[:, sorted(group)]))
    return found


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def find_backdoor(x: Any, y: Any, *, seed: int = 0) -> BackdoorResult:
    """Look for a trigger-and-relabel backdoor in ``(x, y)`` (method in the module docstring).

    Args:
        x: Features, shape ``(rows, features)``; images flattened to one row each.
        y: Labels, shape ``(rows,)``; any hashable values.
        seed: Kept for a stable signature; the method is deterministic and does not use it.

    Returns:
        The flagged rows, suspected target class and trigger features, and per-row scores.

    Raises:
        InputError: x and y differ in length, y holds a single class or x is not finite.
        MissingExtraError: numpy or scikit-learn is not installed.
    """
    np = _imports()
    from sklearn.linear_model import (  # type: ignore[import-untyped,unused-ignore]
        LogisticRegression,
        RidgeClassifier,
    )
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped,unused-ignore]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped,unused-ignore]

    x, classes, y_idx = _validate(np, x, y)
    n, d = x.shape
    k = len(classes)
    spectral = spectral_scores(np, x, y_idx)
    candidates: list[dict[str, Any]] = []
    best: tuple[float, int, list[int], Any] | None = None
    for c, feats, ext in _groups(np, x, y_idx, k):
        class_rows = np.flatnonzero(y_idx == c)
        hit = ext.sum(axis=1) * 2 >= len(feats)
        rows = class_rows[hit]
        train = np.ones(n, dtype=bool)
        train[rows] = False
        kept = int((~hit).sum())
        if len(feats) >= d or kept < max(5, 0.1 * len(class_rows)):
            continue
        keep = np.setdiff1d(np.arange(d), feats)
        disagree = 0.0
        # a fast screen (ridge), then a confirmation by a second model family (logistic)
        for model in (
            make_pipeline(StandardScaler(), RidgeClassifier(alpha=1.0)),
            make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        ):
            if not len(rows):
                break
            model.fit(x[train][:, keep], y_idx[train])
            disagree = float((model.predict(x[rows][:, keep]) != c).mean())
            if disagree < DISAGREE_MIN:
                break
        candidates.append(
            {
                "class": _plain(classes[c]),
                "features": feats,
                "rows": len(rows),
                "disagreement": disagree,
            }
        )
        if disagree >= DISAGREE_MIN and (best is None or disagree * len(rows) > best[0]):
            best = (disagree * len(rows), c, feats, rows)
    candidates.sort(key=lambda g: -float(g["disagreement"]) * int(g["rows"]))
    rare = np.zeros(n)
    if best is None:
        return BackdoorResult(
            flagged=[],
            target_class=None,
            trigger_features=[],
            disagreement=0.0,
            scores={"rare_pattern": rare.tolist(), "spectral": spectral.tolist()},
            candidates=candidates,
        )
    _, c, feats, rows = best
    hi = np.quantile(x[y_idx != c], EXTREME_QUANTILE, axis=0)
    rare = (x[:, feats] > hi[feats]).mean(axis=1) * (y_idx == c)
    disagreement = float(best[0] / len(rows))
    target = _plain(classes[c])
    return BackdoorResult(
        flagged=[int(i) for i in rows],
        target_class=target,
        trigger_features=[int(f) for f in feats],
        disagreement=disagreement,
        scores={"rare_pattern": rare.tolist(), "spectral": spectral.tolist()},
        candidates=candidates,
    )
