"""Walking a project tree for the code and environment checks, bounded and without following
symbolic links.

:func:`iter_files` yields the regular files under a folder (or the one file given), skipping
the folders no check should read (version control internals, virtual environments, caches, the
evidence store) and never following a symbolic link, so a link out of the tree is never read.
:func:`read_text` reads a file as text with a size limit.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ssdf_ai.errors import InputError

# Folders never descended into: tool state, environments and caches, not the project's code.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".ssdf",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".ipynb_checkpoints",
        "site-packages",
    }
)
# Text files larger than this are not read as text (a source file this big is generated).
MAX_TEXT_BYTES = 16 * 1024 * 1024
# At most this many files are visited under one root.
MAX_FILES = 200_000


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A regular file found under the root.

    Attributes:
        path: Its path (the root joined with ``rel``).
        rel: Its path relative to the root, POSIX style (the file's name when the root is a file).
        size: Its size in bytes.
        mode: Its ``st_mode`` (permission bits included).
    """

    path: Path
    rel: str
    size: int
    mode: int


def iter_files(
    root: Path,
    *,
    suffixes: Iterable[str] | None = None,
    skip_dirs: frozenset[str] = SKIP_DIRS,
    max_files: int = MAX_FILES,
) -> Iterator[FileEntry]:
    """The regular files under ``root`` (or ``root`` itself when it is a file), in sorted order.

    Symbolic links are never followed (neither to files nor to folders) and special files are
    skipped. ``suffixes`` (lower case, with the dot: ``{".py", ".ipynb"}``) restricts by name.

    Raises:
        InputError: ``root`` does not exist, or holds more than ``max_files`` files.
    """
    wanted = None if suffixes is None else frozenset(s.lower() for s in suffixes)
    try:
        info = root.lstat()
    except FileNotFoundError:
        raise InputError(
            f"{root} does not exist", where=root, hint="give a file or a folder"
        ) from None
    if stat.S_ISREG(info.st_mode):
        if wanted is None or root.suffix.lower() in wanted:
            yield FileEntry(root, root.name, info.st_size, info.st_mode)
        return
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(
            f"{root} is not a regular file or folder", where=root, hint="give a file or a folder"
        )
    count = 0
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as entries:
                items = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in items:
            rel = prefix + entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if entry.name not in skip_dirs:
                    subdirs.append((Path(entry.path), rel + "/"))
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if wanted is not None and os.path.splitext(entry.name)[1].lower() not in wanted:
                continue
            count += 1
            if count > max_files:
                raise InputError(
                    f"{root} holds more than {max_files:,} files",
                    where=root,
                    hint="point the check at the project's own folders",
                )
            yield FileEntry(Path(entry.path), rel, st.st_size, st.st_mode)
        stack.extend(reversed(subdirs))


def read_text(path: Path, *, limit: int = MAX_TEXT_BYTES) -> str | None:
    """The file's text (UTF-8, undecodable bytes replaced), or ``None`` when it is larger than
    ``limit`` bytes or looks binary (a NUL byte in its first 8 KiB)."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit or b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")
