"""Fixtures for the profile tests: the shared profile read independently, and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ssdf_ai.cli.profile import app
from ssdf_ai.profile import Catalog, load_catalog

NIST_CATALOG = "reference/nist-sp800-218-ssdf-1.1-oscal-catalog.json"


@pytest.fixture(scope="session")
def profile_yaml(shared_dir: Path) -> Path:
    """shared/sp800-218a/profile.yaml, the source of the packaged copy."""
    path = shared_dir / "sp800-218a" / "profile.yaml"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the profile tests compare the catalog with it")
    return path


@pytest.fixture(scope="session")
def expected(profile_yaml: Path) -> dict[str, Any]:
    """The shared profile data, parsed here without ssdf-ai's loader."""
    data: dict[str, Any] = yaml.safe_load(profile_yaml.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def expected_tasks(expected: dict[str, Any]) -> list[dict[str, Any]]:
    """Every task of the shared profile data, in order."""
    return [t for g in expected["groups"] for p in g["practices"] for t in p["tasks"]]


@pytest.fixture(scope="session")
def nist_catalog_path(shared_dir: Path) -> Path:
    """NIST's official OSCAL catalog of SSDF 1.1."""
    path = shared_dir / NIST_CATALOG
    if not path.is_file():
        pytest.fail(f"{path} is missing: the OSCAL tests resolve the profile against it")
    return path


@pytest.fixture(scope="session")
def nist_catalog(nist_catalog_path: Path) -> dict[str, Any]:
    """NIST's SSDF 1.1 catalog, parsed."""
    data: dict[str, Any] = json.loads(nist_catalog_path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The packaged catalog."""
    return load_catalog()


class Invoke:
    """Run ``ssdf profile`` subcommands in-process and return (code, stdout, stderr)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = self.runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def invoke() -> Invoke:
    """Run an ``ssdf profile`` subcommand: ``invoke("show", "PO.1")``."""
    return Invoke()
