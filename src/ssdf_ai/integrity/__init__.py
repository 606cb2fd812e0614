"""Integrity: signing keys, and (as the package grows) hashing, manifests and model signing.

A tour (names are imported lazily, so ``import ssdf_ai.integrity`` does not load
``cryptography``):

- :func:`generate_keypair` writes a new ECDSA P-256 key pair: the private key as PKCS#8 PEM
  with mode 0600 (encrypted when a passphrase is given), the public key as SubjectPublicKeyInfo
  PEM; it never overwrites a file. It returns a :class:`GeneratedKey`.
- :func:`load_private_key` and :func:`load_public_key` read them back, refusing anything that
  is not P-256 with a clear :class:`~ssdf_ai.errors.InputError` (wrong passphrase, not a key).
  :func:`is_encrypted` tells whether a private key file needs a passphrase.
- :func:`key_id` names a public key: SHA-256 hex of its PEM text (:func:`public_key_pem`), the
  same value as the OpenSSF model signing ``hint``.
- ``PrivateKey`` and ``PublicKey`` are the ``cryptography`` key types.

Signed envelopes built with these keys are in :mod:`ssdf_ai.provenance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.integrity.keys import (
        GeneratedKey,
        PrivateKey,
        PublicKey,
        generate_keypair,
        is_encrypted,
        key_id,
        load_private_key,
        load_public_key,
        public_key_pem,
    )

__all__ = [
    "GeneratedKey",
    "PrivateKey",
    "PublicKey",
    "generate_keypair",
    "is_encrypted",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
]

__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(__all__, "ssdf_ai.integrity.keys"), globals()
)
