"""The never-execute guarantee: payloads that would create a canary file, in every format,
scanned through the library and the CLI (every output format), never run.

Loading functions are patched to raise for the duration, so a scan that called one would fail
even if the payload's effect went unnoticed.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest
from model_fixtures import malicious_files, scan_app
from typer.testing import CliRunner

from ssdf_ai.findings import Severity
from ssdf_ai.scan.engine import scan_paths

HAS_TORCH = importlib.util.find_spec("torch") is not None
FORMATS = ("terminal", "json", "sarif")


class LoadCalledError(AssertionError):
    """A loader was called during a scan."""


def _forbid(*_args: object, **_kwargs: object) -> None:
    raise LoadCalledError("a scan called a loading function")


@pytest.fixture
def no_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every deserializing entry point raise."""
    monkeypatch.setattr(pickle, "load", _forbid)
    monkeypatch.setattr(pickle, "loads", _forbid)
    monkeypatch.setattr(pickle, "Unpickler", _forbid)
    import numpy

    monkeypatch.setattr(numpy, "load", _forbid)
    import joblib

    monkeypatch.setattr(joblib, "load", _forbid)
    if HAS_TORCH:
        import torch

        monkeypatch.setattr(torch, "load", _forbid)
        monkeypatch.setattr(torch.jit, "load", _forbid)


@pytest.fixture(scope="module")
def armed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of payload files and the canary path their payloads would create."""
    if not HAS_TORCH:
        pytest.skip("torch is needed to build the torch payloads")
    from model_fixtures import torch_files

    clean = torch_files(tmp_path_factory.mktemp("clean"))["state_dict.pt"]
    folder = tmp_path_factory.mktemp("armed")
    canary = tmp_path_factory.mktemp("canary") / "CANARY"
    malicious_files(folder, canary, clean)
    return folder, canary


@pytest.mark.usefixtures("no_loaders")
def test_library_scan_never_executes(armed: tuple[Path, Path]) -> None:
    folder, canary = armed
    result = scan_paths([folder], root=folder)
    assert not canary.exists()
    assert len(result.scanned) == len(list(folder.iterdir()))
    critical = {f.location.path for f in result.findings if f.severity is Severity.CRITICAL}
    assert critical == {p.name for p in folder.iterdir()}


@pytest.mark.usefixtures("no_loaders")
@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_scan_never_executes(armed: tuple[Path, Path], fmt: str) -> None:
    folder, canary = armed
    result = CliRunner().invoke(
        scan_app(), ["scan", str(folder), "--project", str(folder), "--no-record", "-f", fmt]
    )
    assert result.exit_code == 1, result.output
    assert not canary.exists()
    assert "system" in result.output


def test_the_canary_works(tmp_path: Path) -> None:
    # Proof that the payload is live: unpickling it (here, deliberately) creates the canary.
    from model_fixtures import payload

    canary = tmp_path / "CANARY"
    pickle.loads(payload(canary))  # noqa: S301 - the test's own payload, to prove it is armed
    assert canary.exists()


@pytest.mark.usefixtures("no_loaders")
def test_light_scan_path_never_executes(armed: tuple[Path, Path]) -> None:
    # `ssdf scan -q --no-record` is served without the typer command (ssdf_ai._entry).
    from ssdf_ai._entry import scan_gate

    folder, canary = armed
    assert scan_gate([str(folder), "--project", str(folder), "--no-record", "-q"]) == 1
    assert not canary.exists()
