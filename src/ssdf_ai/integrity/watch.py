"""Continuous integrity monitoring of a signed model or dataset: the engine of ``ssdf watch``.

A :class:`Watcher` holds a verified signature's manifest (the baseline) and, each round
(:meth:`Watcher.check`), walks the tree with the signature's own serialization settings (the
signature file itself left out), stats every file, and re-hashes only the files whose size,
modification time, status-change time or inode changed since it last looked, or that are new or
gone. Each file's digests (one per file, or one per shard, as the signature says) are compared
with the signed ones, and every change of a file's state yields an :class:`Alert`:

* ``changed``, ``added``, ``removed``: the file now differs from the signature;
* ``restored``: the file matches the signature again (an added file that is gone again counts);
* ``permissions``: weights or data writable by every user (or, with ``closed``, readable by
  every user); a private key readable by every user or writable by its group or others;
* ``private-key``: a private key (PEM ``PRIVATE KEY`` header in its first 4 KiB) inside the tree,
  or a ``*.key``/``*.pem``/SSH key file holding one inside the project repository;
* ``unverifiable``: the tree cannot be walked as the signature's settings require (a symbolic
  link appeared, a directory became unreadable); the rest of the tree is not verified until
  that is fixed.

The first round hashes every file (a full verification) unless ``trust_signed_stats`` is given;
later rounds cost one ``stat`` per file plus the hashing of what changed. Each condition is
alerted once, when it appears; permission and key conditions that go away are forgotten
silently, so they alert again if they come back. Polling only: nothing here uses inotify, so a
change that is undone between two rounds is not seen.

:meth:`Watcher.watch` runs rounds until told to stop. Nothing here prints, records evidence or
runs hooks: that is the command's work (:mod:`ssdf_ai.cli.watch`).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib.util
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssdf_ai.code._files import SKIP_DIRS
from ssdf_ai.errors import InputError, MissingExtraError
from ssdf_ai.integrity import rules
from ssdf_ai.integrity.manifest import hash_file_range, walk
from ssdf_ai.integrity.oms import with_signature_ignored

if TYPE_CHECKING:
    from ssdf_ai.findings import Finding
    from ssdf_ai.integrity.oms import Signed

__all__ = [
    "ADDED",
    "CHANGED",
    "KINDS",
    "PERMISSIONS",
    "PRIVATE_KEY",
    "REMOVED",
    "RESTORED",
    "UNVERIFIABLE",
    "Alert",
    "Watcher",
    "is_private_key",
    "permission_problems",
]

EVENT = "integrity-alert"
CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"
RESTORED = "restored"
PERMISSIONS = "permissions"
PRIVATE_KEY = "private-key"
UNVERIFIABLE = "unverifiable"
KINDS = (CHANGED, ADDED, REMOVED, RESTORED, PERMISSIONS, PRIVATE_KEY, UNVERIFIABLE)

KEY_SNIFF_BYTES = 4096
# PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), traditional ("EC/RSA/DSA PRIVATE KEY") and
# OpenSSH ("OPENSSH PRIVATE KEY") PEM headers.
_SHARD = re.compile(r":[0-9]+:[0-9]+\Z")
_PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
# Files of the project repository that are read to see whether they hold a private key.
KEY_SUFFIXES = (".key", ".pem")
KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
# Directories never searched for keys: the code checks' list (tools' caches and environments
# hold test keys of their own; .ssdf is the evidence store).
MAX_REPOSITORY_ENTRIES = 200_000
REPOSITORY_INTERVAL = 30.0

_HIGH = "high"
_MEDIUM = "medium"
_INFO = "info"
_LOW = "low"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Alert:
    """One integrity event.

    Attributes:
        kind: One of :data:`KINDS`.
        path: The file (absolute; the model itself for ``unverifiable``).
        resource: The file's name in the manifest, or its first differing shard
            (``name:start:end``); ``None`` outside the signed tree.
        expected: The signed digest (hex), where there is one.
        actual: The digest now (hex), where there is one.
        message: One sentence a person can act on.
        severity: ``info``, ``medium`` or ``high``.
        rule_id: The ``SSDF-INTEG`` rule (:mod:`ssdf_ai.integrity.rules`).
        signature: The signature file watched against.
        root: The signed OMS root digest.
        mode: The file's permission bits (``permissions`` alerts).
        time: When it was seen (UTC).
    """

    kind: str
    path: Path
    resource: str | None
    expected: str | None
    actual: str | None
    message: str
    severity: str
    rule_id: str
    signature: str
    root: str
    mode: int | None = None
    time: datetime.datetime = dataclasses.field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """The alert as the JSON object ``ssdf watch`` prints (one line each)."""
        stamp = self.time.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
        return {
            "event": EVENT,
            "time": stamp.replace("+00:00", "Z"),
            "path": str(self.path),
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
            "signature": self.signature,
            "root": self.root,
            "resource": self.resource,
            "severity": self.severity,
            "rule_id": self.rule_id,
            "message": self.message,
            "mode": None if self.mode is None else f"{self.mode:04o}",
        }

    def finding(self, project: Path | None = None) -> Finding:
        """The alert as a finding, its path relative to ``project`` when it lies inside it."""
        from ssdf_ai.findings import Severity

        remediation = {
            CHANGED: "find out who changed the file; restore it from a trusted copy, or re-sign "
            "the model if the change was intended",
            ADDED: "remove the file, or re-sign the model if it belongs to it",
            REMOVED: "restore the file from a trusted copy, or re-sign the model without it",
            PERMISSIONS: "restrict the file's permissions (chmod go-w, and chmod 600 for keys)",
            PRIVATE_KEY: "move the private key out of the repository into a secret store, "
            "and rotate it if it was ever committed or shared",
            UNVERIFIABLE: "make the tree readable again and remove links the signature does not "
            "allow",
        }.get(self.kind)
        return rules.finding(
            self.rule_id,
            self.message,
            path=relative_name(self.path, project),
            address=self.resource if self.resource and _SHARD.search(self.resource) else None,
            severity=Severity(self.severity),
            remediation=remediation,
        )


def relative_name(path: Path, project: Path | None) -> str:
    """``path`` relative to ``project`` (POSIX) when it lies inside it, else as it is."""
    if project is not None:
        try:
            return path.resolve().relative_to(project.resolve()).as_posix() or "."
        except (ValueError, OSError):
            pass
    return str(path)


def is_private_key(head: bytes) -> bool:
    """Whether the first bytes of a file hold a PEM private key header."""
    return _PEM_PRIVATE_KEY.search(head) is not None


def _a_key(head: bytes | None) -> str:
    """``an encrypted private key`` or ``a private key``, as the PEM header says (messages)."""
    if head is not None and (b"ENCRYPTED PRIVATE KEY" in head or b"Proc-Type: 4,ENCRYPTED" in head):
        return "an encrypted private key"
    return "a private key"


def _read_head(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(KEY_SNIFF_BYTES)
    except OSError:
        return None


def permission_problems(mode: int, *, private_key: bool, closed: bool) -> list[tuple[str, str]]:
    """What is wrong with a file's permission bits, as ``(severity, problem)`` pairs.

    Args:
        mode: ``st_mode`` (or just the permission bits).
        private_key: The file holds a private key: readable by every user, or writable by its
            group or by every user, is high.
        closed: The model is closed (PS.1.3.R2 confidentiality): weights and data readable by
            every user are medium. Weights and data writable by every user are always high.
    """
    problems: list[tuple[str, str]] = []
    if mode & stat.S_IROTH and (private_key or closed):
        problems.append((_HIGH if private_key else _MEDIUM, "readable by every user"))
    if mode & stat.S_IWOTH:
        problems.append((_HIGH, "writable by every user"))
    elif private_key and mode & stat.S_IWGRP:
        problems.append((_HIGH, "writable by its group"))
    return problems


def _shard_order(name: str) -> tuple[int, str]:
    parts = name.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return int(parts[1]), name
    return -1, name


_StatKey = tuple[int, int, int, int]


def _stat_key(st: os.stat_result) -> _StatKey:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class Watcher:
    """Watches a signed model or dataset against its verified signature.

    Args:
        model: The signed folder (or file).
        signed: The signature's statement, already verified authentic by the caller.
        signature: The signature file (left out of the walk when it lies inside ``model``).
        repository: The project repository searched for private keys, or ``None``.
        closed: The model is closed: weights and data readable by every user are flagged.
        trust_signed_stats: In the first round, files whose size and modification time equal
            those the signature recorded are taken as signed without being hashed (faster for
            large models; a change that kept both is then not seen until the file changes).
        repository_interval: Seconds between searches of the repository for keys.
    """

    def __init__(
        self,
        model: Path,
        signed: Signed,
        *,
        signature: Path,
        repository: Path | None = None,
        closed: bool = False,
        trust_signed_stats: bool = False,
        repository_interval: float = REPOSITORY_INTERVAL,
    ) -> None:
        self.model = model.absolute()
        self.signed = signed
        self.signature = signature
        self.settings = with_signature_ignored(self.model, signature, signed.serialization)
        if self.settings.hash_type == "blake3" and importlib.util.find_spec("blake3") is None:
            raise MissingExtraError("blake3", "blake3")  # fail now, not in the first round
        self.repository = repository.resolve() if repository is not None else None
        self.closed = closed
        self.repository_interval = repository_interval
        self.repository_truncated = False
        self.rounds = 0
        sharded = self.settings.method == "shards"
        expected: dict[str, dict[str, str]] = {}
        for r in signed.resources:
            expected.setdefault(r.path, {})[r.name] = r.digest
        # The shards method signs no resource for an empty file; the signature's file list
        # names them, and a pseudo-resource under the bare file name stands for them here.
        self._empty: str | None = None
        if sharded and signed.files is not None:
            self._empty = hashlib.new(self.settings.hash_type, b"").hexdigest()
            for s in signed.files:
                if s.size == 0:
                    expected.setdefault(s.name, {})[s.name] = self._empty
        self._expected = expected
        # The baseline: every file as signed until a round shows otherwise.
        self._actual: dict[str, dict[str, str]] = {f: dict(d) for f, d in expected.items()}
        self._seen: dict[str, _StatKey] = {}
        self._signed_stats: dict[str, tuple[int, int]] = {}
        if trust_signed_stats and signed.files is not None:
            self._signed_stats = {s.name: (s.size, s.mtime_ns) for s in signed.files}
        self._keys: dict[str, bool] = {}  # tree files: holds a private key?
        self._flagged: dict[str, tuple[tuple[str, str], ...]] = {}  # path -> problems alerted
        self._repo_seen: dict[str, tuple[_StatKey, bool]] = {}
        self._walk_error: str | None = None
        self._unreadable: dict[str, str] = {}
        self._next_repository = 0.0

    @property
    def files(self) -> int:
        """How many files the signature covers."""
        return len(self._expected)

    # -- one round -----------------------------------------------------------------------

    def check(self, stop: Callable[[], bool] | None = None) -> list[Alert]:
        """Run one round and return its alerts (empty when nothing changed).

        Args:
            stop: Asked between files; when it says so, the round ends early.
        """
        self.rounds += 1
        alerts: list[Alert] = []
        try:
            found = self._walk()
        except (InputError, OSError) as exc:
            if isinstance(exc, InputError):
                message = exc.message
            else:
                message = f"cannot read {exc.filename}: {exc.strerror or exc}"
            if message != self._walk_error:
                self._walk_error = message
                alerts.append(
                    self._alert(
                        UNVERIFIABLE,
                        self.model,
                        f"the tree cannot be verified against the signature: {message}",
                    )
                )
            found = None
        if found is not None:
            self._walk_error = None
            for name in sorted(set(found) | set(self._actual) | set(self._seen)):
                if stop is not None and stop():
                    return alerts
                alerts += self._check_file(name, found.get(name))
        if self.repository is not None and time.monotonic() >= self._next_repository:
            alerts += self._check_repository()
            self._next_repository = time.monotonic() + self.repository_interval
        return alerts

    def _walk(self) -> dict[str, tuple[Path, os.stat_result]]:
        found: dict[str, tuple[Path, os.stat_result]] = {}
        if not os.path.lexists(self.model):
            return found  # the whole model is gone: every file is removed
        for path, fstat in walk(self.model, self.settings):
            try:
                found[fstat.name] = (path, os.stat(path))
            except FileNotFoundError:
                continue
        return found

    def _path_of(self, name: str) -> Path:
        return self.model if name == "." else self.model / name

    def _check_file(self, name: str, entry: tuple[Path, os.stat_result] | None) -> list[Alert]:
        if entry is None:
            path = self._path_of(name)
            self._seen.pop(name, None)
            self._unreadable.pop(name, None)
            self._keys.pop(str(path), None)
            self._flagged.pop(str(path), None)
            return self._update(name, path, {})
        path, st = entry
        key = _stat_key(st)
        alerts: list[Alert] = []
        if self._seen.get(name) != key:
            trusted = self._signed_stats.pop(name, None)
            if name not in self._seen and trusted == (st.st_size, st.st_mtime_ns):
                self._seen[name] = key
            else:
                try:
                    digests = self._digests(path, name, st.st_size)
                except (FileNotFoundError, InputError):
                    # Vanished or changed while read: looked at again next round.
                    return self._check_permissions(path, st.st_mode, self._keys.get(str(path)))
                except OSError as exc:
                    # Unreadable (permissions changed, I/O error): the file cannot be verified.
                    message = f"{name} cannot be read to verify it: {exc.strerror or exc}"
                    if self._unreadable.get(name) != message:
                        self._unreadable[name] = message
                        alerts.append(self._alert(UNVERIFIABLE, path, message, resource=name))
                    return alerts + self._check_permissions(
                        path, st.st_mode, self._keys.get(str(path))
                    )
                self._unreadable.pop(name, None)
                self._seen[name] = key
                alerts += self._update(name, path, digests)
            alerts += self._check_key(path)
        alerts += self._check_permissions(path, st.st_mode, self._keys.get(str(path)))
        return alerts

    def _digests(self, path: Path, name: str, size: int) -> dict[str, str]:
        s = self.settings
        if s.method == "files":
            return {name: hash_file_range(path, s.hash_type)}
        if size == 0:
            return {name: self._empty} if self._empty is not None else {}
        return {
            f"{name}:{start}:{min(start + s.shard_size, size)}": hash_file_range(
                path, s.hash_type, start, min(start + s.shard_size, size)
            )
            for start in range(0, size, s.shard_size)
        }

    def _update(self, name: str, path: Path, now: dict[str, str]) -> list[Alert]:
        before = self._actual.get(name, {})
        if now:
            self._actual[name] = now
        else:
            self._actual.pop(name, None)
        if now == before:
            return []
        signed = self._expected.get(name, {})
        differing = sorted(
            (r for r in signed.keys() | now.keys() if signed.get(r) != now.get(r)),
            key=_shard_order,
        )
        if not differing:
            kind, message = RESTORED, f"{name} matches the signature again"
            first = min(signed, key=_shard_order) if signed else None
        elif not signed:
            kind, message = ADDED, f"{name} is not in the signature (added)"
            first = differing[0]
        elif not now:
            kind, message = REMOVED, f"{name} is signed but gone (removed)"
            first = differing[0]
        else:
            kind, message = CHANGED, f"{name} differs from the signature"
            first = differing[0]
            if self.settings.method == "shards":
                message += f" ({len(differing)} of {len(signed | now)} shard(s) differ)"
        return [
            self._alert(
                kind,
                path,
                message,
                resource=first,
                expected=signed.get(first) if first else None,
                actual=now.get(first) if first else None,
            )
        ]

    def _check_key(self, path: Path) -> list[Alert]:
        head = _read_head(path)
        found = head is not None and is_private_key(head)
        was = self._keys.get(str(path), False)
        self._keys[str(path)] = found
        if found and not was:
            return [
                self._alert(
                    PRIVATE_KEY,
                    path,
                    f"{path.name} holds {_a_key(head)}, inside the watched tree",
                    resource=self._name_of(path),
                )
            ]
        return []

    def _name_of(self, path: Path) -> str | None:
        try:
            return path.relative_to(self.model).as_posix() or "."
        except ValueError:
            return "." if path == self.model else None

    def _check_permissions(self, path: Path, mode: int, private_key: bool | None) -> list[Alert]:
        problems = tuple(
            permission_problems(mode, private_key=bool(private_key), closed=self.closed)
        )
        where = str(path)
        if not problems:
            self._flagged.pop(where, None)
            return []
        if self._flagged.get(where) == problems:
            return []
        self._flagged[where] = problems
        severity = _HIGH if any(s == _HIGH for s, _ in problems) else _MEDIUM
        what = "the private key" if private_key else "the closed model's" if self.closed else ""
        text = " and ".join(p for _, p in problems)
        return [
            self._alert(
                PERMISSIONS,
                path,
                f"{what} {path.name} is {text} (mode {stat.S_IMODE(mode):04o})".lstrip(),
                resource=self._name_of(path),
                severity=severity,
                mode=stat.S_IMODE(mode),
            )
        ]

    # -- the project repository ----------------------------------------------------------

    def _repository_candidates(self) -> Iterator[Path]:
        assert self.repository is not None  # noqa: S101 - checked by the caller
        model_real = str(self.model.resolve())
        stack = [str(self.repository)]
        entries_seen = 0
        self.repository_truncated = False
        while stack:
            directory = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                entries_seen += 1
                if entries_seen > MAX_REPOSITORY_ENTRIES:
                    self.repository_truncated = True
                    return
                if entry.path == model_real:
                    continue  # the watched tree is checked file by file each round
                try:
                    if entry.is_symlink():
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIP_DIRS:
                            stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False) and (
                        entry.name.lower().endswith(KEY_SUFFIXES) or entry.name in KEY_NAMES
                    ):
                        yield Path(entry.path)
                except OSError:
                    continue

    def _git_ignores(self, path: Path) -> bool:
        """Whether the project is a git work tree that ignores ``path`` (never committed)."""
        import subprocess

        if self.repository is None or not (self.repository / ".git").exists():
            return False
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                ["git", "-C", str(self.repository), "check-ignore", "-q", str(path)],  # noqa: S607
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def _check_repository(self) -> list[Alert]:
        alerts: list[Alert] = []
        present: set[str] = set()
        for path in self._repository_candidates():
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            where = str(path)
            present.add(where)
            key = _stat_key(st)
            cached = self._repo_seen.get(where)
            if cached is not None and cached[0] == key:
                found = cached[1]
            else:
                head = _read_head(path)
                found = head is not None and is_private_key(head)
                self._repo_seen[where] = (key, found)
                if found and (cached is None or not cached[1]):
                    ignored = self._git_ignores(path)
                    alerts.append(
                        self._alert(
                            PRIVATE_KEY,
                            path,
                            f"{path.name} holds {_a_key(head)}, inside the project repository"
                            + (
                                " (git ignores it, so it is not committed; keep it in a "
                                "secrets store or outside the repository all the same)"
                                if ignored
                                else ""
                            ),
                            severity=_LOW if ignored else None,
                        )
                    )
            if found:
                alerts += self._check_permissions(path, st.st_mode, True)
            else:
                self._flagged.pop(where, None)
        for where in set(self._repo_seen) - present:
            del self._repo_seen[where]
            self._flagged.pop(where, None)
        return alerts

    # -- alerts and the loop -------------------------------------------------------------

    def _alert(
        self,
        kind: str,
        path: Path,
        message: str,
        *,
        resource: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
        severity: str | None = None,
        mode: int | None = None,
    ) -> Alert:
        rule_id = {
            RESTORED: rules.RESTORED,
            PERMISSIONS: rules.PERMISSIONS,
            PRIVATE_KEY: rules.PRIVATE_KEY,
        }.get(kind, rules.MODIFIED)
        default = {RESTORED: _INFO, PERMISSIONS: _MEDIUM}.get(kind, _HIGH)
        return Alert(
            kind=kind,
            path=path,
            resource=resource,
            expected=expected,
            actual=actual,
            message=message,
            severity=severity or default,
            rule_id=rule_id,
            signature=str(self.signature),
            root=self.signed.root,
            mode=mode,
        )

    def watch(
        self,
        *,
        interval: float = 1.0,
        stop: Callable[[], bool] | None = None,
        max_seconds: float | None = None,
        once: bool = False,
    ) -> Iterator[list[Alert]]:
        """Run rounds every ``interval`` seconds; yield each round's alerts (possibly none).

        Args:
            interval: Seconds from the start of one round to the start of the next.
            stop: Asked between files and while sleeping; the watch ends when it says so.
            max_seconds: End after this long (a last round runs at the deadline); the first
                round always runs in full.
            once: Run one round only.
        """
        should_stop = stop or (lambda: False)
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while True:
            began = time.monotonic()
            yield self.check(should_stop)
            if once or should_stop():
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            wake = began + interval if deadline is None else min(began + interval, deadline)
            while (now := time.monotonic()) < wake:
                if should_stop():
                    return
                time.sleep(min(0.05, wake - now))
