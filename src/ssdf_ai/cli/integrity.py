"""``ssdf hash``, ``ssdf sign``, ``ssdf verify`` and ``ssdf diff``: model signing in the OpenSSF
model signing (OMS) format, with every signature and verification recorded as evidence.

``cryptography`` and the hashing code are imported inside the commands so ``ssdf --help`` stays
fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, FORMATS_NO_SARIF, Output, command

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cryptography import x509

    from ssdf_ai.integrity.manifest import Resource, Serialization, Walked
    from ssdf_ai.integrity.oms import Signed, Signer, Trust
    from ssdf_ai.integrity.report import DiffReport, HashReport, SignReport, VerifyReport

SIGNATURE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"

Method = Annotated[
    str,
    typer.Option(
        "--method", help="files: a digest per file; shards: a digest per --shard-size bytes."
    ),
]
HashType = Annotated[
    str,
    typer.Option("--hash", help="sha256, blake2b or blake3 (blake3 needs the 'blake3' extra)."),
]
ShardSize = Annotated[
    int, typer.Option("--shard-size", min=1, metavar="BYTES", help="Bytes per shard (shards only).")
]
Ignore = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        metavar="PATTERN",
        help="Leave out paths matching PATTERN (relative to PATH; glob patterns are expanded to "
        "the paths they match now). Repeatable.",
        show_default=False,
    ),
]
NoIgnoreGit = Annotated[
    bool,
    typer.Option("--no-ignore-git", help="Include .git, .gitattributes, .github and .gitignore."),
]
AllowSymlinks = Annotated[
    bool,
    typer.Option(
        "--allow-symlinks",
        help="Follow symbolic links that stay inside PATH (default: refuse any link).",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="Hashing threads (default: one per CPU).", show_default=False
    ),
]
ProjectOpt = Annotated[
    Path,
    typer.Option(
        "--project",
        help="The project root (searched upwards for ssdf.toml); the evidence store is "
        "PROJECT/.ssdf.",
        file_okay=False,
    ),
]
Record = Annotated[
    bool, typer.Option("--record/--no-record", help="Record the result in the evidence store.")
]
TrustKey = Annotated[
    Path | None,
    typer.Option(
        "--key", help="The signer's public key (PEM).", show_default=False, dir_okay=False
    ),
]
TrustChain = Annotated[
    list[Path] | None,
    typer.Option(
        "--certificate-chain",
        help="Trusted root (and intermediate) certificates, PEM. Repeatable.",
        show_default=False,
        dir_okay=False,
    ),
]
Identity = Annotated[
    str | None,
    typer.Option(
        "--identity",
        help="Sigstore keyless: the signer's identity (email or URI).",
        show_default=False,
    ),
]
Issuer = Annotated[
    str | None,
    typer.Option(
        "--issuer", help="Sigstore keyless: the identity's OIDC issuer URL.", show_default=False
    ),
]


def default_signature(path: Path) -> Path:
    """``PATH/model.sig`` for a folder, ``PATH.sig`` for a single file."""
    return path / "model.sig" if path.is_dir() else path.with_name(path.name + ".sig")


def _settings(
    path: Path,
    method: str,
    hash_type: str,
    shard_size: int,
    ignore: list[str] | None,
    no_ignore_git: bool,
    allow_symlinks: bool,
) -> Serialization:
    from ssdf_ai.errors import InputError
    from ssdf_ai.integrity.manifest import DEFAULT_IGNORES, Serialization

    if not path.exists():
        raise InputError(f"{path} does not exist", where=path)
    ignores = [] if no_ignore_git else list(DEFAULT_IGNORES)
    for pattern in ignore or []:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise InputError(f"--ignore {pattern!r} must be relative to {path} and stay inside it")
        matches = (
            sorted(p.relative_to(path).as_posix() for p in path.glob(pattern))
            if path.is_dir()
            else []
        )
        for rel in matches or ([pattern] if not any(c in pattern for c in "*?[") else []):
            if rel not in ignores:
                ignores.append(rel)
    return Serialization(
        method=method.lower(),
        hash_type=hash_type.lower(),
        shard_size=shard_size,
        allow_symlinks=allow_symlinks,
        ignore_paths=tuple(ignores),
    )


def _trust(
    key: Path | None, chain: list[Path] | None, identity: str | None, issuer: str | None
) -> Trust:
    from ssdf_ai.errors import InputError
    from ssdf_ai.integrity.keys import OMS_CURVES, load_public_key
    from ssdf_ai.integrity.oms import Trust

    given = sum(x is not None and x != [] for x in (key, chain, identity))
    if given != 1:
        raise InputError(
            "give exactly one of --key, --certificate-chain or --identity (with --issuer)",
            hint="--key for signatures made with a key, --certificate-chain for certificate "
            "signatures, --identity/--issuer for Sigstore keyless signatures",
        )
    if identity is not None:
        if not issuer:
            raise InputError("--identity needs --issuer (the OIDC issuer URL)")
        return Trust(identity=identity, issuer=issuer)
    if key is not None:
        return Trust(public_key=load_public_key(key, curves=OMS_CURVES))
    return Trust(roots=tuple(_load_certs(chain or [])))


def _load_certs(paths: list[Path]) -> list[x509.Certificate]:
    from cryptography import x509

    from ssdf_ai.errors import InputError

    certs: list[x509.Certificate] = []
    for p in paths:
        try:
            certs += x509.load_pem_x509_certificates(p.read_bytes())
        except FileNotFoundError:
            raise InputError(f"no certificate file at {p}", where=p) from None
        except ValueError:
            raise InputError(f"{p} holds no PEM certificate", where=p) from None
    return certs


def _signer(
    key: Path, passphrase_env: str | None, certificate: Path | None, chain: list[Path] | None
) -> Signer:
    from cryptography.hazmat.primitives.asymmetric import ec

    from ssdf_ai.cli.keys import signing_passphrase
    from ssdf_ai.errors import InputError
    from ssdf_ai.integrity.keys import OMS_CURVES, load_private_key
    from ssdf_ai.integrity.oms import Signer

    private = load_private_key(key, signing_passphrase(key, passphrase_env), curves=OMS_CURVES)
    if certificate is None:
        if chain:
            raise InputError("--chain needs --certificate")
        return Signer(private)
    certs = _load_certs([certificate])
    leaf = certs[0]
    pub = leaf.public_key()
    if (
        not isinstance(pub, ec.EllipticCurvePublicKey)
        or pub.public_numbers() != private.public_key().public_numbers()
    ):
        raise InputError(
            f"the certificate {certificate} is not for the key {key}",
            where=certificate,
            hint="give the certificate issued for this private key",
        )
    return Signer(private, leaf, tuple(_load_certs(chain or [])))


def _verified_previous(path: Path, signer: Signer, what: str) -> Signed:
    from ssdf_ai.errors import InputError
    from ssdf_ai.integrity.oms import Trust, verify_bundle

    trust = (
        Trust(roots=(signer.chain[-1],))
        if signer.certificate is not None and signer.chain
        else Trust(public_key=signer.key.public_key())
    )
    signed, who, problems = verify_bundle(path, trust)
    if who is None or problems:
        raise InputError(
            f"the {what} {path} does not verify with this signer: {'; '.join(problems)}",
            where=path,
            hint="a parent must be a signature you can verify; verify it with `ssdf verify` "
            "and the right key, or leave out --parent",
        )
    return signed


def _record(
    root: Path,
    command_name: str,
    subject_path: Path,
    kind: str,
    digest: str | None,
    *,
    artifacts: list[tuple[Path | bytes, str, str, str]],
    findings: list[object] = (),  # type: ignore[assignment]
    exit_code: int = 0,
) -> int:
    from ssdf_ai.cli.evidence import database_url
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.provenance.registry import project_path
    from ssdf_ai.store import EvidenceStore

    name = project_path(root, subject_path)
    with (
        EvidenceStore.open(root, url=database_url(root)) as store,
        store.run(command_name, ["ssdf", *sys.argv[1:]]) as run,
    ):
        subject_id = run.add_subject(Subject(kind=SubjectKind(kind), name=name, digest=digest))
        for finding in findings:
            run.add_finding(finding, subject_id=subject_id)  # type: ignore[arg-type]
        for data, art_kind, media, art_name in artifacts:
            if isinstance(data, Path):
                run.add_artifact_file(
                    data, kind=art_kind, media_type=media, subject_id=subject_id, name=art_name
                )
            else:
                run.add_artifact(
                    data, kind=art_kind, media_type=media, subject_id=subject_id, name=art_name
                )
        run.set_exit_code(exit_code)
        return run.id


def _record_signature(
    root: Path, path: Path, kind: str, digest: str, sig_path: Path, out: Output
) -> None:
    """Record a ``sign`` run: the subject with its OMS root, and the signature file."""
    run_id = _record(
        root,
        "sign",
        path,
        kind,
        digest,
        artifacts=[(sig_path, "model-signature", SIGNATURE_MEDIA_TYPE, sig_path.name)],
    )
    out.status(f"recorded as run:{run_id}")


SubjectKindOpt = Annotated[
    str, typer.Option("--kind", help="What PATH is, for the evidence store: model or dataset.")
]


def register(app: typer.Typer) -> None:  # noqa: C901, PLR0915 - four commands
    """Add ``hash``, ``sign``, ``verify`` and ``diff``."""

    @command(app, "hash", formats=FORMATS_NO_SARIF)
    def hash_(
        path: Annotated[Path, typer.Argument(help="A model or dataset folder, or one file.")],
        method: Method = "files",
        hash_type: HashType = "sha256",
        shard_size: ShardSize = 1_000_000_000,
        ignore: Ignore = None,
        no_ignore_git: NoIgnoreGit = False,
        allow_symlinks: AllowSymlinks = False,
        workers: Workers = None,
        stream: Annotated[
            bool,
            typer.Option(
                "--stream",
                help="Write one JSON line per resource as it is hashed, then a summary line; "
                "nothing is held in memory (for folders of millions of files).",
            ),
        ] = False,
        *,
        out: Output,
    ) -> HashReport | None:
        """Print the manifest of a model or dataset: every file (or shard) with its digest.

        The layout is OpenSSF model signing's: the root digest equals the one `ssdf sign` and
        model-signing put in a signature made with the same settings.
        """
        from ssdf_ai.integrity.manifest import ManifestDigests, Walked, iter_manifest
        from ssdf_ai.integrity.oms import model_name_of
        from ssdf_ai.integrity.report import HashReport, ResourceInfo, SerializationInfo

        settings = _settings(
            path, method, hash_type, shard_size, ignore, no_ignore_git, allow_symlinks
        )
        walked = Walked(keep_stats=False)
        resources = iter_manifest(path, settings, workers=workers, walked=walked)
        if stream:
            _stream(path, settings, resources, walked)
            return None
        digests = ManifestDigests()
        items: list[ResourceInfo] = []
        for r in resources:
            digests.update(r)
            items.append(ResourceInfo(name=r.name, algorithm=r.algorithm, digest=r.digest))
        return HashReport(
            path=str(path),
            model_name=model_name_of(path),
            serialization=SerializationInfo.of(settings.to_json()),
            root=digests.root,
            names=digests.names,
            files=walked.files,
            bytes=walked.bytes_hashed,
            skipped=walked.skipped,
            resources=items,
        )

    @command(app, "sign", formats=FORMATS_NO_SARIF)
    def sign(
        path: Annotated[Path, typer.Argument(help="The model folder (or file) to sign.")],
        key: Annotated[
            Path | None,
            typer.Option(
                "--key",
                help="Private key (PEM, ECDSA P-256/384/521).",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        passphrase_env: Annotated[
            str | None,
            typer.Option(
                "--passphrase-env",
                metavar="VAR",
                help="Read the key's passphrase from VAR.",
                show_default=False,
            ),
        ] = None,
        certificate: Annotated[
            Path | None,
            typer.Option(
                "--certificate",
                help="Signing certificate for --key (certificate method).",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        chain: Annotated[
            list[Path] | None,
            typer.Option(
                "--chain",
                help="Intermediate certificates to carry (PEM). Repeatable.",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        sigstore: Annotated[
            bool,
            typer.Option(
                "--sigstore", help="Sign keyless with Sigstore (network; 'sigstore' extra)."
            ),
        ] = False,
        signature: Annotated[
            Path | None,
            typer.Option(
                "--signature",
                "-s",
                help="Where to write the signature (default PATH/model.sig, or FILE.sig).",
                show_default=False,
            ),
        ] = None,
        parent: Annotated[
            Path | None,
            typer.Option(
                "--parent",
                help="The previous version's signature: recorded as this one's parent, its "
                "digests reused for unchanged files.",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        full: Annotated[
            bool,
            typer.Option(
                "--full", help="Re-hash every file; reuse no digest of a previous signature."
            ),
        ] = False,
        method: Method = "files",
        hash_type: HashType = "sha256",
        shard_size: ShardSize = 1_000_000_000,
        ignore: Ignore = None,
        no_ignore_git: NoIgnoreGit = False,
        allow_symlinks: AllowSymlinks = False,
        workers: Workers = None,
        kind: SubjectKindOpt = "model",
        project: ProjectOpt = Path("."),
        record: Record = True,
        *,
        out: Output,
    ) -> SignReport:
        """Sign a model (or dataset) in the OpenSSF model signing format.

        Re-signing reuses the digests of files whose size and modification time match the
        previous signature (PATH/model.sig, or --parent) once that signature verifies with the
        same key; --full re-hashes everything.
        """
        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.errors import InputError
        from ssdf_ai.integrity.oms import sign_model
        from ssdf_ai.integrity.report import SerializationInfo, SignReport

        if kind not in ("model", "dataset"):
            raise InputError(f"--kind {kind!r}: use model or dataset")
        settings = _settings(
            path, method, hash_type, shard_size, ignore, no_ignore_git, allow_symlinks
        )
        sig_path = signature or default_signature(path)
        if sigstore:
            if key is not None or certificate is not None:
                raise InputError("--sigstore signs keyless; leave out --key and --certificate")
            report = _sign_sigstore(path, sig_path, settings, out)
            if record:
                _record_signature(_project(project), path, kind, report.root, sig_path, out)
            return report
        if key is None:
            raise InputError(
                "no signing key",
                hint="give --key KEY (create one with `ssdf keys generate`), or --sigstore",
            )
        root = _project(project)
        signer = _signer(key, passphrase_env, certificate, chain)
        parent_signed = _verified_previous(parent, signer, "parent signature") if parent else None
        reuse = parent_signed
        reuse_from = parent
        if reuse is None and not full and sig_path.is_file():
            try:
                reuse = _verified_previous(sig_path, signer, "previous signature")
                reuse_from = sig_path
            except InputError:
                out.status(f"{sig_path} does not verify with this key; hashing every file")
        if full:
            reuse = None
        started = time.monotonic()
        result = sign_model(
            path, sig_path, signer, settings, parent=parent_signed, reuse=reuse, workers=workers
        )
        identity = (
            signer.certificate.subject.rfc4514_string()
            if signer.certificate is not None
            else _key_id(signer)
        )
        report = SignReport(
            path=str(path),
            signature=str(sig_path),
            signature_sha256=result.signature_sha256,
            method=signer.method,
            signer=identity,
            model_name=result.model_name,
            serialization=SerializationInfo.of(settings.to_json()),
            root=result.root,
            names=result.names,
            resources=result.resources,
            files=result.walked.files,
            bytes_hashed=result.walked.bytes_hashed,
            reused_files=result.walked.reused_files,
            reused_from=str(reuse_from) if result.walked.reused_files else None,
            parent=result.parent,
            seconds=round(time.monotonic() - started, 3),
            skipped=result.walked.skipped,
        )
        if record:
            _record_signature(root, path, kind, result.root, sig_path, out)
        return report

    @command(app, "verify", formats=FORMATS_ALL)
    def verify(
        path: Annotated[Path, typer.Argument(help="The model folder (or file) to verify.")],
        signature: Annotated[
            Path | None,
            typer.Option(
                "--signature",
                "-s",
                help="The signature (default PATH/model.sig, or FILE.sig).",
                show_default=False,
            ),
        ] = None,
        key: TrustKey = None,
        certificate_chain: TrustChain = None,
        identity: Identity = None,
        issuer: Issuer = None,
        workers: Workers = None,
        kind: SubjectKindOpt = "model",
        project: ProjectOpt = Path("."),
        record: Record = True,
        *,
        out: Output,
    ) -> VerifyReport:
        """Verify a signature and that the files match it exactly.

        Re-hashes with the settings recorded in the signature and reports every added, removed
        and changed file by name with hex digests. Exit 0 verified, 1 any problem or difference.
        """
        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.errors import InputError
        from ssdf_ai.integrity.oms import compare, verify_bundle
        from ssdf_ai.integrity.report import ChangeInfo, SerializationInfo, VerifyReport

        if not path.exists():
            raise InputError(f"{path} does not exist", where=path)
        sig_path = signature or default_signature(path)
        trust = _trust(key, certificate_chain, identity, issuer)
        root = _project(project)
        signed, who, problems = verify_bundle(sig_path, trust)
        changes, walked = compare(signed, path, signature=sig_path, workers=workers)
        report = VerifyReport.build(
            path=str(path),
            signature=str(sig_path),
            problems=problems,
            changes=[ChangeInfo.of(c) for c in changes],
            method=who.method if who else None,
            signer=who.identity if who else None,
            model_name=signed.model_name,
            root=signed.root,
            serialization=SerializationInfo.of(signed.serialization.to_json()),
            files=walked.files,
            resources=len(signed.resources),
        )
        if record:
            run_id = _record(
                root,
                "verify",
                path,
                kind,
                signed.root if report.verified else None,
                artifacts=[
                    (
                        report.model_dump_json(indent=2).encode("utf-8"),
                        "verification-report",
                        "application/json",
                        "verify-report.json",
                    )
                ],
                findings=list(report.findings),
                exit_code=report.exit_code(),
            )
            out.status(f"recorded as run:{run_id}")
        return report

    @command(app, "diff", formats=FORMATS_NO_SARIF)
    def diff(
        old: Annotated[
            Path, typer.Argument(help="The earlier version's signature.", dir_okay=False)
        ],
        new: Annotated[Path, typer.Argument(help="The later version's signature.", dir_okay=False)],
        key: TrustKey = None,
        certificate_chain: TrustChain = None,
        unverified: Annotated[
            bool,
            typer.Option(
                "--unverified", help="Compare without checking who signed (not recommended)."
            ),
        ] = False,
        *,
        out: Output,
    ) -> DiffReport:
        """List what changed between two signed versions, and whether they form a chain."""
        from ssdf_ai.errors import InputError
        from ssdf_ai.integrity.oms import (
            diff_manifests,
            parse_statement,
            read_bundle,
            verify_bundle,
        )
        from ssdf_ai.integrity.report import ChangeInfo, DiffReport

        problems: list[str] = []
        signers: list[str | None] = []
        states = []
        for sig in (old, new):
            if unverified:
                if key is not None or certificate_chain:
                    raise InputError("--unverified takes no --key or --certificate-chain")
                bundle, payload, _ = read_bundle(sig)
                signed = parse_statement(sig, bundle, payload)
                signers.append(None)
                problems += [f"{sig}: {p}" for p in signed.problems]
            else:
                signed, who, found = verify_bundle(sig, _trust(key, certificate_chain, None, None))
                signers.append(who.identity if who else None)
                problems += [f"{sig}: {p}" for p in found]
            states.append(signed)
        before, after = states
        parent = after.parent or {}
        return DiffReport(
            old=str(old),
            new=str(new),
            old_root=before.root,
            new_root=after.root,
            old_signer=signers[0],
            new_signer=signers[1],
            chained=parent.get("signature_sha256") == before.signature_sha256,
            problems=problems,
            changes=[ChangeInfo.of(c) for c in diff_manifests(before, after)],
        )


def _key_id(signer: Signer) -> str:
    from ssdf_ai.integrity.keys import key_id

    return key_id(signer.key.public_key())


def _stream(
    path: Path, settings: Serialization, resources: Iterator[Resource], walked: Walked
) -> None:
    import json

    from ssdf_ai.integrity.manifest import ManifestDigests

    digests = ManifestDigests()
    write = sys.stdout.write
    for r in resources:
        digests.update(r)
        write(json.dumps({"name": r.name, "algorithm": r.algorithm, "digest": r.digest}) + "\n")
    summary = {
        "summary": True,
        "path": str(path),
        "serialization": settings.to_json(),
        "resources": digests.count,
        "files": walked.files,
        "bytes": walked.bytes_hashed,
        "root": digests.root,
        "names": digests.names,
        "skipped": walked.skipped,
    }
    write(json.dumps(summary) + "\n")


def _sign_sigstore(path: Path, sig_path: Path, settings: Serialization, out: Output) -> SignReport:
    import hashlib
    import io

    from ssdf_ai._io import atomic_write
    from ssdf_ai.integrity.manifest import Walked, iter_manifest
    from ssdf_ai.integrity.oms import (
        _write_payload,
        model_name_of,
        sigstore_sign_payload,
        with_signature_ignored,
    )
    from ssdf_ai.integrity.report import SerializationInfo, SignReport

    started = time.monotonic()
    settings = with_signature_ignored(path, sig_path, settings)
    walked = Walked()
    body = io.BytesIO()
    root_hex, names_hex, count = _write_payload(
        body, path, settings, iter_manifest(path, settings, walked=walked), walked, {"version": 1}
    )
    bundle = sigstore_sign_payload(body.getvalue())
    atomic_write(sig_path, bundle)
    return SignReport(
        path=str(path),
        signature=str(sig_path),
        signature_sha256=hashlib.sha256(bundle).hexdigest(),
        method="sigstore",
        signer="sigstore",
        model_name=model_name_of(path),
        serialization=SerializationInfo.of(settings.to_json()),
        root=root_hex,
        names=names_hex,
        resources=count,
        files=walked.files,
        bytes_hashed=walked.bytes_hashed,
        reused_files=0,
        seconds=round(time.monotonic() - started, 3),
    )
