"""The small enumerations of the profile, kept free of heavy imports.

The command line builds its options from these at start-up, so this module imports nothing but
the standard library.
"""

from __future__ import annotations

import enum


class Priority(enum.StrEnum):
    """A task's priority in SP 800-218A Table 1 (for AI model development)."""

    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"

    @property
    def rank(self) -> int:
        """3 for High, 2 for Medium, 1 for Low: larger is more urgent."""
        return {"High": 3, "Medium": 2, "Low": 1}[self.value]


class Tag(enum.StrEnum):
    """How a practice or task relates to SSDF 1.1 (SP 800-218).

    ``modified`` is the publication's "[Modified from SSDF 1.1]", ``new`` its "[Not part of
    SSDF 1.1]"; ``unchanged`` carries no marker.
    """

    UNCHANGED = "unchanged"
    MODIFIED = "modified"
    NEW = "new"


class ItemKind(enum.StrEnum):
    """The kind of an AI-specific item: the R, C or N in ``PO.1.2.R1``."""

    RECOMMENDATION = "recommendation"
    CONSIDERATION = "consideration"
    NOTE = "note"

    @property
    def letter(self) -> str:
        """The letter the kind uses in item ids: R, C or N."""
        return self.value[0].upper()


class ExportFormat(enum.StrEnum):
    """Formats ``ssdf profile export`` writes the whole profile in."""

    OSCAL = "oscal"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


class OscalKind(enum.StrEnum):
    """Which OSCAL document to export: our own catalog, or a profile of NIST's SSDF 1.1."""

    CATALOG = "catalog"
    PROFILE = "profile"
