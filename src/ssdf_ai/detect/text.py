"""Text hazards: prompt-injection phrases and invisible or bidirectional Unicode.

Prompt injection is a small, documented phrase set (``docs/detect.md``), matched with
word-boundary regexes on the lower-cased text: instructions to ignore what came before, role
switches ("you are now DAN"), and forged system prompts. It finds known phrasings, not intent.

Invisible characters are zero-width characters, BiDi embeddings, overrides and isolates
(U+202A-202E, U+2066-2069: the "Trojan Source" characters) and Unicode tag characters
(U+E0000-E007F, which can smuggle hidden ASCII). Pure-ASCII text is skipped at once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from ssdf_ai.detect._hit import Candidate, Confidence
from ssdf_ai.detect._rule import Rule

_W = r"\s+"
_PREV = r"(?:previous|prior|above|earlier|preceding|foregoing|former)"
_ORDERS = r"(?:instructions?|prompts?|directions?|rules|guidelines|messages|context|commands?)"

# (kind, first words, rest of the pattern, confidence). Patterns run on lower-cased text; each
# is compiled once per first word, so the regex engine can skip ahead to that literal.
INJECTION_PHRASES: tuple[tuple[str, tuple[str, ...], str, Confidence], ...] = (
    (
        "ignore-previous-instructions",
        ("ignore", "disregard", "forget", "override", "skip"),
        rf"{_W}(?:all{_W}|any{_W}|every{_W})?(?:of{_W})?"
        rf"(?:the{_W}|your{_W}|my{_W}|these{_W}|those{_W})?{_PREV}{_W}"
        rf"(?:\w+{_W})?{_ORDERS}\b",
        "high",
    ),
    (
        "ignore-previous-instructions",
        ("ignore", "disregard", "forget"),
        rf"{_W}(?:all{_W}|everything{_W})?(?:of{_W})?"
        rf"(?:your|the){_W}(?:system{_W})?(?:instructions|rules|guidelines|programming)\b",
        "medium",
    ),
    (
        "role-override",
        ("you",),
        rf"{_W}are{_W}now{_W}(?:dan|an?{_W}(?:unrestricted|unfiltered|jailbroken)|"
        rf"in{_W}(?:developer|god|jailbreak){_W}mode|free{_W}of{_W}all)\b",
        "high",
    ),
    ("role-override", ("dan", "developer"), rf"{_W}mode{_W}(?:enabled|activated|on)\b", "high"),
    ("role-override", ("do",), rf"{_W}anything{_W}now\b", "medium"),
    (
        "role-override",
        ("pretend", "act"),
        rf"{_W}(?:that{_W})?(?:you{_W}(?:are|have){_W}|as{_W}(?:if{_W})?)"
        rf"(?:no|an?{_W}ai{_W}(?:with|without)){_W}(?:\w+{_W})?(?:restrictions|filters|rules)\b",
        "medium",
    ),
    ("system-prompt-override", ("system",), r"(?: prompt)?[ \t]*[:\]]", "medium"),
    (
        "system-prompt-override",
        ("new", "updated", "override", "real"),
        rf"{_W}system{_W}(?:prompt|instructions?){_W}?:",
        "high",
    ),
    ("system-prompt-override", ("<|im_start|>",), r"\s*system", "medium"),
    ("system-prompt-override", ("<<sys>>", "[inst]"), "", "medium"),
    (
        "prompt-exfiltration",
        ("reveal", "print", "repeat", "output", "show"),
        rf"{_W}(?:me{_W})?(?:your|the){_W}"
        rf"(?:system{_W}prompt|hidden{_W}instructions|initial{_W}instructions)\b",
        "medium",
    ),
)

_LINE_PREFIX = frozenset({"", "new", "updated", "override", "real"})


def _compile(flags: int) -> list[tuple[str, re.Pattern[str], list[tuple[str, Confidence]]]]:
    # One regex per first word (the engine skips ahead to a literal prefix), each phrase a
    # named group so the phrase that matched is known.
    by_word: dict[str, list[tuple[str, str, Confidence]]] = {}
    for kind, words, rest, confidence in INJECTION_PHRASES:
        for word in words:
            by_word.setdefault(word, []).append((kind, rest, confidence))
    out = []
    for word, phrases in by_word.items():
        alternatives = "|".join(f"(?P<p{i}>{rest})" for i, (_, rest, _) in enumerate(phrases))
        regex = re.compile(f"{re.escape(word)}(?:{alternatives})", flags)
        out.append((word, regex, [(kind, conf) for kind, _, conf in phrases]))
    return out


_INJECTION = _compile(0)
_INJECTION_IGNORECASE = _compile(re.IGNORECASE)


def _injection(text: str, low: str) -> Iterator[Candidate]:
    same = len(low) == len(text)
    haystack = low if same else text
    for word, regex, phrases in _INJECTION if same else _INJECTION_IGNORECASE:
        if word not in low:
            continue
        for m in regex.finditer(haystack):
            start = m.start()
            if word[0].isalpha() and start and haystack[start - 1].isalnum():
                continue  # not at a word boundary
            kind, confidence = phrases[int((m.lastgroup or "p0")[1:])]
            if word == "system" and kind == "system-prompt-override":
                # ``system:`` only as a line's label (after markup, or "new", "real"...).
                lo = max(0, start - 40)
                nl = low.rfind("\n", lo, start)
                line = low[nl + 1 if nl >= 0 else lo : start]
                if (nl < 0 and lo > 0) or line.strip(" \t#>*[").strip() not in _LINE_PREFIX:
                    continue
            phrase = text[start : m.end()]
            preview = phrase if len(phrase) <= 60 else phrase[:57] + "…"
            yield Candidate(kind, "injection", start, m.end(), confidence, preview, 1)


INJECTION_GATES = tuple(sorted({w for _, words, _, _ in INJECTION_PHRASES for w in words}))

INJECTION = Rule(
    "prompt-injection",
    "injection",
    ("ignore-previous-instructions", "role-override", "system-prompt-override",
     "prompt-exfiltration"),
    INJECTION_GATES,
    True,
    _injection,
)  # fmt: skip

# -- invisible and bidirectional characters ---------------------------------------------------

_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_ZERO_WIDTH = "\u200b-\u200d\u2060-\u2064\ufeff\u180e"
_TAGS = "\U000e0000-\U000e007f"
# One character class (a single class is several times faster to scan for than an
# alternation); a run is then split by class.
_INVISIBLE = re.compile(f"[{_BIDI}{_ZERO_WIDTH}{_TAGS}]+")
_BIDI_CHARS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_WEAK_BIDI = frozenset("\u200e\u200f\u061c")
_JOINERS = frozenset("\u200c\u200d")


def _class(c: str) -> str:
    if c >= "\U000e0000":
        return "tag-characters"
    return "bidi-control" if c in _BIDI_CHARS else "zero-width"


def _invisible(text: str, low: str) -> Iterator[Candidate]:
    if text.isascii():
        return
    for m in _INVISIBLE.finditer(text):
        pos = m.start()
        for kind, group in itertools.groupby(m.group(0), key=_class):
            run = "".join(group)
            start, pos = pos, pos + len(run)
            confidence: Confidence
            if kind == "tag-characters":
                confidence = "high"
            elif kind == "bidi-control":
                # LRM/RLM/ALM alone are ordinary in right-to-left text.
                confidence = "low" if _WEAK_BIDI.issuperset(run) else "high"
            elif start == 0 and run == "\ufeff":
                continue  # a byte order mark at the start
            else:
                # ZWJ/ZWNJ join emoji and shape Indic and Arabic scripts.
                confidence = "low" if _JOINERS.issuperset(run) else "medium"
            codes = " ".join(f"U+{ord(c):04X}" for c in run[:3])
            preview = codes + (" …" if len(run) > 3 else "")
            yield Candidate(kind, "unicode", start, pos, confidence, preview, 0)


INVISIBLE = Rule(
    "invisible-unicode",
    "unicode",
    ("zero-width", "bidi-control", "tag-characters"),
    (),
    False,
    _invisible,
)

TEXT_RULES: tuple[Rule, ...] = (INJECTION, INVISIBLE)
