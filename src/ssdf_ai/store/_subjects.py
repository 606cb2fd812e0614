"""Subjects from paths: a stable name and a content digest for a file or a directory.

A directory's digest is the SHA-256 of a manifest of its contents, one line per entry, sorted
by relative path::

    file <sha256 of the content> "<relative/posix/path>"
    link <sha256 of the link target text> "<relative/posix/path>"

Paths are JSON-quoted, so any file name is unambiguous. Symbolic links are recorded, never
followed; empty directories do not count; ``.git`` and ``.ssdf`` directories are left out (the
first is history, not content; the second is the evidence store itself, which changes as
evidence is recorded).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path

from ssdf_ai.errors import InputError
from ssdf_ai.evidence import Subject, SubjectKind, sha256_file

EXCLUDED_DIRS = frozenset({".git", ".ssdf"})


def _manifest_lines(directory: Path) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for current, dirs, files in os.walk(directory, followlinks=False):
        base = Path(current)
        dirs[:] = [d for d in dirs if d not in EXCLUDED_DIRS]
        for name in [*dirs, *files]:
            entry = base / name
            rel = entry.relative_to(directory).as_posix()
            info = entry.lstat()
            if stat.S_ISLNK(info.st_mode):
                target = os.readlink(entry).encode("utf-8", "surrogateescape")
                lines.append((rel, f"link {hashlib.sha256(target).hexdigest()} {json.dumps(rel)}"))
            elif stat.S_ISREG(info.st_mode):
                lines.append((rel, f"file {sha256_file(entry)} {json.dumps(rel)}"))
            elif not stat.S_ISDIR(info.st_mode):
                raise InputError(
                    f"cannot hash {entry}: it is neither a file, a directory nor a link",
                    where=entry,
                    hint="remove the special file or choose a different subject",
                )
    return sorted(lines)


def digest_path(path: str | Path) -> str:
    """Return the SHA-256 of a file, or of a directory's sorted content manifest.

    Args:
        path: A file or a directory.

    Returns:
        The lower-case hex digest.

    Raises:
        InputError: If the path does not exist or holds a special file.
    """
    path = Path(path)
    try:
        if path.is_file():
            return sha256_file(path)
        if path.is_dir():
            text = "".join(line + "\n" for _, line in _manifest_lines(path))
            return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", where=exc.filename) from exc
    raise InputError(f"no such file or directory: {path}", where=path)


def subject_for_path(
    path: str | Path, kind: SubjectKind, *, root: str | Path | None = None
) -> Subject:
    """Return the subject for a file or directory, named relative to ``root`` where inside it.

    Args:
        path: The file or directory.
        kind: What it is.
        root: The project root; paths inside it are named relative to it.

    Returns:
        The subject, with its content digest.

    Raises:
        InputError: If the path cannot be hashed.
    """
    path = Path(path)
    digest = digest_path(path)
    resolved = path.resolve()
    name = resolved.as_posix()
    if root is not None:
        with contextlib.suppress(ValueError):
            name = resolved.relative_to(Path(root).resolve()).as_posix() or "."
    return Subject(kind=kind, name=name, digest=digest)
