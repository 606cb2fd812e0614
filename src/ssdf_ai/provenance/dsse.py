"""DSSE envelopes and in-toto Statement v1, signed with ECDSA P-256 keys.

- DSSE (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md): the signature
  covers ``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, where LEN is
  the byte count as ASCII decimal without leading zeros. The envelope is
  ``{"payloadType", "payload": base64(body), "signatures": [{"keyid", "sig": base64(sig)}]}``.
  We write standard base64 with padding and accept URL-safe base64 too, as the spec allows.
- Signatures are ECDSA P-256 over SHA-256, DER-encoded; ``keyid`` is
  :func:`ssdf_ai.integrity.key_id` (SHA-256 of the public key's PEM text). The keyid is only a
  hint: it picks which trusted key to try, it is never trusted on its own.
- in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md):
  ``{"_type": "https://in-toto.io/Statement/v1", "subject": [{name, digest}], "predicateType",
  "predicate"}``, carried with payload type ``application/vnd.in-toto+json``.

Input is bounded before it is parsed (:data:`MAX_ENVELOPE_BYTES`), JSON with duplicate keys or
non-finite numbers is refused, and every failure is a :class:`~ssdf_ai.errors.VerificationError`
with a reason.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ssdf_ai.errors import InputError, VerificationError
from ssdf_ai.integrity.keys import PrivateKey, PublicKey, key_id

PAYLOAD_TYPE_INTOTO = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
MAX_ENVELOPE_BYTES = 10 * 1024 * 1024
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
MAX_SIGNATURES = 16
_MAX_SIG_CHARS = 1024
_MAX_TYPE_CHARS = 256
_MAX_KEYID_CHARS = 256


@dataclasses.dataclass(frozen=True)
class VerifiedEnvelope:
    """What a verified DSSE envelope carries.

    Attributes:
        payload: The signed bytes.
        payload_type: The signed payload type.
        signers: Names of every trusted key whose signature verified, in envelope order.
    """

    payload: bytes
    payload_type: str
    signers: tuple[str, ...]

    @property
    def signer(self) -> str:
        """The name of the first trusted key whose signature verified."""
        return self.signers[0]


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return the DSSE v1 pre-authentication encoding of a payload.

    Args:
        payload_type: The payload type, such as ``application/vnd.in-toto+json``.
        payload: The payload bytes.

    Returns:
        ``b"DSSEv1 " + len(type) + b" " + type + b" " + len(body) + b" " + body``, with
        lengths as ASCII decimal byte counts.
    """
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Decode standard or URL-safe base64 (with or without padding), strictly."""
    standard = text.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        return base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"the envelope's {what} is not valid base64") from None


def sign_envelope(payload: bytes, payload_type: str, private_key: PrivateKey) -> dict[str, Any]:
    """Sign a payload into a DSSE envelope with one ECDSA P-256 signature.

    Args:
        payload: The bytes to sign.
        payload_type: Their type, such as ``application/vnd.in-toto+json``.
        private_key: The signing key.

    Returns:
        The envelope as a JSON-ready dict; write it with :func:`dump_envelope`.

    Raises:
        InputError: If the payload is larger than :data:`MAX_PAYLOAD_BYTES` or the type is
            empty.
    """
    if not payload_type or len(payload_type) > _MAX_TYPE_CHARS:
        raise InputError("a DSSE payload type must be 1 to 256 characters")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InputError(f"the payload is {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
    signature = private_key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
    return {
        "payloadType": payload_type,
        "payload": _b64encode(payload),
        "signatures": [{"keyid": key_id(private_key.public_key()), "sig": _b64encode(signature)}],
    }


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise VerificationError(f"duplicate JSON key {key[:64]!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise VerificationError(f"non-finite number {name} in JSON")


def parse_json(
    data: bytes,
    what: str,
    *,
    limit: int = MAX_ENVELOPE_BYTES,
    build: Callable[[dict[str, Any]], Any] | None = None,
) -> Any:
    """Parse untrusted JSON strictly: bounded size, no duplicate keys, no NaN or Infinity.

    Args:
        data: The bytes.
        what: What they are, for messages (``envelope``, ``payload``).
        limit: The largest size accepted.
        build: Called with each object once its keys are checked; its result replaces the
            object (to turn millions of small objects into compact values as they are parsed).

    Returns:
        The parsed value.

    Raises:
        VerificationError: If the data is too large or not strict JSON.
    """
    if len(data) > limit:
        raise VerificationError(f"the {what} is {len(data)} bytes, over the limit of {limit}")
    try:
        hook: Callable[[list[tuple[str, Any]]], Any] = _reject_duplicates
        if build is not None:
            convert = build

            def hook(pairs: list[tuple[str, Any]]) -> Any:
                return convert(_reject_duplicates(pairs))

        return json.loads(
            data.decode("utf-8"), object_pairs_hook=hook, parse_constant=_reject_constant
        )
    except VerificationError as exc:
        raise VerificationError(f"the {what} is not strict JSON: {exc.message}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise VerificationError(f"the {what} is not valid JSON") from None


def canonical_json(value: Any) -> bytes:
    """Serialize JSON deterministically: sorted keys, no spaces, UTF-8, no NaN.

    Used for what is hashed or signed here (predicates, envelopes as stored), so that the same
    value always gives the same bytes.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def dump_envelope(envelope: Mapping[str, Any]) -> bytes:
    """Return an envelope's bytes as stored and exchanged (:func:`canonical_json`)."""
    return canonical_json(dict(envelope))


def load_envelope(data: bytes) -> dict[str, Any]:
    """Parse a DSSE envelope from bytes and check its shape (not its signature).

    Args:
        data: The envelope's JSON bytes.

    Returns:
        The envelope.

    Raises:
        VerificationError: If it is too large, not JSON, or not a DSSE envelope.
    """
    envelope = parse_json(data, "envelope")
    _shape(envelope)
    return dict(envelope)


def _shape(envelope: object) -> tuple[str, str, list[dict[str, Any]]]:
    """Check an envelope's structure; return its type, base64 payload and signatures."""
    if not isinstance(envelope, Mapping):
        raise VerificationError("not a DSSE envelope: expected a JSON object")
    payload_type = envelope.get("payloadType")
    payload = envelope.get("payload")
    signatures = envelope.get("signatures")
    if not isinstance(payload_type, str) or not payload_type:
        raise VerificationError("not a DSSE envelope: payloadType is missing or not a string")
    if len(payload_type) > _MAX_TYPE_CHARS:
        raise VerificationError("not a DSSE envelope: payloadType is too long")
    if not isinstance(payload, str):
        raise VerificationError("not a DSSE envelope: payload is missing or not a string")
    if len(payload) > MAX_PAYLOAD_BYTES * 4 // 3 + 4:
        raise VerificationError(f"the payload is over the limit of {MAX_PAYLOAD_BYTES} bytes")
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError("not a DSSE envelope: it has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise VerificationError(
            f"the envelope has {len(signatures)} signatures, more than {MAX_SIGNATURES}"
        )
    checked: list[dict[str, Any]] = []
    for index, entry in enumerate(signatures):
        if not isinstance(entry, Mapping):
            raise VerificationError(f"not a DSSE envelope: signatures[{index}] is not an object")
        sig, keyid = entry.get("sig"), entry.get("keyid", "")
        if not isinstance(sig, str) or not sig or len(sig) > _MAX_SIG_CHARS:
            raise VerificationError(f"not a DSSE envelope: signatures[{index}].sig is malformed")
        if not isinstance(keyid, str) or len(keyid) > _MAX_KEYID_CHARS:
            raise VerificationError(
                f"not a DSSE envelope: signatures[{index}].keyid is not a string"
            )
        checked.append({"sig": sig, "keyid": keyid})
    return payload_type, payload, checked


def unverified_payload(envelope: Mapping[str, Any]) -> bytes:
    """Decode an envelope's payload WITHOUT verifying it: for error messages only.

    Raises:
        VerificationError: If the envelope is malformed or its payload is not base64.
    """
    _, payload_b64, _ = _shape(envelope)
    return _b64decode(payload_b64, "payload")


def verify_envelope(
    envelope: Mapping[str, Any], trusted: Mapping[str, PublicKey]
) -> VerifiedEnvelope:
    """Verify a DSSE envelope against named trusted keys.

    Each signature is checked with the trusted key whose :func:`~ssdf_ai.integrity.key_id`
    equals its ``keyid``, or with every trusted key when the ``keyid`` is empty. The envelope
    verifies when at least one signature does.

    Args:
        envelope: The envelope (e.g. from :func:`load_envelope`).
        trusted: Signer name -> public key.

    Returns:
        The payload, its type, and the names of the signers whose signatures verified.

    Raises:
        VerificationError: If the envelope is malformed, its base64 is bad, no trusted key
            matches a signature's keyid, or no signature verifies.
    """
    payload_type, payload_b64, signatures = _shape(envelope)
    payload = _b64decode(payload_b64, "payload")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise VerificationError(f"the payload is over the limit of {MAX_PAYLOAD_BYTES} bytes")
    if not trusted:
        raise VerificationError("no trusted keys to verify the envelope with")
    message = pae(payload_type, payload)
    ids = {name: key_id(key) for name, key in trusted.items()}
    verified: list[str] = []
    failures: list[str] = []
    for entry in signatures:
        raw = _b64decode(entry["sig"], "signature")
        keyid = entry["keyid"]
        candidates = [name for name, ident in ids.items() if ident == keyid] if keyid else []
        if keyid and not candidates:
            failures.append(f"no trusted key has keyid {keyid[:16]!r}")
            continue
        tried = candidates or list(trusted)
        before = len(verified)
        for name in tried:
            try:
                trusted[name].verify(raw, message, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                continue
            else:
                # No break: two signer names may share one key, and each of them signed.
                if name not in verified:
                    verified.append(name)
        if len(verified) == before:
            if len(tried) == 1:
                failures.append(f"signature does not verify with the key of {tried[0]!r}")
            else:
                names = ", ".join(repr(n) for n in tried)
                failures.append(f"signature does not verify with any trusted key ({names})")
    if not verified:
        unique = list(dict.fromkeys(failures))
        raise VerificationError("; ".join(unique))
    return VerifiedEnvelope(payload=payload, payload_type=payload_type, signers=tuple(verified))


def statement(
    subjects: Sequence[Mapping[str, Any]], predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """Build an in-toto Statement v1.

    Args:
        subjects: Resource descriptors, each with a ``name`` and a ``digest`` such as
            ``{"sha256": "…"}``.
        predicate_type: The predicate's type URI.
        predicate: The predicate.

    Returns:
        The statement as a JSON-ready dict.

    Raises:
        InputError: If there is no subject or a subject lacks a name or digest.
    """
    if not subjects:
        raise InputError("an in-toto statement needs at least one subject")
    for subject in subjects:
        if not subject.get("name") or not subject.get("digest"):
            raise InputError("every in-toto subject needs a name and a digest")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [dict(s) for s in subjects],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def parse_statement(payload: bytes, *, predicate_type: str | None = None) -> dict[str, Any]:
    """Parse and check an in-toto Statement v1 from a (verified) payload.

    Args:
        payload: The payload bytes.
        predicate_type: The predicate type required, if any.

    Returns:
        The statement.

    Raises:
        VerificationError: If the payload is not a Statement v1 or has another predicate type.
    """
    value = parse_json(payload, "payload", limit=MAX_PAYLOAD_BYTES)
    if not isinstance(value, dict):
        raise VerificationError("the payload is not an in-toto statement: not a JSON object")
    if value.get("_type") != STATEMENT_TYPE:
        raise VerificationError(
            f"the payload is not an in-toto Statement v1: _type is {_short(value.get('_type'))}"
        )
    subjects = value.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise VerificationError("the in-toto statement has no subject")
    for subject in subjects:
        if not (
            isinstance(subject, dict)
            and isinstance(subject.get("name"), str)
            and isinstance(subject.get("digest"), dict)
            and subject["digest"]
            and all(isinstance(k, str) and isinstance(v, str) for k, v in subject["digest"].items())
        ):
            raise VerificationError("the in-toto statement has a malformed subject")
    kind = value.get("predicateType")
    if not isinstance(kind, str) or not kind:
        raise VerificationError("the in-toto statement has no predicateType")
    if predicate_type is not None and kind != predicate_type:
        raise VerificationError(f"predicateType is {_short(kind)}, expected {predicate_type!r}")
    if not isinstance(value.get("predicate", {}), dict):
        raise VerificationError("the in-toto statement's predicate is not an object")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
