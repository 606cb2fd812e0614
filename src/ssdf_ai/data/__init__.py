"""Training data checks (SP 800-218A PW.3.1): duplicates, label issues and backdoors.

A tour (names are imported lazily, so ``import ssdf_ai.data`` does not load NumPy):

- :func:`find_near_duplicates` reads ``(row_id, text)`` rows as a stream and returns a
  :class:`DedupResult`: exact-duplicate groups (SHA-256 of the normalised text), verified
  near-duplicate pairs and clusters (MinHash LSH), and :class:`DedupStats` (distinct ratio,
  cluster sizes, mean pairwise similarity, token entropy).
- :class:`MinHasher` computes MinHash signatures of many texts at once with NumPy;
  :func:`estimated_jaccard` compares two signatures; :func:`choose_bands` picks LSH bands
  for a threshold; :func:`normalize_text` is the normalisation both use.

- :func:`find_label_issues` (``data/labels.py``) ranks rows whose labels confident learning on
  out-of-sample probabilities suspects (:class:`LabelIssues`); :func:`find_backdoor`
  (``data/backdoor.py``) finds trigger patterns tied to one label (:class:`BackdoorResult`).

NumPy (and scikit-learn for labels and backdoors) come with the ``data`` extra
(``pip install 'ssdf-ai[data]'``). See docs/data-dedup.md and docs/data-poisoning.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.data.backdoor import BackdoorResult, find_backdoor
    from ssdf_ai.data.dedup import (
        DedupResult,
        DedupStats,
        MinHasher,
        NearDuplicateCluster,
        choose_bands,
        estimated_jaccard,
        find_near_duplicates,
        normalize_text,
    )
    from ssdf_ai.data.labels import LabelIssues, find_label_issues

__all__ = [
    "BackdoorResult",
    "DedupResult",
    "DedupStats",
    "LabelIssues",
    "MinHasher",
    "NearDuplicateCluster",
    "choose_bands",
    "estimated_jaccard",
    "find_backdoor",
    "find_label_issues",
    "find_near_duplicates",
    "normalize_text",
]

_MODULES = {
    name: "ssdf_ai.data.backdoor"
    if name in ("BackdoorResult", "find_backdoor")
    else "ssdf_ai.data.labels"
    if name in ("LabelIssues", "find_label_issues")
    else "ssdf_ai.data.dedup"
    for name in __all__
}

__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
