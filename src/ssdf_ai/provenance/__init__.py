"""Provenance: DSSE envelopes and in-toto statements (training-run records and SLSA to come).

A tour (names are imported lazily, so ``import ssdf_ai.provenance`` does not load
``cryptography``):

- :func:`pae` is DSSE's pre-authentication encoding; :func:`sign_envelope` signs a payload
  into an envelope with an ECDSA P-256 key; :func:`verify_envelope` checks it against named
  trusted keys and returns a :class:`VerifiedEnvelope` (payload, type, signer names), raising
  :class:`~ssdf_ai.errors.VerificationError` with the reason otherwise.
- :func:`load_envelope` parses envelope bytes (bounded, strict JSON) and :func:`dump_envelope`
  writes them (:func:`canonical_json`: sorted keys, no spaces).
- :func:`statement` builds an in-toto Statement v1; :func:`parse_statement` checks one.
- Constants: :data:`PAYLOAD_TYPE_INTOTO`, :data:`STATEMENT_TYPE`, :data:`ENVELOPE_MEDIA_TYPE`,
  :data:`MAX_ENVELOPE_BYTES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.provenance.dsse import (
        ENVELOPE_MEDIA_TYPE,
        MAX_ENVELOPE_BYTES,
        MAX_PAYLOAD_BYTES,
        PAYLOAD_TYPE_INTOTO,
        STATEMENT_TYPE,
        VerifiedEnvelope,
        canonical_json,
        dump_envelope,
        load_envelope,
        pae,
        parse_json,
        parse_statement,
        sign_envelope,
        statement,
        unverified_payload,
        verify_envelope,
    )

__all__ = [
    "ENVELOPE_MEDIA_TYPE",
    "MAX_ENVELOPE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "PAYLOAD_TYPE_INTOTO",
    "STATEMENT_TYPE",
    "VerifiedEnvelope",
    "canonical_json",
    "dump_envelope",
    "load_envelope",
    "pae",
    "parse_json",
    "parse_statement",
    "sign_envelope",
    "statement",
    "unverified_payload",
    "verify_envelope",
]

__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(__all__, "ssdf_ai.provenance.dsse"), globals()
)
