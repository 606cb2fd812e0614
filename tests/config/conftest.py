"""Helpers for the configuration tests: write real TOML files and run the real CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app

# A complete, valid configuration whose line numbers the tests rely on.
VALID = """\
[project]
name = "churn"
kind = "ai-model-producer"

[paths]
models = ["models"]
datasets = ["data"]
code = ["src", "*.py"]

[[roles]]
name = "ML engineering"
holders = ["alice"]
responsibilities = ["PW.4", "PW.4.4"]
covers = ["ai-model-development"]
reviewed = 2026-01-15

[[roles]]
name = "MLOps"
holders = ["bob", "ops-team"]
responsibilities = ["PS.1", "PO.5"]
covers = ["ai-model-operations", "data-science"]
reviewed = 2026-01-15

[responsibility]
"PS.2.1" = "model-provider"

[[requirements]]
id = "REQ-1"
text = "Models are scanned before use."
source = "policy"
reference = "AI policy v2"
covers_ai = true
applies_to = ["internal", "third-party"]
"""


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write ``text`` (dedented) as ``name`` in a fresh project directory; return its path."""

    def write(text: str, name: str = "ssdf.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def valid_text() -> str:
    """A complete, valid ssdf.toml (see ``VALID`` for its line numbers)."""
    return VALID


@pytest.fixture
def ssdf() -> Callable[..., tuple[int, str, str]]:
    """Run ``ssdf ARGS`` in-process; return exit code, stdout and stderr."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> tuple[int, str, str]:
        result = runner.invoke(app, [str(a) for a in args])
        return result.exit_code, result.stdout, result.stderr

    return invoke
