"""``ssdf code``: AST rules for unsafe AI code in Python sources and notebooks.

The analyser is imported inside the command, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, FailOn, Output, RecordRun, command, fail_threshold
from ssdf_ai.cli.evidence import Project

if TYPE_CHECKING:
    from ssdf_ai.code.code_report import CodeReport

# The command name runs are recorded under; the assessment reads history by it.
CODE_COMMAND = "code"


def register(app: typer.Typer) -> None:
    """Add the top-level ``code`` command to ``app``."""

    @command(app, "code", formats=FORMATS_ALL)
    def code(
        path: Annotated[
            Path,
            typer.Argument(
                help="A Python file, a notebook (.ipynb) or a folder (recursively; symlinks "
                "are never followed).",
                show_default=False,
            ),
        ],
        fail_on: FailOn = None,
        rule: Annotated[
            list[str] | None,
            typer.Option(
                "--rule",
                help="Run only this rule (repeatable), e.g. SSDF-CODE-001.",
                show_default=False,
            ),
        ] = None,
        project: Project = Path("."),
        record: RecordRun = True,
        *,
        out: Output,
    ) -> CodeReport:
        """Analyse Python code and notebooks for unsafe AI patterns (PW.5.1, PW.7.2).

        torch.load and pickle of untrusted files, trust_remote_code, unpinned hub downloads,
        unsafe YAML, model output reaching eval/shell/SQL/paths/HTML, untrusted input in
        system prompts, agent code-execution tools, disabled TLS checks and hard-coded
        secrets. Nothing is imported or run. Suppress a finding with
        `# ssdf: ignore[SSDF-CODE-NNN] why`. Exit 0 clean, 1 findings at or above --fail-on,
        2 usage errors.
        """
        from ssdf_ai.cli.evidence import _project, database_url
        from ssdf_ai.code import code_rules
        from ssdf_ai.code._record import record_check
        from ssdf_ai.code.analyze import analyze_path
        from ssdf_ai.code.code_report import CodeReport
        from ssdf_ai.config import load_config
        from ssdf_ai.provenance.registry import project_path

        root = _project(project)
        threshold = fail_threshold(fail_on, load_config(root).config.checks.fail_on)
        wanted = [r.upper() for r in rule] if rule else None
        result = analyze_path(root, path, wanted)
        rel = project_path(root, path)
        report = CodeReport.from_result(
            result,
            path=rel,
            rules_run=sorted(wanted) if wanted else list(code_rules.RULES),
            fail_on=threshold,
        )
        if record:
            run_id = record_check(
                root, database_url(root), command=CODE_COMMAND, subject=rel, report=report
            )
            if not out.quiet:
                out.status(f"recorded as run:{run_id}")
        return report
