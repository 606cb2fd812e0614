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

_MODEL = "ssdf_ai.assess.model"
_LAZY = {
    name: _MODEL
    for name in (
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
    )
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
