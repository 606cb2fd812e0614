"""The lines every commit added, read from ``git log -p`` through the safe git runner.

``git log --all -p -U0`` prints, per commit, the hunks of each file with no context lines: each
hunk header says how many old and new lines follow, so the parser counts them instead of
guessing from a line's first character (an added line that begins ``++ `` would otherwise look
like a file header). Textconv and external diff drivers are off (``--no-textconv
--no-ext-diff``), and :func:`ssdf_ai.code._git.run_git` turns off every other setting of the
repository's that could run a command.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ssdf_ai.code._git import run_git
from ssdf_ai.errors import InputError

MARK = b"\x1essdf-commit "
MAX_HISTORY_BYTES = 256 * 1024 * 1024
# The added text of one file in one commit scanned at most (read_text's limit for a file).
MAX_ADDED_CHARS = 16 * 1024 * 1024
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(slots=True)
class Added:
    """The lines one commit added to one file."""

    commit: str
    date: str
    path: str
    numbers: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    chars: int = 0
    truncated: bool = False


@dataclass(slots=True)
class HistoryLog:
    """What was read: the added lines (through :meth:`added`), and the counts."""

    data: bytes
    commits: int = 0

    def added(self) -> Iterator[Added]:
        """Each (commit, file) with its added lines, oldest commit first."""
        commit = date = ""
        current: Added | None = None
        old_left = new_left = 0
        new_no = 0
        for raw in io.BytesIO(self.data):
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if old_left > 0 or new_left > 0:
                first = line[:1]
                if first == b"+" and new_left > 0:
                    if current is not None:
                        _add(current, new_no, line[1:])
                    new_no += 1
                    new_left -= 1
                    continue
                if first == b"-" and old_left > 0:
                    old_left -= 1
                    continue
                if first == b" ":
                    old_left, new_left, new_no = old_left - 1, new_left - 1, new_no + 1
                    continue
                if first == b"\\":
                    continue
                old_left = new_left = 0  # the counts disagree with the text: resynchronise
            if line.startswith(MARK):
                if current is not None and current.lines:
                    yield current
                current = None
                parts = line[len(MARK) :].decode("ascii", "replace").split(" ")
                commit, date = parts[0], parts[1] if len(parts) > 1 else ""
                self.commits += 1
            elif line.startswith(b"diff --git "):
                if current is not None and current.lines:
                    yield current
                current = None
            elif line.startswith(b"+++ "):
                target = line[4:].decode("utf-8", "replace")
                if target.startswith('"') and target.endswith('"'):
                    target = target[1:-1]
                current = None
                if target != "/dev/null":
                    current = Added(commit, date, target[2:] if target[:2] == "b/" else target)
            elif line.startswith(b"@@ "):
                m = _HUNK.match(line)
                if m:
                    old_left = 1 if m.group(1) is None else int(m.group(1))
                    new_no = int(m.group(2))
                    new_left = 1 if m.group(3) is None else int(m.group(3))
        if current is not None and current.lines:
            yield current


def _add(current: Added, number: int, content: bytes) -> None:
    if current.truncated:
        return
    text = content.decode("utf-8", "replace")
    if current.chars + len(text) > MAX_ADDED_CHARS:
        current.truncated = True
        return
    current.numbers.append(number)
    current.lines.append(text)
    current.chars += len(text) + 1


def resolve_since(root: Path, ref: str) -> str:
    """The commit ``ref`` names in the repository at ``root``.

    Raises:
        InputError: ``ref`` is not a commit there (or looks like an option).
    """
    if not ref or ref.startswith("-") or any(c.isspace() or c == "\0" for c in ref):
        raise InputError(
            f"--since {ref!r} is not a git ref", hint="give a commit, tag or branch name"
        )
    try:
        out = run_git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"
        )
    except InputError:
        raise InputError(
            f"--since {ref!r} does not name a commit in {root}",
            where=root,
            hint="give a commit, tag or branch name of this repository",
        ) from None
    return out.decode("ascii", "replace").strip()


def read_history(
    root: Path, *, since: str | None = None, limit: int = MAX_HISTORY_BYTES
) -> HistoryLog:
    """The ``git log -p`` of every ref of the repository at ``root``, oldest commit first.

    Args:
        root: The top of the work tree.
        since: A commit; commits reachable from it are left out.
        limit: The most bytes of log read (over it: an :class:`InputError`).

    Raises:
        InputError: git failed, or the log is over ``limit`` bytes.
    """
    args = [
        "-c",
        "core.quotePath=false",
        "log",
        "--all",
        "--reverse",
        "-p",
        "-U0",
        "--no-textconv",
        "--no-ext-diff",
        "--no-color",
        "--format=%x1essdf-commit %H %aI",
    ]
    if since:
        args.append("^" + since)
    if not (root / ".git").exists():
        raise InputError(f"{root} is not the top of a git work tree", where=root)
    refs = run_git(root, "for-each-ref", "--count=1", "--format=%(refname)")
    if not refs.strip():
        return HistoryLog(b"")  # a repository with no commit yet
    return HistoryLog(run_git(root, *args, limit=limit))
