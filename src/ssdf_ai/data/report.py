"""The report ``ssdf data check`` writes: the dataset, each check's outcome, the findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.data.check import CheckSummary
from ssdf_ai.findings import Rule
from ssdf_ai.report.base import FindingsReport, Report

if TYPE_CHECKING:
    from rich.console import RenderableType


class DatasetInfo(BaseModel):
    """The dataset checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Relative to the project root when inside it.")
    format: str = Field(description="csv, jsonl, parquet, numpy, images or hf-arrow.")
    rows: int = Field(ge=0)
    columns: dict[str, str] = Field(default_factory=dict, description="Column -> type.")
    files: int = Field(ge=0, default=0, description="Files the dataset consists of.")
    digest: str | None = Field(default=None, description="Its content digest (hex).")
    digest_method: str | None = Field(default=None, description="sha256 or oms-root.")
    registered: bool = Field(default=False, description="Whether it is in the registry.")


class DataCheckReport(FindingsReport):
    """What ``ssdf data check`` found.

    Attributes:
        dataset: The dataset and its schema.
        settings: The columns used (label, text, sensitive, response) and the checks asked for.
        checks: One summary per check: ran, skipped (the data does not call for it) or
            not-run (it could not run), with its figures.
        flagged: Check -> the row ids it flagged (at most 10,000 each).
        profile: The dataset's profile (schema, rows, per-column statistics, prefix digest),
            recorded for the next check's drift and append detection.
    """

    report_type: ClassVar[str] = "data-check"

    dataset: DatasetInfo
    settings: dict[str, Any] = Field(default_factory=dict)
    checks: list[CheckSummary] = Field(default_factory=list)
    flagged: dict[str, list[int]] = Field(default_factory=dict)
    profile: dict[str, Any] = Field(default_factory=dict)

    def rules(self) -> list[Rule]:
        """Metadata of every data rule that produced a finding."""
        from ssdf_ai.data import rules

        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in rules.RULES.items() if rule_id in used]

    def terminal(self) -> RenderableType:
        """The checks table, then the findings table."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        table = Table(
            title=f"{escape(self.dataset.path)}: {self.dataset.format}, "
            f"{self.dataset.rows} row(s), {len(self.dataset.columns)} column(s)"
        )
        for column in ("check", "status", "flagged rows", "result"):
            table.add_column(column)
        colour = {"ran": "green", "skipped": "dim", "not-run": "yellow"}
        for check in self.checks:
            status = f"[{colour.get(check.status, 'white')}]{check.status}[/]"
            flagged = str(check.flagged_rows) if check.status == "ran" else ""
            table.add_row(check.name, status, flagged, escape(check.detail))
        return Group(table, super().terminal())


class DataCleanReport(Report):
    """What ``ssdf data clean`` wrote.

    Attributes:
        source: The dataset cleaned (never modified).
        output: The cleaned copy.
        log: The change log: one JSON line per removed or altered row.
        removal: The checks whose flagged rows were removed.
        redacted: Whether secrets and personal data in kept rows were redacted.
        rows_in: Rows read.
        rows_out: Rows written.
        removed: Rows removed by reason.
        altered: Rows altered (redacted).
        unreadable: Source records that could not be read.
        output_digest: SHA-256 (or OMS root for a folder) of the copy.
        run_id: The evidence run that recorded it, if recorded.
    """

    report_type: ClassVar[str] = "data-clean"

    source: str
    output: str
    log: str
    removal: list[str] = Field(default_factory=list)
    redacted: bool = True
    rows_in: int = Field(ge=0, default=0)
    rows_out: int = Field(ge=0, default=0)
    removed: dict[str, int] = Field(default_factory=dict)
    altered: int = Field(ge=0, default=0)
    unreadable: int = Field(ge=0, default=0)
    output_digest: str | None = None
    run_id: int | None = None

    def terminal(self) -> RenderableType:
        """One summary line per figure."""
        from rich.markup import escape

        removed = ", ".join(f"{n} {reason}" for reason, n in self.removed.items()) or "none"
        lines = [
            f"wrote {escape(self.output)}: {self.rows_out} of {self.rows_in} row(s) kept",
            f"removed: {removed}",
            f"altered (redacted): {self.altered}",
            f"log: {escape(self.log)}",
        ]
        return "\n".join(lines)


class DataAugmentReport(Report):
    """What ``ssdf data augment --adversarial`` wrote.

    Attributes:
        source: The dataset attacked (never modified).
        model: The classifier attacked.
        output: The adversarial samples (NumPy ``.npz``: ``X``, ``y``, ``source_row``), kept
            apart from the data.
        parameters: The parameters file written beside them (JSON).
        attack: ``fgsm`` or ``pgd``; ``eps``, ``steps``, ``step_size``, ``fraction``, ``seed``.
        method: ``gradient`` (exact), ``surrogate`` (transfer attack) or ``autograd``.
        rows: Adversarial rows written.
        clean_accuracy: The model's accuracy on the original rows.
        adversarial_accuracy: Its accuracy on the adversarial rows.
        run_id: The evidence run that recorded it, if recorded.
    """

    report_type: ClassVar[str] = "data-augment"

    source: str
    model: str
    output: str
    parameters: str
    attack: dict[str, Any] = Field(default_factory=dict)
    method: str
    rows: int = Field(ge=0)
    clean_accuracy: float
    adversarial_accuracy: float
    run_id: int | None = None

    def terminal(self) -> RenderableType:
        """One summary line per figure."""
        from rich.markup import escape

        a = self.attack
        return "\n".join(
            [
                f"wrote {self.rows} adversarial row(s) to {escape(self.output)} "
                f"({a.get('attack')}, eps {a.get('eps')}, {self.method})",
                f"accuracy of {escape(self.model)}: {self.clean_accuracy:.3f} on the original "
                f"rows, {self.adversarial_accuracy:.3f} on the adversarial ones",
                f"parameters: {escape(self.parameters)}",
            ]
        )
