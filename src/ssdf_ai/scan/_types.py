"""Types shared by the scanner's parts: limits, container members, per-file budgets.

Format modules (pickle, safetensors, NumPy, containers) are pure functions over bytes or file
objects that return findings; the engine (``scan/engine.py``) detects formats, applies limits
and recurses into containers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30


@dataclasses.dataclass(frozen=True)
class ScanLimits:
    """Bounds that keep a scan of hostile input finite in time and memory.

    Attributes:
        max_member_bytes: Largest single member (or pickle) read into memory for analysis.
        max_members: Most members of one archive (and of all nested archives of one file).
        max_depth: Deepest nesting of archives inside archives.
        max_expanded_bytes: Most bytes decompressed for one top-level file.
        max_ratio: Highest compression ratio a member may have (decompression bombs).
        max_pickle_ops: Most pickle opcodes executed symbolically for one pickle stream.
        max_header_bytes: Largest safetensors (or similar) header accepted.
        seconds_per_file: Time budget for one top-level file.
    """

    max_member_bytes: int = 512 * MIB
    max_members: int = 100_000
    max_depth: int = 5
    max_expanded_bytes: int = 4 * GIB
    max_ratio: int = 250
    max_pickle_ops: int = 10_000_000
    max_header_bytes: int = 100 * MIB
    seconds_per_file: float = 120.0


class LimitExceeded(Exception):  # noqa: N818 - a control-flow signal, caught by the engine
    """Raised inside a format or container parser when a :class:`ScanLimits` bound is hit.

    The engine turns it into an ``SSDF-SCAN-006`` (archives) or ``SSDF-SCAN-004`` finding:
    what was not read was not checked, so it is never reported clean.
    """


@dataclasses.dataclass
class Budget:
    """What one top-level file may still consume; shared by everything nested inside it."""

    limits: ScanLimits
    started: float = dataclasses.field(default_factory=time.monotonic)
    expanded: int = 0
    members: int = 0

    def spend_bytes(self, amount: int) -> None:
        """Count decompressed bytes; raise :class:`LimitExceeded` past the bound."""
        self.expanded += amount
        if self.expanded > self.limits.max_expanded_bytes:
            raise LimitExceeded(
                f"more than {self.limits.max_expanded_bytes} bytes expanded from one file"
            )

    def spend_member(self) -> None:
        """Count one archive member; raise :class:`LimitExceeded` past the bound."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(f"more than {self.limits.max_members} archive members")

    @property
    def exhausted(self) -> bool:
        """Whether any bound of the file's budget has been passed (nothing more may be read)."""
        limits = self.limits
        return (
            self.expanded > limits.max_expanded_bytes
            or self.members > limits.max_members
            or time.monotonic() - self.started > limits.seconds_per_file
        )

    def check_time(self) -> None:
        """Raise :class:`LimitExceeded` once the file's time budget is spent."""
        if time.monotonic() - self.started > self.limits.seconds_per_file:
            raise LimitExceeded(f"scanning took longer than {self.limits.seconds_per_file} s")


@dataclasses.dataclass(frozen=True)
class Member:
    """One member of a container (zip, tar, compressed stream, PyTorch archive).

    Attributes:
        name: Its name inside the container.
        offset: Byte offset of its data in the container, for findings.
        size: Its (uncompressed) size as the container declares it.
        read: Returns its bytes, decompressed within the budget (raises LimitExceeded).
    """

    name: str
    offset: int
    size: int
    read: Callable[[], bytes]
