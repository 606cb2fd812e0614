"""The facts an assessment gathers once, before any control runs.

Controls only read facts; they never touch the store or walk the project themselves. That
keeps each control a small yes/no question and each fact read exactly once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from ssdf_ai.assess.decisions import Decisions
    from ssdf_ai.assess.model import FindingStatus
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.store import ArtifactRecord, RunDetail, RunRecord
    from ssdf_ai.store._blobs import BlobStore

T = TypeVar("T")

# Project documents are small; anything larger is not what a control looks for.
MAX_DOCUMENT_BYTES = 1 << 20
# Bounds on walking model folders for model cards.
MAX_WALK_DEPTH = 4
MAX_WALK_ENTRIES = 20_000
# Commands whose every run (not only the newest) controls read in detail: signatures and their
# verifications, bills of materials, cards and releases are per model or dataset. The newest
# MAX_HISTORY_RUNS of each are kept.
HISTORY_COMMANDS = (
    "sign",
    "verify",
    "watch",
    "bom",
    "card",
    "release",
    "data check",
    "data augment",
    "code",
    "secrets",
    "deps",
    "env",
    "advisories update",
)
MAX_HISTORY_RUNS = 2000
MODEL_CARD_NAMES = ("README.md", "MODEL_CARD.md", "model_card.md", "MODELCARD.md")
# A README counts as a model card beside weights like these, or with hub-style front matter.
MODEL_SUFFIXES = frozenset(
    {".safetensors", ".pt", ".pth", ".bin", ".ckpt", ".onnx", ".pkl", ".pickle", ".joblib",
     ".skops", ".h5", ".keras", ".gguf", ".ggml", ".pb", ".tflite", ".msgpack", ".npz"}
)  # fmt: skip


@dataclasses.dataclass
class Facts:
    """Everything the controls may look at.

    Attributes:
        root: The project root.
        loaded: The configuration (defaults when the project has no file).
        now: The assessment's time (UTC).
        store_present: Whether the project has an evidence store.
        store_error: Why the store could not be read, if it could not.
        runs: Every recorded run, newest first.
        artifacts: Every recorded artifact, newest first.
        findings: Open findings of the newest run of each command, with their waivers.
        latest: The newest finished run of each command (``scan``, ``assess``…) in detail:
            its subjects, artifacts and findings.
        decisions: Verified attestations, waivers and refused records.
        history: Every run of each command in :data:`HISTORY_COMMANDS` (finished or still
            running), in detail, newest first.
        blobs: Where the store keeps artifact content (read by :meth:`artifact_bytes`).
    """

    root: Path
    loaded: LoadedConfig
    now: dt.datetime
    store_present: bool = False
    store_error: str | None = None
    runs: list[RunRecord] = dataclasses.field(default_factory=list)
    artifacts: list[ArtifactRecord] = dataclasses.field(default_factory=list)
    findings: list[FindingStatus] = dataclasses.field(default_factory=list)
    latest: dict[str, RunDetail] = dataclasses.field(default_factory=dict)
    decisions: Decisions | None = None
    history: dict[str, list[RunDetail]] = dataclasses.field(default_factory=dict)
    blobs: BlobStore | None = None
    _memo: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """``make()``, computed once per assessment under ``key``: what several controls of one
        capability read (the recorded training runs, the dataset registry) is read once."""
        if key not in self._memo:
            self._memo[key] = make()
        return cast(T, self._memo[key])

    @property
    def max_age(self) -> dt.timedelta:
        """How old evidence may be before it is stale."""
        return dt.timedelta(days=self.loaded.config.checks.evidence.max_age_days)

    def is_stale(self, moment: dt.datetime | None) -> bool:
        """Whether evidence produced at ``moment`` is older than the configured maximum age."""
        if moment is None:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return self.now - moment > self.max_age

    def artifact_bytes(self, digest: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes | None:
        """A recorded artifact's content, or ``None`` if missing, larger than ``limit`` or not
        matching its digest."""
        from ssdf_ai.errors import Error

        if self.blobs is None:
            return None
        try:
            if self.blobs.path(digest).stat().st_size > limit:
                return None
            return self.blobs.read(digest)
        except (OSError, Error):
            return None

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, with forward slashes."""
        return path.relative_to(self.root).as_posix()

    def inside(self, path: Path) -> bool:
        """Whether ``path`` (symlinks resolved) stays inside the project root."""
        try:
            path.resolve().relative_to(self.root.resolve())
        except (ValueError, OSError):
            return False
        return True

    def first_file(self, *candidates: str) -> Path | None:
        """The first of ``candidates`` (project-relative) that is a regular file in the project."""
        for candidate in candidates:
            path = self.root / candidate
            if path.is_file() and self.inside(path):
                return path
        return None

    def read_text(self, path: Path) -> str | None:
        """A small text file's content, or ``None`` if missing, too large, or not UTF-8."""
        try:
            if not self.inside(path) or path.stat().st_size > MAX_DOCUMENT_BYTES:
                return None
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def walk(self, start: Path) -> Iterator[Path]:
        """Files under ``start``, bounded in depth and count, never leaving the project."""
        if start.is_file():
            if self.inside(start):
                yield start
            return
        seen = 0
        stack: list[tuple[Path, int]] = [(start, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > MAX_WALK_ENTRIES:
                    return
                if entry.name.startswith(".") or entry.is_symlink():
                    continue
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 < MAX_WALK_DEPTH:
                        stack.append((path, depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    yield path

    def files_under(self, patterns: tuple[str, ...]) -> list[str]:
        """Project-relative paths of the files the configured patterns cover (bounded walk)."""
        found: set[str] = set()
        for pattern in patterns:
            starts = [self.root] if pattern == "." else sorted(self.root.glob(pattern))
            for start in starts:
                if self.inside(start):
                    found.update(self.relative(p) for p in self.walk(start))
        return sorted(found)

    def model_cards(self) -> list[Path]:
        """Model cards in the configured model paths: a README (or MODEL_CARD.md) beside model
        weights, or with a model hub's YAML front matter."""
        cards: list[Path] = []
        for pattern in self.loaded.config.paths.models:
            for start in sorted(self.root.glob(pattern)) if pattern != "." else [self.root]:
                if not self.inside(start):
                    continue
                files = list(self.walk(start))
                with_weights = {p.parent for p in files if p.suffix.lower() in MODEL_SUFFIXES}
                cards.extend(
                    p
                    for p in files
                    if p.name in MODEL_CARD_NAMES
                    and (p.parent in with_weights or self._has_front_matter(p))
                )
        return sorted(set(cards))

    def _has_front_matter(self, path: Path) -> bool:
        text = self.read_text(path)
        return text is not None and text.startswith("---\n")
