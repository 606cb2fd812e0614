"""``ssdf init`` and ``ssdf config``: the project's configuration.

Nothing heavy is imported at module level: pydantic and the configuration models load only
when one of these commands runs, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import Output, command

if TYPE_CHECKING:
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.report.base import Report


class Kind(enum.StrEnum):
    """The values of :class:`ssdf_ai.config.OrganizationKind`, spelt out so that ``--help``
    need not import the models; a test keeps the two equal."""

    AI_MODEL_PRODUCER = "ai-model-producer"
    AI_SYSTEM_PRODUCER = "ai-system-producer"
    ACQUIRER = "acquirer"


ConfigPath = Annotated[
    Path,
    typer.Argument(help="A project directory (searched upwards) or a configuration file."),
]

config_app = typer.Typer(help="Check the project's configuration.", no_args_is_help=True)


def init(
    path: Annotated[
        Path,
        typer.Argument(help="The project directory.", file_okay=False),
    ] = Path("."),
    name: Annotated[
        str | None,
        typer.Option("--name", help="The project's name. Default: the directory's name."),
    ] = None,
    kind: Annotated[
        Kind, typer.Option("--kind", help="The kind of organisation.", case_sensitive=False)
    ] = Kind.AI_MODEL_PRODUCER,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing ssdf.toml.")] = False,
    *,
    out: Output,
) -> Report:
    """Write a commented ssdf.toml that explains every setting (PO.1, PO.2, PO.4)."""
    from ssdf_ai.config import InitReport, OrganizationKind, init_config

    result = init_config(path, name=name, kind=OrganizationKind(kind.value), force=force)
    return InitReport.from_result(result)


def _resolve(path: Path) -> LoadedConfig:
    """Load the configuration named by ``path``: a file, or a directory to search up from."""
    from ssdf_ai.config import find_project_root, load_config, load_config_file

    if path.is_file():
        return load_config_file(path)
    if not path.exists():
        from ssdf_ai.errors import InputError

        raise InputError(f"{path} does not exist", where=path)
    return load_config(find_project_root(path))


@config_app.callback()
def _config() -> None:
    """Check and show the project's configuration (ssdf.toml or [tool.ssdf])."""


@command(config_app, "validate")
def validate(
    path: ConfigPath = Path("."),
    *,
    out: Output,
) -> Report:
    """Validate the configuration; list every problem with file:line (exit 2 when invalid)."""
    from ssdf_ai.config import ConfigValidationReport
    from ssdf_ai.errors import ConfigError

    loaded = _resolve(path)
    if not loaded.from_file:
        raise ConfigError(
            f"no ssdf configuration found in {loaded.root.resolve()} or above",
            where=loaded.root,
            hint="run `ssdf init` to create ssdf.toml, or add [tool.ssdf] to pyproject.toml",
        )
    return ConfigValidationReport.from_loaded(loaded)


@command(config_app, "show")
def show(
    path: ConfigPath = Path("."),
    *,
    out: Output,
) -> Report | str:
    """Print the effective configuration as TOML, defaults filled in."""
    from ssdf_ai.config import ConfigShowReport
    from ssdf_ai.report import OutputFormat

    report = ConfigShowReport.from_loaded(_resolve(path))
    # The terminal view is a TOML document: printed as text, so that no line is wrapped.
    return report.toml() if out.format is OutputFormat.TERMINAL else report


def register(app: typer.Typer) -> None:
    """Add ``init`` and the ``config`` group to the root app."""
    command(app, "init")(init)
    app.add_typer(config_app, name="config")
