"""Recording a code or environment check in the evidence store: one run, the repository it
looked at, its findings and its JSON report (shared by ``ssdf code``, ``secrets``, ``deps`` and
``env``, and by ``ssdf assess`` when it runs them)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ssdf_ai.report.base import FindingsReport


def record_check(
    root: Path,
    url: str | None,
    *,
    command: str,
    subject: str,
    report: FindingsReport,
    argv: list[str] | None = None,
) -> int:
    """Record ``report`` as a run of ``command`` about the repository path ``subject``.

    Args:
        root: The project root.
        url: The evidence store's database URL (``None``: the project's default).
        command: The run's command name (``code``, ``secrets``, ``deps``, ``env``); the
            assessment finds the runs by it.
        subject: The path checked, relative to the project.
        report: The check's report; its findings are recorded one by one, and the whole report
            as an artifact of kind ``COMMAND-report`` (``code-report`` …).
        argv: The command line to record; default: this process's.

    Returns:
        The run's id.
    """
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.store import EvidenceStore

    kind = f"{command}-report"
    argv = ["ssdf", *sys.argv[1:]] if argv is None else argv
    with EvidenceStore.open(root, url=url) as store, store.run(command, argv) as run:
        subject_id = run.add_subject(Subject(kind=SubjectKind.REPOSITORY, name=subject))
        for finding in report.findings:
            run.add_finding(finding, subject_id=subject_id)
        run.add_artifact(
            report.model_dump_json(indent=2).encode("utf-8"),
            kind=kind,
            media_type="application/json",
            subject_id=subject_id,
            name=f"{kind}.json",
        )
        run.set_exit_code(report.exit_code())
        return run.id
