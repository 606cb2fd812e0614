"""The scan engine: walk paths, detect each file's format from its bytes, dispatch, recurse.

:func:`scan_paths` walks files and directories (sorted; ``.git`` and ``.ssdf`` skipped; symlinks
never followed) and runs :func:`scan_file` on every regular file. :func:`scan_file` is the unit
of work: a pure function of a path, its display name and the limits, returning a serialisable
:class:`FileResult`, so that a process pool can run it unchanged.

Inside a file the engine detects the format (:mod:`ssdf_ai.scan.detect`) and hands the bytes to
the format's module: pickles to :mod:`ssdf_ai.scan.pickle`, zip and tar archives and compressed
streams to :mod:`ssdf_ai.scan.containers`, 7z archives to :mod:`ssdf_ai.scan.sevenzip`
(recursing into members within ``max_depth`` and one
shared :class:`~ssdf_ai.scan._types.Budget` per top-level file), PyTorch archives through
:mod:`ssdf_ai.scan.torch_layout`, safetensors and NumPy files to their checkers. Nothing is ever
loaded, imported or executed. What cannot be scanned is reported (``SSDF-SCAN-004`` /
``SSDF-SCAN-006``), never passed as clean.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ssdf_ai.errors import InputError
from ssdf_ai.findings import FORBID_EXTRA, Finding, json_schema_constraints
from ssdf_ai.scan import detect as fmt
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import Budget, LimitExceeded, Member, ScanLimits

if TYPE_CHECKING:
    from ssdf_ai.scan.detect import Detected
    from ssdf_ai.scan.pickle import Policy

SKIP_DIRS = frozenset({".git", ".ssdf"})
# Members of a PyTorch archive that hold tensor storage are skipped unread, after a peek at their
# first bytes shows they are not a pickle or an archive in disguise.
PEEK_BYTES = 64
# The first pickles of a legacy torch.save file: magic number, protocol, sys_info, the object,
# the storage keys; raw storage bytes follow and are not analysed.
LEGACY_TORCH_PICKLES = 5
REMEDIATE_PICKLE = (
    "Do not load the file. Obtain the model from a trusted source, or convert it to "
    "safetensors in an isolated environment."
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ScannedFile:
    """A file that was scanned.

    Attributes:
        path: Its display path (relative to the project root when inside it).
        format: The detected format; nested content is shown as ``gzip+pickle``.
        size: Its size in bytes.
        seconds: How long scanning it took.
    """

    path: str
    format: str
    size: int
    seconds: float

    # A dataclass, not a pydantic model, so that scanning never imports pydantic; the scan
    # report embeds it (pydantic validates dataclasses natively).
    __pydantic_config__ = FORBID_EXTRA
    __get_pydantic_json_schema__ = json_schema_constraints(
        size={"minimum": 0}, seconds={"minimum": 0}
    )

    def __post_init__(self) -> None:
        if self.size < 0 or self.seconds < 0:
            raise ValueError("size and seconds must be >= 0")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Skipped:
    """A path that was not scanned, and why."""

    path: str
    reason: str

    __pydantic_config__ = FORBID_EXTRA


@dataclasses.dataclass
class FileResult:
    """What :func:`scan_file` returns for one file (picklable for a process pool)."""

    findings: list[Finding]
    scanned: ScannedFile | None = None
    skipped: Skipped | None = None


@dataclasses.dataclass
class ScanResult:
    """Everything a scan found, what it scanned and what it skipped."""

    findings: list[Finding] = dataclasses.field(default_factory=list)
    scanned: list[ScannedFile] = dataclasses.field(default_factory=list)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)


class _Stop(Exception):  # noqa: N818 - control flow: the file's shared budget is spent
    pass


@dataclasses.dataclass
class _Ctx:
    display: str
    limits: ScanLimits
    budget: Budget
    findings: list[Finding] = dataclasses.field(default_factory=list)
    pickle_based: bool = False

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Sequence[Finding], member: str | None) -> None:
        for f in findings:
            self.findings.append(_in_member(f, member) if member else f)


def _in_member(finding: Finding, member: str) -> Finding:
    """Name the archive member in a finding reported by a checker that only saw its bytes."""
    address = finding.location.address or ""
    if member in address:
        return finding
    where = f"member {member}" + (f", {address}" if address else "")
    return dataclasses.replace(
        finding, location=dataclasses.replace(finding.location, address=where)
    )


def _member_address(member: str | None, extra: str | None = None) -> str | None:
    parts = [f"member {member}"] if member else []
    if extra:
        parts.append(extra)
    return ", ".join(parts) or None


def _join(member: str | None, name: str) -> str:
    return f"{member}!{name}" if member else name


# -- the walk ------------------------------------------------------------------------------


def display_path(path: Path, root: Path | None) -> str:
    """The name a path is reported under: relative to ``root`` when inside it (POSIX form)."""
    if root is not None:
        # Cheapest forms first: resolving costs a system call per path component.
        def resolved_path() -> Path:
            return path.parent.resolve() / path.name

        def same_root() -> Path:
            return root

        def same_path() -> Path:
            return path

        bases: tuple[Callable[[], Path], ...] = (same_root, root.absolute, root.resolve)
        candidates: tuple[Callable[[], Path], ...] = (same_path, path.absolute, resolved_path)
        for base in bases:
            for candidate in candidates:
                try:
                    rel = candidate().relative_to(base())
                except ValueError:
                    continue
                return rel.as_posix() or "."
    return path.as_posix()


@dataclasses.dataclass(frozen=True)
class _Item:
    path: Path
    display: str
    skip_reason: str | None = None
    outside: bool = False


def _inside(target: str, tree: str) -> bool:
    try:
        return os.path.commonpath([target, tree]) == tree
    except ValueError:
        return False


def _walk(top: Path, root: Path | None, dirs: list[tuple[Path, str]]) -> Iterator[_Item]:
    tree = os.path.realpath(top if not top.is_symlink() else top.parent)

    def visit(path: Path) -> Iterator[_Item]:
        display = display_path(path, root)
        if path.is_symlink():
            target = os.path.realpath(path)
            if _inside(target, tree) and path != top:
                yield _Item(
                    path, display, "symlink inside the scanned tree (its target is scanned)"
                )
            else:
                yield _Item(
                    path,
                    display,
                    f"symlink to {target}, outside the scanned tree: not followed",
                    outside=True,
                )
            return
        try:
            mode = path.lstat().st_mode
        except OSError as exc:
            yield _Item(path, display, f"cannot be read: {exc.strerror}", outside=True)
            return
        if stat.S_ISDIR(mode):
            if path.name in SKIP_DIRS and path != top:
                return
            dirs.append((path, display))
            try:
                children = sorted(path.iterdir(), key=lambda p: p.name)
            except OSError as exc:
                yield _Item(path, display, f"directory cannot be listed: {exc.strerror}", True)
                return
            for child in children:
                if child.name in SKIP_DIRS:
                    continue
                yield from visit(child)
        elif stat.S_ISREG(mode):
            yield _Item(path, display)
        else:
            yield _Item(path, display, "not a regular file (device, FIFO or socket)", True)

    yield from visit(top)


def scan_paths(
    paths: Sequence[Path],
    *,
    root: Path | None = None,
    limits: ScanLimits = ScanLimits(),  # noqa: B008 - frozen dataclass, safe as a default
    on_file: Callable[[ScannedFile], None] | None = None,
) -> ScanResult:
    """Scan files and directories.

    Args:
        paths: Files and directories to scan.
        root: Report paths relative to this directory (the project root) when inside it.
        limits: Bounds on time, memory, nesting and archive expansion.
        on_file: Called after each file is scanned (for progress).

    Returns:
        The findings, the files scanned and the paths skipped with reasons.

    Raises:
        InputError: If a path does not exist.
    """
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise InputError(
                f"{path} does not exist", where=path, hint="give files or folders to scan"
            )
    result = ScanResult()
    seen: set[str] = set()
    for top in paths:
        dirs: list[tuple[Path, str]] = []
        for item in _walk(top, root, dirs):
            if item.display in seen:
                continue
            seen.add(item.display)
            if item.skip_reason is not None:
                result.skipped.append(Skipped(path=item.display, reason=item.skip_reason))
                if item.outside:
                    result.findings.append(
                        rules.finding(
                            rules.NOT_SCANNED,
                            f"not scanned: {item.skip_reason}",
                            path=item.display,
                            remediation="scan the target itself, by its own path",
                        )
                    )
                continue
            file_result = scan_file(item.path, item.display, limits)
            result.findings.extend(file_result.findings)
            if file_result.scanned is not None:
                result.scanned.append(file_result.scanned)
                if on_file is not None:
                    on_file(file_result.scanned)
            if file_result.skipped is not None:
                result.skipped.append(file_result.skipped)
        for directory, display in dirs:
            result.findings.extend(scan_directory(directory, display, root))
    return result


# -- directories ---------------------------------------------------------------------------


def scan_directory(path: Path, display: str, root: Path | None = None) -> list[Finding]:
    """Checks that concern a directory as a whole: custom code in Hugging Face model folders.

    ``trust_remote_code=True`` makes ``transformers`` import the Python files that
    ``config.json``'s ``auto_map`` names. Each such file (and each ``.py`` file in the folder,
    and each ``auto_map`` entry naming code in another repository) is reported as medium: it is
    code that runs when the model is loaded.

    Args:
        path: The directory.
        display: Its display path.
        root: The project root, for the display paths of the files.

    Returns:
        The findings.
    """
    detected = fmt.detect_dir(path)
    if detected is None or detected.format != fmt.HF_MODEL:
        return []
    config = fmt.read_json(path / "config.json")
    auto_map = config.get("auto_map") if isinstance(config, dict) else None
    referenced: dict[str, list[str]] = {}
    remote: list[str] = []
    if isinstance(auto_map, dict):
        for key, value in sorted(auto_map.items()):
            for ref in value if isinstance(value, list) else [value]:
                if not isinstance(ref, str):
                    continue
                if "--" in ref:
                    remote.append(f"{key} -> {ref}")
                    continue
                module = ref.rsplit(".", 1)[0]
                referenced.setdefault(f"{module.replace('.', '/')}.py", []).append(key)
    findings: list[Finding] = []
    py_files = sorted(p.name for p in path.iterdir() if p.suffix == ".py" and not p.is_symlink())
    for name in sorted({*py_files, *referenced}):
        keys = referenced.get(name)
        why = (
            f"config.json auto_map ({', '.join(keys)}) makes trust_remote_code=True import it"
            if keys
            else "a Python file in a model folder; trust_remote_code may import it"
        )
        file_display = display_path(path / name, root) if root else f"{display}/{name}"
        findings.append(
            rules.finding(
                rules.CUSTOM_CODE,
                f"custom model code {name}: {why}; it runs when the model is loaded",
                path=file_display,
                remediation="review the code before loading with trust_remote_code=True, or "
                "use a model that needs no custom code",
            )
        )
    findings.extend(
        rules.finding(
            rules.CUSTOM_CODE,
            f"config.json auto_map {entry} loads code from another repository when "
            "trust_remote_code=True; that code was not scanned",
            path=f"{display}/config.json",
        )
        for entry in remote
    )
    return findings


# -- one file ------------------------------------------------------------------------------


def scan_file(path: Path, display: str, limits: ScanLimits) -> FileResult:
    """Scan one regular file (the unit of work; pure and picklable in and out).

    Args:
        path: The file.
        display: The name findings report it under.
        limits: Scan limits.

    Returns:
        Its findings, and either a :class:`ScannedFile` or a :class:`Skipped` record.
    """
    started = time.monotonic()
    ctx = _Ctx(display=display, limits=limits, budget=Budget(limits))
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; the except needs the name
    except OSError as exc:
        reason = f"cannot be read: {exc.strerror or exc}"
        return FileResult(
            [rules.finding(rules.NOT_SCANNED, f"not scanned: {reason}", path=display)],
            skipped=Skipped(path=display, reason=reason),
        )
    with handle:
        size = os.fstat(handle.fileno()).st_size
        label = "unknown"
        try:
            label = _scan_blob(ctx, handle, size, path.name, None, 0)
        except _Stop:
            pass
        except LimitExceeded as exc:
            ctx.add(_limit_finding(ctx, None, exc))
        except OSError as exc:
            ctx.add(
                rules.finding(
                    rules.NOT_SCANNED,
                    f"reading failed part way: {exc.strerror or exc}",
                    path=display,
                )
            )
        except Exception as exc:  # noqa: BLE001 - a parser bug must not end the whole scan
            ctx.add(
                rules.finding(
                    rules.UNPARSEABLE,
                    f"the scanner failed on this file ({type(exc).__name__}: {exc}); "
                    "its content was not fully checked",
                    path=display,
                )
            )
    if ctx.pickle_based:
        ctx.add(
            rules.finding(
                rules.UNSAFE_SERIALIZATION,
                f"{label} is a pickle-based format: loading it can run code",
                path=display,
                remediation="convert it to safetensors with `ssdf convert`",
            )
        )
    seconds = round(time.monotonic() - started, 6)
    return FileResult(
        ctx.findings, scanned=ScannedFile(path=display, format=label, size=size, seconds=seconds)
    )


def _limit_finding(ctx: _Ctx, member: str | None, exc: LimitExceeded) -> Finding:
    return rules.finding(
        rules.ARCHIVE_LIMIT,
        f"scan limit reached: {exc}; what lies beyond it was not checked",
        path=ctx.display,
        address=_member_address(member),
        remediation="inspect the file by hand, or raise the limit if the file is trusted",
    )


def _limit_hit(ctx: _Ctx, member: str | None, exc: LimitExceeded) -> None:
    """Record a limit that was hit; stop the whole file once its budget is spent."""
    ctx.add(_limit_finding(ctx, member, exc))
    if ctx.budget.exhausted:
        raise _Stop from None


def _read_all(ctx: _Ctx, f: BinaryIO, size: int, member: str | None, what: str) -> bytes | None:
    if size > ctx.limits.max_member_bytes:
        ctx.add(
            rules.finding(
                rules.NOT_SCANNED,
                f"{what} of {size} bytes is larger than the limit of "
                f"{ctx.limits.max_member_bytes} bytes read for analysis",
                path=ctx.display,
                address=_member_address(member),
                remediation="raise --max-member-size if the machine has the memory",
            )
        )
        return None
    f.seek(0)
    return f.read(size)


def _scan_blob(ctx: _Ctx, f: BinaryIO, size: int, name: str, member: str | None, depth: int) -> str:
    """Detect and scan one file or member; return its format label."""
    ctx.budget.check_time()
    f.seek(0)
    head = f.read(fmt.HEAD_BYTES)
    detected = fmt.detect(head, size=size, name=name)
    members: list[Member] = []
    if detected.format == fmt.ZIP:
        from ssdf_ai.scan.containers import zip_members

        members, found = zip_members(f, size, path=ctx.display, budget=ctx.budget)
        ctx.extend(found, member)
        detected = fmt.classify_zip([m.name for m in members])
    if fmt.is_mismatch(name, detected.format):
        ctx.add(
            rules.finding(
                rules.FORMAT_MISMATCH,
                f"{name} is named like {', '.join(sorted(fmt.expected_formats(name) or ()))} "
                f"but its content is {detected.format}; it is scanned as {detected.format}",
                path=ctx.display,
                address=_member_address(member),
            )
        )
    return _dispatch(ctx, f, size, name, member, depth, detected, head, members)


def _dispatch(  # noqa: C901, PLR0911, PLR0912 - one branch per format
    ctx: _Ctx,
    f: BinaryIO,
    size: int,
    name: str,
    member: str | None,
    depth: int,
    detected: Detected,
    head: bytes,
    members: list[Member],
) -> str:
    kind = detected.format
    if kind in (fmt.EMPTY, fmt.TEXT, fmt.IMAGE):
        return kind
    if kind == fmt.PICKLE:
        data = _read_all(ctx, f, size, member, "pickle")
        if data is None:
            return kind
        return "joblib" if _scan_pickle(ctx, data, member) else kind
    if kind == fmt.TORCH_LEGACY:
        _scan_legacy_torch(ctx, f, size, member)
        return kind
    if kind in fmt.ZIP_FAMILY:
        if kind == fmt.KERAS:
            _scan_keras_zip(ctx, member, members)
        _scan_zip(ctx, f, member, depth, members)
        return kind
    if kind == fmt.HDF5:
        _scan_hdf5(ctx, f, member)
        return kind
    if kind == fmt.GGUF:
        from ssdf_ai.scan.gguf_check import check_gguf

        f.seek(0)
        ctx.extend(check_gguf(f, size, path=ctx.display, limits=ctx.limits), member)
        return kind
    if kind == fmt.ONNX:
        from ssdf_ai.scan.onnx_check import check_onnx

        f.seek(0)
        ctx.extend(check_onnx(f, size, path=ctx.display, limits=ctx.limits), member)
        return kind
    if kind == fmt.TF_SAVEDMODEL:
        from ssdf_ai.scan.savedmodel_check import check_savedmodel

        data = _read_all(ctx, f, size, member, "SavedModel protobuf")
        if data is not None:
            ctx.extend(check_savedmodel(data, path=ctx.display, limits=ctx.limits), member)
        return kind
    if kind == fmt.TAR:
        return _scan_tar(ctx, f, size, member, depth)
    if kind == fmt.SEVEN_Z:
        return _scan_sevenz(ctx, f, size, member, depth)
    if kind in fmt.COMPRESSED:
        return _scan_compressed(ctx, f, size, name, member, depth, kind)
    if kind == fmt.NPY:
        _scan_npy(ctx, f, size, member)
        return kind
    if kind == fmt.SAFETENSORS:
        from ssdf_ai.scan.safetensors_check import check_safetensors

        f.seek(0)
        ctx.extend(check_safetensors(f, size, path=ctx.display, limits=ctx.limits), member)
        return kind
    ctx.add(
        rules.finding(
            rules.NOT_SCANNED,
            f"{name}: binary content of no recognised format; not known to be safe",
            path=ctx.display,
            address=_member_address(member),
        )
    )
    return kind


def _scan_keras_zip(ctx: _Ctx, member: str | None, members: list[Member]) -> None:
    """A ``.keras`` archive: its config.json is where Lambda bytecode and custom objects hide."""
    from ssdf_ai.scan.keras_check import check_keras_config

    for item in members:
        if item.name == "config.json":
            inner = _join(member, item.name)
            data = _read_member(ctx, item, inner)
            if data is not None:
                ctx.findings.extend(check_keras_config(data, path=ctx.display, member=inner))


def _scan_hdf5(ctx: _Ctx, f: BinaryIO, member: str | None) -> None:
    """HDF5 (legacy Keras .h5 and .keras weights): the model config attributes are checked."""
    from ssdf_ai.errors import MissingExtraError
    from ssdf_ai.scan.keras_check import check_keras_h5

    f.seek(0)
    try:
        found = check_keras_h5(f, path=ctx.display, limits=ctx.limits)
    except MissingExtraError as error:
        ctx.add(
            rules.finding(
                rules.NOT_SCANNED,
                f"HDF5 content cannot be read: {error.message}",
                path=ctx.display,
                address=_member_address(member),
                remediation=error.hint,
            )
        )
        return
    ctx.extend(found, member)


# -- pickles -------------------------------------------------------------------------------


def _analyse(
    ctx: _Ctx, data: bytes, member: str | None, base_offset: int, policy: Policy | None = None
) -> list[Finding]:
    from ssdf_ai.scan.pickle import analyze, pickle_findings

    ctx.budget.check_time()
    analysis = analyze(data, max_ops=ctx.limits.max_pickle_ops)
    return pickle_findings(
        analysis, path=ctx.display, member=member, base_offset=base_offset, policy=policy
    )


_TORCHSCRIPT_HELPERS = (
    "build_intlist",
    "build_tensorlist",
    "build_doublelist",
    "build_boollist",
    "build_tensor_from_id",
    "restore_type_tag",
)


@functools.cache
def torchscript_policy() -> Policy:
    """The pickle policy for the pickles inside a TorchScript archive.

    ``torch.jit.load`` unpickles them with its own (C++) unpickler, which resolves
    ``__torch__.*`` names to classes compiled from the archive's ``code/`` (checked by
    :func:`check_torchscript_code`) and accepts only the ``torch.jit._pickle`` list builders
    as Python globals. Both are therefore safe there; everything else is judged as usual.
    """
    from ssdf_ai.scan.pickle import Policy, default_policy

    base = default_policy()
    helpers = {
        f"torch.jit._pickle.{name}": "rebuilds lists in TorchScript pickles"
        for name in _TORCHSCRIPT_HELPERS
    }
    return Policy(
        dangerous=base.dangerous,
        safe_names={**base.safe_names, **helpers},
        safe_class_modules={
            **base.safe_class_modules,
            "__torch__": "a TorchScript class compiled from the archive's own code",
        },
    )


def _scan_pickle(
    ctx: _Ctx, data: bytes, member: str | None, base_offset: int = 0, policy: Policy | None = None
) -> bool:
    """Analyse a pickle stream (joblib-aware); return whether it was a joblib stream."""
    ctx.pickle_based = True
    if b"NumpyArrayWrapper" not in data:
        ctx.findings.extend(_analyse(ctx, data, member, base_offset, policy))
        return False
    from ssdf_ai.scan._joblib import inline_regions

    regions, _problem = inline_regions(data, max_ops=ctx.limits.max_pickle_ops)
    if not regions:
        ctx.findings.extend(_analyse(ctx, data, member, base_offset))
        return True
    # Analyse the pickle with joblib's inline array bytes cut out (the opcodes around them form
    # one valid stream), then map offsets back; object arrays are nested pickles of their own.
    pieces: list[bytes] = []
    cuts: list[tuple[int, int]] = []  # (offset in the cut stream, bytes removed before it)
    last = 0
    removed = 0
    for region in regions:
        pieces.append(data[last : region.start])
        removed += region.end - region.start
        cuts.append((region.start - (removed - (region.end - region.start)), removed))
        last = region.end
    pieces.append(data[last:])
    for finding in _analyse(ctx, b"".join(pieces), member, 0):
        ctx.add(_shift_offsets(finding, cuts, base_offset))
    for region in regions:
        if region.kind == "pickle":
            ctx.findings.extend(
                _analyse(ctx, data[region.start : region.end], member, base_offset + region.start)
            )
    return True


_OFFSET = re.compile(r"(offset )(\d+)")


def _shift_offsets(finding: Finding, cuts: list[tuple[int, int]], base: int) -> Finding:
    def original(offset: int) -> int:
        shift = 0
        for at, removed in cuts:
            if offset >= at:
                shift = removed
        return offset + shift + base

    def fix(text: str | None) -> str | None:
        if text is None:
            return None
        return _OFFSET.sub(lambda m: f"{m.group(1)}{original(int(m.group(2)))}", text)

    location = dataclasses.replace(finding.location, address=fix(finding.location.address))
    return dataclasses.replace(finding, location=location, message=fix(finding.message) or "")


def pickle_ends(data: bytes, count: int) -> list[int]:
    """Offsets just past each of the first ``count`` pickles in ``data`` (fewer if it ends).

    Opcodes are decoded with :func:`pickletools.genops`; nothing is executed.

    Args:
        data: Bytes holding pickles back to back.
        count: How many pickles to find.

    Returns:
        The end offsets found, in order.
    """
    from pickletools import genops  # builds its opcode tables on import: only when needed

    ends: list[int] = []
    stream = io.BytesIO(data)
    while len(ends) < count and stream.tell() < len(data):
        end = None
        try:
            for opcode, _arg, pos in genops(stream):
                if opcode.name == "STOP":
                    end = (pos or 0) + 1
                    break
        except Exception:  # noqa: BLE001 - genops raises several types on bad input
            return ends
        if end is None:
            return ends
        ends.append(end)
        stream.seek(end)
    return ends


def _scan_legacy_torch(ctx: _Ctx, f: BinaryIO, size: int, member: str | None) -> None:
    """Legacy ``torch.save``: five pickles, then raw storage bytes that are not analysed."""
    f.seek(0)
    data = f.read(min(size, ctx.limits.max_member_bytes))
    ends = pickle_ends(data, LEGACY_TORCH_PICKLES)
    if len(ends) == LEGACY_TORCH_PICKLES:
        _scan_pickle(ctx, data[: ends[-1]], member)
        return
    # Not the expected layout: analyse everything read, so the analyzer reports what breaks.
    _scan_pickle(ctx, data, member)
    if size > len(data):
        ctx.add(
            rules.finding(
                rules.NOT_SCANNED,
                f"only the first {len(data)} of {size} bytes were read",
                path=ctx.display,
                address=_member_address(member),
            )
        )


# -- containers ----------------------------------------------------------------------------


def _enter(ctx: _Ctx, member: str | None, depth: int) -> bool:
    if depth >= ctx.limits.max_depth:
        ctx.add(
            rules.finding(
                rules.ARCHIVE_LIMIT,
                f"archives nested deeper than max_depth {ctx.limits.max_depth}; the inner "
                "content was not checked",
                path=ctx.display,
                address=_member_address(member),
            )
        )
        return False
    return True


def _read_member(ctx: _Ctx, item: Member, inner: str) -> bytes | None:
    """Read a member within the limits; report what goes wrong; ``None`` if nothing to scan."""
    from ssdf_ai.scan.containers import MemberReadError

    if item.size > ctx.limits.max_member_bytes:
        ctx.add(
            rules.finding(
                rules.NOT_SCANNED,
                f"member of {item.size} bytes is larger than the limit of "
                f"{ctx.limits.max_member_bytes} bytes read for analysis",
                path=ctx.display,
                address=_member_address(inner),
            )
        )
        return None
    try:
        return item.read()
    except LimitExceeded as exc:
        _limit_hit(ctx, inner, exc)
        return None
    except MemberReadError as exc:
        # A lenient loader would still load what could be read: analyse it too.
        ctx.extend([exc.finding], inner)
        return exc.data


def _scan_member(ctx: _Ctx, item: Member, member: str | None, depth: int) -> None:
    inner = _join(member, item.name)
    data = _read_member(ctx, item, inner)
    if data is not None:
        _scan_blob(ctx, io.BytesIO(data), len(data), item.name, inner, depth + 1)


def _peek(f: BinaryIO, item: Member) -> bytes:
    f.seek(item.offset)
    return f.read(min(PEEK_BYTES, item.size))


def _scan_zip(
    ctx: _Ctx, f: BinaryIO, member: str | None, depth: int, members: list[Member]
) -> None:
    if not _enter(ctx, member, depth):
        return
    from ssdf_ai.scan.torch_layout import torch_layout

    layout = torch_layout([m.name for m in members])
    policy = torchscript_policy() if layout and layout.kind == fmt.TORCHSCRIPT else None
    pickles = set(layout.pickles) if layout else set()
    code = set(layout.code) if layout else set()
    tensors = set(layout.tensors) if layout else set()
    for item in members:
        inner = _join(member, item.name)
        if item.name in pickles:
            data = _read_member(ctx, item, inner)
            if data is not None:
                _scan_pickle(ctx, data, inner, policy=policy)
        elif item.name in code and item.name.endswith(".py"):
            data = _read_member(ctx, item, inner)
            if data is not None:
                ctx.findings.extend(check_torchscript_code(data, path=ctx.display, member=inner))
        elif item.name in tensors:
            # Raw storage; read only if its first bytes say it is something else.
            head = _peek(f, item)
            peeked = fmt.detect(head, size=item.size, name=item.name).format
            if peeked not in (fmt.UNKNOWN, fmt.TEXT, fmt.EMPTY, fmt.IMAGE):
                _scan_member(ctx, item, member, depth)
        else:
            _scan_member(ctx, item, member, depth)


def _scan_tar(ctx: _Ctx, f: BinaryIO, size: int, member: str | None, depth: int) -> str:
    from ssdf_ai.scan.containers import tar_members
    from ssdf_ai.scan.torch_layout import legacy_torch_tar

    f.seek(0)
    members, found = tar_members(f, size, path=ctx.display, budget=ctx.budget)
    ctx.extend(found, member)
    names = [m.name for m in members]
    if not legacy_torch_tar(names):
        if _enter(ctx, member, depth):
            for item in members:
                _scan_member(ctx, item, member, depth)
        return fmt.TAR
    # Legacy (pre-1.6, tar) torch.save: 'sys_info' and 'pickle' are pickles; 'storages' and
    # 'tensors' begin with a pickle followed by records mixing pickles and raw bytes.
    for item in members:
        inner = _join(member, item.name)
        base = item.name.rsplit("/", 1)[-1]
        if base not in ("pickle", "sys_info", "storages", "tensors"):
            _scan_member(ctx, item, member, depth)
            continue
        data = _read_member(ctx, item, inner)
        if data is None:
            continue
        if base in ("pickle", "sys_info"):
            _scan_pickle(ctx, data, inner)
        else:
            ends = pickle_ends(data, 1)
            _scan_pickle(ctx, data[: ends[0]] if ends else data, inner)
            if ends and ends[0] < len(data):
                ctx.add(
                    rules.finding(
                        rules.NOT_SCANNED,
                        "the records after the first pickle of this legacy torch member are "
                        "not analysed",
                        path=ctx.display,
                        address=_member_address(inner),
                        remediation="re-save the checkpoint with a current PyTorch or as "
                        "safetensors",
                    )
                )
    return fmt.TORCH_TAR


def _scan_sevenz(ctx: _Ctx, f: BinaryIO, size: int, member: str | None, depth: int) -> str:
    from ssdf_ai.scan.sevenzip import sevenz_members

    f.seek(0)
    members, found = sevenz_members(f, size, path=ctx.display, budget=ctx.budget)
    ctx.extend(found, member)
    if _enter(ctx, member, depth):
        for item in members:
            _scan_member(ctx, item, member, depth)
    return fmt.SEVEN_Z


_STRIP = {".gz", ".tgz", ".bz2", ".xz", ".lz4", ".z", ".zlib", ".lzma"}


def _scan_compressed(
    ctx: _Ctx, f: BinaryIO, size: int, name: str, member: str | None, depth: int, codec: str
) -> str:
    if not _enter(ctx, member, depth):
        return codec
    data = _read_all(ctx, f, size, member, f"{codec} stream")
    if data is None:
        return codec
    from ssdf_ai.scan.containers import MemberReadError, decompress

    try:
        # LZMA-alone (joblib's compress="lzma") is expanded by the xz decoder's auto mode.
        out = decompress(
            data, fmt.XZ if codec == fmt.LZMA else codec, budget=ctx.budget, path=ctx.display
        )
    except LimitExceeded as exc:
        _limit_hit(ctx, member, exc)
        return codec
    except MemberReadError as exc:
        ctx.extend([exc.finding], member)
        if exc.data is None:
            return codec
        out = exc.data
    inner_name = name
    ext = fmt.suffix(name)
    if ext in _STRIP:
        inner_name = name[: -len(ext)] + (".tar" if ext == ".tgz" else "")
    inner_member = member  # the stream has no member names of its own
    label = _scan_blob(ctx, io.BytesIO(out), len(out), inner_name, inner_member, depth + 1)
    return f"{codec}+{label}"


# -- NumPy ---------------------------------------------------------------------------------


def _scan_npy(ctx: _Ctx, f: BinaryIO, size: int, member: str | None) -> None:
    from ssdf_ai.scan.numpy_check import parse_npy

    f.seek(0)
    info, found = parse_npy(f, size, path=ctx.display, limits=ctx.limits)
    ctx.extend(found, member)
    if info is None or not info.is_object:
        return
    ctx.add(
        rules.finding(
            rules.OBJECT_ARRAY,
            "NumPy array of dtype object: its data is a pickle, run by "
            "numpy.load(allow_pickle=True)",
            path=ctx.display,
            address=_member_address(member, f"offset {info.data_offset}"),
            remediation="store numeric arrays, or load with allow_pickle=False",
        )
    )
    length = size - info.data_offset
    if length > ctx.limits.max_member_bytes:
        ctx.add(
            rules.finding(
                rules.NOT_SCANNED,
                f"object-array pickle of {length} bytes exceeds the analysis limit",
                path=ctx.display,
                address=_member_address(member),
            )
        )
        return
    f.seek(info.data_offset)
    data = f.read(length)
    ctx.findings.extend(_analyse(ctx, data, member, info.data_offset))


# -- TorchScript code ----------------------------------------------------------------------

# TorchScript serializes a model's methods as restricted Python in code/**.py. That language
# cannot import modules or call builtins such as exec; a name below in it means the archive was
# edited by hand, or is meant for a loader that executes it as Python.
_CODE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bos\.(system|popen|exec\w*|spawn\w*|fork|remove|unlink|rmdir|kill)\b"), "os"),
    (re.compile(r"\bsubprocess\b"), "subprocess"),
    (re.compile(r"\bbuiltins\.(exec|eval|compile|open|__import__)\b"), "builtins"),
    (re.compile(r"(?<![\w.])(exec|eval|compile|__import__|open)\s*\("), "a builtin"),
    (re.compile(r"\b(socket|ctypes|importlib|shutil|pty|marshal|pickle)\."), "a module"),
    (re.compile(r"\bsys\.modules\b"), "sys.modules"),
)


def check_torchscript_code(data: bytes, *, path: str, member: str) -> list[Finding]:
    """Flag Python calls in TorchScript code that TorchScript itself cannot express.

    Args:
        data: A ``code/**.py`` member of a TorchScript archive.
        path: The scanned file.
        member: The member's name.

    Returns:
        One critical finding per offending line.
    """
    findings: list[Finding] = []
    text = data.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern, what in _CODE_PATTERNS:
            match = pattern.search(line)
            if match is None:
                continue
            finding = rules.finding(
                rules.DANGEROUS_GLOBAL,
                f"TorchScript code calls {match.group(0).rstrip('(').strip()} ({what}), which "
                "TorchScript cannot express: the archive was altered to run code",
                path=path,
                address=f"member {member}, line {number}",
                remediation=REMEDIATE_PICKLE,
            )
            findings.append(finding)
            break
    return findings
