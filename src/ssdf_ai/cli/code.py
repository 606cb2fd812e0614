"""``ssdf code``: placeholder, filled in by the issue-8 work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``code`` command(s) to ``app``."""
