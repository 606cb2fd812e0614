"""Terminal renderer: rich tables and panels."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from ssdf_ai.report.base import Report


def render_terminal(report: Report, *, color: bool = True, width: int = 120) -> str:
    """Render ``report`` for a terminal.

    Args:
        report: The report.
        color: Keep ANSI colour codes.
        width: Console width.

    Returns:
        The text, with colour codes when ``color`` is true.
    """
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width,
        highlight=False,
        soft_wrap=False,
    )
    console.print(report.terminal())
    return buffer.getvalue()
