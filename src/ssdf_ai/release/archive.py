"""Release archives: a model's versioned, signed release, and its verification.

``build_release`` gathers what an acquirer needs to trust a model into one folder,
``<name>-<version>/``, signs every file of it with an OpenSSF model signing (OMS) signature
(``release.sig``) and writes it as ``<name>-<version>.tar.gz``:

========================== ===============================================================
``model.sig``              the weights' OMS signature (the newest recorded by ``ssdf sign``)
``provenance.intoto.jsonl`` the DSSE envelopes of the recorded runs that produced the model
``bom.cdx.json``           CycloneDX ML-BOM of the model
``bom.spdx.json``          SPDX 3 AI/Dataset document of the model
``MODEL_CARD.md``          the model card (:mod:`ssdf_ai.release.card`)
``scan-report.json``       the newest scan report covering the model's files
``assessment.json``        the newest recorded assessment
``release.json``           the release manifest: name, version, model digest, members, notes
``release.sig``            OMS signature over every other member
========================== ===============================================================

A member that cannot be had is left out and ``release.json`` says why (its ``notes``); the
model's signature is the one member without which there is no release. The archive is
deterministic in layout: members in name order, every mtime the release time, uid and gid 0,
no directories, links or absolute paths; it is written atomically.

``verify_release`` reads an archive without trusting it: members are read through bounded
streams (count, sizes, decompressed total, tar metadata), only regular files with normal
relative names are written, into a private temporary folder, and every check is reported with
its result: the archive's shape, ``release.sig`` (authentic with the given key, and covering
exactly the members), the manifest, ``model.sig`` (authentic with the given key or a
``[[signers]]`` key), the provenance envelopes, the model digest named alike by ``model.sig``,
the BOMs, the card and the manifest, and, given the model folder, its files against
``model.sig``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from ssdf_ai._tar import BoundedReader, guarded_tarinfo, member_kind, unsafe_name
from ssdf_ai._version import __version__
from ssdf_ai.errors import Error, InputError, VerificationError
from ssdf_ai.release.card import (
    Runs,
    _under,
    model_card,
    model_entry,
    recorded_runs,
    relative_name,
    trusted_keys,
)
from ssdf_ai.release.report import (
    CheckStatus,
    ReleaseCheck,
    ReleaseMember,
    ReleaseVerifyReport,
)

if TYPE_CHECKING:
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.integrity.keys import PublicKey
    from ssdf_ai.integrity.oms import Signed, Signer
    from ssdf_ai.release.card import StoreEvidence

__all__ = [
    "ARCHIVE_KIND",
    "MANIFEST_KIND",
    "BuiltRelease",
    "ReleaseLimits",
    "build_release",
    "record_release",
    "verify_release",
]

RELEASE_FORMAT = "ssdf-ai-release"
FORMAT_VERSION = 1
MANIFEST = "release.json"
SIGNATURE = "release.sig"
MODEL_SIG = "model.sig"
PROVENANCE = "provenance.intoto.jsonl"
CYCLONEDX = "bom.cdx.json"
SPDX = "bom.spdx.json"
CARD = "MODEL_CARD.md"
SCAN = "scan-report.json"
ASSESSMENT = "assessment.json"
ARCHIVE_KIND = "release-archive"
MANIFEST_KIND = "release-manifest"
ARCHIVE_MEDIA_TYPE = "application/gzip"
MAX_PROVENANCE_LINES = 10_000
_CHUNK = 1 << 20
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_CARD_DIGEST = re.compile(r"^- Model digest: `sha256:([0-9a-f]{64})`", re.M)


@dataclasses.dataclass(frozen=True)
class ReleaseLimits:
    """Bounds ``verify_release`` keeps to, whatever the archive claims.

    Attributes:
        max_members: Most tar members read.
        max_member_size: Largest member (a release holds documents, not weights).
        max_total_size: Most bytes of member content, in total.
        max_metadata_size: Largest pax or GNU long-name header.
    """

    max_members: int = 64
    max_member_size: int = 256 << 20
    max_total_size: int = 1 << 30
    max_metadata_size: int = 64 << 10


@dataclasses.dataclass(frozen=True)
class BuiltRelease:
    """What ``build_release`` wrote.

    Attributes:
        archive: The archive file.
        sha256: Its SHA-256.
        size: Its size in bytes.
        name: The release name.
        version: The version.
        created: The release time (every member's mtime).
        model: The model's path relative to the project root.
        model_digest: The model's OMS root, as ``model.sig`` names it.
        signer: Key id of the release key.
        members: Every member but ``release.sig``, with digests and sources.
        notes: What the release lacks, and why.
        manifest: The bytes of ``release.json``.
    """

    archive: Path
    sha256: str
    size: int
    name: str
    version: str
    created: dt.datetime
    model: str
    model_digest: str
    signer: str
    members: tuple[ReleaseMember, ...]
    notes: tuple[str, ...]
    manifest: bytes


# -- building ------------------------------------------------------------------------------


def release_name(name: str) -> str:
    """A release name safe as a file name: letters, digits, ``.``, ``_`` and ``-``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    if not safe:
        raise InputError(
            f"cannot make a release name from {name!r}",
            hint="give the model a name with letters or digits ([[models]] name in ssdf.toml)",
        )
    return safe[:100]


def check_version(version: str) -> str:
    """Return ``version`` if it is a usable release version.

    Raises:
        InputError: It is empty, too long, or holds characters other than letters, digits,
            ``.``, ``_``, ``+`` and ``-``.
    """
    if not _VERSION.match(version):
        raise InputError(
            f"invalid release version {version!r}",
            hint="use letters, digits, '.', '_', '+' and '-', starting with a letter or digit "
            "(e.g. 1.2.0)",
        )
    return version


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _trust_candidates(
    release_key: PublicKey, trusted: Mapping[str, PublicKey]
) -> list[tuple[str, PublicKey]]:
    return [("the release key", release_key), *((f"signer {n!r}", k) for n, k in trusted.items())]


def _verify_model_signature(
    path: Path, candidates: list[tuple[str, PublicKey]]
) -> tuple[Signed, str | None, list[str]]:
    """Verify an OMS signature with the first key that verifies it; return who and problems."""
    from ssdf_ai.integrity.oms import Trust, parse_statement, read_bundle, verify_bundle

    failures: list[str] = []
    for label, key in candidates:
        signed, who, problems = verify_bundle(path, Trust(public_key=key))
        if who is not None and not problems:
            return signed, f"{label} ({who.identity})", []
        failures.append(f"{label}: {'; '.join(problems)}")
    bundle, payload, _ = read_bundle(path)
    signed = parse_statement(path, bundle, payload)
    return signed, None, failures or ["no key to verify it with"]


def _model_signature(root: Path, model: Path, evidence: StoreEvidence) -> tuple[bytes, str]:
    from ssdf_ai.integrity.oms import MAX_SIGNATURE_BYTES

    if evidence.signature is not None:
        artifact = evidence.signature.artifact
        return evidence.signature.data, (
            f"evidence: model-signature {artifact.digest} (run {artifact.run_id})"
        )
    default = model / MODEL_SIG if model.is_dir() else model.with_name(model.name + ".sig")
    if default.is_file() and not default.is_symlink():
        if default.stat().st_size > MAX_SIGNATURE_BYTES:
            raise InputError(f"{default} is too large to be a signature", where=default)
        return default.read_bytes(), f"file: {relative_name(root, default)}"
    raise InputError(
        f"the model {relative_name(root, model)} has no signature: no model-signature in the "
        f"evidence store and no {default.name}",
        where=model,
        hint=f"sign it first: `ssdf sign {model} --key KEY`",
    )


def _bom_documents(
    root: Path, model: Path, loaded: LoadedConfig, created: dt.datetime
) -> dict[str, tuple[bytes, str]]:
    """The CycloneDX ML-BOM and the SPDX 3 document of the model, from one gathering."""
    from ssdf_ai.bom import cyclonedx_bom, dumps, gather_model_info, spdx_document

    info = gather_model_info(root, model, loaded_config=loaded)
    cyclonedx = cyclonedx_bom(root, model, info=info, timestamp=created)
    spdx = spdx_document(root, model, info=info, timestamp=created)
    return {
        CYCLONEDX: (dumps(cyclonedx).encode("utf-8"), "ssdf_ai.bom.cyclonedx_bom"),
        SPDX: (dumps(spdx).encode("utf-8"), "ssdf_ai.bom.spdx_document"),
    }


def _provenance(runs: Runs, rel: str, notes: list[str]) -> tuple[bytes, str] | None:
    """The envelopes of the runs that produced the model and whose provenance verifies."""
    from ssdf_ai.provenance.dsse import dump_envelope

    producing = runs.producing(rel)
    if not producing:
        notes.append(
            f"{PROVENANCE} is not included: no recorded run produced {rel} "
            "(record the training run with `ssdf record`)"
        )
        return None
    lines: list[bytes] = []
    restrictions: dict[str, str] = {}
    for run in producing:
        if not run.verified:
            notes.append(
                f"the run {run.name!r} (.intoto.jsonl line {run.line}) produced the model but is "
                f"left out: its provenance does not verify ({'; '.join(run.problems[:3])})"
            )
            continue
        lines.append(dump_envelope(run.envelope) + b"\n")
        for output in run.outputs:
            value = output.annotations.get("restrictions")
            if isinstance(value, Mapping) and _under(output.name, rel):
                restrictions.update({str(k): str(v) for k, v in value.items()})
    notes += [
        f"the model was made from sensitive data ({category}): {restriction}"
        for category, restriction in sorted(restrictions.items())
    ]
    if not lines:
        notes.append(f"{PROVENANCE} is not included: no run that produced {rel} verifies")
        return None
    return b"".join(lines), f"{len(lines)} recorded run(s) from .intoto.jsonl"


def build_release(
    root: Path,
    model: Path,
    *,
    version: str,
    signer: Signer,
    loaded: LoadedConfig,
    out_dir: Path | None = None,
    url: str | None = None,
    now: dt.datetime | None = None,
) -> BuiltRelease:
    """Assemble, sign and write the release archive of ``model``.

    Args:
        root: The project root.
        model: The model folder (or file), inside the project.
        version: The release version.
        signer: The key that signs ``release.sig``.
        loaded: The project's configuration.
        out_dir: Where to write the archive (default ``root/releases``).
        url: The evidence store's database URL.
        now: The release time (default: now).

    Returns:
        What was written.

    Raises:
        InputError: The model does not exist or has no signature, the version is invalid, or
            the archive for this version exists already.
        VerificationError: The model's files do not match its signature, or the signature
            verifies with neither the release key nor a ``[[signers]]`` key.
    """
    from ssdf_ai._io import atomic_writer
    from ssdf_ai.evidence import sha256_file
    from ssdf_ai.integrity.keys import key_id
    from ssdf_ai.integrity.manifest import Serialization
    from ssdf_ai.integrity.oms import compare, model_name_of, sign_model
    from ssdf_ai.release.card import gather_store

    check_version(version)
    if not model.exists():
        raise InputError(f"{model} does not exist", where=model)
    rel = relative_name(root, model)
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    entry = model_entry(loaded, rel)
    name = release_name(str(getattr(entry, "name", None) or model_name_of(model)))
    top = f"{name}-{version}"
    out_dir = out_dir if out_dir is not None else root / "releases"
    archive = out_dir / f"{top}.tar.gz"
    if archive.exists():
        raise InputError(
            f"the release {archive} exists already",
            where=archive,
            hint="a version is released once: choose a new --version",
        )
    evidence = gather_store(root, rel, url)
    signature, signature_source = _model_signature(root, model, evidence)
    trusted = trusted_keys(loaded)
    notes: list[str] = []
    files: dict[str, tuple[bytes, str]] = {MODEL_SIG: (signature, signature_source)}

    with tempfile.TemporaryDirectory(prefix="ssdf-release-") as tmp:
        stage = Path(tmp) / top
        stage.mkdir(mode=0o700)
        sig_path = Path(tmp) / MODEL_SIG
        sig_path.write_bytes(signature)
        signed, who, problems = _verify_model_signature(
            sig_path, _trust_candidates(signer.key.public_key(), trusted)
        )
        if who is None:
            raise VerificationError(
                f"refusing to release {rel}: its signature ({signature_source}) does not verify "
                f"with the release key or a [[signers]] key: {'; '.join(problems)}",
                where=model,
                hint="sign the model with a trusted key (`ssdf sign`), or add the model "
                "signer's public key to [[signers]] in ssdf.toml",
            )
        default_sig = model / MODEL_SIG if model.is_dir() else None
        changes, _ = compare(signed, model, signature=default_sig)
        if changes:
            listed = "; ".join(f"{c.kind} {c.name}" for c in changes[:10])
            raise VerificationError(
                f"refusing to release {rel}: its files differ from its signature: {listed}",
                where=model,
                hint="restore the signed files, or sign this version (`ssdf sign`) first",
            )

        runs = recorded_runs(root, {**trusted, "release key": signer.key.public_key()})
        provenance = _provenance(runs, rel, notes)
        if provenance is not None:
            files[PROVENANCE] = provenance
        files.update(_bom_documents(root, model, loaded, created))
        if not bom_comparable(signed):
            notes.append(
                f"{CYCLONEDX} and {SPDX} name the model by its OMS root with the default "
                f"settings; {MODEL_SIG} was made with other settings "
                f"({signed.serialization.method}, {signed.serialization.hash_type}), so its "
                "root differs"
            )
        card = model_card(
            root,
            model,
            loaded=loaded,
            url=url,
            now=created,
            store=evidence,
            runs=runs,
            signature=signature,
        )
        files[CARD] = (card.text.encode("utf-8"), "ssdf card")
        if evidence.scan is not None:
            artifact = evidence.scan.artifact
            files[SCAN] = (
                evidence.scan.data,
                f"evidence: scan-report {artifact.digest} (run {artifact.run_id})",
            )
            if evidence.scan.findings or evidence.scan.skipped:
                notes.append(
                    f"the newest scan of the model (run {artifact.run_id}) has "
                    f"{len(evidence.scan.findings)} finding(s) and "
                    f"{len(evidence.scan.skipped)} file(s) not scanned; see {SCAN}"
                )
        else:
            notes.append(
                f"{SCAN} is not included: no recorded scan covers the model's files "
                f"(run `ssdf scan {rel}`)"
            )
        if evidence.assessment is not None and evidence.assessment_data is not None:
            artifact = evidence.assessment
            files[ASSESSMENT] = (
                evidence.assessment_data,
                f"evidence: assessment {artifact.digest} (run {artifact.run_id})",
            )
        else:
            notes.append(f"{ASSESSMENT} is not included: no assessment is recorded (`ssdf assess`)")

        members = tuple(
            ReleaseMember(name=n, sha256=_sha256(data), size=len(data), source=source)
            for n, (data, source) in sorted(files.items())
        )
        manifest = _manifest(name, version, created, rel, signed, signature, members, notes)
        files[MANIFEST] = (manifest, "ssdf release build")
        for member, (data, _) in files.items():
            (stage / member).write_bytes(data)
        sign_model(stage, stage / SIGNATURE, signer, Serialization())
        names = sorted([*files, SIGNATURE])
        out_dir.mkdir(parents=True, exist_ok=True)
        mtime = int(created.timestamp())
        with atomic_writer(archive) as handle:
            _write_tar(handle, stage, top, names, mtime)
    return BuiltRelease(
        archive=archive,
        sha256=sha256_file(archive),
        size=archive.stat().st_size,
        name=name,
        version=version,
        created=created,
        model=rel,
        model_digest=signed.root,
        signer=key_id(signer.key.public_key()),
        members=members,
        notes=tuple(notes),
        manifest=manifest,
    )


def _manifest(
    name: str,
    version: str,
    created: dt.datetime,
    rel: str,
    signed: Signed,
    signature: bytes,
    members: tuple[ReleaseMember, ...],
    notes: list[str],
) -> bytes:
    document = {
        "format": RELEASE_FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "created": created.isoformat(),
        "tool": {"name": "ssdf-ai", "version": __version__},
        "model": {
            "path": rel,
            "name": signed.model_name,
            "digest": {"sha256": signed.root},
            "signature_sha256": _sha256(signature),
        },
        "members": [m.model_dump() for m in members],
        "notes": notes,
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _write_tar(handle: IO[bytes], stage: Path, top: str, names: list[str], mtime: int) -> None:
    # mtime and no file name in the gzip header: the layout is reproducible.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=mtime) as gz,
        tarfile.open(fileobj=cast(IO[bytes], gz), mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in names:
            data = (stage / name).read_bytes()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))


def record_release(root: Path, url: str | None, built: BuiltRelease, argv: list[str]) -> int:
    """Record a ``release`` run: the model subject, the archive and its manifest; return its id."""
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(root, url=url) as store, store.run("release", argv) as run:
        subject_id = run.add_subject(
            Subject(kind=SubjectKind.MODEL, name=built.model, digest=built.model_digest)
        )
        run.add_artifact_file(
            built.archive,
            kind=ARCHIVE_KIND,
            media_type=ARCHIVE_MEDIA_TYPE,
            subject_id=subject_id,
            name=built.archive.name,
        )
        run.add_artifact(
            built.manifest,
            kind=MANIFEST_KIND,
            media_type="application/json",
            subject_id=subject_id,
            name=f"{built.name}-{built.version}.{MANIFEST}",
        )
        return run.id


# -- reading an untrusted archive ----------------------------------------------------------


class _LimitError(Exception):
    """A bound was reached; reading stops."""


def _sparse_refused(_what: str) -> _LimitError:
    return _LimitError("the archive holds a sparse file, which is refused")


@dataclasses.dataclass
class _Extracted:
    folder: Path | None = None
    top: str | None = None
    members: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)


def _open_stream(raw: IO[bytes]) -> Any:
    head = raw.read(2)
    raw.seek(0)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def _extract(path: Path, dest: Path, limits: ReleaseLimits) -> _Extracted:
    """Write the archive's regular files under ``dest``, refusing anything unsafe.

    Raises:
        InputError: The file is not a (gzip-compressed) tar archive.
    """
    result = _Extracted()
    budget = (
        limits.max_total_size
        + (limits.max_members + 16) * (limits.max_metadata_size + 4 * tarfile.BLOCKSIZE)
        + (1 << 20)
    )
    total = 0
    tops: set[str] = set()
    damage: list[str] = []
    with open(path, "rb") as raw:
        stream = _open_stream(raw)
        try:
            limited = BoundedReader(
                stream,
                budget,
                _LimitError,
                f"the archive decompresses to more than {budget} bytes",
            )
            tar = tarfile.open(  # noqa: SIM115 - closed below
                fileobj=cast(IO[bytes], limited),
                mode="r|",
                tarinfo=guarded_tarinfo(
                    limits.max_metadata_size,
                    limit_error=_LimitError,
                    sparse_error=_sparse_refused,
                    on_damage=damage.append,
                ),
            )
        except _LimitError as exc:
            result.problems.append(str(exc))
            return result
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise InputError(
                f"{path} is not a tar archive ({exc})",
                where=path,
                hint="give the .tar.gz that `ssdf release build` wrote",
            ) from None
        try:
            with tar:
                while (member := tar.next()) is not None:
                    cast(Any, tar).members.clear()  # keep memory flat
                    result.members += 1
                    if result.members > limits.max_members:
                        result.problems.append(
                            f"the archive has more than {limits.max_members} members; a "
                            "release has a handful"
                        )
                        break
                    size = _extract_member(tar, member, dest, limits, result, tops)
                    total += size
                    if total > limits.max_total_size:
                        result.problems.append(
                            f"the members hold more than {limits.max_total_size} bytes"
                        )
                        break
        except _LimitError as exc:
            result.problems.append(str(exc))
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as exc:
            result.problems.append(
                f"the archive is truncated or damaged after {result.members} member(s): {exc}"
            )
    if damage and not result.problems:
        result.problems.append(
            f"the archive is truncated or damaged after {result.members} member(s): {damage[0]}"
        )
    if not result.problems:
        if len(tops) != 1:
            found = ", ".join(sorted(tops)) or "none"
            result.problems.append(
                f"a release holds exactly one folder <name>-<version>/; this archive holds "
                f"{len(tops)} ({found})"
            )
        else:
            result.top = next(iter(tops))
            result.folder = dest / result.top
    return result


def _extract_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    dest: Path,
    limits: ReleaseLimits,
    result: _Extracted,
    tops: set[str],
) -> int:
    name = member.name.rstrip("/") if member.isdir() else member.name
    reason = unsafe_name(name)
    if reason is not None:
        result.problems.append(f"member {member.name!r} has {reason}; it was not extracted")
        return 0
    if member.isdir():
        return 0  # folders are implied by their files; nothing to write
    if not member.isreg() or member.issparse():
        result.problems.append(
            f"member {name!r} is {member_kind(member)}, not a regular file; it was not extracted"
        )
        return 0
    parts = name.split("/")
    if len(parts) < 2:
        result.problems.append(f"member {name!r} is outside the release folder")
        return 0
    if member.size > limits.max_member_size:
        raise _LimitError(
            f"member {name!r} declares {member.size} bytes (limit {limits.max_member_size})"
        )
    tops.add(parts[0])
    target = dest.joinpath(*parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        result.problems.append(f"member {name!r} appears twice")
        return 0
    except (NotADirectoryError, IsADirectoryError):
        result.problems.append(f"member {name!r} clashes with another member's path")
        return 0
    handle = tar.extractfile(member)
    written = 0
    with os.fdopen(fd, "wb") as out:
        if handle is not None:
            while chunk := handle.read(_CHUNK):
                written += len(chunk)
                out.write(chunk)
    return written


# -- verifying -----------------------------------------------------------------------------


def _check(name: str, problems: list[str], passed: str, failed: str | None = None) -> ReleaseCheck:
    if problems:
        return ReleaseCheck(
            name=name, status=CheckStatus.FAILED, detail=failed or passed, problems=problems
        )
    return ReleaseCheck(name=name, status=CheckStatus.PASSED, detail=passed)


def _skip(name: str, why: str) -> ReleaseCheck:
    return ReleaseCheck(name=name, status=CheckStatus.SKIPPED, detail=why)


@contextlib.contextmanager
def _private_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ssdf-release-verify-") as tmp:
        os.chmod(tmp, 0o700)
        yield Path(tmp)


def verify_release(
    archive: Path,
    public_key: PublicKey,
    *,
    trusted: Mapping[str, PublicKey] | None = None,
    model: Path | None = None,
    limits: ReleaseLimits | None = None,
    workers: int | None = None,
) -> ReleaseVerifyReport:
    """Verify a release archive; every check is reported with its result.

    Args:
        archive: The ``.tar.gz`` written by :func:`build_release`.
        public_key: The release key's public key: ``release.sig`` must verify with it.
        trusted: More keys (the project's ``[[signers]]``) for ``model.sig`` and the provenance.
        model: The model folder, to verify its files against ``model.sig``.
        limits: Bounds on what is read.
        workers: Hashing threads for the model's files.

    Returns:
        The report; ``verified`` only when no check failed.

    Raises:
        InputError: The archive is missing or not a (gzip-compressed) tar archive, or the model
            folder does not exist.
    """
    from ssdf_ai.evidence import sha256_file

    limits = limits or ReleaseLimits()
    if not archive.is_file():
        raise InputError(f"no release archive at {archive}", where=archive)
    if model is not None and not model.exists():
        raise InputError(f"{model} does not exist", where=model)
    digest = sha256_file(archive)
    candidates = _trust_candidates(public_key, trusted or {})
    with _private_dir() as tmp:
        extracted = _extract(archive, tmp, limits)
        if extracted.folder is None or extracted.top is None:
            check = ReleaseCheck(
                name="archive",
                status=CheckStatus.FAILED,
                detail="the archive is not a well-formed release; nothing else was checked",
                problems=extracted.problems,
            )
            return ReleaseVerifyReport.build([check], archive=str(archive), sha256=digest)
        return _verify_folder(archive, digest, extracted, public_key, candidates, model, workers)


def _verify_folder(
    archive: Path,
    digest: str,
    extracted: _Extracted,
    public_key: PublicKey,
    candidates: list[tuple[str, PublicKey]],
    model: Path | None,
    workers: int | None,
) -> ReleaseVerifyReport:
    folder = cast(Path, extracted.folder)
    top = cast(str, extracted.top)
    checks = [
        _check(
            "archive",
            extracted.problems,
            f"{extracted.members} member(s) under {top}/, all regular files with safe names",
        )
    ]
    checks += _check_release_signature(folder, top, public_key)
    manifest, manifest_check = _check_manifest(folder, top)
    checks.append(manifest_check)
    notes = [str(n) for n in (manifest or {}).get("notes") or []]
    signed_model, model_check = _check_model_signature(folder, candidates)
    checks.append(model_check)
    checks.append(_check_provenance(folder, candidates, notes))
    checks.append(_check_digests(folder, signed_model, manifest))
    if model is None:
        checks.append(_skip("weights", "not asked: give --model PATH to verify the model's files"))
    elif signed_model is None:
        checks.append(
            ReleaseCheck(
                name="weights",
                status=CheckStatus.FAILED,
                detail=f"{model} cannot be verified: the release's model.sig is unusable",
            )
        )
    else:
        checks.append(_check_weights(model, signed_model, model_check, workers))
    name = version = None
    if manifest is not None:
        name = manifest.get("name") if isinstance(manifest.get("name"), str) else None
        version = manifest.get("version") if isinstance(manifest.get("version"), str) else None
    return ReleaseVerifyReport.build(
        checks,
        archive=str(archive),
        sha256=digest,
        name=name or top,
        version=version,
        model_digest=signed_model.root if signed_model is not None else None,
        notes=notes,
    )


def _check_release_signature(folder: Path, top: str, public_key: PublicKey) -> list[ReleaseCheck]:
    from ssdf_ai.integrity.oms import Trust, compare, verify_bundle

    sig = folder / SIGNATURE
    if not sig.is_file():
        return [
            ReleaseCheck(
                name="release-signature",
                status=CheckStatus.FAILED,
                detail=f"the release has no {SIGNATURE}: nothing vouches for its contents",
            ),
            _skip("release-contents", f"no {SIGNATURE} to compare the members with"),
        ]
    try:
        signed, who, problems = verify_bundle(sig, Trust(public_key=public_key))
    except Error as exc:
        return [
            ReleaseCheck(
                name="release-signature",
                status=CheckStatus.FAILED,
                detail=f"{SIGNATURE} is not a readable signature",
                problems=[exc.message],
            ),
            _skip("release-contents", f"{SIGNATURE} is unreadable"),
        ]
    problems = list(problems)
    if signed.model_name != top:
        problems.append(
            f"{SIGNATURE} signs a release named {signed.model_name!r}, not the archive's {top!r}"
        )
    identity = who.identity if who is not None else "?"
    checks = [
        _check(
            "release-signature",
            problems,
            f"{SIGNATURE} verifies with key {identity}",
            f"{SIGNATURE} does not verify with the given key",
        )
    ]
    changes, _ = compare(signed, folder, signature=sig)
    wording = {
        "changed": "member {name} changed: signed sha256 {expected}, now {actual}",
        "added": "member {name} was added: release.sig does not cover it",
        "removed": "member {name} was removed: release.sig covers it (sha256 {expected})",
    }
    found = [
        wording[c.kind].format(name=c.name, expected=c.expected, actual=c.actual) for c in changes
    ]
    count = len(signed.resources)
    checks.append(
        _check(
            "release-contents",
            found,
            f"the {count} signed member(s) match exactly",
            "the members differ from what release.sig covers",
        )
    )
    return checks


def _read_json(path: Path) -> Any:
    from ssdf_ai.provenance.dsse import parse_json

    return parse_json(path.read_bytes(), path.name, limit=64 << 20)


def _check_manifest(folder: Path, top: str) -> tuple[dict[str, Any] | None, ReleaseCheck]:
    path = folder / MANIFEST
    if not path.is_file():
        return None, ReleaseCheck(
            name="manifest", status=CheckStatus.FAILED, detail=f"the release has no {MANIFEST}"
        )
    try:
        manifest = _read_json(path)
    except Error as exc:
        return None, ReleaseCheck(
            name="manifest",
            status=CheckStatus.FAILED,
            detail=f"{MANIFEST} is not valid JSON",
            problems=[exc.message],
        )
    if not isinstance(manifest, dict) or manifest.get("format") != RELEASE_FORMAT:
        return None, ReleaseCheck(
            name="manifest",
            status=CheckStatus.FAILED,
            detail=f"{MANIFEST} is not an ssdf-ai release manifest",
        )
    problems: list[str] = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(
            f"format version {manifest.get('format_version')!r}; this ssdf-ai reads "
            f"{FORMAT_VERSION}"
        )
    expected_top = f"{manifest.get('name')}-{manifest.get('version')}"
    if expected_top != top:
        problems.append(f"it names the release {expected_top!r}, the archive's folder is {top!r}")
    listed = manifest.get("members")
    for item in listed if isinstance(listed, list) else []:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or unsafe_name(name) is not None or "/" in name:
            problems.append(f"it lists a member with an unusable name: {name!r}")
            continue
        member = folder / name
        if not member.is_file():
            problems.append(f"it lists {name}, which the release lacks")
            continue
        actual = hashlib.sha256(member.read_bytes()).hexdigest()
        if actual != item.get("sha256"):
            problems.append(f"{name} has sha256 {actual}; the manifest lists {item.get('sha256')}")
    if not isinstance(listed, list):
        problems.append("it lists no members")
    return manifest, _check(
        "manifest",
        problems,
        f"{MANIFEST} describes {manifest.get('name')} {manifest.get('version')} and its "
        f"{len(listed) if isinstance(listed, list) else 0} member(s) exactly",
        f"{MANIFEST} does not describe the release",
    )


def _check_model_signature(
    folder: Path, candidates: list[tuple[str, PublicKey]]
) -> tuple[Signed | None, ReleaseCheck]:
    path = folder / MODEL_SIG
    if not path.is_file():
        return None, ReleaseCheck(
            name="model-signature",
            status=CheckStatus.FAILED,
            detail=f"the release has no {MODEL_SIG}",
        )
    try:
        signed, who, problems = _verify_model_signature(path, candidates)
    except Error as exc:
        return None, ReleaseCheck(
            name="model-signature",
            status=CheckStatus.FAILED,
            detail=f"{MODEL_SIG} is not a readable model signature",
            problems=[exc.message],
        )
    return signed, _check(
        "model-signature",
        problems,
        f"{MODEL_SIG} ({signed.model_name}, root sha256:{signed.root}) verifies with {who}",
        f"{MODEL_SIG} verifies with neither the given key nor a [[signers]] key",
    )


def _check_provenance(
    folder: Path, candidates: list[tuple[str, PublicKey]], notes: list[str]
) -> ReleaseCheck:
    from ssdf_ai.provenance.dsse import load_envelope, verify_envelope

    path = folder / PROVENANCE
    if not path.is_file():
        why = next((n for n in notes if n.startswith(PROVENANCE)), None)
        return _skip("provenance", why or f"the release has no {PROVENANCE}")
    keys = dict(candidates)
    problems: list[str] = []
    count = 0
    signers: set[str] = set()
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number > MAX_PROVENANCE_LINES:
                problems.append(f"more than {MAX_PROVENANCE_LINES} envelopes")
                break
            if not line.strip():
                continue
            count += 1
            try:
                verified = verify_envelope(load_envelope(line.strip()), keys)
            except Error as exc:
                problems.append(f"line {number}: {exc.message}")
                continue
            signers.update(verified.signers)
    if count == 0:
        problems.append(f"{PROVENANCE} holds no envelope")
    return _check(
        "provenance",
        problems,
        f"{count} envelope(s) verify (signed by {', '.join(sorted(signers)) or '-'})",
        "the provenance envelopes do not all verify with the given key or [[signers]] keys",
    )


def _cyclonedx_hashes(document: Any) -> list[str]:
    """SHA-256 hashes of the machine-learning-model components of a CycloneDX BOM."""
    components: list[Any] = []
    if isinstance(document, dict):
        metadata = document.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
            components.append(metadata["component"])
        stack = list(document.get("components") or [])
        while stack and len(components) < 10_000:
            item = stack.pop()
            if isinstance(item, dict):
                components.append(item)
                stack.extend(item.get("components") or [])
    found: list[str] = []
    for component in components:
        if component.get("type") != "machine-learning-model":
            continue
        found += [
            str(h.get("content", "")).lower()
            for h in component.get("hashes") or []
            if isinstance(h, dict) and str(h.get("alg", "")).upper().replace("-", "") == "SHA256"
        ]
        # A single-file model is hashed by its bytes; the OMS root is a property beside it.
        found += [
            str(p.get("value", "")).lower()
            for p in component.get("properties") or []
            if isinstance(p, dict) and str(p.get("name", "")).endswith("oms-root")
        ]
    return found


def _spdx_hashes(document: Any) -> list[str]:
    """SHA-256 hashes of the AI packages of an SPDX 3 document."""
    elements: list[Any] = []
    if isinstance(document, dict):
        for key in ("@graph", "element", "elements"):
            if isinstance(document.get(key), list):
                elements += document[key]
    found: list[str] = []
    for element in elements:
        if not isinstance(element, dict) or "AIPackage" not in str(element.get("type", "")):
            continue
        found += [
            str(h.get("hashValue", "")).lower()
            for h in element.get("verifiedUsing") or []
            if isinstance(h, dict) and str(h.get("algorithm", "")).lower() == "sha256"
        ]
    return found


def bom_comparable(signed: Signed) -> bool:
    """Whether the BOMs' model digest can equal ``model.sig``'s root.

    The BOMs name a model by its OMS root with the default settings (files, SHA-256, only the
    default ignores and the signature file left out); a signature made with other settings
    (shards, BLAKE2b, ``--ignore``) has another root for the same files.
    """
    from ssdf_ai.integrity.manifest import DEFAULT_IGNORES

    s = signed.serialization
    return (
        s.method == "files"
        and s.hash_type == "sha256"
        and not s.allow_symlinks
        and set(s.ignore_paths) <= {*DEFAULT_IGNORES, MODEL_SIG}
    )


def _check_digests(
    folder: Path, signed: Signed | None, manifest: dict[str, Any] | None
) -> ReleaseCheck:
    if signed is None:
        return ReleaseCheck(
            name="model-digest",
            status=CheckStatus.FAILED,
            detail=f"no usable {MODEL_SIG} to take the model digest from",
        )
    root = signed.root
    # A single-file model: the BOMs may name it by the file's SHA-256, which model.sig signs.
    accepted = {root}
    if len(signed.resources) == 1 and signed.resources[0].name == ".":
        accepted.add(signed.resources[0].digest)
    problems: list[str] = []
    named: list[str] = [MODEL_SIG]
    remarks: list[str] = []
    for member, reader in ((CYCLONEDX, _cyclonedx_hashes), (SPDX, _spdx_hashes)):
        path = folder / member
        if not path.is_file():
            remarks.append(f"no {member} in this release")
            continue
        if not bom_comparable(signed):
            remarks.append(
                f"{member} not compared: it names the model by its default-settings root, and "
                f"{MODEL_SIG} was made with other settings"
            )
            continue
        try:
            hashes = reader(_read_json(path))
        except Error as exc:
            problems.append(f"{member} is not valid JSON: {exc.message}")
            continue
        if not hashes:
            problems.append(f"{member} names no SHA-256 digest for the model")
        elif not accepted & set(hashes):
            problems.append(f"{member} names the model {', '.join(hashes)}, not {root}")
        else:
            named.append(member)
    card = folder / CARD
    if card.is_file():
        match = _CARD_DIGEST.search(card.read_text(encoding="utf-8", errors="replace"))
        if match is None:
            problems.append(f"{CARD} names no model digest")
        elif match.group(1) != root:
            problems.append(f"{CARD} names the model {match.group(1)}, not {root}")
        else:
            named.append(CARD)
    else:
        problems.append(f"the release has no {CARD}")
    if manifest is not None:
        model = manifest.get("model")
        claimed = model.get("digest", {}).get("sha256") if isinstance(model, dict) else None
        if claimed != root:
            problems.append(f"{MANIFEST} names the model {claimed}, not {root}")
        else:
            named.append(MANIFEST)
    return _check(
        "model-digest",
        problems,
        f"{', '.join(named)} name the same model digest sha256:{root}"
        + (f" ({'; '.join(remarks)})" if remarks else ""),
        "the release's documents do not name the same model",
    )


def _check_weights(
    model: Path, signed: Signed, signature_check: ReleaseCheck, workers: int | None
) -> ReleaseCheck:
    from ssdf_ai.integrity.oms import compare

    problems = [f"{MODEL_SIG}: {p}" for p in signature_check.problems]
    try:
        changes, walked = compare(signed, model, workers=workers)
    except Error as exc:
        return ReleaseCheck(
            name="weights",
            status=CheckStatus.FAILED,
            detail=f"{model} cannot be hashed",
            problems=[exc.message],
        )
    wording = {
        "changed": "{name} changed: signed {expected}, now {actual}",
        "added": "{name} is not covered by model.sig (digest {actual})",
        "removed": "{name} is signed (digest {expected}) but missing",
    }
    problems += [
        wording[c.kind].format(name=c.name, expected=c.expected, actual=c.actual) for c in changes
    ]
    return _check(
        "weights",
        problems,
        f"{model}: {walked.files} file(s) match {MODEL_SIG} exactly",
        f"{model} does not match {MODEL_SIG}",
    )
