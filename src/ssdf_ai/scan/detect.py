"""Format detection from content: what a file is, whatever its name says.

:func:`detect` looks at the first bytes of a file (at most :data:`HEAD_BYTES`) and returns a
:class:`Detected` format. The name is only a hint: it decides between weak signatures (a zlib
stream, an ONNX protobuf) and tells :func:`expected_formats` what the extension claims, so that
the engine can report a file whose content is not what its extension says (``SSDF-SCAN-005``).

Zip archives are refined by their member names with :func:`classify_zip` (PyTorch, TorchScript,
Keras, NumPy ``.npz``), and directories by :func:`detect_dir` (Hugging Face model folders,
TensorFlow SavedModel directories). Nothing here executes, imports or unpickles anything.
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from ssdf_ai.findings import Confidence

HEAD_BYTES = 64 * 1024

# Format names. Containers (zip, tar, 7z) and compressed streams are recursed into by the engine.
PICKLE = "pickle"
TORCH_LEGACY = "torch-legacy"
ZIP = "zip"
TORCH_ZIP = "torch-zip"
TORCHSCRIPT = "torchscript"
KERAS = "keras"
NPZ = "npz"
TAR = "tar"
TORCH_TAR = "torch-tar"
GZIP = "gzip"
BZ2 = "bz2"
XZ = "xz"
LZMA = "lzma"
LZ4 = "lz4"
ZLIB = "zlib"
NPY = "npy"
SAFETENSORS = "safetensors"
HDF5 = "hdf5"
GGUF = "gguf"
SEVEN_Z = "7z"
ONNX = "onnx"
TF_SAVEDMODEL = "tf-savedmodel"
HF_MODEL = "hf-model"
IMAGE = "image"
TEXT = "text"
EMPTY = "empty"
UNKNOWN = "unknown"

COMPRESSED = frozenset({GZIP, BZ2, XZ, LZMA, LZ4, ZLIB})
ZIP_FAMILY = frozenset({ZIP, TORCH_ZIP, TORCHSCRIPT, KERAS, NPZ})
TAR_FAMILY = frozenset({TAR, TORCH_TAR})
# Formats whose files are models (evidence subjects of kind "model").
MODEL_FORMATS = frozenset(
    {
        PICKLE,
        TORCH_LEGACY,
        TORCH_ZIP,
        TORCHSCRIPT,
        TORCH_TAR,
        KERAS,
        NPZ,
        NPY,
        SAFETENSORS,
        HDF5,
        GGUF,
        ONNX,
        TF_SAVEDMODEL,
    }
)

_PICKLE_FAMILY = frozenset({PICKLE, TORCH_LEGACY, TORCH_ZIP, TORCHSCRIPT, TORCH_TAR, ZIP, TAR})

# What an extension claims. An extension missing here claims nothing (``.bin`` is used for
# everything from PyTorch checkpoints to raw tensors, so it is not checked).
_EXPECTED: dict[str, frozenset[str]] = {
    ".safetensors": frozenset({SAFETENSORS}),
    ".pt": _PICKLE_FAMILY,
    ".pth": _PICKLE_FAMILY,
    ".ckpt": _PICKLE_FAMILY,
    ".pkl": frozenset({PICKLE, TORCH_LEGACY, *COMPRESSED}),
    ".pickle": frozenset({PICKLE, TORCH_LEGACY, *COMPRESSED}),
    ".joblib": frozenset({PICKLE, *COMPRESSED}),
    ".npy": frozenset({NPY}),
    ".npz": frozenset({NPZ, ZIP}),
    ".h5": frozenset({HDF5}),
    ".hdf5": frozenset({HDF5}),
    ".keras": frozenset({KERAS, ZIP, HDF5}),
    ".onnx": frozenset({ONNX}),
    ".gguf": frozenset({GGUF}),
    ".zip": ZIP_FAMILY,
    ".tar": TAR_FAMILY,
    ".gz": frozenset({GZIP}),
    ".tgz": frozenset({GZIP}),
    ".bz2": frozenset({BZ2}),
    ".xz": frozenset({XZ}),
    ".lzma": frozenset({LZMA, XZ}),
    ".lz4": frozenset({LZ4}),
    ".7z": frozenset({SEVEN_Z}),
    ".json": frozenset({TEXT}),
}
# Extensions under which a weak signature (zlib, LZMA "alone") is believed.
_COMPRESSED_PICKLE_EXTS = frozenset(
    {".joblib", ".pkl", ".pickle", ".z", ".zlib", ".lzma", ".gz", ".bz2", ".xz", ".lz4"}
)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SEVEN_Z_MAGIC = b"7z\xbc\xaf\x27\x1c"
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_NPY_MAGIC = b"\x93NUMPY"
# The first pickle of a legacy (non-zip) torch.save file is this magic number, as a LONG1.
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e"
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
# Opcodes a protocol 0/1 pickle can plausibly start with.
_PICKLE_STARTERS = frozenset(b"(c}])NIFLSVUTXJKMGiP")


@dataclasses.dataclass(frozen=True)
class Detected:
    """What a file's content is.

    Attributes:
        format: One of the format names of this module, such as ``pickle`` or ``torch-zip``.
        confidence: How sure detection is (a magic number is high; a heuristic lower).
        note: Extra detail, such as the pickle protocol or why a heuristic matched.
    """

    format: str
    confidence: Confidence = Confidence.HIGH
    note: str | None = None


def suffix(name: str) -> str:
    """The lower-case extension of ``name`` (``.pt``), or ``""``."""
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def expected_formats(name: str) -> frozenset[str] | None:
    """The formats the extension of ``name`` claims, or ``None`` when it claims nothing."""
    return _EXPECTED.get(suffix(name))


def is_mismatch(name: str, fmt: str) -> bool:
    """Whether content of format ``fmt`` contradicts the extension of ``name``.

    Args:
        name: The file or member name.
        fmt: The detected format.

    Returns:
        True when the extension claims a format and ``fmt`` is not one of them.
    """
    expected = expected_formats(name)
    if expected is None or fmt in (EMPTY, UNKNOWN):
        return False
    return fmt not in expected


def detect(head: bytes, *, size: int, name: str) -> Detected:
    """Detect a file's format from its first bytes.

    Args:
        head: The first bytes of the file (only the first :data:`HEAD_BYTES` are used).
        size: The file's full size in bytes.
        name: Its name; a hint for weak signatures only.

    Returns:
        The detected format; ``unknown`` for binary content no rule recognises.
    """
    head = head[:HEAD_BYTES]
    ext = suffix(name)
    if size == 0 or not head:
        return Detected(EMPTY)
    if head.startswith(_TORCH_LEGACY_MAGIC):
        return Detected(TORCH_LEGACY, note="legacy torch.save (non-zip) checkpoint")
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return Detected(PICKLE, note=f"pickle protocol {head[1]}")
    if head.startswith(_ZIP_MAGIC):
        return Detected(ZIP)
    if len(head) >= 262 and head[257:262] == b"ustar":
        return Detected(TAR)
    if head.startswith(b"\x1f\x8b"):
        return Detected(GZIP)
    if head.startswith(b"BZh") and len(head) >= 4 and head[3:4] in b"123456789":
        return Detected(BZ2)
    if head.startswith(_XZ_MAGIC):
        return Detected(XZ)
    if head.startswith(_LZ4_MAGIC):
        return Detected(LZ4)
    if head.startswith(_NPY_MAGIC):
        return Detected(NPY)
    if _is_hdf5(head):
        return Detected(HDF5)
    if head.startswith(b"GGUF"):
        return Detected(GGUF)
    if head.startswith(_SEVEN_Z_MAGIC):
        return Detected(SEVEN_Z)
    if _is_safetensors(head, size):
        return Detected(SAFETENSORS)
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return Detected(IMAGE)
    weak = _weak_compressed(head, ext)
    if weak is not None:
        return weak
    if name.rsplit("/", 1)[-1] == "saved_model.pb":
        return Detected(TF_SAVEDMODEL, Confidence.MEDIUM, "TensorFlow SavedModel protobuf")
    if ext == ".onnx" and _looks_like_onnx(head):
        return Detected(ONNX, Confidence.MEDIUM, "protobuf with an ir_version field")
    old_pickle = _old_pickle(head, size)
    if old_pickle is not None:
        return old_pickle
    if _is_text(head):
        return Detected(TEXT)
    return Detected(UNKNOWN, Confidence.LOW, "binary content of no recognised format")


def _is_hdf5(head: bytes) -> bool:
    # The superblock may follow a user block of 512, 1024, 2048, ... bytes (HDF5 spec 2.1).
    offset = 0
    while offset + 8 <= len(head):
        if head[offset : offset + 8] == _HDF5_MAGIC:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


def _is_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def _weak_compressed(head: bytes, ext: str) -> Detected | None:
    """zlib and LZMA-alone streams have weak magic: believe them only when they inflate."""
    if ext not in _COMPRESSED_PICKLE_EXTS:
        return None
    if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] * 256 + head[1]) % 31 == 0:
        try:
            zlib.decompressobj().decompress(head[:4096], 64)
        except zlib.error:
            return None
        return Detected(ZLIB, Confidence.MEDIUM, "zlib stream (joblib compress=zlib)")
    if len(head) >= 13 and head[0] == 0x5D and head[1:3] == b"\x00\x00":
        import lzma

        try:
            lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(head[:4096], 64)
        except lzma.LZMAError:
            return None
        return Detected(LZMA, Confidence.MEDIUM, "LZMA-alone stream (joblib compress=lzma)")
    return None


def _looks_like_onnx(head: bytes) -> bool:
    # ModelProto field 1 (ir_version) is a small varint, then another known field follows.
    return (
        len(head) >= 3
        and head[0] == 0x08
        and 1 <= head[1] <= 30
        and head[2] in b"\x12\x1a\x22\x28\x32\x3a\x42"
    )


def _old_pickle(head: bytes, size: int) -> Detected | None:
    """Protocol 0/1 pickles have no magic: parse opcodes (never executing them)."""
    if head[0] not in _PICKLE_STARTERS:
        return None
    from pickletools import genops  # builds its opcode tables on import: only when needed

    stream = io.BytesIO(head)
    count = 0
    try:
        for opcode, _arg, _pos in genops(stream):
            count += 1
            if opcode.name == "STOP":
                return Detected(PICKLE, Confidence.MEDIUM, "pickle protocol 0/1")
    except Exception:  # noqa: BLE001 - genops raises ValueError and others on non-pickles
        # A pickle longer than the head breaks off at its end; anything else is not a pickle.
        if size > len(head) and stream.tell() >= len(head) - 256 and count >= 4:
            return Detected(PICKLE, Confidence.LOW, "pickle protocol 0/1 (longer than the head)")
        return None
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off at the end of the head is still text.
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    control = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f\v\x1b")
    return control <= len(text) // 100


def classify_zip(names: Sequence[str]) -> Detected:
    """Refine a zip archive by its member names.

    Args:
        names: The member names, as the central directory lists them.

    Returns:
        ``torch-zip``, ``torchscript``, ``keras``, ``npz`` or plain ``zip``.
    """
    from ssdf_ai.scan.torch_layout import torch_layout

    layout = torch_layout(list(names))
    if layout is not None:
        return Detected(layout.kind, note=f"archive root {layout.root!r}")
    roots = {n for n in names if "/" not in n.strip("/")}
    if "config.json" in roots and ({"model.weights.h5", "metadata.json"} & roots):
        return Detected(KERAS, note="Keras v3 archive")
    files = [n for n in names if not n.endswith("/")]
    if files and all(n.lower().endswith(".npy") for n in files):
        return Detected(NPZ)
    return Detected(ZIP)


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf")


def detect_dir(path: Path) -> Detected | None:
    """Recognise a model directory: a TensorFlow SavedModel or a Hugging Face model folder.

    Args:
        path: A directory (not followed if it is a symlink).

    Returns:
        The directory's format, or ``None`` for an ordinary directory.
    """
    try:
        names = {p.name for p in path.iterdir()}
    except OSError:
        return None
    if "saved_model.pb" in names:
        return Detected(TF_SAVEDMODEL, note="TensorFlow SavedModel directory")
    if "config.json" in names and (
        any(n.endswith(_WEIGHT_SUFFIXES) for n in names) or _has_auto_map(path / "config.json")
    ):
        return Detected(HF_MODEL, note="Hugging Face model folder")
    return None


def _has_auto_map(config: Path) -> bool:
    data = read_json(config)
    return isinstance(data, dict) and "auto_map" in data


def read_json(path: Path, max_bytes: int = 16 << 20) -> object:
    """Parse a small JSON file (never a symlink); ``None`` when it is not one."""
    try:
        if path.is_symlink() or path.stat().st_size > max_bytes:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
