"""Builders of real model files for the scan tests: benign ones made by the real libraries,
and malicious ones carrying a payload that would create a canary file if it were ever loaded.

Payloads are built with ``pickle.dumps`` of an object whose ``__reduce__`` names ``os.system``;
pickling only records the reference, it never calls it. Nothing here loads a pickle.
"""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import Any


class Canary:
    """Pickles to ``os.system("touch <target>")``: loading it would create ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.target}",))


def payload(target: Path, protocol: int = 4) -> bytes:
    """A pickle that would create ``target`` if loaded."""
    return pickle.dumps({"weights": [1.0, 2.0], "hook": Canary(target)}, protocol=protocol)


# -- benign files made by the real libraries ------------------------------------------------


def tiny_module() -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def torch_files(folder: Path) -> dict[str, Path]:
    """torch.save of a state dict and a training checkpoint (zip and legacy), TorchScript."""
    import torch

    model = tiny_module()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    checkpoint = {
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "loss": 0.25,
    }
    files = {
        "state_dict.pt": folder / "state_dict.pt",
        "checkpoint.pth": folder / "checkpoint.pth",
        "legacy_state_dict.pt": folder / "legacy_state_dict.pt",
        "legacy_checkpoint.pth": folder / "legacy_checkpoint.pth",
        "scripted.pt": folder / "scripted.pt",
    }
    torch.save(model.state_dict(), files["state_dict.pt"])
    torch.save(checkpoint, files["checkpoint.pth"])
    torch.save(
        model.state_dict(), files["legacy_state_dict.pt"], _use_new_zipfile_serialization=False
    )
    torch.save(checkpoint, files["legacy_checkpoint.pth"], _use_new_zipfile_serialization=False)
    torch.jit.script(model).save(str(files["scripted.pt"]))
    return files


JOBLIB_COMPRESSIONS: dict[str, Any] = {
    "plain": 0,
    "compress3": 3,
    "lzma": ("lzma", 3),
    "xz": ("xz", 3),
    "lz4": ("lz4", 3),
    "bz2": ("bz2", 3),
    "gzip": ("gzip", 3),
    "zlib": ("zlib", 3),
}


def sklearn_pipeline() -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)


def joblib_files(folder: Path) -> dict[str, Path]:
    """joblib.dump of a fitted scikit-learn Pipeline, uncompressed and with every codec."""
    import joblib

    pipeline = sklearn_pipeline()
    files = {}
    for name, compress in JOBLIB_COMPRESSIONS.items():
        if name == "lz4" and importlib.util.find_spec("lz4") is None:
            continue
        path = folder / f"pipeline_{name}.joblib"
        joblib.dump(pipeline, path, compress=compress)
        files[f"joblib-{name}"] = path
    return files


def numpy_files(folder: Path) -> dict[str, Path]:
    """Numeric .npy and .npz (plain and compressed)."""
    import numpy as np

    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    files = {
        "npy": folder / "array.npy",
        "npz": folder / "arrays.npz",
        "npz-compressed": folder / "arrays_compressed.npz",
    }
    np.save(files["npy"], arr)
    np.savez(files["npz"], a=arr, b=np.ones(3, dtype=np.int64))
    np.savez_compressed(files["npz-compressed"], a=arr)
    return files


def object_npy(path: Path) -> Path:
    """np.save of a benign object array (holds a pickle: OBJECT_ARRAY medium is expected)."""
    import numpy as np

    np.save(path, np.array([{"a": 1}, "text", 3], dtype=object), allow_pickle=True)
    return path


def safetensors_file(path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in tiny_module().state_dict().items()}, str(path))
    return path


def transformers_folder(folder: Path) -> Path | None:
    """A tiny transformers model saved with save_pretrained, or None without transformers."""
    try:
        from transformers import BertConfig, BertModel
    except ImportError:
        return None
    config = BertConfig(
        vocab_size=32,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
    )
    BertModel(config).save_pretrained(folder)
    return folder


# -- malicious containers -------------------------------------------------------------------


def rebuild_zip(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    """Copy a zip, replacing the named members' data (stored, as torch writes them)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for suffix, new in replace.items():
                if info.filename.endswith(suffix):
                    data = new
            zout.writestr(info.filename, data)
    return dst


def torch_zip_with_payload(clean: Path, dst: Path, target: Path) -> Path:
    """A torch.save zip whose data.pkl was replaced by the payload."""
    return rebuild_zip(clean, dst, {"/data.pkl": payload(target, protocol=2)})


def torch_zip_name_mismatch(clean: Path, dst: Path, target: Path) -> Path:
    """As above, but data.pkl's local header names another file than the central directory."""
    torch_zip_with_payload(clean, dst, target)
    raw = bytearray(dst.read_bytes())
    with zipfile.ZipFile(dst) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("/data.pkl"))
    offset = info.header_offset
    (name_len,) = struct.unpack_from("<H", raw, offset + 26)
    name_at = offset + 30
    assert raw[name_at : name_at + name_len].endswith(b"data.pkl")
    raw[name_at + name_len - 8 : name_at + name_len] = b"innocent"
    dst.write_bytes(bytes(raw))
    return dst


def joblib_with_payload(dst: Path, target: Path, compress: Any = 3) -> Path:
    import joblib
    import numpy as np

    joblib.dump({"coef": np.ones(4), "hook": Canary(target)}, dst, compress=compress)
    return dst


def npy_with_payload(dst: Path, target: Path) -> Path:
    import numpy as np

    np.save(dst, np.array([Canary(target), 1], dtype=object), allow_pickle=True)
    return dst


def zip_in_tar_gz(dst: Path, target: Path) -> Path:
    """model.tar.gz > bundle.zip > weights/model.pkl (the payload)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("weights/model.pkl", payload(target))
        archive.writestr("README.md", "a model\n")
    data = inner.getvalue()
    with tarfile.open(dst, "w:gz") as tar:
        info = tarfile.TarInfo("bundle.zip")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return dst


def sevenz_with_payload(dst: Path, target: Path) -> Path:
    """model.7z (py7zr, LZMA2 + BCJ, solid) > weights/model.pkl (the payload)."""
    import py7zr

    with py7zr.SevenZipFile(dst, "w") as archive:
        archive.writestr("a model\n", "README.md")
        archive.writestr(payload(target), "weights/model.pkl")
    return dst


def pickle_named_safetensors(dst: Path, target: Path) -> Path:
    dst.write_bytes(payload(target))
    return dst


def malicious_files(folder: Path, target: Path, clean_torch_zip: Path) -> dict[str, Path]:
    """Every container carrying the payload; each must yield a critical SSDF-SCAN-001."""
    raw = folder / "model.pkl"
    raw.write_bytes(payload(target))
    proto0 = folder / "model_p0.pkl"
    proto0.write_bytes(payload(target, protocol=0))
    return {
        "raw-pickle": raw,
        "pickle-protocol-0": proto0,
        "torch-zip": torch_zip_with_payload(clean_torch_zip, folder / "model.pt", target),
        "torch-zip-name-mismatch": torch_zip_name_mismatch(
            clean_torch_zip, folder / "mismatch.pt", target
        ),
        "joblib-zlib": joblib_with_payload(folder / "model.joblib", target),
        "joblib-lzma": joblib_with_payload(folder / "model_lzma.joblib", target, ("lzma", 3)),
        "joblib-plain": joblib_with_payload(folder / "model_plain.joblib", target, 0),
        "npy-object": npy_with_payload(folder / "array.npy", target),
        "zip-in-tar-gz": zip_in_tar_gz(folder / "bundle.tar.gz", target),
        "pickle-as-safetensors": pickle_named_safetensors(folder / "model.safetensors", target),
        "7z": sevenz_with_payload(folder / "model.7z", target),
    }


# -- hostile inputs -------------------------------------------------------------------------


def zip_bomb(dst: Path, megabytes: int = 64) -> Path:
    """One member of zeros with a compression ratio near 1000."""
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("weights.bin", b"\0" * (megabytes << 20))
    return dst


def nested_zips(dst: Path, depth: int = 8) -> Path:
    """42.zip-style nesting: zips inside zips, ``depth`` levels, a small pickle at the bottom."""
    data = pickle.dumps([1, 2, 3])
    name = "model.pkl"
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        data = buffer.getvalue()
        name = f"level{level}.zip"
    dst.write_bytes(data)
    return dst


def zip_declaring_huge_member(dst: Path, declared: int = 2 << 30) -> Path:
    """A zip whose headers declare a 2 GiB member that holds a few bytes."""
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("model.pkl", pickle.dumps([1]))
    raw = bytearray(dst.read_bytes())
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, local + 22, declared)
    struct.pack_into("<I", raw, central + 24, declared)
    dst.write_bytes(bytes(raw))
    return dst


def sparse_pickle(dst: Path, size: int = 2 << 30) -> Path:
    """A 2 GiB sparse file that starts like a pickle."""
    with open(dst, "wb") as handle:
        handle.write(b"\x80\x04\x95")
        handle.truncate(size)
    return dst


def nested_marks(dst: Path, count: int = 10**6) -> Path:
    """A pickle of a million nested MARKs."""
    dst.write_bytes(b"\x80\x04" + b"(" * count + b".")
    return dst


def scan_app() -> Any:
    """A typer app with just ``scan`` registered (as ``ssdf scan``), for CliRunner tests."""
    import typer

    from ssdf_ai.cli.scan import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    register(app)
    return app
