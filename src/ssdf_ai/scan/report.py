"""The report ``ssdf scan`` writes: findings, the files scanned, the paths skipped, the limits."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Rule, Severity
from ssdf_ai.report.base import FindingsReport
from ssdf_ai.scan._types import ScanLimits
from ssdf_ai.scan.engine import ScannedFile, ScanResult, Skipped

if TYPE_CHECKING:
    from rich.console import RenderableType


class ScanTotals(BaseModel):
    """Counts over one scan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    files: int = Field(ge=0, description="Files scanned.")
    skipped: int = Field(ge=0, description="Paths skipped (each with a reason).")
    bytes: int = Field(ge=0, description="Total size of the files scanned.")
    findings: int = Field(ge=0)
    by_severity: dict[str, int] = Field(default_factory=dict)
    by_format: dict[str, int] = Field(default_factory=dict)


class ScanReport(FindingsReport):
    """What ``ssdf scan`` found.

    Attributes:
        paths: The paths given to the scan.
        scanned: Every file scanned, with its detected format, size and time.
        skipped: Every path not scanned, with the reason.
        totals: Counts by severity and format.
        limits: The limits the scan ran under.
        unscanned_allowed: Whether ``checks.unsafe_allow_unscanned`` downgraded the
            not-scanned findings (SSDF-SCAN-004) to info.
    """

    report_type: ClassVar[str] = "scan"

    paths: list[str] = Field(default_factory=list)
    scanned: list[ScannedFile] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    totals: ScanTotals = Field(
        default_factory=lambda: ScanTotals(files=0, skipped=0, bytes=0, findings=0)
    )
    limits: ScanLimits = Field(default_factory=ScanLimits)
    unscanned_allowed: bool = False

    @classmethod
    def from_result(
        cls,
        result: ScanResult,
        *,
        paths: list[str],
        limits: ScanLimits,
        fail_on: Severity = Severity.LOW,
        unscanned_allowed: bool = False,
    ) -> ScanReport:
        """Build the report of a scan.

        Args:
            result: What :func:`ssdf_ai.scan.scan_paths` returned.
            paths: The paths given.
            limits: The limits used.
            fail_on: The severity at or above which the scan fails.
            unscanned_allowed: Downgrade SSDF-SCAN-004 findings to info (the
                ``checks.unsafe_allow_unscanned`` switch).

        Returns:
            The report, findings sorted by path, then severity (worst first), then rule.
        """
        from ssdf_ai.scan import rules

        findings = rules.as_gated(result.findings, unscanned_allowed=unscanned_allowed)
        findings.sort(
            key=lambda f: (
                f.location.path or "",
                -f.severity.rank,
                f.rule_id,
                f.location.address or "",
            )
        )
        totals = ScanTotals(
            files=len(result.scanned),
            skipped=len(result.skipped),
            bytes=sum(s.size for s in result.scanned),
            findings=len(findings),
            by_severity=dict(sorted(Counter(f.severity.value for f in findings).items())),
            by_format=dict(sorted(Counter(s.format for s in result.scanned).items())),
        )
        return cls(
            findings=findings,
            fail_on=fail_on,
            paths=paths,
            scanned=list(result.scanned),
            skipped=list(result.skipped),
            totals=totals,
            limits=limits,
            unscanned_allowed=unscanned_allowed,
        )

    def rules(self) -> list[Rule]:
        """Metadata of every scanner rule that produced a finding, from the rule registry."""
        from ssdf_ai.scan import rules

        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in rules.RULES.items() if rule_id in used]

    def summary(self) -> str:
        """One line: files scanned by format, paths skipped by reason."""
        formats = ", ".join(f"{n} {name}" for name, n in self.totals.by_format.items())
        text = f"{self.totals.files} file(s) scanned" + (f" ({formats})" if formats else "")
        reasons = Counter(s.reason for s in self.skipped)
        if reasons:
            why = "; ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            text += f", {self.totals.skipped} skipped ({why})"
        else:
            text += ", 0 skipped"
        return text

    def terminal(self) -> RenderableType:
        """The findings table, then the summary."""
        from rich.console import Group
        from rich.markup import escape

        parts: list[RenderableType] = [super().terminal(), escape(self.summary())]
        if self.unscanned_allowed:
            parts.append(
                "[yellow]checks.unsafe_allow_unscanned is on: files that could not be scanned "
                "are reported as info and do not fail the scan.[/yellow]"
            )
        return Group(*parts)
