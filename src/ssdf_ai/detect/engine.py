"""The detector engine: runs the secret, PII and text-hazard rules over text or a stream.

Each rule has literal gates (``ghp_``, ``AKIA``, ``@``, ``ignore``...): a rule whose gates are all
absent from the text is skipped with a few ``str`` searches, so ordinary text costs little; the
regexes and validators (Luhn, mod-97, JWT header, entropy) run only where a gate matched.
Overlapping findings are resolved in favour of the more specific rule (a provider token over a
generic keyed token, a database URL over the e-mail address inside it); invisible-character
hits never hide other hits.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from functools import lru_cache

from ssdf_ai.detect._hit import CATEGORIES, Candidate, Hit
from ssdf_ai.detect._rule import Rule
from ssdf_ai.detect.pii import PII_RULES
from ssdf_ai.detect.secrets import SECRET_RULES
from ssdf_ai.detect.text import TEXT_RULES

ALL_RULES: tuple[Rule, ...] = SECRET_RULES + PII_RULES + TEXT_RULES
ALL_KINDS: frozenset[str] = frozenset(k for r in ALL_RULES for k in r.kinds)

# Lines are gathered into chunks of about this many characters when scanning a stream.
_CHUNK = 1 << 16


class Detector:
    """Compiled rules, optionally restricted to some kinds or categories.

    Args:
        kinds: Names of kinds (``"github-token"``), rules (``"numbers"``) or categories
            (``"secret"``, ``"pii"``, ``"injection"``, ``"unicode"``) to report; ``None``: all.

    Raises:
        ValueError: A name in ``kinds`` is not known.
    """

    def __init__(self, kinds: Iterable[str] | None = None) -> None:
        if kinds is None:
            self._rules = ALL_RULES
            self._kinds: frozenset[str] | None = None
            return
        wanted = set(kinds)
        unknown = wanted - ALL_KINDS - set(CATEGORIES) - {r.name for r in ALL_RULES}
        if unknown:
            raise ValueError(f"unknown detector kinds: {', '.join(sorted(unknown))}")
        selected: set[str] = set()
        for rule in ALL_RULES:
            if rule.category in wanted or rule.name in wanted:
                selected.update(rule.kinds)
            selected.update(k for k in rule.kinds if k in wanted)
        self._kinds = frozenset(selected)
        self._rules = tuple(r for r in ALL_RULES if self._kinds.intersection(r.kinds))

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds this detector reports."""
        return ALL_KINDS if self._kinds is None else self._kinds

    def scan(self, text: str) -> list[Hit]:
        """All hits in ``text``, in order of position."""
        return list(self._scan(text, 0, 1))

    def scan_lines(self, lines: Iterable[str]) -> Iterator[Hit]:
        """Hits in a stream of lines (each with or without its ``\\n``), as they are found.

        Offsets, lines and columns count from the start of the stream; a line that lacks a
        trailing ``\\n`` is still taken as a whole line. A hit never spans two chunks of about
        64 KiB; the lines of a chunk are scanned together, so memory stays flat.
        """
        parts: list[str] = []
        size = 0
        offset = 0
        line = 1
        for item in lines:
            parts.append(item if item.endswith("\n") else item + "\n")
            size += len(parts[-1])
            if size >= _CHUNK:
                chunk = "".join(parts)
                yield from self._scan(chunk, offset, line)
                offset += len(chunk)
                line += len(parts)
                parts, size = [], 0
        if parts:
            yield from self._scan("".join(parts), offset, line)

    def _candidates(self, text: str) -> list[Candidate]:
        low = text.lower()
        if len(low) != len(text):
            # U+0130 (İ) is the one character whose lower case is two characters long (checked
            # by the tests); lowering it to "i" keeps offsets the same.
            low = text.replace("\u0130", "i").lower()
        found: list[Candidate] = []
        for rule in self._rules:
            if rule.gate(text, low):
                found.extend(rule.finder(text, low))
        if self._kinds is not None:
            found = [c for c in found if c.kind in self._kinds]
        return _resolve(found)

    def _scan(self, text: str, base_offset: int, base_line: int) -> Iterator[Hit]:
        candidates = self._candidates(text)
        if not candidates:
            return
        newlines = _newlines(text)
        for c in candidates:
            n = bisect.bisect_left(newlines, c.start)
            line_start = newlines[n - 1] + 1 if n else 0
            yield Hit(
                kind=c.kind,
                category=c.category,
                start=base_offset + c.start,
                end=base_offset + c.end,
                line=base_line + n,
                column=c.start - line_start + 1,
                confidence=c.confidence,
                preview=c.preview,
            )


def _newlines(text: str) -> list[int]:
    out: list[int] = []
    i = text.find("\n")
    while i >= 0:
        out.append(i)
        i = text.find("\n", i + 1)
    return out


def _resolve(found: list[Candidate]) -> list[Candidate]:
    """Drop hits that overlap a higher-priority (or, at equal priority, longer) hit."""
    if len(found) <= 1:
        return found
    kept: list[Candidate] = []
    starts: list[int] = []  # kept spans (excluding unicode), sorted by start, non-overlapping
    ends: list[int] = []
    order = sorted(found, key=lambda c: (-c.priority, -(c.end - c.start), c.start))
    for c in order:
        if c.category == "unicode":
            kept.append(c)
            continue
        i = bisect.bisect_left(starts, c.end)
        if i and ends[i - 1] > c.start:
            continue  # overlaps the kept span that starts just before this one ends
        starts.insert(i, c.start)
        ends.insert(i, c.end)
        kept.append(c)
    kept.sort(key=lambda c: (c.start, c.end))
    return kept


@lru_cache(maxsize=16)
def _detector(kinds: frozenset[str] | None) -> Detector:
    return Detector(kinds)


def scan_text(text: str, *, kinds: Iterable[str] | None = None) -> list[Hit]:
    """Every hazard in ``text`` (secrets, PII, prompt injection, invisible Unicode).

    Args:
        text: The text to scan.
        kinds: Restrict to these kinds, rules or categories (see :class:`Detector`).

    Returns:
        The hits, in order of position.
    """
    return _detector(None if kinds is None else frozenset(kinds)).scan(text)


def scan_lines(lines: Iterable[str], *, kinds: Iterable[str] | None = None) -> Iterator[Hit]:
    """Hits in a stream of lines, as they are found (see :meth:`Detector.scan_lines`)."""
    return _detector(None if kinds is None else frozenset(kinds)).scan_lines(lines)
