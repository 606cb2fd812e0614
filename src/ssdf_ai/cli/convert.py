"""``ssdf convert``: rewrite pickled weights as safetensors without loading them.

The converter is imported inside the command, so that ``ssdf --help`` stays fast. Exit 0
converted, 1 refused (the source names a global off the allowlist, or holds an object array:
a security verdict, reported as a finding), 2 bad input (missing file, unsupported or
truncated format, output exists without ``--force``).
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, Output, command

if TYPE_CHECKING:
    from ssdf_ai.scan.convert import ConvertReport


class Target(enum.StrEnum):
    """Formats ``ssdf convert`` writes."""

    SAFETENSORS = "safetensors"


def register(app: typer.Typer) -> None:
    """Add the top-level ``convert`` command to ``app``."""

    @command(app, "convert", formats=FORMATS_ALL)
    def convert(
        model: Annotated[
            Path,
            typer.Argument(
                help="The model file: a PyTorch checkpoint (zip or legacy), a pickled dict of "
                "NumPy arrays, .npy or .npz (detected from its content).",
                show_default=False,
            ),
        ],
        to: Annotated[
            Target, typer.Option("--to", help="The format to write.", case_sensitive=False)
        ] = Target.SAFETENSORS,
        dest: Annotated[
            Path | None,
            typer.Option(
                "--dest",
                help="Where to write the converted file (default: MODEL with the suffix "
                ".safetensors). --output names the report, as for every command.",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Replace the destination if it exists.")
        ] = False,
        *,
        out: Output,
    ) -> ConvertReport:
        """Convert model weights to safetensors with a restricted loader (PW.6.1).

        Nothing is unpickled or executed: any global off the allowlist refuses the
        conversion. The result is re-read and checked tensor by tensor before it is kept.
        Exit 0 converted, 1 refused, 2 bad input.
        """
        from ssdf_ai.scan.convert import convert_file

        del to  # one target today
        report = convert_file(model, dest, force=force)
        if not out.quiet:
            if report.output is not None:
                out.status(f"wrote {report.output} ({len(report.tensors)} tensor(s))")
            else:
                out.status(f"refused: {model} was not converted")
        return report
