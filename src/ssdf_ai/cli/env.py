"""``ssdf env``: environment and least-privilege checks of a project folder (PO.5.1, PO.5.2,
PS.1.1, PS.1.3, PO.3.2).

The checks live in :mod:`ssdf_ai.code.env` and :mod:`ssdf_ai.code.workflows`; they are imported
inside the command, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, FailOn, Output, RecordRun, command, fail_threshold
from ssdf_ai.cli.evidence import Project

if TYPE_CHECKING:
    from ssdf_ai.code.env_report import EnvReport

COMMAND = "env"


def register(app: typer.Typer) -> None:
    """Add the top-level ``env`` command to ``app``."""

    @command(app, "env", formats=FORMATS_ALL)
    def env(
        path: Annotated[
            Path,
            typer.Argument(
                help="The project folder (or a folder inside it) to check.", show_default=False
            ),
        ],
        fail_on: FailOn = None,
        project: Project = Path("."),
        record: RecordRun = True,
        *,
        out: Output,
    ) -> EnvReport:
        """Check permissions, git, model and data placement and CI workflows (least privilege).

        Reports keys readable by others; weights, data and keys writable by others; secrets
        and weights committed to git; .env files not ignored; reward models beside other
        weights or data, weights inside data; and GitHub Actions workflows with unpinned
        actions, broad token permissions, untrusted checkouts, leaked secrets or script
        injection. Nothing is executed; symbolic links are never followed. Exit 0 clean,
        1 findings at or above --fail-on, 2 usage errors.
        """
        from ssdf_ai.cli.evidence import _project, database_url
        from ssdf_ai.code._record import record_check
        from ssdf_ai.code.env import check_environment
        from ssdf_ai.code.env_report import EnvReport
        from ssdf_ai.config import load_config
        from ssdf_ai.errors import InputError

        root = _project(project)
        if not path.exists() and not path.is_symlink():
            raise InputError(
                f"{path} does not exist", where=path, hint="give the project folder to check"
            )
        if path.is_symlink() or not path.is_dir():
            raise InputError(
                f"{path} is not a folder",
                where=path,
                hint="give a folder (symbolic links are not followed)",
            )
        config = load_config(root).config
        threshold = fail_threshold(fail_on, config.checks.fail_on)
        result = check_environment(
            path, root=root, models=config.paths.models, datasets=config.paths.datasets
        )
        report = EnvReport.from_result(result, fail_on=threshold)
        if record:
            run_id = record_check(
                root, database_url(root), command=COMMAND, subject=result.path, report=report
            )
            if not out.quiet:
                out.status(f"recorded as run:{run_id}")
        return report
