"""``ssdf deps``: placeholder, filled in by the issue-8 work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``deps`` command(s) to ``app``."""
