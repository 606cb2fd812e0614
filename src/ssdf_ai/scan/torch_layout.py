"""Recognise PyTorch archives from their member names, and say which members hold pickles.

PyTorch's zip checkpoints (``torch.save`` since 1.6) and TorchScript archives
(``torch.jit.save``) keep every record in one top-level folder, named after the first entry
in the central directory (``PyTorchStreamReader::init`` in
``caffe2/serialize/inline_container.cc``)::

    <root>/data.pkl                 the pickled object (tensors by reference)
    <root>/byteorder, version, .format_version, .storage_alignment
    <root>/data/<key>               raw tensor storages
    <root>/.data/serialization_id, .data/version
    TorchScript only:
    <root>/code/**/*.py             TorchScript source, compiled when loaded
    <root>/code/**/*.py.debug_pkl   pickled debug information
    <root>/constants.pkl            pickled constants; their storages in <root>/constants/<key>
    <root>/extra/*                  user files
    <root>/traced_inputs.pkl        (traced modules) pickled example inputs

The legacy non-zip format (``_use_new_zipfile_serialization=False``) is not an archive: it is
a sequence of pickles followed by raw storages, which the pickle scanner reads directly. The
oldest format is a tar archive, recognised by :func:`legacy_torch_tar`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

__all__ = ["TorchLayout", "legacy_torch_tar", "torch_layout"]

# Members of torch's legacy tar format (torch/serialization.py ``legacy_load``); every one
# of them starts with a pickle: ``sys_info`` and ``pickle`` are pickles, ``storages`` and
# ``tensors`` start with pickled counts and headers followed by raw data.
LEGACY_TAR_MEMBERS = ("sys_info", "pickle", "storages", "tensors")
_LEGACY_REQUIRED = frozenset({"pickle", "storages", "tensors"})

_PICKLE_SUFFIXES = (".pkl", ".debug_pkl")
_TENSOR_FOLDERS = ("data/", "constants/")


@dataclasses.dataclass(frozen=True)
class TorchLayout:
    """What the members of a PyTorch zip archive are.

    Attributes:
        kind: ``torch-zip`` (``torch.save``) or ``torchscript`` (``torch.jit.save``).
        root: The top-level folder PyTorch reads records from.
        pickles: Members that hold pickles: ``data.pkl``, ``constants.pkl``, every other
            ``*.pkl`` and the ``*.debug_pkl`` files beside TorchScript code, wherever they
            are in the archive.
        code: TorchScript source files (``code/**/*.py``), compiled when the archive loads.
        tensors: Raw tensor storages (``data/<key>``, ``constants/<key>``) that are read as
            bytes, never unpickled; the engine does not need to read them.
    """

    kind: Literal["torch-zip", "torchscript"]
    root: str
    pickles: tuple[str, ...]
    code: tuple[str, ...]
    tensors: tuple[str, ...]


def torch_layout(names: Sequence[str]) -> TorchLayout | None:
    """Recognise a PyTorch zip checkpoint or TorchScript archive by its member names.

    Args:
        names: Member names in central-directory order (as :func:`zip_members` returns
            them); the first one names the root folder, as in PyTorch's reader.

    Returns:
        The layout, or ``None`` when the names are not a PyTorch archive (no root folder, or
        no ``<root>/data.pkl``).
    """
    if not names or "/" not in names[0]:
        return None
    root = names[0].split("/", 1)[0]
    prefix = root + "/"
    if prefix + "data.pkl" not in names:
        return None
    pickles: list[str] = []
    code: list[str] = []
    tensors: list[str] = []
    torchscript = False
    for name in names:
        inner = name[len(prefix) :] if name.startswith(prefix) else None
        if name.endswith(_PICKLE_SUFFIXES):
            pickles.append(name)
        elif inner is not None and inner.startswith(_TENSOR_FOLDERS) and not name.endswith("/"):
            tensors.append(name)
        elif inner is not None and inner.startswith("code/") and name.endswith(".py"):
            code.append(name)
        if inner is not None and (inner.startswith("code/") or inner == "constants.pkl"):
            torchscript = True
    return TorchLayout(
        kind="torchscript" if torchscript else "torch-zip",
        root=root,
        pickles=tuple(pickles),
        code=tuple(code),
        tensors=tuple(tensors),
    )


def legacy_torch_tar(names: Sequence[str]) -> bool:
    """Whether tar member names are PyTorch's legacy tar checkpoint format.

    That format (PyTorch before 0.4) holds the members ``sys_info``, ``pickle``,
    ``storages`` and ``tensors``; every one of them begins with a pickle, so the engine
    should analyse each of them as a pickle stream.

    Args:
        names: The tar member names.

    Returns:
        True when ``pickle``, ``storages`` and ``tensors`` are all present.
    """
    present = {name.removeprefix("./") for name in names}
    return present >= _LEGACY_REQUIRED
