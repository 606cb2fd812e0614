"""PII detectors: e-mail, phone numbers, payment cards, national ids and IBANs, validated."""

from __future__ import annotations

import pytest

from ssdf_ai.detect import card_issuer, iban_ok, luhn_ok, scan_text, ssn_ok


def _pii(text: str) -> list[tuple[str, str]]:
    return [(h.kind, text[h.start : h.end]) for h in scan_text(text) if h.category == "pii"]


@pytest.mark.parametrize(
    "address",
    [
        "bob.smith@example.org",
        "a+tag@sub.example.co.uk",
        "x_y-z@mail-server.io",
        "ADMIN@EXAMPLE.COM",
    ],
)
def test_emails(address: str) -> None:
    assert _pii(f"write to {address}, please") == [("email", address)]
    assert _pii(f"<{address}>") == [("email", address)]
    assert _pii(f"mailto:{address}") == [("email", address)]


@pytest.mark.parametrize(
    "text",
    [
        "decorators like @property and @dataclass",
        "user@localhost",
        "git@github.com:org/repo.git is not an address",  # it is; see below
        "https://user:pass1234word@example.com/",
        "an @ sign alone",
    ],
)
def test_not_emails(text: str) -> None:
    found = _pii(text)
    if text.startswith("git@"):
        assert found == [("email", "git@github.com")]
    else:
        assert found == []


@pytest.mark.parametrize(
    "number",
    [
        "+44 20 7946 0958",
        "+1 415 555 0132",
        "+14155550132",
        "+49 30 901820",
        "(415) 555-0132",
        "415-555-0132",
        "415.555.0132",
        "020 7946 0958",
        "07700 900123",
    ],
)
def test_phone_numbers(number: str) -> None:
    assert _pii(f"call {number} today") == [("phone-number", number)]


@pytest.mark.parametrize(
    "text",
    [
        "released 2024-03-15 at 10:30",
        "version 1.2.3.4 and build 20240315",
        "+1234567",  # too short for E.164
        "+1234567890123456",  # too long for E.164
        "015-555-0132",  # NANP area codes do not start with 0 or 1
        "415-155-0132",  # nor do exchanges
        "ISBN 978-3-16-148410-0",
        "the range 100-200-300 of values",
        "pi is 3.14159265358979",
        "1,234,567,890 parameters",
    ],
)
def test_not_phone_numbers(text: str) -> None:
    assert _pii(text) == []


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",  # Visa
        "4111-1111-1111-1111",
        "4111111111111111",
        "5555 5555 5555 4444",  # Mastercard
        "2223 0031 2200 3222",  # Mastercard 2-series
        "3782 822463 10005",  # Amex
        "6011 1111 1111 1117",  # Discover
        "3530 1113 3330 0000",  # JCB
        "4222222222222",  # Visa, 13 digits
    ],
)
def test_payment_cards(card: str) -> None:
    assert _pii(f"card {card} on file") == [("payment-card", card)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 on file",  # Luhn-invalid
        "card 4111-1111 1111-1111",  # mixed separators
        "id 1234567812345670 here",  # Luhn-valid, but no known issuer (IIN 1...)
        "card 9111 1111 1111 1115",  # no issuer starts with 9
        "account GB58 WEST 5028 9743 7971 59 is not valid",  # Luhn-valid digits in an IBAN
    ],
)
def test_not_payment_cards(text: str) -> None:
    assert [k for k, _ in _pii(text)] == []


def test_luhn_and_issuers() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert luhn_ok("0")
    assert card_issuer("4111111111111111") == "visa"
    assert card_issuer("378282246310005") == "amex"
    assert card_issuer("5555555555554444") == "mastercard"
    assert card_issuer("1234567812345670") is None
    assert card_issuer("37828224631000") is None  # Amex is 15 digits


@pytest.mark.parametrize("ssn", ["123-45-6788", "001-01-0001", "899-99-9999", "665 12 3456"])
def test_ssns(ssn: str) -> None:
    assert _pii(f"ssn {ssn}.") == [("us-ssn", ssn)]


@pytest.mark.parametrize(
    "ssn",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "900-12-3456",  # areas 900-999
        "999-12-3456",
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "078-05-1120",  # the Woolworth wallet number
        "123-45-6789",  # the usual example
    ],
)
def test_invalid_ssns_are_not_reported(ssn: str) -> None:
    assert _pii(f"ssn {ssn}.") == []
    area, group, serial = ssn.split("-")
    assert not ssn_ok(area, group, serial)


@pytest.mark.parametrize("nino", ["AB 12 34 56 C", "AB123456C", "JG103759A"])
def test_uk_nino(nino: str) -> None:
    assert _pii(f"NI number {nino} on file") == [("uk-nino", nino)]


@pytest.mark.parametrize(
    "nino",
    [
        "BG 12 34 56 C",  # excluded prefixes
        "GB123456C",
        "DA123456C",  # D is not a valid first letter
        "AO123456C",  # O is not a valid second letter
        "AB123456E",  # suffix A-D only
    ],
)
def test_invalid_nino(nino: str) -> None:
    assert _pii(f"NI number {nino} on file") == []


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91 ABNA 0417 1643 00",
        "NO93 8601 1117 947",
    ],
)
def test_iban(iban: str) -> None:
    assert _pii(f"pay to {iban} by Friday") == [("iban", iban)]
    assert iban_ok(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "GB83 WEST 1234 5698 7654 32",  # bad check digits
        "GB82 WEST 1234 5698 7654 33",  # changed digit
        "GB82 WEST 1234 5698 7654",  # wrong length for GB
        "XX82 WEST 1234 5698 7654 32",  # unknown country
    ],
)
def test_bad_iban_is_not_reported(iban: str) -> None:
    assert not iban_ok(iban)
    assert [k for k, _ in _pii(f"pay to {iban} by Friday")] == []


def test_pii_previews_are_redacted() -> None:
    text = "card 4111 1111 1111 1111, ssn 123-45-6788, iban GB82 WEST 1234 5698 7654 32"
    for hit in scan_text(text):
        value = text[hit.start : hit.end]
        assert hit.preview == value[:4] + "…"
        assert value not in hit.preview
