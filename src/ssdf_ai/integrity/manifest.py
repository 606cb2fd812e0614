"""Manifests: the files (or shards of files) of a model or dataset folder with their digests.

The layout is the one OpenSSF model signing (``model-signing`` 1.x) signs, so a manifest we
compute verifies against a signature it wrote and the other way round:

* a resource per regular file, named by its POSIX path relative to the root (``"."`` when the
  root is a single file), or per shard ``path:start:end`` of ``shard_size`` bytes (an empty
  file has no shards);
* resources ordered by path components (``a/b`` before ``a.txt``), then by shard start;
* the root digest is SHA-256 over the concatenated raw digests in that order.

Walking is streamed: directories are listed one at a time in sorted order, files are hashed on a
bounded pool of threads (``hashlib`` and ``blake3`` release the GIL), and :func:`iter_manifest`
yields resources in manifest order as they complete, so a folder with millions of files is never
held in memory at once. Symbolic links are refused unless allowed, and then only followed when
they stay inside the root; symlinked directories are skipped (as ``model-signing`` does); devices,
FIFOs and sockets are refused.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import mmap
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from ssdf_ai.errors import InputError, MissingExtraError

__all__ = [
    "DEFAULT_IGNORES",
    "DEFAULT_SHARD_SIZE",
    "HASH_TYPES",
    "FileStat",
    "ManifestDigests",
    "Resource",
    "Serialization",
    "Walked",
    "hash_file_range",
    "iter_manifest",
    "names_digest",
    "resource_sort_key",
    "root_digest",
    "walk",
]

HASH_TYPES = ("sha256", "blake2b", "blake3")
DEFAULT_IGNORES = (".git", ".gitattributes", ".github", ".gitignore")
DEFAULT_SHARD_SIZE = 1_000_000_000
_BLOCK = 1 << 20  # bytes read per call when streaming a file (faster than 256 KiB or 4 MiB)
_MAP_WINDOW = 16 << 20  # bytes of a file mapped at once for BLAKE3
_MIN_BLOCK = 64 << 10  # the smallest read buffer (a file may grow while it is read)
_SMALL_FILE = 1 << 20  # files up to this size are hashed in batches, not one job each
_BATCH_FILES = 256  # at most this many files in a batch
_BATCH_BYTES = 16 << 20  # and at most this many bytes


class _Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


@dataclasses.dataclass(frozen=True)
class Serialization:
    """How a manifest was computed: what the OMS predicate's ``serialization`` records.

    Attributes:
        method: ``files`` (a digest per file) or ``shards`` (a digest per ``shard_size`` bytes).
        hash_type: ``sha256``, ``blake2b`` or ``blake3``.
        shard_size: Bytes per shard (``shards`` only).
        allow_symlinks: Whether symbolic links inside the tree are followed.
        ignore_paths: Paths relative to the root that are left out, with everything below them.
    """

    method: str = "files"
    hash_type: str = "sha256"
    shard_size: int = DEFAULT_SHARD_SIZE
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = DEFAULT_IGNORES

    def __post_init__(self) -> None:
        if self.method not in ("files", "shards"):
            raise InputError(
                f"unknown serialization method {self.method!r}", hint="use files or shards"
            )
        if self.hash_type not in HASH_TYPES:
            raise InputError(
                f"unknown hash type {self.hash_type!r}",
                hint=f"use one of {', '.join(HASH_TYPES)}",
            )
        if self.method == "shards" and self.hash_type == "blake3":
            raise InputError(
                "BLAKE3 is not sharded (it hashes one file on many threads by itself)",
                hint="use --method files with blake3, or sha256/blake2b for shards",
            )
        if self.shard_size <= 0:
            raise InputError(f"shard size must be positive, not {self.shard_size}")

    @property
    def algorithm(self) -> str:
        """The ``algorithm`` string of each resource (``sha256-sharded-1000000`` for shards)."""
        if self.method == "shards":
            return f"{self.hash_type}-sharded-{self.shard_size}"
        return self.hash_type

    def to_json(self) -> dict[str, Any]:
        """The predicate's ``serialization`` object; ``shard_size`` is always an integer."""
        out: dict[str, Any] = {
            "method": self.method,
            "hash_type": self.hash_type,
            "allow_symlinks": self.allow_symlinks,
        }
        if self.method == "shards":
            out["shard_size"] = self.shard_size
        if self.ignore_paths:
            out["ignore_paths"] = list(self.ignore_paths)
        return out

    @classmethod
    def from_json(cls, data: object) -> Serialization:
        """Read a predicate's ``serialization`` object.

        Accepts ``model-signing``'s float ``shard_size`` (``1000000.0``) when it is integral.

        Raises:
            InputError: A missing or malformed field.
        """
        if not isinstance(data, dict):
            raise InputError("the signature's serialization is not an object")
        method = data.get("method")
        hash_type = data.get("hash_type")
        allow = data.get("allow_symlinks", False)
        ignores = data.get("ignore_paths", [])
        if not isinstance(method, str) or not isinstance(hash_type, str):
            raise InputError("the signature's serialization lacks method or hash_type")
        if not isinstance(allow, bool):
            raise InputError("the signature's serialization.allow_symlinks is not a boolean")
        if not isinstance(ignores, list) or not all(isinstance(p, str) for p in ignores):
            raise InputError("the signature's serialization.ignore_paths is not a list of paths")
        shard_size = DEFAULT_SHARD_SIZE
        if method == "shards":
            raw = data.get("shard_size")
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise InputError(f"the signature's shard_size {raw!r} is not an integer")
            shard_size = raw
        for p in ignores:
            _check_relative(p, "ignore path in the signature")
        return cls(method, hash_type, shard_size, allow, tuple(ignores))


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Resource:
    """One manifest entry: a file or a shard, its algorithm and hex digest."""

    name: str
    algorithm: str
    digest: str

    @property
    def path(self) -> str:
        """The file the resource belongs to (a shard's name without ``:start:end``)."""
        return split_shard(self.name)[0] if "-sharded-" in self.algorithm else self.name


@dataclasses.dataclass(frozen=True, slots=True)
class FileStat:
    """A walked file: relative name, size and modification time (for incremental hashing)."""

    name: str
    size: int
    mtime_ns: int


@dataclasses.dataclass
class Walked:
    """What :func:`iter_manifest` saw besides resources, filled in as it goes.

    File stats are kept in ``stats`` when ``keep_stats`` is set, and passed to ``on_stat`` as
    they are walked (so a caller can stream millions of them to a file instead).
    """

    files: int = 0
    bytes_hashed: int = 0
    reused_files: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)
    stats: list[FileStat] = dataclasses.field(default_factory=list)
    keep_stats: bool = True
    on_stat: Callable[[FileStat], None] | None = None


def split_shard(name: str) -> tuple[str, int, int]:
    """Split ``path:start:end`` on its last two colons (a path may contain colons).

    Raises:
        InputError: The name has no ``:start:end`` suffix.
    """
    parts = name.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise InputError(f"shard resource {name!r} does not end in :START:END")
    return parts[0], int(parts[1]), int(parts[2])


def resource_sort_key(name: str, sharded: bool) -> tuple[tuple[str, ...], int, int]:
    """Manifest order: by path components, then shard start and end (as model-signing)."""
    if sharded:
        path, start, end = split_shard(name)
        return tuple(PurePosixPath(path).parts), start, end
    return tuple(PurePosixPath(name).parts), 0, 0


class ManifestDigests:
    """The two digests over a manifest, fed one resource at a time in manifest order.

    ``root``: SHA-256 over the raw digests (the OMS subject digest). ``names``: SHA-256 over
    ``name NUL algorithm NUL raw-digest`` per resource, binding names to digests (the OMS root
    covers digests only, so two layouts with the same contents under other names share it).
    """

    def __init__(self) -> None:
        self._root = hashlib.sha256()
        self._names = hashlib.sha256()
        self.count = 0

    def update(self, resource: Resource) -> None:
        """Add the next resource."""
        raw = bytes.fromhex(resource.digest)
        self._root.update(raw)
        self._names.update(
            resource.name.encode("utf-8") + b"\0" + resource.algorithm.encode("ascii") + b"\0"
        )
        self._names.update(raw)
        self.count += 1

    @property
    def root(self) -> str:
        """The OMS root digest (hex)."""
        return self._root.hexdigest()

    @property
    def names(self) -> str:
        """The name-binding digest (hex)."""
        return self._names.hexdigest()


def _digests(resources: Iterable[Resource]) -> ManifestDigests:
    digests = ManifestDigests()
    for r in resources:
        digests.update(r)
    return digests


def root_digest(resources: Iterable[Resource]) -> str:
    """SHA-256 over the raw digests in manifest order: the OMS subject digest."""
    return _digests(resources).root


def names_digest(resources: Iterable[Resource]) -> str:
    """SHA-256 binding names to digests (see :class:`ManifestDigests`)."""
    return _digests(resources).names


def _check_relative(path: str, what: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise InputError(f"{what} {path!r} must be relative and stay inside the model")


def _new_hasher(hash_type: str) -> _Hasher:
    if hash_type == "sha256":
        return hashlib.sha256()
    if hash_type == "blake2b":
        return hashlib.blake2b()
    try:
        import blake3
    except ImportError as exc:
        raise MissingExtraError("blake3", "blake3") from exc
    return blake3.blake3(max_threads=blake3.blake3.AUTO)


def hash_file_range(path: Path, hash_type: str, start: int = 0, end: int | None = None) -> str:
    """Hex digest of ``path``'s bytes ``[start, end)`` (the whole file by default).

    Raises:
        InputError: The file shrank while being read.
    """
    hasher = _new_hasher(hash_type)
    if hash_type == "blake3" and start == 0 and end is None:
        # Memory-mapped, so BLAKE3 hashes each window on all cores without a copy; a window at a
        # time, since mapping the whole file (blake3's update_mmap) put every page of it in the
        # process's RSS: peak RSS grew with the largest files.
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            for offset in range(0, size, _MAP_WINDOW):
                length = min(_MAP_WINDOW, size - offset)
                try:
                    window = mmap.mmap(f.fileno(), length, offset=offset, access=mmap.ACCESS_READ)
                except ValueError as exc:  # the file is now shorter than length
                    raise InputError(
                        f"{path} changed while it was hashed (it is shorter than before)"
                    ) from exc
                with window, memoryview(window) as view:
                    hasher.update(view)
        return hasher.hexdigest()
    with open(path, "rb", buffering=0) as f:
        if start:
            f.seek(start)
        remaining = None if end is None else end - start
        # A buffer no larger than what is to be read: zero-filling a full-size bytearray (4 MiB
        # then) for each 4 KiB file cost more than hashing it (about 0.1 ms a file).
        expected = os.fstat(f.fileno()).st_size - start if remaining is None else remaining
        view = memoryview(bytearray(min(_BLOCK, max(expected, _MIN_BLOCK))))
        block = len(view)
        while remaining is None or remaining > 0:
            want = block if remaining is None else min(block, remaining)
            n = f.readinto(view[:want])
            if not n:
                break
            hasher.update(view[:n])
            if remaining is not None:
                remaining -= n
        if remaining:
            raise InputError(f"{path} changed while it was hashed (it is shorter than before)")
    return hasher.hexdigest()


# -- walking ------------------------------------------------------------------------------


def _ignored(rel: str, ignores: tuple[str, ...]) -> bool:
    return any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in ignores)


def _inside(root: Path, target: Path) -> bool:
    try:
        target.relative_to(root)
    except ValueError:
        return False
    return True


def walk(
    root: Path, settings: Serialization, walked: Walked | None = None
) -> Iterator[tuple[Path, FileStat]]:
    """Yield ``(path, stat)`` for every file of the manifest, in manifest order.

    Raises:
        InputError: A symbolic link when they are not allowed, one that leaves the root, or a
            device, FIFO or socket.
    """
    walked = walked if walked is not None else Walked()
    root_real = root.resolve()
    info = os.stat(root, follow_symlinks=True)
    if stat.S_ISREG(info.st_mode):
        yield root, FileStat(".", info.st_size, info.st_mtime_ns)
        return
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{root} is neither a file nor a directory")
    ignores = tuple(p.rstrip("/") for p in settings.ignore_paths)
    # Depth-first with each directory's entries sorted by name gives path-component order.
    stack: list[tuple[Path, str, Iterator[os.DirEntry[str]]]] = []

    def listing(directory: Path) -> Iterator[os.DirEntry[str]]:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        return iter(entries)

    stack.append((root, "", listing(root)))
    while stack:
        directory, prefix, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        rel = prefix + entry.name
        if _ignored(rel, ignores):
            continue
        path = directory / entry.name
        if entry.is_symlink():
            if not settings.allow_symlinks:
                raise InputError(
                    f"{path} is a symbolic link",
                    hint="remove it, or pass --allow-symlinks to follow links that stay "
                    "inside the model",
                )
            target = path.resolve()
            if not _inside(root_real, target):
                raise InputError(
                    f"{path} is a symbolic link to {target}, outside {root}",
                    hint="copy the file into the model instead of linking to it",
                )
            if target.is_dir():
                walked.skipped.append(f"{rel}/ (symbolic link to a directory, not followed)")
                continue
        try:
            st = os.stat(path, follow_symlinks=True)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        if stat.S_ISDIR(st.st_mode):
            stack.append((path, rel + "/", listing(path)))
        elif stat.S_ISREG(st.st_mode):
            yield path, FileStat(rel, st.st_size, st.st_mtime_ns)
        else:
            raise InputError(
                f"{path} is not a regular file or directory (a device, FIFO or socket)",
                hint="remove it or add it to the ignored paths",
            )


def _shards(size: int, shard_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + shard_size, size)) for start in range(0, size, shard_size)]


def iter_manifest(
    root: Path,
    settings: Serialization,
    *,
    previous: Callable[[FileStat], list[Resource] | None] | None = None,
    workers: int | None = None,
    walked: Walked | None = None,
) -> Iterator[Resource]:
    """Hash ``root`` and yield its resources in manifest order.

    Args:
        root: A model or dataset folder, or one file.
        settings: How to hash.
        previous: Given a file's stat, the resources to reuse for it (incremental re-signing),
            or ``None`` to hash it.
        workers: Threads hashing at once (default: the number of CPUs).
        walked: Filled in with counts, skipped entries and file stats as the walk goes.

    Raises:
        InputError: See :func:`walk`.
    """
    walked = walked if walked is not None else Walked()
    workers = workers or os.cpu_count() or 1
    window = max(4 * workers, 8)  # jobs submitted ahead of the one being yielded
    pending: collections.deque[Future[list[Resource]] | list[Resource]] = collections.deque()
    algorithm = settings.algorithm
    hash_type = settings.hash_type
    # Small files (and the single shard of a small file) are hashed in batches, one job per
    # batch: a job per 4 KiB file cost more in thread hand-offs than the hashing itself.
    batch: list[tuple[Path, str, int, int | None]] = []
    batch_bytes = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ssdf-hash") as pool:

        def submit(ranges: list[tuple[Path, str, int, int | None]]) -> Future[list[Resource]]:
            def job() -> list[Resource]:
                return [
                    Resource(name, algorithm, hash_file_range(path, hash_type, start, end))
                    for path, name, start, end in ranges
                ]

            return pool.submit(job)

        def flush() -> None:
            nonlocal batch, batch_bytes
            if batch:
                pending.append(submit(batch))
                batch, batch_bytes = [], 0

        try:
            for path, fstat in walk(root, settings, walked):
                walked.files += 1
                if walked.keep_stats:
                    walked.stats.append(fstat)
                if walked.on_stat is not None:
                    walked.on_stat(fstat)
                reused = previous(fstat) if previous is not None else None
                if reused is not None:
                    walked.reused_files += 1
                    flush()
                    pending.append(reused)
                    continue
                walked.bytes_hashed += fstat.size
                if settings.method == "files":
                    ranges: list[tuple[Path, str, int, int | None]] = [(path, fstat.name, 0, None)]
                else:
                    ranges = [
                        (path, f"{fstat.name}:{start}:{end}", start, end)
                        for start, end in _shards(fstat.size, settings.shard_size)
                    ]
                if fstat.size <= _SMALL_FILE:
                    batch += ranges
                    batch_bytes += fstat.size
                    if len(batch) >= _BATCH_FILES or batch_bytes >= _BATCH_BYTES:
                        flush()
                else:
                    flush()
                    pending.extend(submit([r]) for r in ranges)
                while len(pending) > window:
                    yield from _resolve(pending.popleft())
            flush()
            while pending:
                yield from _resolve(pending.popleft())
        finally:
            for item in pending:
                if isinstance(item, Future):
                    item.cancel()


def _resolve(item: Future[list[Resource]] | list[Resource]) -> list[Resource]:
    return item.result() if isinstance(item, Future) else item
