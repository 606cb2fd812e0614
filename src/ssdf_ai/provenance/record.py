"""Record a training run: run a command, then sign SLSA provenance of what it consumed and made.

:func:`record_run` digests the inputs (datasets, models, configs, other inputs) BEFORE the
command runs and the outputs AFTER it, captures the environment and code state
(:mod:`ssdf_ai.provenance.environment`), and appends one DSSE envelope around an in-toto
Statement v1 with a SLSA provenance v1 predicate to ``PROJECT/.intoto.jsonl``. The command runs
with stdin, stdout and stderr untouched, and its exit code is preserved (``128+N`` when a signal
``N`` killed it, as a shell reports it); SIGINT and SIGTERM sent to ssdf-ai are passed on to it.
The layout is in docs/provenance.md; :mod:`ssdf_ai.provenance.runs` reads it back.

Input kinds (PW.3.2, PS.3.2): a registered dataset, or a path under ``[paths] datasets`` that is
no model, config or code, is a ``dataset``; a file with a model extension (``.pt``,
``.safetensors``, ``.onnx``, ``.gguf``, ``.joblib`` …) or a folder holding ``config.json`` or
weights is a ``model``; ``.json``/``.yaml``/``.toml``/``.cfg``/``.ini`` is a ``config``; source
code is ``code``; anything else is an ``input``. ``--dataset``, ``--base-model`` and ``--config``
force the kind. Outputs of a run whose inputs carry sensitive data inherit the categories and the
access restriction ``[data] restrictions`` sets for them (PS.3.2 R2).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fnmatch
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ssdf_ai.errors import InputError
from ssdf_ai.provenance.runs import (
    BUILD_TYPE,
    BUILDER_ID,
    LOG_FILE,
    SLSA_PREDICATE,
    RunResource,
)

if TYPE_CHECKING:
    from ssdf_ai.config import Config
    from ssdf_ai.integrity.keys import PrivateKey
    from ssdf_ai.provenance.environment import Environment
    from ssdf_ai.provenance.registry import DatasetEntry

__all__ = [
    "EVIDENCE_COMMAND",
    "PROVENANCE_KIND",
    "InputSpec",
    "RecordResult",
    "append_line",
    "classify",
    "default_name",
    "record_run",
]

EVIDENCE_COMMAND = "record"
PROVENANCE_KIND = "provenance"
MODEL_SUFFIXES = frozenset(
    {".pt", ".pth", ".bin", ".safetensors", ".onnx", ".gguf", ".h5", ".keras", ".pkl",
     ".pickle", ".joblib", ".ckpt", ".skops", ".tflite", ".mlmodel", ".pb"}
)  # fmt: skip
CONFIG_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".toml", ".cfg", ".ini"})
CODE_SUFFIXES = frozenset({".py", ".ipynb", ".sh", ".r", ".jl", ".c", ".cc", ".cpp", ".cu"})
KINDS = ("dataset", "model", "config", "code", "input")
# Keeps the statement under the 10 MiB DSSE payload limit, with room for the packages.
MAX_OUTPUT_FILES = 50_000
_SKIPPED_DIRS = frozenset({".git", ".ssdf"})


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """An input named on the command line.

    Attributes:
        path: The path, as given (relative to the working directory).
        kind: A forced kind (``dataset``, ``model``, ``config``), or ``None`` to detect it.
        role: What it is to the run beyond its kind (``base-model``), or ``None``.
    """

    path: Path
    kind: str | None = None
    role: str | None = None


@dataclasses.dataclass(frozen=True)
class RecordResult:
    """What :func:`record_run` did.

    Attributes:
        exit_code: The command's exit code (128+N when killed by signal N).
        name: The run's name.
        invocation_id: Its unique id.
        log: The ``.intoto.jsonl`` file the line was appended to.
        line: The 1-based line number written.
        statement: The in-toto statement.
        envelope: The DSSE envelope written (no signatures when unsigned).
        inputs: The inputs as recorded (the code state last).
        outputs: The output files as recorded.
        missing_outputs: Outputs named but not there after the run.
        signed: Whether the envelope is signed.
        key_id: The signing key's id.
        run_id: The evidence store run, or ``None`` when not recorded there.
        warnings: Unregistered or unknown-provenance data, sensitive data, an untrusted key.
    """

    exit_code: int
    name: str
    invocation_id: str
    log: Path
    line: int
    statement: dict[str, Any]
    envelope: dict[str, Any]
    inputs: tuple[RunResource, ...]
    outputs: tuple[RunResource, ...]
    missing_outputs: tuple[str, ...]
    signed: bool
    key_id: str | None
    run_id: int | None
    warnings: tuple[str, ...]


# -- naming and classifying ------------------------------------------------------------------


def _now() -> str:
    """The current time, RFC 3339 UTC with milliseconds (``2026-03-01T12:00:00.123Z``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_name(argv: Sequence[str]) -> str:
    """A run's name from its command: the script (``train.py``), module or program name."""
    if not argv:
        return "run"
    program = Path(argv[0]).name
    if program.lower().startswith(("python", "pypy")):
        rest = list(argv[1:])
        while rest:
            arg = rest.pop(0)
            if arg == "-m" and rest:
                return rest[0][:200]
            if arg == "-c":
                return program[:200]
            if not arg.startswith("-"):
                return Path(arg).name[:200]
    return program[:200] or "run"


def _rel(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX), or ``None`` when outside it."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    return rel or "."


def _under(rel: str, patterns: Sequence[str]) -> bool:
    """Whether a project-relative path is covered by ``[paths]`` entries (files, folders, globs)."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[:cut]) for cut in range(1, len(parts) + 1)]
    for pattern in patterns:
        if pattern == ".":
            return True
        plain = pattern.rstrip("/")
        if any(c in plain for c in "*?["):
            if any(fnmatch.fnmatchcase(prefix, plain) for prefix in prefixes):
                return True
        elif rel == plain or rel.startswith(plain + "/"):
            return True
    return False


def _looks_like_model(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in MODEL_SUFFIXES
    if not path.is_dir():
        return False
    try:
        names = [entry.name for entry in os.scandir(path)][:10_000]
    except OSError:
        return False
    lowered = {name.lower() for name in names}
    if "config.json" in lowered or "saved_model.pb" in lowered:
        return True
    return any(Path(name).suffix in MODEL_SUFFIXES for name in lowered)


def classify(path: Path, rel: str, *, registered: bool, dataset_paths: Sequence[str]) -> str:
    """The kind of an input: dataset, model, config, code or input (see the module docstring).

    Args:
        path: The input.
        rel: Its project-relative path.
        registered: Whether the dataset registry covers it.
        dataset_paths: ``[paths] datasets`` of the configuration.
    """
    suffix = path.suffix.lower() if path.is_file() else ""
    if registered:
        return "dataset"
    if _looks_like_model(path):
        return "model"
    if suffix in CONFIG_SUFFIXES:
        return "config"
    if suffix in CODE_SUFFIXES:
        return "code"
    if _under(rel, dataset_paths):
        return "dataset"
    return "input"


# -- inputs ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Input:
    name: str
    path: Path
    digest: str
    method: str
    kind: str
    annotations: dict[str, Any]


def _resolve_inputs(
    root: Path,
    cwd: Path,
    specs: Sequence[InputSpec],
    registry: Mapping[str, DatasetEntry],
    config: Config,
) -> list[_Input]:
    from ssdf_ai.provenance.registry import content_digest, lookup

    resolved: list[_Input] = []
    seen: set[str] = set()
    for spec in specs:
        path = spec.path if spec.path.is_absolute() else cwd / spec.path
        if not path.exists():
            raise InputError(
                f"the input {spec.path} does not exist",
                where=spec.path,
                hint="name inputs that exist before the run; outputs go in --output",
            )
        rel = _rel(root, path)
        name = rel if rel is not None else path.resolve().as_posix()
        if name in seen:
            continue
        seen.add(name)
        digest, method = content_digest(path)
        entry = lookup(dict(registry), rel, digest) if rel is not None else None
        covering = registry.get(rel) if rel is not None else None
        kind = spec.kind or classify(
            path, name, registered=entry is not None, dataset_paths=config.paths.datasets
        )
        annotations: dict[str, Any] = {"kind": kind, "digestMethod": method}
        if spec.role:
            annotations["role"] = spec.role
        if rel is None:
            annotations["outsideProject"] = True
        if kind == "dataset":
            annotations["registered"] = entry is not None
            if entry is not None:
                annotations["provenance"] = entry.provenance.value
                annotations["sensitive"] = list(entry.sensitive)
                annotations["license"] = entry.license
                annotations["source"] = entry.source
            else:
                annotations["provenance"] = "unregistered"
                annotations["sensitive"] = []
                if covering is not None:
                    # Registered, but the content changed since: not the registered dataset.
                    annotations["changedSinceRegistration"] = True
                    annotations["registeredDigest"] = covering.digest
        resolved.append(_Input(name, path, digest, method, kind, annotations))
    return resolved


def _code_dependency(env: Environment, cwd: Path) -> dict[str, Any]:
    git = env.git
    if git is None:
        return {
            "uri": f"file:{cwd.resolve().as_posix()}",
            "annotations": {"kind": "code", "vcs": "none"},
        }
    annotations: dict[str, Any] = {"kind": "code", "vcs": "git", "dirty": git.dirty}
    if git.branch:
        annotations["branch"] = git.branch
    if git.remote:
        annotations["remote"] = git.remote
    if git.uncommitted_sha256:
        annotations["uncommittedSha256"] = git.uncommitted_sha256
        annotations["uncommittedComplete"] = git.uncommitted_complete
    descriptor: dict[str, Any] = {
        "uri": f"git+{git.remote}@{git.commit}"
        if git.remote and git.commit
        else f"file:{Path(git.toplevel).as_posix()}",
        "annotations": annotations,
    }
    if git.commit:
        descriptor["digest"] = {"gitCommit": git.commit}
    return descriptor


# -- outputs ---------------------------------------------------------------------------------


def _output_files(path: Path) -> Iterator[Path]:
    """Regular files in an output folder, sorted, never following links."""
    stack = [path]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        files: list[Path] = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _SKIPPED_DIRS:
                    stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                files.append(Path(entry.path))
        yield from reversed(files)


def _digest_outputs(
    root: Path, cwd: Path, outputs: Sequence[Path]
) -> tuple[list[tuple[str, str, Path]], list[str]]:
    from ssdf_ai.evidence import sha256_file

    found: list[tuple[str, str, Path]] = []
    missing: list[str] = []
    seen: set[str] = set()
    for given in outputs:
        path = given if given.is_absolute() else cwd / given
        rel = _rel(root, path) or path.as_posix()
        if path.is_symlink() or not path.exists():
            missing.append(rel)
            continue
        files = [path] if path.is_file() else list(_output_files(path))
        for file in files:
            name = _rel(root, file)
            if name is None or name in seen:
                continue
            seen.add(name)
            if len(found) >= MAX_OUTPUT_FILES:
                raise InputError(
                    f"the outputs hold more than {MAX_OUTPUT_FILES} files",
                    hint="name the output files or folders more narrowly",
                )
            try:
                found.append((name, sha256_file(file), file))
            except OSError as exc:
                raise InputError(f"cannot read the output {file}: {exc.strerror}") from exc
    return found, missing


# -- running ---------------------------------------------------------------------------------


def _terminal_delivers_sigint() -> bool:
    """Whether Ctrl-C at a terminal reaches the child directly (same foreground group)."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def _run_command(argv: Sequence[str], cwd: Path) -> int:
    """Run ``argv`` with inherited stdio; forward SIGINT/SIGTERM/SIGHUP; return its exit code."""
    holder: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []
    in_main = threading.current_thread() is threading.main_thread()
    terminal_sigint = _terminal_delivers_sigint()

    def forward(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and terminal_sigint:
            return  # the terminal sent it to the child's process group already
        if not holder:
            pending.append(signum)
            return
        with contextlib.suppress(OSError):
            if holder[0].poll() is None:
                holder[0].send_signal(signum)

    previous: dict[int, Any] = {}
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                previous[sig] = signal.signal(sig, forward)
    try:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        try:
            process = subprocess.Popen(list(argv), cwd=cwd)  # noqa: S603 - the user's command
        except FileNotFoundError:
            raise InputError(
                f"cannot run {argv[0]!r}: command not found",
                hint="check the command after `--`; nothing was recorded",
            ) from None
        except PermissionError:
            raise InputError(
                f"cannot run {argv[0]!r}: permission denied",
                hint="make it executable; nothing was recorded",
            ) from None
        except OSError as exc:
            raise InputError(
                f"cannot run {argv[0]!r}: {exc.strerror}", hint="nothing was recorded"
            ) from None
        holder.append(process)
        for signum in pending:
            with contextlib.suppress(OSError):
                process.send_signal(signum)
        code = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
    return 128 - code if code < 0 else code


# -- writing ---------------------------------------------------------------------------------


def append_line(log: Path, line: bytes) -> int:
    """Append one line to an append-only log; return its 1-based line number.

    The file is opened with ``O_APPEND`` (created 0644 if missing, never through a link), locked
    against concurrent writers, written in one go, flushed and fsync-ed. Existing bytes are never
    rewritten; a last line that lacks its newline (a torn write) is ended first, so that it stays
    a line of its own.

    Raises:
        InputError: If the log cannot be written.
    """
    if b"\n" in line.rstrip(b"\n"):
        raise InputError("a log line may not contain a line break")
    data = line.rstrip(b"\n") + b"\n"
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    created = not log.exists()
    try:
        fd = os.open(log, flags, 0o644)
    except OSError as exc:
        raise InputError(f"cannot append to {log}: {exc.strerror}", where=log) from None
    try:
        with contextlib.ExitStack() as stack:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
                stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
            except ImportError:  # pragma: no cover - not POSIX
                pass
            lines, ends_cleanly = _count_lines(log)
            if not ends_cleanly:
                data = b"\n" + data
                lines += 1
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
    except OSError as exc:
        raise InputError(f"cannot append to {log}: {exc.strerror}", where=log) from None
    finally:
        os.close(fd)
    if created:
        with contextlib.suppress(OSError):
            directory = os.open(log.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
    return lines + 1


def _count_lines(path: Path) -> tuple[int, bool]:
    """How many newline-terminated lines a file has, and whether it ends with a newline."""
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count, last == b"\n"


def _restrictions(config: Config, categories: Sequence[str]) -> dict[str, str]:
    data = config.data
    return {c: data.restriction_for(c) for c in categories}


def _statement(
    *,
    name: str,
    argv: Sequence[str],
    working_directory: str,
    inputs: Sequence[_Input],
    code: dict[str, Any],
    outputs: Sequence[tuple[str, str, Path]],
    missing: Sequence[str],
    env: Environment,
    invocation_id: str,
    started: str,
    finished: str,
    exit_code: int,
    config: Config,
) -> dict[str, Any]:
    from ssdf_ai._version import __version__
    from ssdf_ai.evidence import sha256_bytes
    from ssdf_ai.provenance.dsse import canonical_json, statement

    categories: list[str] = []
    for item in inputs:
        for category in item.annotations.get("sensitive", []):
            if category not in categories:
                categories.append(category)
    restrictions = _restrictions(config, categories)
    external = {
        "name": name,
        "command": list(argv),
        "workingDirectory": working_directory,
        "configs": [{"path": i.name, "sha256": i.digest} for i in inputs if i.kind == "config"],
    }
    metadata = {"invocationId": invocation_id, "startedOn": started, "finishedOn": finished}
    subjects: list[dict[str, Any]] = []
    for rel, digest, path in outputs:
        annotations: dict[str, Any] = {"kind": "model" if _looks_like_model(path) else "file"}
        if categories:
            annotations["sensitive"] = list(categories)
            annotations["restrictions"] = dict(restrictions)
        subjects.append({"name": rel, "digest": {"sha256": digest}, "annotations": annotations})
    if not subjects:
        # in-toto needs a subject: with no output, the statement is about the invocation.
        about = sha256_bytes(canonical_json({"externalParameters": external, **metadata}))
        subjects.append(
            {
                "name": f"invocation:{invocation_id}",
                "digest": {"sha256": about},
                "annotations": {"kind": "invocation"},
            }
        )
    dependencies: list[dict[str, Any]] = [
        {"name": i.name, "digest": {"sha256": i.digest}, "annotations": dict(i.annotations)}
        for i in inputs
    ]
    dependencies.append(code)
    byproducts: list[dict[str, Any]] = [
        {"name": "exit-status", "annotations": {"exitCode": exit_code}},
        {"name": "environment", "annotations": env.hardware()},
    ]
    if exit_code > 128:
        byproducts[0]["annotations"]["signal"] = exit_code - 128
    if missing:
        byproducts.append({"name": "missing-outputs", "annotations": {"paths": list(missing)}})
    predicate = {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {"ssdfAi": __version__},
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {
                "id": BUILDER_ID,
                "version": env.versions(),
                "builderDependencies": [
                    {"name": p.name, "uri": p.purl, "annotations": {"version": p.version}}
                    for p in env.packages
                ],
            },
            "metadata": metadata,
            "byproducts": byproducts,
        },
    }
    return statement(subjects, SLSA_PREDICATE, predicate)


def _warnings(
    inputs: Sequence[_Input], outputs: Sequence[tuple[str, str, Path]], config: Config
) -> list[str]:
    warnings: list[str] = []
    categories: list[str] = []
    for item in inputs:
        if item.kind != "dataset":
            continue
        if item.annotations.get("changedSinceRegistration"):
            warnings.append(
                f"dataset {item.name} changed since it was registered (PW.3.2): register "
                "the new content with `ssdf data register`"
            )
        elif not item.annotations.get("registered"):
            warnings.append(
                f"dataset {item.name} is not registered (PW.3.2): record its source and "
                "licence with `ssdf data register`"
            )
        elif item.annotations.get("provenance") == "unknown":
            warnings.append(f"dataset {item.name} has unknown provenance (PW.3.2 N1)")
        for category in item.annotations.get("sensitive", []):
            if category not in categories:
                categories.append(category)
    if categories and outputs:
        restrictions = _restrictions(config, categories)
        text = "; ".join(f"{c}: {r}" for c, r in restrictions.items())
        for rel, _, _ in outputs:
            warnings.append(
                f"{rel} was made from sensitive data ({', '.join(categories)}), so it carries "
                f"its access restrictions (PS.3.2 R2): {text}"
            )
    return warnings


def _record_evidence(
    root: Path,
    database_url: str | None,
    argv: Sequence[str],
    inputs: Sequence[_Input],
    outputs: Sequence[tuple[str, str, Path]],
    envelope_bytes: bytes,
    invocation_id: str,
    exit_code: int,
) -> int:
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.provenance.dsse import ENVELOPE_MEDIA_TYPE
    from ssdf_ai.store import EvidenceStore

    kinds = {"dataset": SubjectKind.DATASET, "model": SubjectKind.MODEL}
    with (
        EvidenceStore.open(root, url=database_url) as store,
        store.run(EVIDENCE_COMMAND, list(argv)) as run,
    ):
        first: int | None = None
        for rel, digest, path in outputs:
            kind = SubjectKind.MODEL if _looks_like_model(path) else SubjectKind.FILE
            subject_id = run.add_subject(Subject(kind=kind, name=rel, digest=digest))
            first = subject_id if first is None else first
        for item in inputs:
            run.add_subject(
                Subject(
                    kind=kinds.get(item.kind, SubjectKind.FILE), name=item.name, digest=item.digest
                )
            )
        run.add_artifact(
            envelope_bytes,
            kind=PROVENANCE_KIND,
            media_type=ENVELOPE_MEDIA_TYPE,
            subject_id=first,
            name=f"record-{invocation_id}.dsse.json",
        )
        run.set_exit_code(exit_code)
        return run.id


def _check_outputs_inside(root: Path, cwd: Path, outputs: Sequence[Path]) -> None:
    for given in outputs:
        path = given if given.is_absolute() else cwd / given
        if _rel(root, path) is None:
            raise InputError(
                f"the output {given} is outside the project {root}",
                where=given,
                hint="outputs are named relative to the project root, so they must be inside it",
            )


def record_run(
    root: Path,
    argv: Sequence[str],
    *,
    name: str | None = None,
    inputs: Sequence[InputSpec] = (),
    outputs: Sequence[Path] = (),
    key: PrivateKey | None = None,
    unsigned: bool = False,
    cwd: Path | None = None,
    config: Config | None = None,
    registry: Mapping[str, DatasetEntry] | None = None,
    database_url: str | None = None,
    evidence: bool = True,
    evidence_argv: Sequence[str] | None = None,
) -> RecordResult:
    """Run a command and append signed SLSA provenance of the run to ``root/.intoto.jsonl``.

    Everything that can be checked is checked before the command starts (inputs exist, outputs
    are inside the project, a key or ``unsigned`` is given, the command can be started), so
    that a mistake costs no training run and appends nothing.

    Args:
        root: The project root.
        argv: The command and its arguments (run without a shell).
        name: The run's name; default: the script, module or program (:func:`default_name`).
        inputs: What it consumes; their digests are taken before it runs.
        outputs: Files or folders it produces; digested after it runs (one subject per file).
        key: The private key that signs the statement.
        unsigned: Write the envelope without signatures (``provenance verify`` reports it).
        cwd: Where the command runs; default: the current directory.
        config: The project's configuration; default: loaded from ``root``.
        registry: The dataset registry; default: read from the project's evidence store.
        database_url: The evidence store's URL (``None``: the SQLite file in ``root/.ssdf``).
        evidence: Also record an evidence run ``record`` with the envelope as an artifact.
        evidence_argv: The argument vector that run records; default
            ``ssdf record -- COMMAND``.

    Returns:
        What was recorded; ``exit_code`` is the command's.

    Raises:
        InputError: Before the run: no command, no key and not ``unsigned``, an input that
            does not exist, an output outside the project, a command that cannot be started
            (nothing is appended). After it: the log or the store cannot be written.
    """
    from ssdf_ai.integrity.keys import key_id
    from ssdf_ai.provenance.dsse import PAYLOAD_TYPE_INTOTO, canonical_json, sign_envelope
    from ssdf_ai.provenance.environment import capture

    if not argv:
        raise InputError("no command to record", hint="give it after `--`: ssdf record -- CMD")
    if key is None and not unsigned:
        raise InputError(
            "no signing key: the provenance of the run would not be signed",
            hint="give --key KEY (see `ssdf keys generate`), or --unsigned to record it "
            "unsigned (`ssdf provenance verify` will report it)",
        )
    if key is not None and unsigned:
        raise InputError("give either --key or --unsigned, not both")
    root = Path(root).resolve()
    cwd = Path(cwd or Path.cwd()).resolve()
    if config is None:
        from ssdf_ai.config import load_config

        config = load_config(root).config
    if registry is None:
        registry = _read_registry(root, database_url)
    resolved = _resolve_inputs(root, cwd, inputs, registry, config)
    _check_outputs_inside(root, cwd, outputs)
    warnings: list[str] = []
    if key is not None and not _trusted_key(root, config, key):
        warnings.append(
            "the signing key is not the key of any [[signers]] entry: `ssdf provenance verify` "
            "will not trust this run until its public key is added"
        )
    log = root / LOG_FILE
    if log.is_symlink() or (log.exists() and not log.is_file()):
        raise InputError(f"{log} is not a regular file", where=log)
    env = capture(cwd, argv=argv, exclude=(log, root / ".ssdf"))
    run_name = name or default_name(argv)
    invocation_id = str(uuid.uuid4())
    started = _now()
    exit_code = _run_command(argv, cwd)
    finished = _now()
    found, missing = _digest_outputs(root, cwd, outputs)
    working = _rel(root, cwd) or cwd.as_posix()
    value = _statement(
        name=run_name,
        argv=argv,
        working_directory=working,
        inputs=resolved,
        code=_code_dependency(env, cwd),
        outputs=found,
        missing=missing,
        env=env,
        invocation_id=invocation_id,
        started=started,
        finished=finished,
        exit_code=exit_code,
        config=config,
    )
    payload = canonical_json(value)
    if key is not None:
        envelope = sign_envelope(payload, PAYLOAD_TYPE_INTOTO, key)
    else:
        import base64

        from ssdf_ai.provenance.dsse import MAX_PAYLOAD_BYTES

        if len(payload) > MAX_PAYLOAD_BYTES:
            raise InputError(f"the statement is {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
        envelope = {
            "payloadType": PAYLOAD_TYPE_INTOTO,
            "payload": base64.b64encode(payload).decode("ascii"),
            "signatures": [],
        }
    envelope_bytes = canonical_json(envelope)
    line = append_line(log, envelope_bytes)
    run_id = None
    if evidence:
        run_id = _record_evidence(
            root,
            database_url,
            list(evidence_argv or ["ssdf", EVIDENCE_COMMAND, "--", *argv]),
            resolved,
            found,
            envelope_bytes,
            invocation_id,
            exit_code,
        )
    code_resource = RunResource(
        name=str(value["predicate"]["buildDefinition"]["resolvedDependencies"][-1]["uri"]),
        digest=env.git.commit if env.git else None,
        kind="code",
        annotations=dict(
            value["predicate"]["buildDefinition"]["resolvedDependencies"][-1]["annotations"]
        ),
    )
    subjects = {s["name"]: s for s in value["subject"]}
    return RecordResult(
        exit_code=exit_code,
        name=run_name,
        invocation_id=invocation_id,
        log=log,
        line=line,
        statement=value,
        envelope=envelope,
        inputs=(
            *(RunResource(i.name, i.digest, i.kind, dict(i.annotations)) for i in resolved),
            code_resource,
        ),
        outputs=tuple(
            RunResource(rel, digest, "output", dict(subjects[rel]["annotations"]))
            for rel, digest, _ in found
        ),
        missing_outputs=tuple(missing),
        signed=key is not None,
        key_id=key_id(key.public_key()) if key is not None else None,
        run_id=run_id,
        warnings=(*warnings, *_warnings(resolved, found, config)),
    )


def _trusted_key(root: Path, config: Config, key: PrivateKey) -> bool:
    from ssdf_ai.integrity.keys import key_id, load_public_key

    wanted = key_id(key.public_key())
    for entry in config.signers:
        try:
            if key_id(load_public_key(root / entry.public_key)) == wanted:
                return True
        except InputError:
            continue
    return False


def _read_registry(root: Path, database_url: str | None) -> dict[str, DatasetEntry]:
    from ssdf_ai.provenance.registry import load_registry
    from ssdf_ai.store import EvidenceStore

    if not EvidenceStore.exists(root, url=database_url):
        return {}
    with EvidenceStore.open(root, url=database_url, create=False) as store:
        return load_registry(store)
