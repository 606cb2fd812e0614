"""``ssdf secrets``: placeholder, filled in by the issue-8 work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``secrets`` command(s) to ``app``."""
