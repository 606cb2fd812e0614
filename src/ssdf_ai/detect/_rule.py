"""A detector rule: a cheap literal gate and a finder run only when the gate passes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ssdf_ai.detect._hit import Candidate, Category

# A finder gets the text and its lower-cased copy (same length: offsets agree).
Finder = Callable[[str, str], Iterable[Candidate]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One family of detectors.

    Attributes:
        name: The rule's name (``kinds`` may select it).
        category: The category of its hits.
        kinds: The hit kinds it can report.
        gates: Literals of which at least one must occur for the finder to run; empty: always.
        gate_lower: Whether ``gates`` are looked for in the lower-cased text.
        finder: Yields validated candidates.
    """

    name: str
    category: Category
    kinds: tuple[str, ...]
    gates: tuple[str, ...]
    gate_lower: bool
    finder: Finder

    def gate(self, text: str, low: str) -> bool:
        """Whether the finder needs to run on this text."""
        if not self.gates:
            return True
        haystack = low if self.gate_lower else text
        return any(g in haystack for g in self.gates)
