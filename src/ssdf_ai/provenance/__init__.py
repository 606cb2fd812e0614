"""Provenance: signed records of how models were made and of the data they were made from.

The package (SP 800-218A PS.3.2, PW.3.2, PW.6.2; layout and commands in docs/provenance.md):

- :mod:`~ssdf_ai.provenance.dsse`: DSSE envelopes around in-toto Statement v1, exported here.
- :mod:`~ssdf_ai.provenance.record`: ``ssdf record -- COMMAND`` runs a training (fine-tuning,
  evaluation, conversion) command and appends signed SLSA provenance v1 of the run to
  ``PROJECT/.intoto.jsonl``: input digests before, output digests after, the environment
  (:mod:`~ssdf_ai.provenance.environment`: Python and every package, OS, GPUs, CUDA,
  compilers) and the git state of the code.
- :mod:`~ssdf_ai.provenance.runs`: the one reader of that log (``load_runs``, ``scan_log``)
  and the questions other capabilities ask of it (``runs_producing``, ``output_changes``,
  ``datasets_consumed``, ``sensitive_outputs``); behind ``ssdf provenance verify|list``.
- :mod:`~ssdf_ai.provenance.registry`: the dataset registry (source, licence, known or unknown
  provenance, sensitive-data categories), kept as evidence by ``ssdf data register``.
- :mod:`~ssdf_ai.provenance.controls`: the assessment's controls over all of it and over the
  BOMs, cards and releases made from it.

The names below are imported lazily, so ``import ssdf_ai.provenance`` does not load
``cryptography``:

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
