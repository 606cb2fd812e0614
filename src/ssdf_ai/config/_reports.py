"""The reports of ``ssdf init``, ``ssdf config validate`` and ``ssdf config show``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.config._load import ConfigSource, LoadedConfig, display_path
from ssdf_ai.config._model import Area, Config, ConfigWarning, OrganizationKind
from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.config._init import InitResult


class RoleSummary(BaseModel):
    """One role as the validation report shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    holders: tuple[str, ...]
    covers: tuple[Area, ...]
    responsibilities: tuple[str, ...]
    reviewed: dt.date
    review_due: dt.date
    overdue: bool


def _file(loaded: LoadedConfig) -> str | None:
    return display_path(loaded.path) if loaded.path is not None else None


def _warnings_view(warnings: list[ConfigWarning]) -> RenderableType:
    from rich.table import Table

    table = Table(title=f"{len(warnings)} warning(s)", title_justify="left", show_header=True)
    for column in ("where", "key", "warning"):
        table.add_column(column)
    for warning in warnings:
        text = warning.message
        if warning.task_ids:
            text += f" ({', '.join(warning.task_ids)})"
        if warning.hint:
            text += f"\n[dim]{_escape(warning.hint)}[/dim]"
        table.add_row(_escape(warning.where), _escape(warning.key), text)
    return table


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class ConfigValidationReport(Report):
    """The result of ``ssdf config validate``: a valid configuration, summarised.

    Invalid configurations produce no report: they raise
    :class:`~ssdf_ai.errors.ConfigError` and the command exits with code 2.

    Attributes:
        valid: Always true; present so that JSON consumers need not infer it.
        file: The file validated.
        source: ``ssdf.toml`` or ``pyproject.toml``.
        project: The project's name.
        kind: The kind of organisation.
        roles: The roles, with their review status.
        requirements: How many security requirements are documented.
        responsibility: Tasks performed by another party.
        warnings: Valid settings that weaken security or leave tasks unaddressed.
    """

    report_type: ClassVar[str] = "config-validation"

    valid: bool = True
    file: str | None
    source: ConfigSource
    project: str
    kind: OrganizationKind
    roles: list[RoleSummary] = Field(default_factory=list)
    requirements: int = 0
    responsibility: dict[str, str] = Field(default_factory=dict)
    warnings: list[ConfigWarning] = Field(default_factory=list)

    @classmethod
    def from_loaded(
        cls, loaded: LoadedConfig, *, today: dt.date | None = None
    ) -> ConfigValidationReport:
        """Summarise a validated configuration.

        Args:
            loaded: The configuration.
            today: The date review deadlines are judged against; defaults to today.

        Returns:
            The report.
        """
        day = today or dt.date.today()
        config = loaded.config
        roles = [
            RoleSummary(
                name=r.name,
                holders=r.holders,
                covers=r.covers,
                responsibilities=r.responsibilities,
                reviewed=r.reviewed,
                review_due=r.review_due,
                overdue=r.review_due < day,
            )
            for r in config.roles
        ]
        return cls(
            file=_file(loaded),
            source=loaded.source,
            project=config.project.name,
            kind=config.project.kind,
            roles=roles,
            requirements=len(config.requirements),
            responsibility=dict(config.responsibility),
            warnings=list(loaded.warnings),
        )

    def terminal(self) -> RenderableType:
        """A green summary, the roles, and the warnings."""
        from rich.console import Group
        from rich.table import Table

        others = sum(party != "self" for party in self.responsibility.values())
        parts: list[RenderableType] = [
            f"[bold green]valid[/bold green]: {_escape(self.file or '')} ({self.source.value})",
            f"project: [bold]{_escape(self.project)}[/bold] ({self.kind.value})",
            f"requirements: {self.requirements}   tasks performed by other parties: {others}",
        ]
        if self.roles:
            table = Table(title=f"{len(self.roles)} role(s)", title_justify="left")
            for column in ("role", "holders", "covers", "review due"):
                table.add_column(column)
            for role in self.roles:
                due = role.review_due.isoformat()
                table.add_row(
                    _escape(role.name),
                    _escape(", ".join(role.holders)),
                    ", ".join(a.value for a in role.covers),
                    f"[red]{due} (overdue)[/red]" if role.overdue else due,
                )
            parts.append(table)
        if self.warnings:
            parts.append(_warnings_view(self.warnings))
        else:
            parts.append("[green]no warnings[/green]")
        return Group(*parts)


class ConfigShowReport(Report):
    """The result of ``ssdf config show``: the effective configuration, defaults filled in.

    Attributes:
        file: The file it came from; ``None`` when no file exists and defaults apply.
        source: ``ssdf.toml``, ``pyproject.toml`` or ``defaults``.
        config: The effective configuration.
        warnings: Valid settings that weaken security or leave tasks unaddressed.
    """

    report_type: ClassVar[str] = "config"

    file: str | None
    source: ConfigSource
    config: Config
    warnings: list[ConfigWarning] = Field(default_factory=list)

    @classmethod
    def from_loaded(cls, loaded: LoadedConfig) -> ConfigShowReport:
        """Wrap a loaded configuration.

        Args:
            loaded: The configuration.

        Returns:
            The report.
        """
        return cls(
            file=_file(loaded),
            source=loaded.source,
            config=loaded.config,
            warnings=list(loaded.warnings),
        )

    def toml(self) -> str:
        """The configuration as a TOML document, headed by a comment naming its source."""
        from ssdf_ai.config._toml import dump_toml

        origin = self.file or "no configuration file: defaults"
        header = f"# effective configuration ({origin}; defaults filled in)\n"
        return header + dump_toml(self.config.model_dump(mode="python"))

    def terminal(self) -> RenderableType:
        """The TOML document (``ssdf config show`` prints :meth:`toml` unwrapped instead)."""
        from rich.text import Text

        return Text(self.toml())


class InitReport(Report):
    """The result of ``ssdf init``.

    Attributes:
        file: The configuration file written.
        project: The project's name.
        kind: The kind of organisation.
        detected: Folders found for each of ``[paths]``.
        overwritten: Whether an existing file was replaced.
        warnings: Warnings about the written configuration, such as a shadowed [tool.ssdf].
    """

    report_type: ClassVar[str] = "config-init"

    file: str
    project: str
    kind: OrganizationKind
    detected: dict[str, list[str]] = Field(default_factory=dict)
    overwritten: bool = False
    warnings: list[ConfigWarning] = Field(default_factory=list)

    @classmethod
    def from_result(cls, result: InitResult) -> InitReport:
        """Summarise what ``init`` wrote.

        Args:
            result: What was written.

        Returns:
            The report.
        """
        return cls(
            file=display_path(result.path),
            project=result.loaded.config.project.name,
            kind=result.loaded.config.project.kind,
            detected={k: list(v) for k, v in result.detected.items()},
            overwritten=result.overwritten,
            warnings=list(result.loaded.warnings),
        )

    def terminal(self) -> RenderableType:
        """What was written and what to do next."""
        from rich.console import Group

        verb = "replaced" if self.overwritten else "wrote"
        found = [f"{k}: {', '.join(v)}" for k, v in self.detected.items() if v]
        lines: list[RenderableType] = [
            f"[green]{verb}[/green] {_escape(self.file)} for [bold]{_escape(self.project)}[/bold]"
            f" ({self.kind.value})",
            "detected " + _escape("; ".join(found))
            if found
            else "no model, data or code folders "
            'detected: [paths] defaults to the whole project (".")',
            "next: replace the example roles and requirements with your own, then run "
            "`ssdf config validate`",
        ]
        if self.warnings:
            lines.append(_warnings_view(self.warnings))
        return Group(*lines)
