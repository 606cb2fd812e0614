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
        project: Annotated[
            Path,
            typer.Option(
                "--project",
                help="The project root; the conversion is recorded in PROJECT/.ssdf.",
                file_okay=False,
                show_default=False,
            ),
        ] = Path("."),
        record: Annotated[
            bool,
            typer.Option("--record/--no-record", help="Record the conversion as evidence."),
        ] = True,
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
        if record:
            run_id = _record(project, report)
            if not out.quiet:
                out.status(f"recorded as run:{run_id}")
        if report.output is not None and not out.quiet:
            out.status(f"wrote {report.output} ({len(report.tensors)} tensor(s))")
        return report


def _record(project: Path, report: ConvertReport) -> int:
    """Record the conversion (PW.6.1 evidence): the source and output as subjects, any refusal
    finding, and the report; return the run id."""
    import sys

    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.store import EvidenceStore

    root = _project(project)

    def name(path: str) -> str:
        resolved = Path(path).resolve()
        try:
            return resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            return str(resolved)

    argv = ["ssdf", *sys.argv[1:]]
    with (
        EvidenceStore.open(root, url=database_url(root)) as store,
        store.run("convert", argv) as run,
    ):
        source = run.add_subject(
            Subject(kind=SubjectKind.MODEL, name=name(report.source), digest=report.source_sha256)
        )
        if report.output is not None:
            run.add_subject(
                Subject(
                    kind=SubjectKind.MODEL, name=name(report.output), digest=report.output_sha256
                )
            )
        for finding in report.findings:
            run.add_finding(finding, subject_id=source)
        run.add_artifact(
            report.model_dump_json(indent=2).encode("utf-8"),
            kind="convert-report",
            media_type="application/json",
            name="convert-report.json",
        )
        run.set_exit_code(report.exit_code())
        return run.id
