"""Model scanning by content: find what runs code, hides members or breaks its format.

A tour (names are imported lazily, so ``import ssdf_ai.scan`` stays cheap):

- :func:`scan_paths` ``(paths, *, root=None, limits=ScanLimits(), on_file=None)`` walks files
  and directories and returns a :class:`ScanResult` (``findings``, ``scanned``, ``skipped``).
- :func:`scan_file` ``(path, display, limits)`` scans one file: the pure, picklable unit of work.
- :func:`ssdf_ai.scan.detect.detect` ``(head, *, size, name)`` tells a file's format from its
  first bytes (a :class:`Detected`).
- :class:`ScanLimits` bounds time, memory, nesting and archive expansion.
- :class:`ScanReport` is the report ``ssdf scan`` writes (``report_type`` ``scan``).
- :mod:`ssdf_ai.scan.rules` holds the rule ids (``SSDF-SCAN-001`` ...) and their metadata.

Nothing under scan is ever loaded, imported or executed (see ``docs/scan.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.scan._types import ScanLimits
    from ssdf_ai.scan.detect import Detected
    from ssdf_ai.scan.engine import (
        FileResult,
        ScannedFile,
        ScanResult,
        Skipped,
        scan_file,
        scan_paths,
    )
    from ssdf_ai.scan.report import ScanReport

_LAZY = {
    "ScanLimits": "ssdf_ai.scan._types",
    "Detected": "ssdf_ai.scan.detect",
    "FileResult": "ssdf_ai.scan.engine",
    "ScannedFile": "ssdf_ai.scan.engine",
    "ScanResult": "ssdf_ai.scan.engine",
    "Skipped": "ssdf_ai.scan.engine",
    "scan_file": "ssdf_ai.scan.engine",
    "scan_paths": "ssdf_ai.scan.engine",
    "ScanReport": "ssdf_ai.scan.report",
}

__all__ = [
    "Detected",
    "FileResult",
    "ScanLimits",
    "ScanReport",
    "ScanResult",
    "ScannedFile",
    "Skipped",
    "scan_file",
    "scan_paths",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
