"""Format detection from content; extensions are hints only."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import pickle
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from ssdf_ai.scan import detect as d


def _safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0\0\0\0"


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


def _npy() -> bytes:
    np = pytest.importorskip("numpy")
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    return buffer.getvalue()


PICKLED = pickle.dumps({"a": [1, 2]}, protocol=4)

CASES = [
    ("pickle-p4", PICKLED, "model.pkl", d.PICKLE),
    ("pickle-p2", pickle.dumps([1], protocol=2), "x.bin", d.PICKLE),
    ("pickle-p0", pickle.dumps({"a": 1}, protocol=0), "x.pkl", d.PICKLE),
    ("pickle-p1", pickle.dumps({"a": 1}, protocol=1), "x", d.PICKLE),
    ("zip", _zip(["a.txt"]), "a.zip", d.ZIP),
    ("tar", _tar(), "a.tar", d.TAR),
    ("gzip", gzip.compress(b"hello"), "a.gz", d.GZIP),
    ("bz2", bz2.compress(b"hello"), "a.bz2", d.BZ2),
    ("xz", lzma.compress(b"hello"), "a.xz", d.XZ),
    ("lzma-alone", lzma.compress(PICKLED, format=lzma.FORMAT_ALONE), "m.joblib", d.LZMA),
    ("zlib-joblib", zlib.compress(PICKLED), "m.joblib", d.ZLIB),
    ("zlib-without-hint", zlib.compress(PICKLED), "m.dat", d.UNKNOWN),
    ("lz4", b"\x04\x22\x4d\x18" + b"\x00" * 16, "a.lz4", d.LZ4),
    ("safetensors", _safetensors(), "model.safetensors", d.SAFETENSORS),
    ("hdf5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "model.h5", d.HDF5),
    ("hdf5-userblock", b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "m.h5", d.HDF5),
    ("gguf", b"GGUF\x03\x00\x00\x00" + b"\0" * 32, "m.gguf", d.GGUF),
    ("7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 32, "m.7z", d.SEVEN_Z),
    ("onnx", b"\x08\x07\x12\x07pytorch\x1a\x032.0", "m.onnx", d.ONNX),
    ("onnx-bytes-without-extension", b"\x08\x07\x12\x07pytorch\x1a\x032.0", "m.bin", d.UNKNOWN),
    ("saved-model", b"\x08\x01\x12\x00", "saved_model.pb", d.TF_SAVEDMODEL),
    ("text", b"# Model card\n\nA model.\n", "README.md", d.TEXT),
    ("json", b'{"architectures": ["Bert"]}', "config.json", d.TEXT),
    ("png", b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "a.png", d.IMAGE),
    ("binary", bytes(range(256)), "weights.bin", d.UNKNOWN),
    (
        "torch-legacy",
        b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e",
        "m.pt",
        d.TORCH_LEGACY,
    ),
]


@pytest.mark.parametrize(
    ("data", "name", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_detects_format_from_content(data: bytes, name: str, expected: str) -> None:
    assert d.detect(data, size=len(data), name=name).format == expected


def test_npy() -> None:
    data = _npy()
    assert d.detect(data, size=len(data), name="a.npy").format == d.NPY


def test_empty() -> None:
    assert d.detect(b"", size=0, name="x.pt").format == d.EMPTY


@pytest.mark.parametrize(
    ("name", "fmt", "mismatch"),
    [
        ("model.safetensors", d.PICKLE, True),
        ("model.safetensors", d.SAFETENSORS, False),
        ("model.pt", d.TORCH_ZIP, False),
        ("model.pt", d.SAFETENSORS, True),
        ("model.npy", d.PICKLE, True),
        ("model.onnx", d.UNKNOWN, False),
        ("pytorch_model.bin", d.PICKLE, False),
        ("model.joblib", d.ZLIB, False),
        ("README.md", d.PICKLE, False),
    ],
)
def test_extension_is_a_hint(name: str, fmt: str, mismatch: bool) -> None:
    assert d.is_mismatch(name, fmt) is mismatch


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["archive/data.pkl", "archive/data/0", "archive/version"], d.TORCH_ZIP),
        (["m/data.pkl", "m/constants.pkl", "m/code/__torch__/m.py"], d.TORCHSCRIPT),
        (["config.json", "metadata.json", "model.weights.h5"], d.KERAS),
        (["a.npy", "b.npy"], d.NPZ),
        (["a.txt"], d.ZIP),
    ],
)
def test_zip_refined_by_member_names(names: list[str], expected: str) -> None:
    assert d.classify_zip(names).format == expected


def test_directories(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"\x08\x01")
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text("{}")
    (hf / "model.safetensors").write_bytes(_safetensors())
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.json").write_text("{}")
    assert (d.detect_dir(saved) or d.Detected("none")).format == d.TF_SAVEDMODEL
    assert (d.detect_dir(hf) or d.Detected("none")).format == d.HF_MODEL
    assert d.detect_dir(plain) is None


def test_text_that_starts_like_a_pickle_opcode_is_text() -> None:
    for text in (b"Model card\n", b"I am a model\n", b"Stop.\n", b"(draft) notes\n"):
        assert d.detect(text, size=len(text), name="notes.txt").format == d.TEXT, text
