"""``ssdf scan``: scan model files by content, never loading them, and record the result.

The scan engine is imported inside the command, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_ALL, Output, command, fail_threshold

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ssdf_ai.scan.engine import ScannedFile, ScanResult
    from ssdf_ai.scan.report import ScanReport

# Files up to this size get a SHA-256 digest in the evidence store; larger checkpoints are not
# read in full just to be named (the scan itself reads only what it needs).
DIGEST_MAX_BYTES = 64 << 20
# A progress bar appears only for scans that are not over at once.
PROGRESS_AFTER_FILES = 5
PROGRESS_AFTER_SECONDS = 1.0


class _Progress:
    """A transient progress line on stderr, shown only once a scan is long enough to need it."""

    def __init__(self, out: Output) -> None:
        self.enabled = out.progress_enabled() and sys.stderr.isatty()
        self.out = out
        self.started = time.monotonic()
        self.count = 0
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, scanned: ScannedFile) -> None:
        self.count += 1
        if not self.enabled:
            return
        if self.bar is None:
            long_enough = time.monotonic() - self.started > PROGRESS_AFTER_SECONDS
            if self.count <= PROGRESS_AFTER_FILES and not long_enough:
                return
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("scanned {task.completed} file(s)"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.out.stderr(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=None)
        if self.task is not None:
            from rich.markup import escape

            self.bar.update(self.task, completed=self.count, description=escape(scanned.path))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _subject_kind(fmt: str) -> str:
    from ssdf_ai.scan.detect import MODEL_FORMATS

    base = fmt.split("+")[-1]
    model = base in MODEL_FORMATS or base == "joblib" or fmt.split("+")[0] in MODEL_FORMATS
    return "model" if model else "file"


def _record(
    root: Path, url: str | None, report: ScanReport, result: ScanResult, argv: list[str]
) -> int:
    """Record the run, a subject per scanned file, the findings and the report; return run id."""
    from ssdf_ai.evidence import Subject, SubjectKind, sha256_file
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(root, url=url) as store, store.run("scan", argv) as run:
        subject_ids: dict[str, int] = {}
        for scanned in report.scanned:
            path = root / scanned.path
            digest = None
            if scanned.size <= DIGEST_MAX_BYTES and path.is_file() and not path.is_symlink():
                digest = sha256_file(path)
            subject_ids[scanned.path] = run.add_subject(
                Subject(
                    kind=SubjectKind(_subject_kind(scanned.format)),
                    name=scanned.path,
                    digest=digest,
                )
            )
        for finding in report.findings:
            run.add_finding(finding, subject_id=subject_ids.get(finding.location.path or ""))
        run.add_artifact(
            report.model_dump_json(indent=2).encode("utf-8"),
            kind="scan-report",
            media_type="application/json",
            name="scan-report.json",
        )
        run.set_exit_code(report.exit_code())
        return run.id


def register(app: typer.Typer) -> None:
    """Add the top-level ``scan`` command to ``app``."""

    @command(app, "scan", formats=FORMATS_ALL)
    def scan(
        paths: Annotated[
            list[Path],
            typer.Argument(
                help="Model files or folders to scan (folders recursively; symlinks are "
                "never followed).",
                show_default=False,
            ),
        ],
        fail_on: Annotated[
            str | None,
            typer.Option(
                "--fail-on",
                help="Exit 1 when a finding is at or above this severity (info, low, medium, "
                "high, critical). Default: checks.fail_on in ssdf.toml, else low.",
                show_default=False,
            ),
        ] = None,
        project: Annotated[
            Path,
            typer.Option(
                "--project",
                help="The project root (searched upwards for ssdf.toml); paths are reported "
                "relative to it and the evidence store is PROJECT/.ssdf.",
                file_okay=False,
            ),
        ] = Path("."),
        record: Annotated[
            bool,
            typer.Option("--record/--no-record", help="Record the scan in the evidence store."),
        ] = True,
        max_depth: Annotated[
            int | None,
            typer.Option("--max-depth", min=0, help="Deepest nesting of archives (default 5)."),
        ] = None,
        max_member_size: Annotated[
            int | None,
            typer.Option(
                "--max-member-size",
                min=1,
                metavar="BYTES",
                help="Largest pickle or archive member read into memory (default 512 MiB).",
            ),
        ] = None,
        *,
        out: Output,
    ) -> ScanReport:
        """Scan model files by content (pickle, PyTorch, joblib, NumPy, safetensors, archives).

        Nothing is loaded or executed. Exit 0 clean, 1 findings at or above --fail-on,
        2 usage errors.
        """
        import dataclasses

        from ssdf_ai.cli.evidence import _project, database_url
        from ssdf_ai.config import load_config
        from ssdf_ai.scan import ScanLimits, scan_paths
        from ssdf_ai.scan.report import ScanReport

        root = _project(project)
        loaded = load_config(root)
        checks = loaded.config.checks
        threshold = fail_threshold(fail_on, checks.fail_on)
        limits = ScanLimits()
        if max_depth is not None:
            limits = dataclasses.replace(limits, max_depth=max_depth)
        if max_member_size is not None:
            limits = dataclasses.replace(limits, max_member_bytes=max_member_size)
        if checks.unsafe_allow_unscanned and not out.quiet:
            out.status(
                "warning: checks.unsafe_allow_unscanned is on: files that could not be "
                "scanned do not fail this scan"
            )
        progress = _Progress(out)
        try:
            result = scan_paths(paths, root=root, limits=limits, on_file=progress)
        finally:
            progress.close()
        report = ScanReport.from_result(
            result,
            paths=[str(p) for p in paths],
            limits=limits,
            fail_on=threshold,
            unscanned_allowed=checks.unsafe_allow_unscanned,
        )
        if record:
            run_id = _record(root, database_url(root), report, result, ["ssdf", *sys.argv[1:]])
            if not out.quiet:
                out.status(f"recorded as run:{run_id}")
        return report
