"""Signing keys: ECDSA P-256 key pairs in PEM files, and the key id that names them.

Private keys are PKCS#8 PEM, encrypted with a passphrase where one is given, and written with
mode 0600 from the moment the file exists (it is created with ``O_EXCL`` and that mode, never
chmod-ed afterwards). Public keys are SubjectPublicKeyInfo PEM, mode 0644, meant to be committed
and named in ``[[signers]]``.

The key id is the SHA-256 of the public key's PEM text, the same value the OpenSSF model signing
format puts in ``verificationMaterial.publicKey.hint``.

Nothing here prints, logs or puts a private key or a passphrase into an error message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ssdf_ai.errors import InputError

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey

CURVE_NAME = "secp256r1"
# Curves OpenSSF model signing accepts (its keys may come from other tools than ours).
OMS_CURVES = ("secp256r1", "secp384r1", "secp521r1")
PRIVATE_KEY_MODE = 0o600
PUBLIC_KEY_MODE = 0o644
MAX_KEY_FILE_BYTES = 64 * 1024
# PKCS#8 encrypted PEM, and the traditional OpenSSL form ("BEGIN EC PRIVATE KEY" + Proc-Type).
_ENCRYPTED_MARKERS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


@dataclasses.dataclass(frozen=True)
class GeneratedKey:
    """Where :func:`generate_keypair` wrote a new key pair.

    Attributes:
        private_path: The private key file (mode 0600).
        public_path: The public key file (mode 0644).
        key_id: SHA-256 hex of the public key's PEM text.
        encrypted: Whether the private key is protected by a passphrase.
    """

    private_path: Path
    public_path: Path
    key_id: str
    encrypted: bool


def public_key_pem(public_key: PublicKey) -> bytes:
    """Return the SubjectPublicKeyInfo PEM text of a public key.

    Args:
        public_key: The key.

    Returns:
        The PEM bytes, as written to ``.pub`` files.
    """
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: PublicKey) -> str:
    """Return the id of a public key: SHA-256 hex of its PEM text (the OMS ``hint``).

    Args:
        public_key: The key.

    Returns:
        64 lower-case hex digits.
    """
    return hashlib.sha256(public_key_pem(public_key)).hexdigest()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` and write ``data``; never replace an existing file.

    ``O_EXCL`` makes creation and the existence check one step, and the mode is given to
    ``open`` itself, so the file is never readable by others, even for a moment.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise InputError(
            f"{path} already exists; refusing to overwrite a key",
            where=path,
            hint="choose another name or --out directory, or move the old key away first",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot create {path}: {exc.strerror}", where=path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            # The umask may have removed bits from ``mode``; set exactly what was asked.
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def generate_keypair(
    private_path: str | Path, public_path: str | Path, *, passphrase: bytes | None
) -> GeneratedKey:
    """Generate an ECDSA P-256 key pair and write it to two new files.

    Args:
        private_path: Where to write the PKCS#8 PEM private key (mode 0600).
        public_path: Where to write the SubjectPublicKeyInfo PEM public key (mode 0644).
        passphrase: Encrypt the private key with this passphrase (the best encryption the
            installed ``cryptography`` offers); ``None`` leaves it unencrypted.

    Returns:
        Where the keys were written and the key id.

    Raises:
        InputError: If either file already exists, its directory does not exist, or the
            passphrase is empty.
    """
    private_file, public_file = Path(private_path), Path(public_path)
    if passphrase is not None and not passphrase:
        raise InputError("the passphrase is empty", hint="give a non-empty passphrase")
    for path in (private_file, public_file):
        if path.exists() or path.is_symlink():
            raise InputError(
                f"{path} already exists; refusing to overwrite a key",
                where=path,
                hint="choose another name or --out directory, or move the old key away first",
            )
        if not path.parent.is_dir():
            raise InputError(
                f"cannot write {path}: directory {path.parent} does not exist", where=path
            )
    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase is not None
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public = key.public_key()
    _write_new(private_file, private_pem, PRIVATE_KEY_MODE)
    try:
        _write_new(public_file, public_key_pem(public), PUBLIC_KEY_MODE)
    except BaseException:
        private_file.unlink(missing_ok=True)
        raise
    return GeneratedKey(
        private_path=private_file,
        public_path=public_file,
        key_id=key_id(public),
        encrypted=passphrase is not None,
    )


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_KEY_FILE_BYTES:
            raise InputError(
                f"{path} is {size} bytes, too large to be a {what}",
                where=path,
                hint=f"give the PEM {what} file",
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no {what} at {path}", where=path) from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a {what}", where=path) from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", where=path) from None


def _not_p256(path: Path, what: str, curve: str | None) -> InputError:
    message = (
        f"{path} is not an ECDSA {what}"
        if curve is None
        else f"{path} is an ECDSA key on curve {curve}, not P-256"
    )
    return InputError(
        message,
        where=path,
        hint="ssdf-ai signs with ECDSA P-256 keys; create one with `ssdf keys generate NAME`",
    )


def _encrypted(data: bytes) -> bool:
    return any(marker in data for marker in _ENCRYPTED_MARKERS)


def is_encrypted(path: str | Path) -> bool:
    """Whether a PEM private key file is encrypted (needs a passphrase).

    Args:
        path: The private key file.

    Raises:
        InputError: If the file cannot be read.
    """
    return _encrypted(_read_key_file(Path(path), "private key"))


def load_private_key(
    path: str | Path, passphrase: bytes | None = None, *, curves: tuple[str, ...] = (CURVE_NAME,)
) -> PrivateKey:
    """Load an ECDSA P-256 private key from a PKCS#8 (or traditional) PEM file.

    Args:
        path: The private key file.
        passphrase: The passphrase of an encrypted key; ``None`` for an unencrypted one.
        curves: The curves accepted (P-256 only by default; :data:`OMS_CURVES` for model
            signing).

    Returns:
        The key.

    Raises:
        InputError: If the file is missing or unreadable, is not a PEM private key, is not
            ECDSA P-256, needs a passphrase that was not given, or the passphrase is wrong.
            The messages never contain the key or the passphrase.
    """
    file = Path(path)
    data = _read_key_file(file, "private key")
    encrypted = _encrypted(data)
    if encrypted and passphrase is None:
        raise InputError(
            f"the private key {file} is encrypted and no passphrase was given",
            where=file,
            hint="give the passphrase with --passphrase-env VAR, or type it when asked",
        )
    if not encrypted and passphrase is not None:
        # An unencrypted key does not need one; ignoring it would hide a mix-up of keys.
        raise InputError(
            f"the private key {file} is not encrypted, but a passphrase was given",
            where=file,
            hint="drop --passphrase-env for this key",
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography's messages say nothing secret, but they say nothing useful either.
        if encrypted:
            raise InputError(
                f"cannot decrypt the private key {file}: wrong passphrase",
                where=file,
                hint="check the passphrase (the value of --passphrase-env's variable)",
            ) from None
        raise InputError(
            f"{file} is not a PEM private key",
            where=file,
            hint="give the .key file that `ssdf keys generate` wrote",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise _not_p256(file, "private key", None)
    if key.curve.name not in curves:
        raise _not_p256(file, "private key", key.curve.name)
    return key


def load_public_key(path: str | Path, *, curves: tuple[str, ...] = (CURVE_NAME,)) -> PublicKey:
    """Load an ECDSA P-256 public key from a SubjectPublicKeyInfo PEM file.

    Args:
        path: The public key file.
        curves: The curves accepted (P-256 only by default).

    Returns:
        The key.

    Raises:
        InputError: If the file is missing or unreadable, not a PEM public key, or not P-256.
    """
    file = Path(path)
    data = _read_key_file(file, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(
            f"{file} is not a PEM public key",
            where=file,
            hint="give the .pub file that `ssdf keys generate` wrote",
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _not_p256(file, "public key", None)
    if key.curve.name not in curves:
        raise _not_p256(file, "public key", key.curve.name)
    return key
