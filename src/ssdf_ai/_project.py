"""Finding the project root and its configuration file, and the validated-configuration stamp.

Standard library only: ``ssdf scan``'s light path (:mod:`ssdf_ai._entry`) uses this module to
start without pydantic. Validation itself lives in :mod:`ssdf_ai.config`.

The stamp: when :func:`ssdf_ai.config.load_config` has validated a configuration file, it
records the settings a light command needs under ``.ssdf/cache/config/``, named by a digest of
the ssdf-ai version and the file's exact bytes. A light command that finds the stamp for the
bytes it reads uses those settings; any other file (edited, new, or never validated) sends it
down the full path, which validates and reports problems as every command does. The stamp is a
cache: it is only written where ``.ssdf/`` already exists, and never trusted for other bytes.

Modules used by only some calls (hashlib, json, tempfile, tomllib) are imported inside them:
together they cost as much as the light scan's own start-up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ssdf_ai._version import __version__

CONFIG_FILE = "ssdf.toml"
PYPROJECT_FILE = "pyproject.toml"
STATE_DIR = ".ssdf"
STAMP_DIR = ("cache", "config")

_TOOL_HEADER = re.compile(r'^\s*\[\s*tool\s*\.\s*(ssdf|"ssdf"|\'ssdf\')\s*[\].]', re.MULTILINE)
_MAX_STAMP_BYTES = 1 << 16


def pyproject_has_table(path: Path) -> bool | None:
    """True or False when ``path`` does or does not hold [tool.ssdf]; None when unparseable
    but apparently holding it (so that the caller reports the syntax error)."""
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError):
        return False
    except (tomllib.TOMLDecodeError, RecursionError):
        return None if _TOOL_HEADER.search(text) else False
    tool = document.get("tool")
    return isinstance(tool, dict) and "ssdf" in tool


def find_project_root(start: Path) -> Path:
    """Walk up from ``start`` to the directory that holds the project's configuration.

    A directory is the root when it contains ``ssdf.toml``, a ``pyproject.toml`` with a
    ``[tool.ssdf]`` table, or an ``.ssdf/`` state directory.

    Args:
        start: A directory (or a file, whose directory is used).

    Returns:
        The first such directory from ``start`` upwards, or ``start`` itself when none is.
    """
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        if (directory / CONFIG_FILE).is_file() or (directory / STATE_DIR).is_dir():
            return directory
        pyproject = directory / PYPROJECT_FILE
        if pyproject.is_file() and pyproject_has_table(pyproject) is not False:
            return directory
    return here


def config_file(root: Path) -> Path | None:
    """The file :func:`ssdf_ai.config.load_config` reads for ``root``, or None (defaults)."""
    ssdf = root / CONFIG_FILE
    if ssdf.is_file():
        return ssdf
    pyproject = root / PYPROJECT_FILE
    if pyproject.is_file() and pyproject_has_table(pyproject) is not False:
        return pyproject
    return None


def _stamp_path(root: Path, data: bytes, name: str) -> Path:
    import hashlib

    digest = hashlib.sha256(f"{__version__}\0{name}\0".encode() + data).hexdigest()
    return root.joinpath(STATE_DIR, *STAMP_DIR, f"{digest}.json")


def write_stamp(root: Path, data: bytes, name: str, settings: dict[str, Any]) -> None:
    """Record that the configuration file ``name`` with bytes ``data`` validated to ``settings``.

    Written atomically, only when ``root/.ssdf`` exists; failures are ignored (it is a cache).
    """
    if not (root / STATE_DIR).is_dir():
        return
    import json
    import tempfile

    path = _stamp_path(root, data, name)
    text = json.dumps(settings, sort_keys=True)
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".stamp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        return


def read_stamp(root: Path, data: bytes, name: str) -> dict[str, Any] | None:
    """The settings recorded for this exact configuration, or None when there is no stamp."""
    import json

    path = _stamp_path(root, data, name)
    try:
        if path.stat().st_size > _MAX_STAMP_BYTES:
            return None
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return settings if isinstance(settings, dict) else None
