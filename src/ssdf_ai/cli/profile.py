"""``ssdf profile``: the SP 800-218A catalog."""

from __future__ import annotations

import typer

app = typer.Typer(help="Browse and export the SP 800-218A profile.", no_args_is_help=True)
