"""PII detectors: email addresses, phone numbers, payment cards, national ids, IBANs.

Numbers are found by one scan for runs of digits and separators; each run is then classified
by shape and validated (Luhn and issuer ranges for cards, area/group/serial rules for US SSNs,
digit counts for phone numbers). IBANs are checked with ISO 13616 mod-97 and per-country
lengths; UK National Insurance numbers with their prefix rules. See ``docs/detect.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ssdf_ai.detect._hit import Candidate, Confidence, redact
from ssdf_ai.detect._rule import Rule

_PRIORITY = 5


def _cand(kind: str, start: int, end: int, text: str, confidence: Confidence) -> Candidate:
    return Candidate(kind, "pii", start, end, confidence, redact(text[start:end]), _PRIORITY)


# -- email ------------------------------------------------------------------------------------

_LOCAL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}$")
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b")


def _in_url(text: str, start: int) -> bool:
    before = text[max(0, start - 256) : start]
    word = before[max(before.rfind(" "), before.rfind("\n"), before.rfind("\t")) + 1 :]
    return "://" in word


def _email(text: str, low: str) -> Iterator[Candidate]:
    i = text.find("@")
    while i >= 0:
        local = _LOCAL.search(text, max(0, i - 64), i)
        dom = _DOMAIN.match(text, i + 1) if local else None
        if local and dom:
            start = local.start()
            while start < i and text[start] == ".":
                start += 1
            name = text[start:i]
            # ``scheme://user:pass@host`` holds a URL's credentials, not an address.
            if name and not name.endswith(".") and not _in_url(text, start):
                yield _cand("email", start, dom.end(), text, "high")
            i = text.find("@", dom.end())
        else:
            i = text.find("@", i + 1)


EMAIL = Rule("email", "pii", ("email",), ("@",), False, _email)

# -- numbers: cards, phones, SSNs -------------------------------------------------------------

# ``[0-9]``, not ``\d``: a character class of ASCII digits lets ``re`` skip ahead several times
# faster. Boundaries are checked in Python on the few runs found.
_NUMBER = re.compile(r"[+(0-9][0-9][0-9 \-.()]{5,28}[0-9]")
_BEFORE_NUMBER = re.compile(r"[\w.\-/+]")
_AFTER_NUMBER = re.compile(r"[\w\-]|\.[0-9]")


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """The card network of a 12-19 digit number by its IIN range and length, or ``None``."""
    n = len(digits)
    p2, p4 = int(digits[:2]), int(digits[:4])
    p3, p6 = int(digits[:3]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


_CARD_SHAPE = re.compile(
    # as cards print them: no separators; 4-4-4-4 and 4-4-4-4-3 (one separator throughout);
    # Amex and Diners 4-6-5 and 4-6-4 (a stray group of 2, as inside an IBAN, is not a card)
    r"\d{13,19}|\d{4}(?P<s>[ \-])\d{4}(?P=s)\d{4}(?P=s)\d{4}(?:(?P=s)\d{3})?"
    r"|\d{4}(?P<t>[ \-])\d{6}(?P=t)\d{4,5}"
)
_SSN = re.compile(r"(\d{3})([ \-])(\d{2})\2(\d{4})")
_SSN_EXAMPLES = frozenset({"078051120", "219099999", "123456789"})


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """Whether the parts of a US SSN are in ranges the SSA issues (no 000/666/9xx, 00, 0000)."""
    a = int(area)
    if a == 0 or a == 666 or a >= 900 or group == "00" or serial == "0000":
        return False
    return area + group + serial not in _SSN_EXAMPLES


_NANP = re.compile(
    r"(?:\+?1[ .\-]?)?(?:\(([2-9]\d{2})\) ?|([2-9]\d{2})([ .\-]))[2-9]\d{2}[ .\-]\d{4}"
)
_UK = re.compile(r"0\d{2,4}[ \-]?\d{3,4}[ \-]?\d{3,4}|\(0\d{3,4}\) ?\d{3,4} ?\d{3,4}")
_E164 = re.compile(r"\+[1-9]\d{0,3}(?:[ .\-]?\(?\d{1,5}\)?)(?:[ .\-]?\d{2,5}){1,5}")


def _phone(run: str) -> Confidence | None:
    digits = re.sub(r"\D", "", run)
    if run.startswith("+"):
        if _E164.fullmatch(run) and 8 <= len(digits) <= 15:
            return "high" if len(digits) >= 10 else "medium"
        return None
    m = _NANP.fullmatch(run)
    if m and len(digits) in (10, 11):
        if m.group(2) and m.group(3) == "." and run.count(".") != 2:
            return None
        return "high" if m.group(1) or run[0] != "1" else "medium"
    if _UK.fullmatch(run) and len(digits) in (10, 11) and " " in run:
        return "medium"
    return None


def _numbers(text: str, low: str) -> Iterator[Candidate]:
    for m in _NUMBER.finditer(text):
        start = m.start()
        if start and _BEFORE_NUMBER.match(text, start - 1):
            continue
        if _AFTER_NUMBER.match(text, m.end()):
            continue
        run = m.group(0)
        end = start + len(run)
        digits = re.sub(r"\D", "", run)
        if (s := _SSN.fullmatch(run)) is not None:
            if ssn_ok(s.group(1), s.group(3), s.group(4)):
                yield _cand("us-ssn", start, end, text, "high")
            continue
        if 12 <= len(digits) <= 19 and _CARD_SHAPE.fullmatch(run):
            if luhn_ok(digits) and card_issuer(digits):
                yield _cand("payment-card", start, end, text, "high")
            continue
        confidence = _phone(run)
        if confidence is not None:
            yield _cand("phone-number", start, end, text, confidence)


NUMBERS = Rule(
    "numbers",
    "pii",
    ("payment-card", "phone-number", "us-ssn"),
    (),
    False,
    _numbers,
)

# -- UK NINO ----------------------------------------------------------------------------------

_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])"
    r"(?![A-Za-z0-9])"
)
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


# -- IBAN -------------------------------------------------------------------------------------

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip

_IBAN = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)(?![A-Za-z0-9])"
)


def iban_ok(iban: str) -> bool:
    """Whether ``iban`` (spaces allowed) has its country's length and a valid mod-97 check."""
    compact = iban.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


_LETTERS_DIGITS = re.compile(r"[A-Z][A-Z] ?[0-9][0-9]")


def _letter_ids(text: str, low: str) -> Iterator[Candidate]:
    for m in _LETTERS_DIGITS.finditer(text):
        start = m.start()
        if start and text[start - 1].isalnum():
            continue
        if (i := _IBAN.match(text, start)) is not None and iban_ok(i.group(1)):
            yield _cand("iban", i.start(), i.end(), text, "high")
            continue
        n = _NINO.match(text, start)
        if n is not None and n.group(1) not in _NINO_BAD_PREFIX:
            yield _cand("uk-nino", n.start(), n.end(), text, "medium")


LETTER_IDS = Rule("letter-ids", "pii", ("iban", "uk-nino"), (), False, _letter_ids)

PII_RULES: tuple[Rule, ...] = (EMAIL, NUMBERS, LETTER_IDS)
