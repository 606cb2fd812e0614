"""``ssdf evidence``: the evidence store."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, show, export and verify evidence.", no_args_is_help=True)
