"""DSSE envelopes and in-toto statements: PAE, round trips, and every way to fail verification."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ssdf_ai.errors import InputError, VerificationError
from ssdf_ai.integrity import PrivateKey, generate_keypair, key_id, load_private_key
from ssdf_ai.provenance import (
    MAX_ENVELOPE_BYTES,
    PAYLOAD_TYPE_INTOTO,
    STATEMENT_TYPE,
    canonical_json,
    dump_envelope,
    load_envelope,
    pae,
    parse_statement,
    sign_envelope,
    statement,
    verify_envelope,
)

PAYLOAD = b'{"hello": "world"}'


@pytest.fixture
def dec_alice(tmp_path: Path) -> PrivateKey:
    generate_keypair(tmp_path / "alice.key", tmp_path / "alice.pub", passphrase=None)
    return load_private_key(tmp_path / "alice.key")


@pytest.fixture
def dec_bob(tmp_path: Path) -> PrivateKey:
    generate_keypair(tmp_path / "bob.key", tmp_path / "bob.pub", passphrase=None)
    return load_private_key(tmp_path / "bob.key")


def test_pae_matches_the_dsse_spec_example() -> None:
    # The example in DSSE protocol.md.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t/é", "ü".encode()) == b"DSSEv1 4 t/\xc3\xa9 2 \xc3\xbc"
    assert pae("", b"") == b"DSSEv1 0  0 "


def test_round_trip(dec_alice: PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    assert envelope["payloadType"] == PAYLOAD_TYPE_INTOTO
    assert base64.b64decode(envelope["payload"], validate=True) == PAYLOAD
    [signature] = envelope["signatures"]
    assert signature["keyid"] == key_id(dec_alice.public_key())
    verified = verify_envelope(
        load_envelope(dump_envelope(envelope)), {"alice": dec_alice.public_key()}
    )
    assert (verified.payload, verified.payload_type, verified.signer) == (
        PAYLOAD,
        PAYLOAD_TYPE_INTOTO,
        "alice",
    )


def test_signature_is_der_ecdsa_sha256_over_pae(dec_alice: PrivateKey) -> None:
    # Check with cryptography directly, independently of verify_envelope.
    envelope = sign_envelope(PAYLOAD, "text/plain", dec_alice)
    raw = base64.b64decode(envelope["signatures"][0]["sig"])
    assert raw[0] == 0x30  # a DER SEQUENCE
    dec_alice.public_key().verify(
        raw, b"DSSEv1 10 text/plain 18 " + PAYLOAD, ec.ECDSA(hashes.SHA256())
    )


def _resign_payload(envelope: dict[str, Any], payload: bytes) -> dict[str, Any]:
    return {**envelope, "payload": base64.b64encode(payload).decode()}


def test_tampered_payload_is_rejected(dec_alice: PrivateKey) -> None:
    envelope = _resign_payload(
        sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice), b'{"hello": "mallory"}'
    )
    with pytest.raises(VerificationError, match="does not verify with the key of 'alice'"):
        verify_envelope(envelope, {"alice": dec_alice.public_key()})


def test_tampered_payload_type_is_rejected(dec_alice: PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    envelope["payloadType"] = "application/json"
    with pytest.raises(VerificationError, match="does not verify"):
        verify_envelope(envelope, {"alice": dec_alice.public_key()})


def test_tampered_signature_is_rejected(dec_alice: PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    raw = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    raw[-1] ^= 0x01
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(VerificationError, match="does not verify"):
        verify_envelope(envelope, {"alice": dec_alice.public_key()})


def test_wrong_key_with_empty_keyid_is_rejected(dec_alice: PrivateKey, dec_bob: PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    envelope["signatures"][0]["keyid"] = ""
    with pytest.raises(VerificationError, match="does not verify with the key of 'bob'"):
        verify_envelope(envelope, {"bob": dec_bob.public_key()})
    # An empty keyid tries every trusted key.
    both = {"bob": dec_bob.public_key(), "alice": dec_alice.public_key()}
    assert verify_envelope(envelope, both).signers == ("alice",)


def test_unknown_signer_is_rejected(dec_alice: PrivateKey, dec_bob: PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    with pytest.raises(VerificationError, match="no trusted key has keyid"):
        verify_envelope(envelope, {"bob": dec_bob.public_key()})


def test_a_lying_keyid_does_not_help(dec_alice: PrivateKey, dec_bob: PrivateKey) -> None:
    # Alice signs but claims Bob's keyid: only Bob's key is tried, and it fails.
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    envelope["signatures"][0]["keyid"] = key_id(dec_bob.public_key())
    with pytest.raises(VerificationError, match="key of 'bob'"):
        verify_envelope(envelope, {"bob": dec_bob.public_key(), "alice": dec_alice.public_key()})


def test_one_good_signature_among_bad_ones_verifies(
    dec_alice: PrivateKey, dec_bob: PrivateKey
) -> None:
    good = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    other = sign_envelope(b"other", PAYLOAD_TYPE_INTOTO, dec_bob)
    good["signatures"].insert(0, other["signatures"][0])
    trusted = {"bob": dec_bob.public_key(), "alice": dec_alice.public_key()}
    assert verify_envelope(good, trusted).signers == ("alice",)


def test_no_trusted_keys(dec_alice: PrivateKey) -> None:
    with pytest.raises(VerificationError, match="no trusted keys"):
        verify_envelope(sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice), {})


def test_url_safe_base64_is_accepted(dec_alice: PrivateKey) -> None:
    envelope = sign_envelope(b"\xfb\xff" * 10, PAYLOAD_TYPE_INTOTO, dec_alice)
    for field in ("payload",):
        envelope[field] = envelope[field].replace("+", "-").replace("/", "_").rstrip("=")
    sig = envelope["signatures"][0]["sig"]
    envelope["signatures"][0]["sig"] = sig.replace("+", "-").replace("/", "_").rstrip("=")
    assert verify_envelope(envelope, {"alice": dec_alice.public_key()}).payload == b"\xfb\xff" * 10


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(payload="not base64!"), "payload is not valid base64"),
        (lambda e: e["signatures"][0].update(sig="%%%"), "signature is not valid base64"),
        (lambda e: e.pop("payload"), "payload is missing"),
        (lambda e: e.update(payloadType=7), "payloadType is missing"),
        (lambda e: e.update(signatures=[]), "has no signatures"),
        (lambda e: e.update(signatures=[e["signatures"][0]] * 17), "more than 16"),
        (lambda e: e["signatures"][0].pop("sig"), "sig is malformed"),
        (lambda e: e["signatures"][0].update(keyid=5), "keyid is not a string"),
        (lambda e: e.update(signatures=["x"]), "is not an object"),
    ],
    ids=[
        "payload-b64", "sig-b64", "no-payload", "type", "no-sigs", "too-many", "no-sig",
        "keyid", "sig-entry",
    ],
)  # fmt: skip
def test_malformed_envelopes_are_rejected(dec_alice: PrivateKey, mutate: Any, message: str) -> None:
    envelope = sign_envelope(PAYLOAD, PAYLOAD_TYPE_INTOTO, dec_alice)
    mutate(envelope)
    with pytest.raises(VerificationError, match=message):
        verify_envelope(envelope, {"alice": dec_alice.public_key()})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[]", "expected a JSON object"),
        (b"not json", "not valid JSON"),
        (b'{"payloadType": "a", "payloadType": "b"}', "duplicate JSON key"),
        (b'{"x": NaN}', "non-finite"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
    ids=["array", "text", "duplicate", "nan", "deep", "binary"],
)
def test_load_envelope_refuses_non_strict_json(data: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        load_envelope(data)


def test_oversized_envelope_is_refused_before_parsing() -> None:
    with pytest.raises(VerificationError, match="over the limit"):
        load_envelope(b" " * (MAX_ENVELOPE_BYTES + 1))


def test_sign_refuses_oversized_payload(dec_alice: PrivateKey) -> None:
    with pytest.raises(InputError, match="over"):
        sign_envelope(b"x" * (MAX_ENVELOPE_BYTES + 1), PAYLOAD_TYPE_INTOTO, dec_alice)


def test_statement_round_trip() -> None:
    subject = {"name": "model.bin", "digest": {"sha256": "ab" * 32}}
    built = statement([subject], "https://example.com/p/v1", {"k": 1})
    assert built == {
        "_type": STATEMENT_TYPE,
        "subject": [subject],
        "predicateType": "https://example.com/p/v1",
        "predicate": {"k": 1},
    }
    parsed = parse_statement(canonical_json(built), predicate_type="https://example.com/p/v1")
    assert parsed == built


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"_type": "https://in-toto.io/Statement/v0.1"}, "not an in-toto Statement v1"),
        ({"subject": []}, "no subject"),
        ({"subject": [{"name": "x", "digest": {}}]}, "malformed subject"),
        ({"subject": [{"name": "x"}]}, "malformed subject"),
        ({"predicateType": "https://other/v1"}, "expected"),
        ({"predicate": []}, "predicate is not an object"),
    ],
)
def test_parse_statement_refuses_malformed(change: dict[str, Any], message: str) -> None:
    built = statement([{"name": "x", "digest": {"sha256": "00"}}], "https://p/v1", {})
    built.update(change)
    with pytest.raises(VerificationError, match=message):
        parse_statement(json.dumps(built).encode(), predicate_type="https://p/v1")


def test_statement_needs_subjects() -> None:
    with pytest.raises(InputError):
        statement([], "https://p/v1", {})
    with pytest.raises(InputError):
        statement([{"name": "x"}], "https://p/v1", {})
