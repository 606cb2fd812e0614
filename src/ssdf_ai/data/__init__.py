"""Training data checks (SP 800-218A PW.3.1, PS.1.2): read datasets, find what is wrong.

A tour (names are imported lazily, so ``import ssdf_ai.data`` does not load NumPy):

- :func:`open_dataset` (``data/readers.py``) opens CSV, JSON Lines (chat and instruction
  formats), Parquet, NumPy, image folders and Hugging Face datasets saved to disk, and reads
  them as a stream of :class:`Chunk` objects (bounded memory, never executing content).
- :func:`check_dataset` (``data/check.py``) runs every check over an opened dataset and
  returns a :class:`DataCheck` (findings, each check's :class:`CheckSummary`, flagged rows, the
  profile); ``ssdf data check`` is its command line.
- The checks, each usable on its own:
  :func:`find_near_duplicates` and :class:`MinHasher` (exact and near-duplicates, diversity;
  ``data/dedup.py``), :func:`find_label_issues` (confident learning; ``data/labels.py``),
  :func:`find_backdoor` (trigger patterns tied to one label; ``data/backdoor.py``),
  :class:`TriggerAccumulator` (text triggers; ``data/triggers.py``), :class:`BiasAccumulator`
  and :func:`measure_bias` (label-rate disparity, class imbalance; ``data/bias.py``),
  :class:`OutlierDetector` and :func:`find_outliers` (``data/outliers.py``).

NumPy, scikit-learn, pyarrow and Pillow come with the ``data`` extra
(``pip install 'ssdf-ai[data]'``). See docs/data-check.md, docs/data-formats.md,
docs/data-dedup.md, docs/data-poisoning.md and docs/data-bias-outliers-triggers.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.data.backdoor import BackdoorResult, find_backdoor
    from ssdf_ai.data.bias import BiasAccumulator, BiasResult, measure_bias
    from ssdf_ai.data.check import CheckSettings, CheckSummary, DataCheck, check_dataset
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
    from ssdf_ai.data.outliers import OutlierDetector, OutlierResult, find_outliers
    from ssdf_ai.data.readers import Chunk, Dataset, DatasetFormat, ReadLimits, open_dataset
    from ssdf_ai.data.triggers import TriggerAccumulator, TriggerResult

_MODULES = {
    **dict.fromkeys(("BackdoorResult", "find_backdoor"), "ssdf_ai.data.backdoor"),
    **dict.fromkeys(("BiasAccumulator", "BiasResult", "measure_bias"), "ssdf_ai.data.bias"),
    **dict.fromkeys(
        ("CheckSettings", "CheckSummary", "DataCheck", "check_dataset"), "ssdf_ai.data.check"
    ),
    **dict.fromkeys(
        (
            "DedupResult",
            "DedupStats",
            "MinHasher",
            "NearDuplicateCluster",
            "choose_bands",
            "estimated_jaccard",
            "find_near_duplicates",
            "normalize_text",
        ),
        "ssdf_ai.data.dedup",
    ),
    **dict.fromkeys(("LabelIssues", "find_label_issues"), "ssdf_ai.data.labels"),
    **dict.fromkeys(("OutlierDetector", "OutlierResult", "find_outliers"), "ssdf_ai.data.outliers"),
    **dict.fromkeys(
        ("Chunk", "Dataset", "DatasetFormat", "ReadLimits", "open_dataset"),
        "ssdf_ai.data.readers",
    ),
    **dict.fromkeys(("TriggerAccumulator", "TriggerResult"), "ssdf_ai.data.triggers"),
}

__all__ = [
    "BackdoorResult",
    "BiasAccumulator",
    "BiasResult",
    "CheckSettings",
    "CheckSummary",
    "Chunk",
    "DataCheck",
    "Dataset",
    "DatasetFormat",
    "DedupResult",
    "DedupStats",
    "LabelIssues",
    "MinHasher",
    "NearDuplicateCluster",
    "OutlierDetector",
    "OutlierResult",
    "ReadLimits",
    "TriggerAccumulator",
    "TriggerResult",
    "check_dataset",
    "choose_bands",
    "estimated_jaccard",
    "find_backdoor",
    "find_label_issues",
    "find_near_duplicates",
    "find_outliers",
    "measure_bias",
    "normalize_text",
    "open_dataset",
]

__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
