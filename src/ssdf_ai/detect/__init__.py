"""Text hazards: secrets, PII, prompt-injection phrases and invisible Unicode in text.

A tour (names are imported lazily, so ``import ssdf_ai.detect`` compiles no regex):

- :func:`scan_text` scans a string and returns a list of :class:`Hit` (kind, category, offsets,
  line, column, confidence and a redacted preview that never shows a whole secret);
  :func:`scan_lines` does the same over a stream of lines, yielding hits as it goes.
- :class:`Detector` holds the compiled rules, optionally restricted to some kinds or
  categories (``Detector(kinds={"secret"})``).
- The validators are public for reuse: :func:`luhn_ok`, :func:`iban_ok`, :func:`ssn_ok`,
  :func:`card_issuer`, :func:`shannon_entropy`, :func:`looks_random`.

Every detector, its validation and its known gaps are described in ``docs/detect.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.detect._hit import Hit
    from ssdf_ai.detect.engine import ALL_KINDS, Detector, scan_lines, scan_text
    from ssdf_ai.detect.pii import card_issuer, iban_ok, luhn_ok, ssn_ok
    from ssdf_ai.detect.secrets import looks_random, shannon_entropy

__all__ = [
    "ALL_KINDS",
    "Detector",
    "Hit",
    "card_issuer",
    "iban_ok",
    "looks_random",
    "luhn_ok",
    "scan_lines",
    "scan_text",
    "shannon_entropy",
    "ssn_ok",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Hit": "ssdf_ai.detect._hit",
        **dict.fromkeys(
            ["ALL_KINDS", "Detector", "scan_lines", "scan_text"], "ssdf_ai.detect.engine"
        ),
        **dict.fromkeys(["card_issuer", "iban_ok", "luhn_ok", "ssn_ok"], "ssdf_ai.detect.pii"),
        **dict.fromkeys(["looks_random", "shannon_entropy"], "ssdf_ai.detect.secrets"),
    },
    globals(),
)
