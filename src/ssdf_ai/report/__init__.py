"""Renderers: one report model, many formats.

:func:`render` turns a :class:`~ssdf_ai.report.base.Report` into text in the chosen
:class:`OutputFormat`. Adding a format means adding a member here and one module beside this one.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, assert_never

from ssdf_ai.errors import InputError

if TYPE_CHECKING:
    from ssdf_ai.report.base import Report


class OutputFormat(enum.StrEnum):
    """Formats every command can write. SARIF only where the report carries findings."""

    TERMINAL = "terminal"
    JSON = "json"
    SARIF = "sarif"


def render(report: Report, fmt: OutputFormat, *, color: bool = True, width: int = 120) -> str:
    """Render a report as text.

    Args:
        report: The report to render.
        fmt: The output format.
        color: Whether terminal output may carry ANSI colour codes.
        width: Terminal width for tables.

    Returns:
        The rendered text, ending with a newline.

    Raises:
        InputError: If the format does not apply to this report (SARIF for a report
            without findings).
    """
    if fmt is OutputFormat.TERMINAL:
        from ssdf_ai.report.terminal import render_terminal

        return render_terminal(report, color=color, width=width)
    if fmt is OutputFormat.JSON:
        return report.model_dump_json(indent=2) + "\n"
    if fmt is OutputFormat.SARIF:
        from ssdf_ai.report.base import FindingsReport
        from ssdf_ai.report.sarif import render_sarif

        if not isinstance(report, FindingsReport):
            raise InputError(
                f"--format sarif applies only to reports with findings, not to {report.report}",
                hint="use --format json or --format terminal for this command",
            )
        return render_sarif(report)
    assert_never(fmt)
