"""Outliers and anomalies in numeric training features, in two passes over chunks.

SP 800-218A PW.3.1 (R2) asks that training data be checked for anomalies. Rows far from the
rest (data-entry errors, corrupted records, injected points) are found by two detectors fitted
on a bounded sample, then every row is scored in a second pass:

1. **Sample (pass 1).** ``fit_update`` keeps a uniform sample of at most ``sample_size``
   finite rows: each row gets a pseudo-random key from its global index and ``seed``
   (SplitMix64), and the rows with the smallest keys are kept (bottom-k sampling). The sample
   does not depend on how the rows are chunked. Rows with NaN or infinite values are counted
   but not sampled.
2. **Fit.** Per feature, the median and the MAD scaled by 1.4826 (the standard deviation for
   normal data). A feature whose MAD is 0 (mostly one value, like a sparse pixel) uses its
   standard deviation instead; a feature constant on the sample gets a robust z of 0 where it equals
   the constant and ``±1000`` elsewhere (no division by zero). Robust z-scores are clipped to
   ``±1000``. A scikit-learn ``IsolationForest`` (``n_estimators`` trees, ``random_state=seed``)
   is fitted on the sample's robust z-scores, and so is a Mahalanobis distance: the z-scores
   clipped to ``±50``, a Ledoit-Wolf shrunk covariance (invertible when features are constant
   or collinear), refitted once without the rows beyond the fence of the first fit so that
   outliers do not widen it; above 128 features, over the first 64 principal components.
3. **Score (pass 2).** Two raw scores per row: the Mahalanobis distance and the forest's
   anomaly score ``-score_samples``. Each is standardised against its own distribution on the
   sample, ``(s - median) / IQR``, and the combined score is the larger of the two, so a row
   is anomalous if either detector finds it so: far from the bulk or off the features' joint
   shape (distance), or an unusual combination the forest isolates quickly. Non-finite values
   are replaced by the feature's median for scoring.
4. **Threshold.** ``contamination="auto"``: Tukey's far-out fence on the sample's combined
   scores, ``Q3 + 3 * IQR``. A float ``c``: the ``1 - c`` quantile of the sample's combined
   scores (about a share ``c`` of rows is flagged). Rows above the threshold are flagged, and
   a row with a NaN or infinite value is always flagged, with the features that hold them.

Each flagged row carries its reasons: the non-finite features, and the (up to) three features
with the largest ``|z|`` with their values and robust z-scores.

Memory is bounded by the sample (``sample_size`` x features) and one chunk; the forest is
fitted once.

Limits: only numeric features, each on its own scale; categorical columns must be encoded
first and an encoding can hide or invent anomalies. Anomalies relative to the *bulk* of the
data are found; a cluster of many similar injected rows (more than about the forest's
sub-sample share) looks normal to the forest, and points inside the range of every feature
that break a correlation are found only by the forest and only when strong. Poisoning that
keeps rows in-distribution (clean-label attacks, flipped labels) is not seen here: see
``ssdf_ai.data.labels`` and ``ssdf_ai.data.backdoor``. The result is a list to review.

numpy and scikit-learn are optional dependencies (the ``data`` extra): they are imported when
needed, and :class:`ssdf_ai.errors.MissingExtraError` is raised if they are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ssdf_ai.errors import InputError, MissingExtraError

__all__ = [
    "FeatureDeviation",
    "Outlier",
    "OutlierDetector",
    "OutlierResult",
    "find_outliers",
]

_Z_CAP = 1000.0
# Robust z-scores enter the Mahalanobis distance clipped to this, so that one absurd value
# does not dwarf every other row's distance (it still puts its row far beyond the fence).
_DISTANCE_CLIP = 50.0
# Above this many features, the distance is taken over the first _COMPONENTS principal
# components of the sample (images: thousands of pixels).
_MAX_FULL = 128
_COMPONENTS = 64
_MAD_SCALE = 1.4826
_TOP_FEATURES = 3
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_GOLDEN = 0x9E3779B97F4A7C15


def _imports() -> tuple[Any, Any]:
    try:
        import numpy as np
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError("data", "numpy") from exc
    try:
        from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError("data", "scikit-learn") from exc
    return np, IsolationForest


@dataclass(frozen=True)
class FeatureDeviation:
    """How far one feature of a row is from the sample's median.

    Attributes:
        feature: Column index.
        value: The row's value.
        z: Robust z-score ``(value - median) / scale`` (clipped to ``±1000``).
    """

    feature: int
    value: float
    z: float


@dataclass(frozen=True)
class Outlier:
    """A flagged row.

    Attributes:
        row: Row index (0-based, in reading order).
        score: Combined anomaly score (see the module docstring).
        non_finite: Columns holding NaN or infinite values (always flagged).
        features: Up to three finite features with the largest ``|z|``, largest first.
    """

    row: int
    score: float
    non_finite: list[int]
    features: list[FeatureDeviation]


@dataclass(frozen=True)
class OutlierResult:
    """What :func:`find_outliers` found.

    Attributes:
        rows: Rows scored.
        features: Number of feature columns.
        sample_rows: Rows the detectors were fitted on.
        threshold: Combined score above which a row is flagged.
        outliers: Flagged rows, in row order.
        indices: Their row indices.
        scores: Their combined scores, in ``indices`` order.
    """

    rows: int
    features: int
    sample_rows: int
    threshold: float
    outliers: list[Outlier]
    indices: list[int]
    scores: list[float]


class OutlierDetector:
    """Two-pass outlier detection: ``fit_update`` per chunk, ``fit``, then ``score``/``flag``.

    Args:
        sample_size: Most rows kept to fit on.
        contamination: ``"auto"`` (Tukey far-out fence) or the share of rows to flag, in
            ``(0, 0.5]``.
        seed: Seed of the sample and the forest.
        n_estimators: Trees in the isolation forest.
    """

    def __init__(
        self,
        sample_size: int = 20_000,
        contamination: str | float = "auto",
        seed: int = 0,
        *,
        n_estimators: int = 100,
    ) -> None:
        if sample_size < 2:
            raise InputError(f"sample_size must be at least 2, got {sample_size}")
        if contamination != "auto" and not (
            isinstance(contamination, float | int) and 0 < float(contamination) <= 0.5
        ):
            raise InputError(f"contamination must be 'auto' or in (0, 0.5], got {contamination}")
        self.sample_size = sample_size
        self.contamination = contamination
        self.seed = seed
        self.n_estimators = n_estimators
        self._np, self._forest_cls = _imports()
        self._seen = 0
        self._features: int | None = None
        self._sample: Any = None
        self._keys: Any = None
        self._fitted = False
        self._median: Any = None
        self._scale: Any = None
        self._forest: Any = None
        self._basis: Any = None
        self._location: Any = None
        self._precision: Any = None
        self._norm: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)
        self.threshold = float("inf")

    def _table(self, x: Any) -> Any:
        np = self._np
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        if x.ndim != 2:
            raise InputError(f"x must be a 2-D table of features, got {x.ndim} dimensions")
        if self._features is None:
            if x.shape[1] == 0:
                raise InputError("x has no feature columns")
            self._features = int(x.shape[1])
        elif x.shape[1] != self._features:
            raise InputError(f"x has {x.shape[1]} columns, earlier chunks had {self._features}")
        return x

    def _row_keys(self, start: int, n: int) -> Any:
        np = self._np
        with np.errstate(over="ignore"):
            z = np.arange(start, start + n, dtype=np.uint64) + np.uint64(
                (self.seed * _GOLDEN + _GOLDEN) & ((1 << 64) - 1)
            )
            z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
            return z ^ (z >> np.uint64(31))

    def fit_update(self, x: Any, start: int | None = None) -> None:
        """Pass 1: add one chunk of rows to the sample.

        Args:
            x: Features, shape ``(rows, features)``.
            start: Row index of the chunk's first row in the whole dataset; by default the
                rows follow the ones seen so far. Give it when partitions of one dataset are
                sampled by separate detectors and then merged (:meth:`merge`).

        Raises:
            InputError: x is not a 2-D table, or its column count differs from earlier chunks.
        """
        np = self._np
        x = self._table(x)
        keys = self._row_keys(self._seen if start is None else start, len(x))
        self._seen += len(x)
        finite = np.isfinite(x).all(axis=1)
        self._keep(x[finite], keys[finite])

    def merge(self, other: OutlierDetector) -> None:
        """Add the sample of a detector that saw another partition of the same dataset.

        The sample keeps the rows with the smallest hash of their row index, so merging the
        samples of partitions (each given its rows' ``start``) gives the sample one detector
        would have drawn over the whole dataset. Both must be unfitted, with equal settings.

        Raises:
            InputError: The settings or the column counts differ, or one is already fitted.
        """
        if self._fitted or other._fitted:
            raise InputError("merge the samples before fit()")
        if (self.sample_size, self.seed) != (other.sample_size, other.seed):
            raise InputError("merged detectors need the same sample_size and seed")
        if other._sample is None:
            return
        if self._features is not None and other._features != self._features:
            raise InputError(f"{other._features} columns, this detector has {self._features}")
        self._features = other._features
        self._seen += other._seen
        self._keep(other._sample, other._keys)

    def _keep(self, x: Any, keys: Any) -> None:
        """Add rows to the sample and keep the ``sample_size`` with the smallest keys."""
        np = self._np
        if self._sample is not None:
            x = np.concatenate([self._sample, x])
            keys = np.concatenate([self._keys, keys])
        if len(keys) > self.sample_size:
            keep = np.argpartition(keys, self.sample_size - 1)[: self.sample_size]
            keep.sort()
            x, keys = x[keep], keys[keep]
        self._sample, self._keys = x, keys

    def fit(self) -> None:
        """Fit the robust scales, the forest and the threshold on the sample.

        Raises:
            InputError: Fewer than two finite rows were seen.
        """
        np = self._np
        if self._sample is None or len(self._sample) < 2:
            raise InputError("fewer than two rows without NaN or infinite values to fit on")
        s = self._sample
        median = np.median(s, axis=0)
        dev = np.abs(s - median)
        scale = np.median(dev, axis=0) * _MAD_SCALE
        zero = scale == 0
        # a feature that is mostly one value (sparse pixels, rare flags) has MAD 0: its standard
        # deviation is the scale that does not make every other value look extreme
        scale[zero] = s[:, zero].std(axis=0)
        self._median, self._scale = median, scale
        z = self._z(s)
        self._forest = self._forest_cls(n_estimators=self.n_estimators, random_state=self.seed)
        self._forest.fit(z)
        self._fit_distance(z)
        raw_m = self._distance(z)
        raw_f = -self._forest.score_samples(z)
        self._norm = (*self._robust(raw_m), *self._robust(raw_f))
        combined = self._combine(raw_m, raw_f)
        if self.contamination == "auto":
            q1, q3 = np.quantile(combined, [0.25, 0.75])
            self.threshold = float(q3 + 3.0 * (q3 - q1))
        else:
            self.threshold = float(np.quantile(combined, 1.0 - float(self.contamination)))
        self._fitted = True

    def _fit_distance(self, z: Any) -> None:
        """Fit the Mahalanobis distance on the sample's robust z-scores (clipped).

        The covariance is Ledoit-Wolf shrunk, so that features constant or collinear on the
        sample (blank pixels, derived columns) leave it invertible. With more than
        :data:`_MAX_FULL` features the distance is taken in the span of the first
        :data:`_COMPONENTS` principal components, which bounds the cost per row.
        """
        np = self._np
        from sklearn.covariance import LedoitWolf  # type: ignore[import-untyped,unused-ignore]

        zc = np.clip(z, -_DISTANCE_CLIP, _DISTANCE_CLIP)
        self._basis = None
        if zc.shape[1] > _MAX_FULL:
            centred = zc - zc.mean(axis=0)
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            self._basis = vt[: min(_COMPONENTS, len(vt))].T
            zc = zc @ self._basis
        estimate = LedoitWolf().fit(zc)
        # One reweighting step (as in MCD's C-steps): refit without the rows beyond the fence,
        # so that the outliers do not widen the covariance they are measured against.
        self._location, self._precision = estimate.location_, estimate.precision_
        d = self._project_distance(zc)
        q1, q3 = np.quantile(d, [0.25, 0.75])
        inliers = d <= q3 + 3.0 * (q3 - q1)
        if int(inliers.sum()) > zc.shape[1] + 1 and not inliers.all():
            estimate = LedoitWolf().fit(zc[inliers])
        self._location = estimate.location_
        self._precision = estimate.precision_

    def _distance(self, z: Any) -> Any:
        np = self._np
        zc = np.clip(z, -_DISTANCE_CLIP, _DISTANCE_CLIP)
        if self._basis is not None:
            zc = zc @ self._basis
        return self._project_distance(zc)

    def _project_distance(self, zc: Any) -> Any:
        np = self._np
        d = zc - self._location
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, self._precision, d), 0.0))

    def _robust(self, v: Any) -> tuple[float, float]:
        np = self._np
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        iqr = float(q3 - q1)
        if iqr <= 0:
            iqr = float(np.abs(v - med).mean()) or 1.0
        return float(med), iqr

    def _combine(self, raw_m: Any, raw_f: Any) -> Any:
        np = self._np
        mm, sm, mf, sf = self._norm
        return np.maximum((raw_m - mm) / sm, (raw_f - mf) / sf)

    def _z(self, x: Any) -> Any:
        np = self._np
        diff = x - self._median
        safe = np.where(self._scale > 0, self._scale, 1.0)
        z = np.where(self._scale > 0, diff / safe, np.where(diff == 0, 0.0, np.sign(diff) * _Z_CAP))
        return np.clip(z, -_Z_CAP, _Z_CAP)

    def _prepare(self, x: Any) -> tuple[Any, Any, Any]:
        np = self._np
        if not self._fitted:
            raise InputError("call fit() after fit_update() before scoring")
        x = self._table(x)
        bad = ~np.isfinite(x)
        clean = np.where(bad, self._median, x) if bad.any() else x
        return clean, self._z(clean), bad

    def score(self, x_chunk: Any) -> Any:
        """Pass 2: the combined anomaly score of every row of a chunk (higher: more anomalous).

        Args:
            x_chunk: Features, shape ``(rows, features)``.

        Returns:
            A float array, one score per row.

        Raises:
            InputError: fit() has not been called, or the columns differ from the fitted ones.
        """
        _clean, z, _bad = self._prepare(x_chunk)
        return self._scores(z)

    def _scores(self, z: Any) -> Any:
        raw_m = self._distance(z)
        raw_f = -self._forest.score_samples(z)
        return self._combine(raw_m, raw_f)

    def flag(self, x_chunk: Any, offset: int = 0) -> list[Outlier]:
        """Pass 2: the flagged rows of a chunk, with their reasons.

        Args:
            x_chunk: Features, shape ``(rows, features)``.
            offset: Row index of the chunk's first row.

        Returns:
            Rows above the threshold or holding NaN/infinite values, in row order.

        Raises:
            InputError: fit() has not been called, or the columns differ from the fitted ones.
        """
        np = self._np
        clean, z, bad = self._prepare(x_chunk)
        scores = self._scores(z)
        bad_rows = bad.any(axis=1)
        hits = np.flatnonzero((scores > self.threshold) | bad_rows)
        out: list[Outlier] = []
        for i in hits:
            az = np.where(bad[i], -1.0, np.abs(z[i]))
            order = np.argsort(-az, kind="stable")[:_TOP_FEATURES]
            features = [
                FeatureDeviation(feature=int(j), value=float(clean[i, j]), z=float(z[i, j]))
                for j in order
                if az[j] >= 0
            ]
            out.append(
                Outlier(
                    row=offset + int(i),
                    score=float(scores[i]),
                    non_finite=[int(j) for j in np.flatnonzero(bad[i])],
                    features=features,
                )
            )
        return out

    @property
    def sample_rows(self) -> int:
        """Rows currently in the sample."""
        return 0 if self._sample is None else len(self._sample)


def find_outliers(
    x: Any,
    *,
    sample_size: int = 20_000,
    contamination: str | float = "auto",
    seed: int = 0,
    chunk_size: int = 50_000,
    n_estimators: int = 100,
) -> OutlierResult:
    """Find outlying rows of one feature table (see the module docstring).

    Args:
        x: Features, shape ``(rows, features)`` (anything ``numpy.asarray`` takes).
        sample_size: Most rows the detectors are fitted on.
        contamination: ``"auto"`` or the share of rows to flag.
        seed: Seed of the sample and the forest.
        chunk_size: Rows per chunk in both passes (the result does not depend on it).
        n_estimators: Trees in the isolation forest.

    Returns:
        The flagged rows with scores and reasons.

    Raises:
        InputError: x is not a 2-D table, or has fewer than two finite rows.
        MissingExtraError: numpy or scikit-learn is not installed.
    """
    if chunk_size < 1:
        raise InputError(f"chunk_size must be at least 1, got {chunk_size}")
    detector = OutlierDetector(sample_size, contamination, seed, n_estimators=n_estimators)
    x = detector._table(x)
    for start in range(0, len(x), chunk_size):
        detector.fit_update(x[start : start + chunk_size])
    detector.fit()
    outliers: list[Outlier] = []
    for start in range(0, len(x), chunk_size):
        outliers.extend(detector.flag(x[start : start + chunk_size], offset=start))
    return OutlierResult(
        rows=int(len(x)),
        features=int(x.shape[1]),
        sample_rows=detector.sample_rows,
        threshold=detector.threshold,
        outliers=outliers,
        indices=[o.row for o in outliers],
        scores=[o.score for o in outliers],
    )
