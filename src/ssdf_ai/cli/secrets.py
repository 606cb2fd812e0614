"""``ssdf secrets``: plaintext secrets in the working tree, notebooks, model metadata and git
history (PO.5.1, PO.5.3, PW.5.1). The scan is imported inside the command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, FailOn, Output, RecordRun, command, fail_threshold
from ssdf_ai.cli.evidence import Project

if TYPE_CHECKING:
    from ssdf_ai.code.secrets_report import SecretsReport

COMMAND = "secrets"


def register(app: typer.Typer) -> None:
    """Add the ``secrets`` command to ``app``."""

    @command(app, COMMAND, formats=FORMATS_ALL)
    def secrets(
        path: Annotated[
            Path,
            typer.Argument(
                help="The folder (or file) to scan; symlinks are never followed.",
                show_default=False,
            ),
        ] = Path("."),
        history: Annotated[
            bool | None,
            typer.Option(
                "--history/--no-history",
                help="Scan every commit's added lines on all refs. Default: on when PATH is "
                "the top of a git work tree.",
                show_default=False,
            ),
        ] = None,
        since: Annotated[
            str | None,
            typer.Option(
                "--since",
                metavar="REF",
                help="Leave out the commits reachable from REF (scan only newer history).",
                show_default=False,
            ),
        ] = None,
        baseline: Annotated[
            Path | None,
            typer.Option(
                "--baseline",
                help="The baseline of accepted findings. Default: "
                "PROJECT/.ssdf-secrets-baseline.json when it exists.",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        update_baseline: Annotated[
            bool,
            typer.Option(
                "--update-baseline",
                help="Write the current findings to the baseline as accepted (reasons kept).",
            ),
        ] = False,
        fail_on: FailOn = None,
        project: Project = Path("."),
        record: RecordRun = True,
        *,
        out: Output,
    ) -> SecretsReport:
        """Find plaintext secrets in files, notebooks, model metadata and git history.

        Every text file and config, each notebook cell's source and saved output, the metadata
        of safetensors, GGUF, ONNX and Keras files (read, never loaded) and, in a repository,
        every line each commit added. Secrets are shown redacted, never whole. Exit 0 clean,
        1 findings at or above --fail-on, 2 usage errors.
        """
        from ssdf_ai.cli.evidence import _project, database_url
        from ssdf_ai.code._record import record_check
        from ssdf_ai.code.secrets import scan_secrets
        from ssdf_ai.config import load_config

        root = _project(project)
        threshold = fail_threshold(fail_on, load_config(root).config.checks.fail_on)
        report = scan_secrets(
            path,
            root=root,
            history=history,
            since=since,
            baseline=baseline,
            update_baseline=update_baseline,
            fail_on=threshold,
        )
        if report.baseline_written and not out.quiet:
            out.status(f"wrote the secrets baseline {report.baseline}")
        if record:
            run_id = record_check(
                root, database_url(root), command=COMMAND, subject=report.path, report=report
            )
            if not out.quiet:
                out.status(f"recorded as run:{run_id}")
        return report
