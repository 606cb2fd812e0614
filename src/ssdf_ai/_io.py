"""Atomic file output.

Everything ssdf-ai writes to a user-visible path goes through :func:`atomic_write`: the data is
written to a temporary file in the same directory, flushed to disk, and renamed over the target,
so a crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ssdf_ai.errors import InputError


@contextlib.contextmanager
def atomic_writer(path: str | Path, *, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Open a binary file that replaces ``path`` only when the block finishes without error.

    Args:
        path: The destination. Its directory must exist.
        mode: Permission bits of the final file.

    Yields:
        A binary file object to write to.

    Raises:
        InputError: If the destination directory does not exist or is not writable.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(
            f"cannot write {target}: directory {directory} does not exist",
            where=target,
            hint="create the directory first or choose another output path",
        )
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}", where=target) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`).

    Args:
        path: The destination file.
        data: Bytes, or text which is encoded as UTF-8.
        mode: Permission bits of the final file.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, mode=mode) as handle:
        handle.write(payload)
