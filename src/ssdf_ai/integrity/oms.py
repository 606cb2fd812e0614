"""OpenSSF model signing (OMS) signatures: written and read byte-compatibly with ``model-signing``.

A signature is a Sigstore bundle (``application/vnd.dev.sigstore.bundle.v0.3+json``) holding a
DSSE envelope around an in-toto Statement v1 whose predicate
(``https://model_signing/signature/v1.0``) lists every resource with its digest. Facts and the
anchor's known bugs are in ``shared/FORMATS.md``; what we add, all of it ignored by
``model-signing`` and checked by us when present:

* the subject's digest set carries ``ssdf-names-sha256`` beside ``sha256`` (the OMS root): a
  digest over names *and* digests, so two layouts with the same contents differ;
* the predicate carries an ``ssdf_ai`` object: the file list with sizes and modification times
  (incremental re-signing, and empty files, which the ``shards`` method does not list), the
  parent signature's digest and root (signed version chains), and the time of signing.

The payload is written to a temporary file as resources stream in, hashed for the signature in
one pass, and base64-encoded into the bundle, so manifests of millions of files are never built
in memory. Signature files are written atomically.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ssdf_ai._version import __version__
from ssdf_ai.errors import InputError, MissingExtraError
from ssdf_ai.integrity.manifest import (
    FileStat,
    ManifestDigests,
    Resource,
    Serialization,
    Walked,
    iter_manifest,
    split_shard,
)

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "BUNDLE_MEDIA_TYPE",
    "NAMES_KEY",
    "PREDICATE_TYPE",
    "Signed",
    "SignedWith",
    "Signer",
    "read_bundle",
    "sign_model",
    "verify_bundle",
]

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
NAMES_KEY = "ssdf-names-sha256"
EXTENSION_KEY = "ssdf_ai"
MAX_SIGNATURE_BYTES = 2 << 30  # a signature of ~10 million resources; larger is refused
_B64_CHUNK = 3 * (1 << 20)  # multiple of 3: base64 chunks concatenate into one encoding


# -- signing -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Signer:
    """How to sign: an EC private key, with a certificate chain for the certificate method.

    Attributes:
        key: The private key (P-256, P-384 or P-521).
        certificate: The signing certificate (certificate method), whose public key must be the
            key's.
        chain: Intermediate (and optionally root) certificates to carry in the bundle.
    """

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate | None = None
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def method(self) -> str:
        """``key`` or ``certificate``."""
        return "key" if self.certificate is None else "certificate"

    def verification_material(self) -> dict[str, Any]:
        """The bundle's ``verificationMaterial`` for this signer."""
        from cryptography.hazmat.primitives import serialization

        if self.certificate is None:
            from ssdf_ai.integrity.keys import key_id

            return {"publicKey": {"hint": key_id(self.key.public_key())}, "tlogEntries": []}
        certs = [self.certificate, *self.chain]
        return {
            "x509CertificateChain": {
                "certificates": [
                    {
                        "rawBytes": base64.b64encode(
                            c.public_bytes(serialization.Encoding.DER)
                        ).decode("ascii")
                    }
                    for c in certs
                ]
            },
            "tlogEntries": [],
        }


def _curve_hash(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> Any:
    from cryptography.hazmat.primitives import hashes

    size = key.curve.key_size
    if size == 256:
        return hashes.SHA256()
    if size == 384:
        return hashes.SHA384()
    if size == 521:
        return hashes.SHA512()
    raise InputError(f"unsupported EC key size {size}", hint="use a P-256, P-384 or P-521 key")


def pae_prefix(payload_length: int) -> bytes:
    """The DSSE pre-authentication encoding up to the payload itself."""
    return b"DSSEv1 %d %s %d " % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), payload_length)


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclasses.dataclass
class SignResult:
    """What :func:`sign_model` did.

    Attributes:
        model_name: The subject name (the folder's or file's name).
        root: The OMS root digest (hex).
        names: The name-binding digest (hex).
        resources: Number of resources signed.
        walked: Files, bytes hashed, files whose digests were reused, skipped entries.
        parent: The parent signature's SHA-256, when one was recorded.
        signature_sha256: SHA-256 of the signature file written.
    """

    model_name: str
    root: str
    names: str
    resources: int
    walked: Walked
    parent: str | None
    signature_sha256: str


def model_name_of(root: Path) -> str:
    """The subject name model-signing uses: the last path component (resolved for ``.``)."""
    name = root.name
    if not name or name == "..":
        name = root.resolve().name
    return name


def _write_payload(
    out: IO[bytes],
    root: Path,
    settings: Serialization,
    resources: Iterator[Resource],
    walked: Walked,
    extension: dict[str, Any],
    stats: IO[bytes] | None = None,
) -> tuple[str, str, int]:
    """Write the statement JSON to ``out`` as resources arrive; return (root, names, count).

    The extension's file list comes from ``stats`` (comma-separated JSON arrays written by
    :func:`_stat_writer` during the walk) when given, else from ``walked.stats``.
    """
    digests = ManifestDigests()
    out.write(b'{"_type":"' + STATEMENT_TYPE.encode() + b'","predicateType":"')
    out.write(PREDICATE_TYPE.encode() + b'","predicate":{"serialization":')
    out.write(_dump(settings.to_json()) + b',"resources":[')
    for resource in resources:
        if digests.count:
            out.write(b",")
        out.write(
            _dump(
                {"name": resource.name, "algorithm": resource.algorithm, "digest": resource.digest}
            )
        )
        digests.update(resource)
    ext = dict(extension)
    if stats is None:
        ext["files"] = [[s.name, s.size, s.mtime_ns] for s in walked.stats]
        out.write(b'],"' + EXTENSION_KEY.encode() + b'":' + _dump(ext) + b"}")
    else:
        ext["files"] = []
        head = _dump(ext)
        assert head.endswith(b'"files":[]}')  # noqa: S101 - the key is written last
        out.write(b'],"' + EXTENSION_KEY.encode() + b'":' + head[: -len(b"]}")])
        stats.seek(0)
        for block in iter(lambda: stats.read(1 << 20), b""):
            out.write(block)
        out.write(b"]}}")  # the file list, the extension, the predicate
    root_hex, names_hex, count = digests.root, digests.names, digests.count
    subject = [{"name": model_name_of(root), "digest": {"sha256": root_hex, NAMES_KEY: names_hex}}]
    out.write(b',"subject":' + _dump(subject) + b"}")
    return root_hex, names_hex, count


def _stat_writer(out: IO[bytes]) -> Callable[[FileStat], None]:
    """Append each file's ``[name, size, mtime_ns]`` to ``out``, comma-separated."""
    first = True

    def write(stat: FileStat) -> None:
        nonlocal first
        out.write((b"" if first else b",") + _dump([stat.name, stat.size, stat.mtime_ns]))
        first = False

    return write


def _sha256_file(path: Path) -> str:
    from ssdf_ai.evidence import sha256_file  # pydantic only when a signature is hashed

    return sha256_file(path)


def sign_model(
    root: Path,
    signature: Path,
    signer: Signer,
    settings: Serialization,
    *,
    parent: Signed | None = None,
    reuse: Signed | None = None,
    workers: int | None = None,
) -> SignResult:
    """Hash ``root`` and write a detached OMS signature to ``signature`` (atomically).

    Args:
        root: The model folder or file.
        signature: Where to write the bundle. If it lies inside ``root``, it is ignored when
            hashing (and listed in ``ignore_paths``, as model-signing's command does).
        signer: The key (and certificates).
        settings: How to hash.
        parent: A verified previous version's signature, recorded as this one's parent.
        reuse: A verified previous signature whose digests are reused for files whose size and
            modification time are unchanged (and whose hash settings match).
        workers: Hashing threads.

    Returns:
        What was signed.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    settings = with_signature_ignored(root, signature, settings)
    previous = reuse_lookup(reuse, settings) if reuse is not None else None
    extension: dict[str, Any] = {
        "version": 1,
        "tool": f"ssdf-ai {__version__}",
        "signed_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if parent is not None:
        extension["parent"] = {
            "signature_sha256": parent.signature_sha256,
            "root": parent.root,
            "names": parent.names,
        }
    signature.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryFile(dir=signature.parent) as body,
        tempfile.TemporaryFile(dir=signature.parent) as stats,
    ):
        # File stats stream to their own temporary file: nothing grows with the file count.
        walked = Walked(keep_stats=False, on_stat=_stat_writer(stats))
        resources = iter_manifest(root, settings, previous=previous, workers=workers, walked=walked)
        root_hex, names_hex, count = _write_payload(
            body, root, settings, resources, walked, extension, stats
        )
        length = body.tell()
        algorithm = _curve_hash(signer.key)
        from cryptography.hazmat.primitives import hashes

        digest = hashes.Hash(algorithm)
        digest.update(pae_prefix(length))
        body.seek(0)
        for block in iter(lambda: body.read(1 << 20), b""):
            digest.update(block)
        sig = signer.key.sign(digest.finalize(), ec.ECDSA(utils.Prehashed(algorithm)))
        from ssdf_ai._io import atomic_writer

        with atomic_writer(signature) as out:
            out.write(b'{"mediaType":"' + BUNDLE_MEDIA_TYPE.encode() + b'",')
            out.write(b'"verificationMaterial":' + _dump(signer.verification_material()) + b",")
            out.write(b'"dsseEnvelope":{"payload":"')
            body.seek(0)
            for block in iter(lambda: body.read(_B64_CHUNK), b""):
                out.write(base64.b64encode(block))
            out.write(b'","payloadType":"' + PAYLOAD_TYPE.encode() + b'","signatures":[')
            out.write(_dump({"sig": base64.b64encode(sig).decode("ascii"), "keyid": ""}))
            out.write(b"]}}")
    return SignResult(
        model_name=model_name_of(root),
        root=root_hex,
        names=names_hex,
        resources=count,
        walked=walked,
        parent=parent.signature_sha256 if parent is not None else None,
        signature_sha256=_sha256_file(signature),
    )


def with_signature_ignored(root: Path, signature: Path, settings: Serialization) -> Serialization:
    """Add the signature file to ``ignore_paths`` when it lies inside the model folder."""
    if not root.is_dir():
        return settings
    try:
        rel = signature.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return settings
    if rel in settings.ignore_paths:
        return settings
    return dataclasses.replace(settings, ignore_paths=(*settings.ignore_paths, rel))


def reuse_lookup(
    previous: Signed, settings: Serialization
) -> Callable[[FileStat], list[Resource] | None] | None:
    """A lookup of reusable digests from a verified previous signature (same settings only)."""
    if (
        previous.serialization.method != settings.method
        or previous.serialization.hash_type != settings.hash_type
        # shard_size is recorded (and matters) only for shards; a files signature reads back
        # with the default whatever --shard-size was given when signing.
        or (
            settings.method == "shards" and previous.serialization.shard_size != settings.shard_size
        )
        or not previous.files
    ):
        return None
    by_file: dict[str, list[Resource]] = {}
    for r in previous.resources:
        by_file.setdefault(r.path, []).append(r)
    stats = {s.name: s for s in previous.files}

    def lookup(fstat: FileStat) -> list[Resource] | None:
        old = stats.get(fstat.name)
        if old is None or old.size != fstat.size or old.mtime_ns != fstat.mtime_ns:
            return None
        return by_file.get(fstat.name, [])

    return lookup


# -- reading and verifying -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SignedWith:
    """Who signed: the method and an identity (key id, certificate subject or Sigstore identity)."""

    method: str
    identity: str


@dataclasses.dataclass
class Signed:
    """A signature's statement, read from a bundle (authenticity checked by :func:`verify_bundle`).

    Attributes:
        path: The signature file.
        model_name: The subject name.
        root: The subject's ``sha256`` (the OMS root digest).
        names: The subject's name-binding digest, when the signer wrote one.
        serialization: The hash settings.
        resources: The resources, in the signature's order.
        files: The file list of the ``ssdf_ai`` extension (``None`` when absent).
        extension: The ``ssdf_ai`` predicate object (``{}`` when absent).
        signature_sha256: SHA-256 of the signature file.
        problems: Inconsistencies inside the statement (each one a verification failure).
        bundle: The parsed bundle, without the DSSE payload.
    """

    path: Path
    model_name: str
    root: str
    names: str | None
    serialization: Serialization
    resources: list[Resource]
    files: list[FileStat] | None
    extension: dict[str, Any]
    signature_sha256: str
    problems: list[str]
    bundle: dict[str, Any]

    @property
    def parent(self) -> dict[str, Any] | None:
        """The recorded parent (signature_sha256, root, names), if any."""
        value = self.extension.get("parent")
        return value if isinstance(value, dict) else None


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise InputError(f"the signature's {what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InputError(f"the signature's {what} is not valid base64") from None


def _load_json(path: Path) -> dict[str, Any]:
    from ssdf_ai.provenance.dsse import parse_json

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(
            f"no signature at {path}", where=path, hint="sign with `ssdf sign`"
        ) from None
    if size > MAX_SIGNATURE_BYTES:
        raise InputError(f"{path} is {size} bytes, larger than any signature we accept", where=path)
    value = parse_json(path.read_bytes(), f"signature {path}", limit=MAX_SIGNATURE_BYTES)
    if not isinstance(value, dict):
        raise InputError(f"{path} is not a Sigstore bundle (not a JSON object)", where=path)
    return value


def read_bundle(path: Path) -> tuple[dict[str, Any], bytes, bytes]:
    """Read a bundle; return it, its DSSE payload and its one signature (raw bytes).

    Raises:
        InputError: Not a readable Sigstore bundle with a DSSE envelope.
    """
    bundle = _load_json(path)
    media = bundle.get("mediaType")
    if not isinstance(media, str) or not media.startswith("application/vnd.dev.sigstore.bundle"):
        raise InputError(
            f"{path} is not a Sigstore bundle (mediaType {media!r})",
            where=path,
            hint="give the model.sig file that `ssdf sign` or model-signing wrote",
        )
    envelope = bundle.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise InputError(
            f"{path} holds no DSSE envelope (messageSignature bundles are not model signatures)",
            where=path,
        )
    signatures = envelope.get("signatures")
    if (
        not isinstance(signatures, list)
        or len(signatures) != 1
        or not isinstance(signatures[0], dict)
    ):
        raise InputError(f"{path}: the DSSE envelope must carry exactly one signature", where=path)
    payload = _b64(envelope.get("payload"), "DSSE payload")
    sig = _b64(signatures[0].get("sig"), "DSSE signature")
    return bundle, payload, sig


def parse_statement(path: Path, bundle: dict[str, Any], payload: bytes) -> Signed:
    """Parse the statement of a bundle into a :class:`Signed` (no authenticity check).

    Inconsistencies (a root digest that does not match the resources, a wrong type) are
    collected in ``problems``; only unreadable structure raises.

    Raises:
        InputError: The payload is not an in-toto statement with a model signing predicate.
    """
    from ssdf_ai.provenance.dsse import parse_json

    problems: list[str] = []
    envelope = bundle["dsseEnvelope"]
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        problems.append(f"DSSE payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}")
    statement = parse_json(
        payload, f"statement in {path}", limit=MAX_SIGNATURE_BYTES, build=_compact_resource
    )
    if not isinstance(statement, dict):
        raise InputError(f"{path}: the DSSE payload is not a JSON object", where=path)
    if statement.get("_type") != STATEMENT_TYPE:
        problems.append(f"statement _type is {statement.get('_type')!r}, not {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise InputError(
            f"{path}: predicate type {statement.get('predicateType')!r} is not a model signature "
            f"({PREDICATE_TYPE})",
            where=path,
        )
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise InputError(f"{path}: a model signature has exactly one subject", where=path)
    digests = subjects[0].get("digest")
    if not isinstance(digests, dict) or not isinstance(digests.get("sha256"), str):
        raise InputError(f"{path}: the subject has no sha256 digest", where=path)
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise InputError(f"{path}: the statement has no predicate object", where=path)
    serialization = Serialization.from_json(predicate.get("serialization"))
    raw_resources = predicate.get("resources")
    if not isinstance(raw_resources, list):
        raise InputError(f"{path}: the predicate has no resources list", where=path)
    resources = [_resource(item, path, serialization) for item in raw_resources]
    names = {r.name for r in resources}
    if len(names) != len(resources):
        problems.append("the resource list names the same resource twice")
    from ssdf_ai.integrity.manifest import names_digest, root_digest

    root = digests["sha256"]
    computed = root_digest(resources)
    if computed != root:
        problems.append(
            f"the subject digest {root} does not match the signed resources, which hash to "
            f"{computed}"
        )
    names_claimed = digests.get(NAMES_KEY)
    if names_claimed is not None and names_digest(resources) != names_claimed:
        problems.append(
            f"the name-binding digest {names_claimed} does not match the resources' names "
            "and digests"
        )
    extension = predicate.get(EXTENSION_KEY)
    extension = extension if isinstance(extension, dict) else {}
    files = _files(extension.get("files"))
    return Signed(
        path=path,
        model_name=str(subjects[0].get("name", "")),
        root=root,
        names=names_claimed if isinstance(names_claimed, str) else None,
        serialization=serialization,
        resources=resources,
        files=files,
        extension=extension,
        signature_sha256=_sha256_file(path),
        problems=problems,
        # Without the payload (the statement is parsed above): it is most of a large bundle.
        bundle={**bundle, "dsseEnvelope": {k: v for k, v in envelope.items() if k != "payload"}},
    )


_RESOURCE_KEYS = frozenset({"name", "algorithm", "digest"})


def _compact_resource(obj: dict[str, Any]) -> Any:
    """A resource object becomes a :class:`Resource` as it is parsed (checked by _resource)."""
    if obj.keys() == _RESOURCE_KEYS and all(isinstance(v, str) for v in obj.values()):
        return Resource(obj["name"], obj["algorithm"], obj["digest"])
    return obj


def _resource(item: object, path: Path, serialization: Serialization) -> Resource:
    name: object
    algorithm: object
    digest: object
    if isinstance(item, Resource):
        name, algorithm, digest = item.name, item.algorithm, item.digest
    elif isinstance(item, dict):
        name, algorithm, digest = item.get("name"), item.get("algorithm"), item.get("digest")
    else:
        raise InputError(f"{path}: a resource is not an object", where=path)
    if not (isinstance(name, str) and isinstance(algorithm, str) and isinstance(digest, str)):
        raise InputError(f"{path}: a resource lacks name, algorithm or digest", where=path)
    try:
        bytes.fromhex(digest)
    except ValueError:
        raise InputError(
            f"{path}: resource {name!r} has a digest that is not hex", where=path
        ) from None
    if serialization.method == "shards":
        split_shard(name)
    if isinstance(item, Resource) and digest.islower():
        return item
    return Resource(name, algorithm, digest.lower())


def _files(value: object) -> list[FileStat] | None:
    if not isinstance(value, list):
        return None
    out: list[FileStat] = []
    for item in value:
        if (
            isinstance(item, list)
            and len(item) == 3
            and isinstance(item[0], str)
            and isinstance(item[1], int)
            and isinstance(item[2], int)
        ):
            out.append(FileStat(item[0], item[1], item[2]))
        else:
            return None
    return out


@dataclasses.dataclass(frozen=True)
class Trust:
    """What a signature must be verified against (one of the three).

    Attributes:
        public_key: The signer's public key (key method).
        roots: Trusted root certificates (certificate method).
        identity: The expected Sigstore identity (email or URI) and ``issuer`` (OIDC issuer).
    """

    public_key: ec.EllipticCurvePublicKey | None = None
    roots: tuple[x509.Certificate, ...] = ()
    identity: str | None = None
    issuer: str | None = None


def verify_bundle(path: Path, trust: Trust) -> tuple[Signed, SignedWith | None, list[str]]:
    """Read a signature and check that it was made by the trusted key, chain or identity.

    Returns:
        The statement, who signed it (``None`` when the signature is not valid), and the
        problems found: signature failures and statement inconsistencies. An empty list means
        the signature is authentic and the statement consistent; the files are compared by
        :func:`compare`.

    Raises:
        InputError: The file is not a readable model signature.
    """
    bundle, payload, sig = read_bundle(path)
    material = bundle.get("verificationMaterial")
    material = material if isinstance(material, dict) else {}
    problems: list[str] = []
    signer: SignedWith | None = None
    if trust.identity is not None:
        payload, signer, found = _verify_sigstore(path, trust)
        problems += found
    elif trust.public_key is not None:
        signer, found = _verify_key(material, payload, sig, trust.public_key)
        problems += found
    elif trust.roots:
        signer, found = _verify_certificates(material, payload, sig, trust.roots)
        problems += found
    else:
        raise InputError(
            "nothing to verify the signature against",
            hint="give --key, --certificate-chain or --identity with --issuer",
        )
    signed = parse_statement(path, bundle, payload)
    return signed, signer, problems + signed.problems


def _verify_key(
    material: dict[str, Any], payload: bytes, sig: bytes, public_key: ec.EllipticCurvePublicKey
) -> tuple[SignedWith | None, list[str]]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    from ssdf_ai.integrity.keys import key_id

    kid = key_id(public_key)
    problems: list[str] = []
    hint = (
        material.get("publicKey", {}).get("hint")
        if isinstance(material.get("publicKey"), dict)
        else None
    )
    if "x509CertificateChain" in material or "certificate" in material:
        problems.append(
            "the signature was made with a certificate, not a bare key; "
            "verify with --certificate-chain"
        )
    if hint and hint != kid:
        problems.append(f"the signature names key {hint}, not the given key {kid}")
    try:
        public_key.verify(
            sig, pae_prefix(len(payload)) + payload, ec.ECDSA(_curve_hash(public_key))
        )
    except InvalidSignature:
        problems.append(
            f"the signature does not verify with key {kid}: the statement or the signature "
            "was altered, or another key signed it"
        )
        return None, problems
    return SignedWith("key", kid), problems


def _load_chain(material: dict[str, Any]) -> list[x509.Certificate]:
    from cryptography import x509

    chain = material.get("x509CertificateChain")
    certs = chain.get("certificates") if isinstance(chain, dict) else None
    if not isinstance(certs, list) or not certs:
        raise InputError("the signature carries no certificate chain; verify with --key")
    out = []
    for item in certs:
        raw = _b64(item.get("rawBytes") if isinstance(item, dict) else None, "certificate")
        try:
            out.append(x509.load_der_x509_certificate(raw))
        except ValueError:
            raise InputError("a certificate in the signature is not valid DER") from None
    return out


def _verify_certificates(
    material: dict[str, Any], payload: bytes, sig: bytes, roots: tuple[x509.Certificate, ...]
) -> tuple[SignedWith | None, list[str]]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        chain = _load_chain(material)
    except InputError as exc:
        return None, [exc.message]
    leaf = chain[0]
    problems = check_chain(leaf, chain[1:], roots)
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return None, [*problems, "the signing certificate's key is not an EC key"]
    try:
        public_key.verify(
            sig, pae_prefix(len(payload)) + payload, ec.ECDSA(_curve_hash(public_key))
        )
    except InvalidSignature:
        problems.append(
            "the signature does not verify with the signing certificate's key: the statement "
            "or the signature was altered"
        )
        return None, problems
    if problems:
        return None, problems
    return SignedWith("certificate", leaf.subject.rfc4514_string()), problems


def check_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    roots: tuple[x509.Certificate, ...],
) -> list[str]:
    """Check that ``leaf`` chains to one of ``roots`` through ``intermediates``.

    Each link's signature is checked, every issuer must be a CA, every certificate valid at the
    leaf's ``notBefore`` (the signing time model-signing uses), and the leaf must allow digital
    signatures or code signing. Returns the problems (empty when trusted).
    """
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    problems: list[str] = []
    when = leaf.not_valid_before_utc
    current = leaf
    pool = list(intermediates)
    seen = 0
    root_der = {r.tbs_certificate_bytes for r in roots}
    while True:
        seen += 1
        if seen > 10:
            return [*problems, "the certificate chain is longer than 10 links"]
        if current.tbs_certificate_bytes in root_der:
            break
        issuer = next((r for r in roots if r.subject == current.issuer), None)
        from_pool = False
        if issuer is None:
            issuer = next((c for c in pool if c.subject == current.issuer), None)
            from_pool = True
        if issuer is None:
            return [
                *problems,
                f"the certificate {current.subject.rfc4514_string()} does not chain to a trusted "
                f"root (issuer {current.issuer.rfc4514_string()} unknown)",
            ]
        try:
            current.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, Exception) as exc:  # noqa: BLE001 - any failure is untrusted
            return [
                *problems,
                f"the certificate {current.subject.rfc4514_string()} is not signed by "
                f"{issuer.subject.rfc4514_string()}: "
                # InvalidSignature carries no message
                f"{str(exc) or 'its signature does not verify with the issuer key'}",
            ]
        try:
            basic = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
            if not basic.ca:
                problems.append(
                    f"{issuer.subject.rfc4514_string()} signs certificates but is not a CA"
                )
        except x509.ExtensionNotFound:
            problems.append(
                f"{issuer.subject.rfc4514_string()} has no basic constraints; it is not a CA"
            )
        problems.extend(
            f"{cert.subject.rfc4514_string()} was not valid at signing time {when.isoformat()}"
            for cert in (current, issuer)
            if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc
        )
        if not from_pool:
            break
        pool.remove(issuer)
        current = issuer
    usable = False
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        usable = usage.digital_signature
    except x509.ExtensionNotFound:
        pass
    if not usable:
        try:
            eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            usable = ExtendedKeyUsageOID.CODE_SIGNING in eku
        except x509.ExtensionNotFound:
            pass
    if not usable:
        problems.append(
            "the signing certificate may not be used for signing (no digitalSignature key "
            "usage or codeSigning extended usage)"
        )
    return sorted(set(problems), key=problems.index)


def _verify_sigstore(path: Path, trust: Trust) -> tuple[bytes, SignedWith | None, list[str]]:
    try:
        from sigstore.models import Bundle
        from sigstore.verify import Verifier, policy
    except ImportError as exc:
        raise MissingExtraError("sigstore", "sigstore") from exc
    try:
        bundle = Bundle.from_json(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - sigstore raises many types for bad bundles
        return b"", None, [f"not a Sigstore bundle sigstore can read: {exc}"]
    try:
        verifier = Verifier.production()
    except Exception as exc:  # noqa: BLE001 - network and TUF failures
        raise InputError(
            f"cannot reach Sigstore's trust root: {exc}",
            hint="keyless verification needs network access to Sigstore (TUF); verify "
            "offline with --key or --certificate-chain signatures",
        ) from None
    try:
        payload_type, payload = verifier.verify_dsse(
            bundle, policy.Identity(identity=trust.identity or "", issuer=trust.issuer)
        )
    except Exception as exc:  # noqa: BLE001 - sigstore's VerificationError and others
        return b"", None, [f"Sigstore verification failed: {exc}"]
    problems = [] if payload_type == PAYLOAD_TYPE else [f"payload type {payload_type}"]
    return payload, SignedWith("sigstore", f"{trust.identity} ({trust.issuer})"), problems


def sigstore_sign_payload(payload: bytes) -> bytes:
    """Sign a statement keyless with Sigstore (needs the network and an OIDC identity).

    Raises:
        MissingExtraError: ``sigstore`` is not installed.
        InputError: Sigstore cannot be reached or the identity token cannot be had.
    """
    try:
        from sigstore.dsse import Statement
        from sigstore.models import ClientTrustConfig
        from sigstore.oidc import Issuer
        from sigstore.sign import SigningContext
    except ImportError as exc:
        raise MissingExtraError("sigstore", "sigstore") from exc
    try:
        config = ClientTrustConfig.production()
        context = SigningContext.from_trust_config(config)
        token = Issuer(config.signing_config.get_oidc_url()).identity_token()
        with context.signer(token) as signer:
            bundle = signer.sign_dsse(Statement(payload))
    except Exception as exc:  # noqa: BLE001 - network, OIDC and Fulcio failures
        raise InputError(
            f"Sigstore signing failed: {exc}",
            hint="keyless signing needs network access to Sigstore and an OIDC identity; "
            "sign offline with --key or --certificate",
        ) from None
    text: str = bundle.to_json()
    return text.encode("utf-8")


# -- comparing -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Change:
    """One difference between a signed manifest and the files (or another manifest)."""

    kind: str  # added | removed | changed
    name: str
    expected: str | None = None
    actual: str | None = None


def compare(
    expected: Signed,
    root: Path,
    *,
    signature: Path | None = None,
    workers: int | None = None,
    digests: ManifestDigests | None = None,
) -> tuple[list[Change], Walked]:
    """Re-hash ``root`` with the signature's settings and list every difference.

    Files named in the signature's ``ssdf_ai`` file list are compared too, which catches empty
    files added or removed under the ``shards`` method (they have no shards). ``digests``, when
    given, is fed every resource found, so a caller gets the current root without hashing again.
    """
    settings = expected.serialization
    if signature is not None:
        settings = with_signature_ignored(root, signature, settings)
    walked = Walked()
    wanted = {r.name: r for r in expected.resources}
    changes: list[Change] = []
    for actual in iter_manifest(root, settings, workers=workers, walked=walked):
        if digests is not None:
            digests.update(actual)
        old = wanted.pop(actual.name, None)
        if old is None:
            changes.append(Change("added", actual.name, None, actual.digest))
        elif old.digest != actual.digest or old.algorithm != actual.algorithm:
            changes.append(Change("changed", actual.name, old.digest, actual.digest))
    changes += [Change("removed", r.name, r.digest, None) for r in wanted.values()]
    if expected.files is not None:
        signed_files = {s.name for s in expected.files}
        actual_files = {s.name for s in walked.stats}
        named = {
            c.name.rsplit(":", 2)[0] if settings.method == "shards" else c.name for c in changes
        }
        for name in sorted(actual_files - signed_files - named):
            changes.append(Change("added", name, None, "(empty file)"))
        for name in sorted(signed_files - actual_files - named):
            changes.append(Change("removed", name, "(empty file)", None))
    changes.sort(key=lambda c: (c.name, c.kind))
    return changes, walked


def diff_manifests(old: Signed, new: Signed) -> list[Change]:
    """What changed between two signed versions (by resource name and digest)."""
    before = {r.name: r.digest for r in old.resources}
    after = {r.name: r.digest for r in new.resources}
    changes = [Change("added", n, None, after[n]) for n in after.keys() - before.keys()]
    changes += [Change("removed", n, before[n], None) for n in before.keys() - after.keys()]
    changes += [
        Change("changed", n, before[n], after[n])
        for n in before.keys() & after.keys()
        if before[n] != after[n]
    ]
    changes.sort(key=lambda c: (c.name, c.kind))
    return changes
