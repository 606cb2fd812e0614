"""The secrets baseline: findings a person accepted, named by a salted hash, never by value.

The file is JSON::

    {"version": 1, "salt": "<32 hex>", "entries": [
        {"rule_id": "SSDF-SECRET-001", "kind": "github-token", "path": "tests/fixture.py",
         "preview": "ghp_…", "fingerprint": "<64 hex>", "reason": "a revoked test token"}]}

``fingerprint`` is SHA-256 over the salt, the kind, the path and the secret's value: it stays the
same when lines move, changes when the value or the file changes, and the random per-baseline
salt keeps a short or guessable value from being confirmed by hashing candidates elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets as _random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssdf_ai._io import atomic_write
from ssdf_ai.errors import InputError

VERSION = 1
FILE_NAME = ".ssdf-secrets-baseline.json"
MAX_BYTES = 16 * 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]+$")
_HINT = "fix the file, or delete it and write a new one with `ssdf secrets --update-baseline`"


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted finding."""

    rule_id: str
    kind: str
    path: str
    preview: str
    fingerprint: str
    reason: str | None = None


@dataclass(slots=True)
class Baseline:
    """A salt and the accepted findings, by fingerprint."""

    salt: str = field(default_factory=lambda: _random.token_hex(16))
    entries: dict[str, Entry] = field(default_factory=dict)

    def fingerprint(self, kind: str, path: str, value: str) -> str:
        """Salted SHA-256 of a secret's kind, path and value (the value is never stored)."""
        h = hashlib.sha256()
        for part in (self.salt, kind, path, value):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()


def _fail(path: Path, message: str) -> InputError:
    return InputError(f"malformed secrets baseline: {message}", where=path, hint=_HINT)


def load_baseline(path: Path) -> Baseline:
    """Read and validate the baseline at ``path``.

    Raises:
        InputError: The file cannot be read or is not a valid baseline.
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _fail(path, f"{size:,} bytes, over the {MAX_BYTES:,}-byte limit")
        document = json.loads(path.read_bytes())
    except OSError as error:
        raise InputError(
            f"cannot read the secrets baseline: {error.strerror}", where=path
        ) from None
    except (ValueError, RecursionError) as error:
        raise _fail(path, f"not JSON ({error})") from None
    if not isinstance(document, dict):
        raise _fail(path, "not a JSON object")
    if document.get("version") != VERSION:
        raise _fail(path, f"version must be {VERSION}, not {document.get('version')!r}")
    salt = document.get("salt")
    if not isinstance(salt, str) or not _HEX.match(salt) or len(salt) < 16:
        raise _fail(path, "salt must be a hex string of at least 16 digits")
    raw = document.get("entries")
    if not isinstance(raw, list):
        raise _fail(path, "entries must be a list")
    baseline = Baseline(salt=salt)
    for n, item in enumerate(raw):
        baseline.entries.setdefault(_entry(path, n, item).fingerprint, _entry(path, n, item))
    return baseline


def _entry(path: Path, n: int, item: Any) -> Entry:
    if not isinstance(item, dict):
        raise _fail(path, f"entries[{n}] is not an object")
    values = {}
    for key in ("rule_id", "kind", "path", "fingerprint"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise _fail(path, f"entries[{n}].{key} must be a non-empty string")
        values[key] = value
    if len(values["fingerprint"]) != 64 or not _HEX.match(values["fingerprint"]):
        raise _fail(path, f"entries[{n}].fingerprint must be 64 hex digits")
    reason = item.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise _fail(path, f"entries[{n}].reason must be a string or null")
    preview = item.get("preview", "")
    if not isinstance(preview, str):
        raise _fail(path, f"entries[{n}].preview must be a string")
    return Entry(preview=preview, reason=reason, **values)


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write ``baseline`` to ``path`` atomically, entries sorted by path, rule and kind."""
    entries = sorted(baseline.entries.values(), key=lambda e: (e.path, e.rule_id, e.kind))
    document = {
        "version": VERSION,
        "salt": baseline.salt,
        "entries": [
            {
                "rule_id": e.rule_id,
                "kind": e.kind,
                "path": e.path,
                "preview": e.preview,
                "fingerprint": e.fingerprint,
                "reason": e.reason,
            }
            for e in entries
        ],
    }
    atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
