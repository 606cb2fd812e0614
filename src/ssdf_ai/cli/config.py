"""``ssdf init`` and ``ssdf config``: the project's configuration."""

from __future__ import annotations

import typer

config_app = typer.Typer(help="Check the project's configuration.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``init`` and the ``config`` group to the root app."""
    app.add_typer(config_app, name="config")
