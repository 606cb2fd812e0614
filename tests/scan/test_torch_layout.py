"""PyTorch archive layouts, checked against files written by torch itself."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from container_fixtures import budget, tar_bytes, tar_info

from ssdf_ai.scan import rules
from ssdf_ai.scan.containers import tar_members, zip_members
from ssdf_ai.scan.torch_layout import TorchLayout, legacy_torch_tar, torch_layout

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class Small(torch.nn.Module):  # type: ignore[misc]
    """A module with a parameter, a buffer and a constant, as TorchScript stores them."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 3)
        self.register_buffer("scale", torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * self.scale + torch.tensor([1.0, 2.0, 3.0])


def names_of(path: Path) -> list[str]:
    raw = path.read_bytes()
    members, findings = zip_members(io.BytesIO(raw), len(raw), path=path.name, budget=budget())
    assert findings == []
    return [m.name for m in members]


def test_torch_save_zip_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save(Small().state_dict(), path)
    layout = torch_layout(names_of(path))
    assert layout is not None
    assert layout.kind == "torch-zip"
    assert layout.pickles == (f"{layout.root}/data.pkl",)
    assert layout.code == ()
    assert layout.tensors == tuple(f"{layout.root}/data/{i}" for i in range(3))


def test_torchscript_scripted_module(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.script(Small()).save(str(path))
    layout = torch_layout(names_of(path))
    assert layout is not None
    assert layout.kind == "torchscript"
    root = layout.root
    assert f"{root}/data.pkl" in layout.pickles
    assert f"{root}/constants.pkl" in layout.pickles
    assert any(p.endswith(".py.debug_pkl") for p in layout.pickles)
    assert layout.code
    assert all(c.startswith(f"{root}/code/") for c in layout.code)
    assert all(c.endswith(".py") for c in layout.code)
    assert all(t.startswith((f"{root}/data/", f"{root}/constants/")) for t in layout.tensors)


def test_torchscript_traced_module(tmp_path: Path) -> None:
    path = tmp_path / "traced.pt"
    with pytest.warns(torch.jit.TracerWarning):
        traced = torch.jit.trace(Small(), torch.zeros(1, 2))
    traced.save(str(path))
    layout = torch_layout(names_of(path))
    assert layout is not None
    assert layout.kind == "torchscript"
    assert f"{layout.root}/traced_inputs.pkl" in layout.pickles
    assert f"{layout.root}/constants/0" in layout.tensors


def test_legacy_non_zip_torch_save_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pt"
    torch.save(Small().state_dict(), path, _use_new_zipfile_serialization=False)
    raw = path.read_bytes()
    assert raw.startswith(b"\x80")  # a pickle stream, for the pickle scanner
    members, findings = zip_members(io.BytesIO(raw), len(raw), path="legacy.pt", budget=budget())
    assert members == []
    assert [f.rule_id for f in findings] == [rules.UNPARSEABLE]


@pytest.mark.parametrize(
    "names",
    [
        [],
        ["data.pkl"],  # no root folder
        ["root/version", "root/data/0"],  # no data.pkl
        ["other/x", "root/data.pkl"],  # the root comes from the first entry, as in torch
        ["model.safetensors", "config.json"],
    ],
)
def test_not_a_torch_archive(names: list[str]) -> None:
    assert torch_layout(names) is None


def test_every_pickle_counts_even_outside_the_root() -> None:
    layout = torch_layout(
        ["a/data.pkl", "a/data/0", "a/data/hidden.pkl", "b/evil.pkl", "a/extra/x.txt"]
    )
    assert layout == TorchLayout(
        kind="torch-zip",
        root="a",
        pickles=("a/data.pkl", "a/data/hidden.pkl", "b/evil.pkl"),
        code=(),
        tensors=("a/data/0",),
    )


def test_legacy_torch_tar_member_names() -> None:
    data = tar_bytes(
        [(tar_info(name), b"\x80\x02N.") for name in ("sys_info", "pickle", "storages", "tensors")],
        fmt=tarfile.PAX_FORMAT,
    )
    members, findings = tar_members(io.BytesIO(data), len(data), path="old.pt", budget=budget())
    assert findings == []
    assert legacy_torch_tar([m.name for m in members])
    assert legacy_torch_tar(["./pickle", "./storages", "./tensors"])
    assert not legacy_torch_tar(["pickle", "storages"])
    assert not legacy_torch_tar(["model/weights.bin"])
