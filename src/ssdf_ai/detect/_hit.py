"""The finding type shared by every detector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["secret", "pii", "injection", "unicode"]
Confidence = Literal["high", "medium", "low"]

CATEGORIES: tuple[Category, ...] = ("secret", "pii", "injection", "unicode")
_CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True, slots=True)
class Hit:
    """One hazard found in text.

    Attributes:
        kind: What was found, e.g. ``"github-token"``, ``"payment-card"``, ``"bidi-control"``.
        category: ``"secret"``, ``"pii"``, ``"injection"`` or ``"unicode"``.
        start: Offset of the first character (in the whole scanned text or stream).
        end: Offset just past the last character.
        line: 1-based line number of ``start``.
        column: 1-based column (in characters) of ``start``.
        confidence: ``"high"``, ``"medium"`` or ``"low"`` (see ``docs/detect.md``).
        preview: A redacted preview: at most the first 4 characters and ``"…"``, never the
            whole value (fewer characters for short values; code points for invisible ones).
    """

    kind: str
    category: Category
    start: int
    end: int
    line: int
    column: int
    confidence: Confidence
    preview: str

    def at_least(self, confidence: Confidence) -> bool:
        """Whether this hit's confidence is ``confidence`` or higher."""
        return _CONFIDENCE_RANK[self.confidence] >= _CONFIDENCE_RANK[confidence]


def redact(value: str) -> str:
    """A preview of ``value`` that never shows all of it: up to 4 leading characters + ``…``."""
    keep = min(4, len(value) // 2)
    return value[:keep] + "…"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A validated match before line and column are known (internal)."""

    kind: str
    category: Category
    start: int
    end: int
    confidence: Confidence
    preview: str
    priority: int = 0
