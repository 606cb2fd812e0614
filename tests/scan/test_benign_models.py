"""Real files made by the real libraries scan clean: nothing above LOW.

UNSAFE_SERIALIZATION (low) is expected for every pickle-based format, and a NumPy object array
is reported as OBJECT_ARRAY (medium) by design: it holds a pickle.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from model_fixtures import (
    joblib_files,
    numpy_files,
    object_npy,
    safetensors_file,
    torch_files,
    transformers_folder,
)

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan.engine import scan_paths

HAS_TORCH = importlib.util.find_spec("torch") is not None

TORCH_NAMES = [
    "state_dict.pt",
    "checkpoint.pth",
    "legacy_state_dict.pt",
    "legacy_checkpoint.pth",
    "scripted.pt",
]
EXPECTED_FORMAT = {
    "state_dict.pt": "torch-zip",
    "checkpoint.pth": "torch-zip",
    "legacy_state_dict.pt": "torch-legacy",
    "legacy_checkpoint.pth": "torch-legacy",
    "scripted.pt": "torchscript",
    "joblib-plain": "joblib",
    "joblib-compress3": "zlib+joblib",
    "joblib-lzma": "lzma+joblib",
    "joblib-xz": "xz+joblib",
    "joblib-lz4": "lz4+joblib",
    "joblib-bz2": "bz2+joblib",
    "joblib-gzip": "gzip+joblib",
    "joblib-zlib": "zlib+joblib",
    "npy": "npy",
    "npz": "npz",
    "npz-compressed": "npz",
    "safetensors": "safetensors",
}


@pytest.fixture(scope="module")
def benign(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("benign")
    files: dict[str, Path] = {}
    if HAS_TORCH:
        files.update(torch_files(folder))
        files["safetensors"] = safetensors_file(folder / "model.safetensors")
    files.update(joblib_files(folder))
    files.update(numpy_files(folder))
    return files


def _above_low(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity > Severity.LOW]


@pytest.mark.parametrize("name", list(EXPECTED_FORMAT))
def test_benign_file_has_no_finding_above_low(benign: dict[str, Path], name: str) -> None:
    if name not in benign:
        pytest.skip(f"{name}: the library that makes it is not installed")
    path = benign[name]
    result = scan_paths([path], root=path.parent)
    assert _above_low(result.findings) == []
    assert [s.format for s in result.scanned] == [EXPECTED_FORMAT[name]]
    pickle_based = name in TORCH_NAMES or name.startswith("joblib")
    unsafe = [f for f in result.findings if f.rule_id == rules.UNSAFE_SERIALIZATION]
    assert len(unsafe) == (1 if pickle_based else 0)
    # No parser failed on known-good input (the per-file catch-all reports UNPARSEABLE).
    assert not any(f.rule_id == rules.UNPARSEABLE for f in result.findings)


def test_benign_folder_scans_clean_in_one_pass(benign: dict[str, Path]) -> None:
    folder = next(iter(benign.values())).parent
    result = scan_paths([folder], root=folder)
    assert _above_low(result.findings) == []
    assert len(result.scanned) == len(benign)
    assert result.skipped == []


def test_object_array_is_reported_medium_but_not_dangerous(tmp_path: Path) -> None:
    path = object_npy(tmp_path / "objects.npy")
    result = scan_paths([path], root=tmp_path)
    assert [(f.rule_id, f.severity) for f in result.findings] == [
        (rules.OBJECT_ARRAY, Severity.MEDIUM)
    ]


def test_transformers_save_pretrained_folder_is_clean(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("torch")
    folder = transformers_folder(tmp_path / "bert")
    assert folder is not None
    result = scan_paths([folder], root=tmp_path)
    assert _above_low(result.findings) == []
    formats = {s.path.rsplit("/", 1)[-1]: s.format for s in result.scanned}
    assert formats["model.safetensors"] == "safetensors"
    assert formats["config.json"] == "text"
