"""The code and environment checks that ``ssdf assess`` (and ``ssdf gate``) run first.

The assessment reads evidence and does not redo work, but the code checks are cheap and their
evidence goes stale as the code changes; so before it evaluates, the assessment runs each of
``ssdf code``, ``ssdf secrets``, ``ssdf deps`` and ``ssdf env`` over the whole project whose
newest recorded run is older than ``max_age`` (24 hours unless told otherwise), and records it
exactly as the command would. A check that fails (a repository too large to read, say) is
reported and left out; its control then says what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ssdf_ai.code.controls import CODE_COMMAND, DEPS_COMMAND, ENV_COMMAND, SECRETS_COMMAND

if TYPE_CHECKING:
    from ssdf_ai.config import Config
    from ssdf_ai.report.base import FindingsReport
    from ssdf_ai.store import EvidenceStore

DEFAULT_MAX_AGE = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class AutoRun:
    """One check the assessment ran (or tried to).

    Attributes:
        command: ``code``, ``secrets``, ``deps`` or ``env``.
        run_id: The recorded run, or ``None`` when the check failed.
        findings: How many findings it recorded.
        error: Why it failed, when it did.
    """

    command: str
    run_id: int | None
    findings: int = 0
    error: str | None = None


def _code(root: Path, config: Config) -> tuple[FindingsReport, str]:
    from ssdf_ai.code import code_rules
    from ssdf_ai.code.analyze import analyze_path
    from ssdf_ai.code.code_report import CodeReport

    result = analyze_path(root, root)
    report = CodeReport.from_result(
        result, path=".", rules_run=list(code_rules.RULES), fail_on=config.checks.fail_on
    )
    return report, "."


def _secrets(root: Path, config: Config) -> tuple[FindingsReport, str]:
    from ssdf_ai.code.secrets import scan_secrets

    return scan_secrets(root, root=root, fail_on=config.checks.fail_on), "."


def _deps(root: Path, config: Config) -> tuple[FindingsReport, str]:
    from ssdf_ai.code._deps_check import check_dependencies
    from ssdf_ai.code.advisories import default_path
    from ssdf_ai.code.deps import collect

    database = default_path(root)
    report = check_dependencies(
        collect(root, root),
        path=".",
        database=database,
        database_label=database.relative_to(root).as_posix(),
        fail_on=config.checks.fail_on,
    )
    return report, "."


def _env(root: Path, config: Config) -> tuple[FindingsReport, str]:
    from ssdf_ai.code.env import check_environment
    from ssdf_ai.code.env_report import EnvReport

    paths = config.paths
    result = check_environment(root, root=root, models=paths.models, datasets=paths.datasets)
    return EnvReport.from_result(result, fail_on=config.checks.fail_on), result.path


RUNNERS: dict[str, Callable[[Path, Config], tuple[FindingsReport, str]]] = {
    CODE_COMMAND: _code,
    SECRETS_COMMAND: _secrets,
    DEPS_COMMAND: _deps,
    ENV_COMMAND: _env,
}


def stale_checks(store: EvidenceStore, now: dt.datetime, max_age: dt.timedelta) -> list[str]:
    """The checks whose newest finished run is older than ``max_age`` (or that never ran)."""
    from ssdf_ai.store.records import RunStatus

    fresh: set[str] = set()
    for run in store.runs():
        if run.command not in RUNNERS or run.status is not RunStatus.FINISHED:
            continue
        if run.exit_code not in (0, 1) or run.finished_at is None:
            continue
        finished = run.finished_at
        if finished.tzinfo is None:
            finished = finished.replace(tzinfo=dt.UTC)
        if now - finished <= max_age:
            fresh.add(run.command)
    return [name for name in RUNNERS if name not in fresh]


def run_stale_checks(
    root: Path,
    url: str | None,
    *,
    now: dt.datetime,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
    argv: list[str],
    on_start: Callable[[str], None] | None = None,
) -> Iterator[AutoRun]:
    """Run and record every check of :data:`RUNNERS` that has not run within ``max_age``.

    Args:
        root: The project root.
        url: The evidence store's database URL.
        now: The assessment's time.
        max_age: How recent a run must be to be kept.
        argv: The command line that asked (recorded with each run).
        on_start: Called with each check's name before it runs (for progress).

    Yields:
        What ran, as each check ends.
    """
    from ssdf_ai.code._record import record_check
    from ssdf_ai.config import load_config
    from ssdf_ai.errors import Error
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(root, url=url) as store:
        due = stale_checks(store, now, max_age)
    config = load_config(root).config
    for name in due:
        runner = RUNNERS[name]
        if on_start is not None:
            on_start(name)
        try:
            report, subject = runner(root, config)
        except (Error, OSError) as error:
            yield AutoRun(name, None, error=str(error))
            continue
        run_id = record_check(
            root,
            url,
            command=name,
            argv=[*argv, f"(ran ssdf {name} .)"],
            subject=subject,
            report=report,
        )
        yield AutoRun(name, run_id, findings=len(report.findings))
