"""Payloads in every container are found: a CRITICAL SSDF-SCAN-001 naming the member.

Hostile inputs (bombs, deep nesting, huge declared sizes, pathological pickles) are bounded in
time and reported, never passed as clean.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from model_fixtures import (
    malicious_files,
    nested_marks,
    nested_zips,
    sparse_pickle,
    zip_bomb,
    zip_declaring_huge_member,
)

from ssdf_ai.findings import Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan.engine import scan_paths

HAS_TORCH = importlib.util.find_spec("torch") is not None
# Where the payload sits inside each file (None: the file itself).
MEMBER = {
    "raw-pickle": None,
    "pickle-protocol-0": None,
    "torch-zip": "data.pkl",
    "torch-zip-name-mismatch": "data.pkl",
    "joblib-zlib": None,
    "joblib-lzma": None,
    "joblib-plain": None,
    "npy-object": None,
    "zip-in-tar-gz": "bundle.zip!weights/model.pkl",
    "pickle-as-safetensors": None,
    "7z": "weights/model.pkl",
}


@pytest.fixture(scope="module")
def malicious(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("malicious")
    if HAS_TORCH:
        from model_fixtures import torch_files

        clean = torch_files(tmp_path_factory.mktemp("clean"))["state_dict.pt"]
    else:
        clean = None
    files = malicious_files(folder, folder / "CANARY", clean) if clean else {}
    assert not (folder / "CANARY").exists()
    return files


@pytest.mark.parametrize("name", list(MEMBER))
def test_payload_is_critical_and_names_its_member(malicious: dict[str, Path], name: str) -> None:
    if name not in malicious:
        pytest.skip("torch is not installed")
    path = malicious[name]
    result = scan_paths([path], root=path.parent)
    critical = [f for f in result.findings if f.severity is Severity.CRITICAL]
    assert critical, result.findings
    assert all(f.rule_id == rules.DANGEROUS_GLOBAL for f in critical)
    assert all(f.location.path == path.name for f in critical)
    if MEMBER[name]:
        assert any(MEMBER[name] in (f.location.address or "") for f in critical)
    assert "system" in " ".join(f.message for f in critical)


def test_pickle_named_safetensors_is_a_format_mismatch(malicious: dict[str, Path]) -> None:
    if not malicious:
        pytest.skip("torch is not installed")
    result = scan_paths([malicious["pickle-as-safetensors"]])
    assert rules.FORMAT_MISMATCH in {f.rule_id for f in result.findings}
    assert result.scanned[0].format == "pickle"


def test_local_header_name_mismatch_is_reported(malicious: dict[str, Path]) -> None:
    if not malicious:
        pytest.skip("torch is not installed")
    result = scan_paths([malicious["torch-zip-name-mismatch"]])
    assert rules.ZIP_INCONSISTENT in {f.rule_id for f in result.findings}


def _bounded(path: Path, seconds: float = 5.0) -> list[str]:
    started = time.monotonic()
    result = scan_paths([path], root=path.parent)
    assert time.monotonic() - started < seconds
    assert len(result.scanned) == 1
    worst = [f for f in result.findings if f.severity >= Severity.HIGH]
    assert worst, f"{path.name} was passed as clean: {result.findings}"
    return [f.rule_id for f in worst]


def test_zip_bomb_is_stopped(tmp_path: Path) -> None:
    assert rules.ARCHIVE_LIMIT in _bounded(zip_bomb(tmp_path / "bomb.zip"))


def test_nesting_beyond_max_depth_is_stopped(tmp_path: Path) -> None:
    assert rules.ARCHIVE_LIMIT in _bounded(nested_zips(tmp_path / "42.zip", depth=8))


def test_member_declaring_two_gib_is_not_read(tmp_path: Path) -> None:
    found = _bounded(zip_declaring_huge_member(tmp_path / "huge.zip"))
    assert {rules.NOT_SCANNED, rules.ARCHIVE_LIMIT} & set(found)


def test_sparse_two_gib_pickle_is_not_read(tmp_path: Path) -> None:
    assert rules.NOT_SCANNED in _bounded(sparse_pickle(tmp_path / "big.pkl"))


def test_million_nested_marks_are_bounded(tmp_path: Path) -> None:
    _bounded(nested_marks(tmp_path / "marks.pkl"))
