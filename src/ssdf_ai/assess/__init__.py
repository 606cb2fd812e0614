"""Assessment: controls over evidence, rolled up to the tasks, practices and groups of SP 800-218A.

A tour (names are imported lazily):

- :class:`Assessment` and its parts (:class:`ControlMeta`, :class:`ControlResult`,
  :class:`TaskVerdict`, :class:`RollUp`, :class:`Coverage`): the one model every report
  renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.assess.model import (
        Assessment,
        AttestationSummary,
        Basis,
        ControlEntry,
        ControlMeta,
        ControlResult,
        Coverage,
        Effort,
        EvidenceLink,
        FindingStatus,
        ImportedAssessment,
        RejectedRecord,
        RollUp,
        Scoring,
        TaskVerdict,
        WaiverSummary,
    )

__all__ = [
    "Assessment",
    "AttestationSummary",
    "Basis",
    "ControlEntry",
    "ControlMeta",
    "ControlResult",
    "Coverage",
    "Effort",
    "EvidenceLink",
    "FindingStatus",
    "ImportedAssessment",
    "RejectedRecord",
    "RollUp",
    "Scoring",
    "TaskVerdict",
    "WaiverSummary",
]

__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(__all__, "ssdf_ai.assess.model"), globals()
)
