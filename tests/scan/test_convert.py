"""``ssdf convert``: real checkpoints converted exactly, payloads refused, nothing ever loaded."""

from __future__ import annotations

import datetime
import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import pytest
from model_fixtures import payload
from typer.testing import CliRunner

from ssdf_ai.errors import InputError, VerificationError
from ssdf_ai.scan import convert as convert_mod
from ssdf_ai.scan import rules
from ssdf_ai.scan._restricted import MalformedPickle, Refused, restricted_load
from ssdf_ai.scan.convert import ConvertReport, _gather, convert_file

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
st_torch = pytest.importorskip("safetensors.torch")
st_numpy = pytest.importorskip("safetensors.numpy")


def _app() -> Any:
    import typer

    from ssdf_ai.cli.convert import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    register(app)
    return app


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `ssdf convert` records evidence in the current project (.ssdf/ under the working
    # directory) unless told otherwise: keep that out of the repository.
    monkeypatch.chdir(tmp_path)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), ["convert", *args])
    return result.exit_code, result.stdout, result.stderr


def _state_dict() -> dict[str, Any]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Embedding(10, 4), torch.nn.Linear(4, 4), torch.nn.LayerNorm(4)
    )
    sd: dict[str, Any] = dict(model.state_dict())
    sd["half"] = torch.randn(3, 5).half()
    sd["bf16"] = torch.randn(2, 3).bfloat16()
    sd["f64"] = torch.randn(2, 2, dtype=torch.float64)
    sd["transposed"] = torch.randn(5, 3).t()  # non-contiguous view
    sd["sliced"] = torch.randn(6, 8)[1:5:2, 2:7:2]  # offset and strides
    sd["steps"] = torch.arange(6, dtype=torch.int64)
    sd["mask"] = torch.tensor([True, False, True])
    sd["small"] = torch.tensor([-3, 4], dtype=torch.int8)
    sd["bytes"] = torch.tensor([1, 255], dtype=torch.uint8)
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["f8"] = torch.randn(4).to(torch.float8_e4m3fn)
    sd["tied"] = sd["0.weight"]  # tied weights share one storage
    return sd


def _same(loaded: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(loaded) == set(expected)
    for name, tensor in expected.items():
        got = loaded[name]
        assert got.dtype == tensor.dtype, name
        assert got.shape == tensor.shape, name
        if tensor.dtype == torch.float8_e4m3fn:
            assert torch.equal(got.view(torch.uint8), tensor.contiguous().view(torch.uint8))
        else:
            assert torch.equal(got, tensor), name


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("wrapped", [False, True], ids=["state-dict", "checkpoint"])
def test_torch_checkpoint_converts_exactly(tmp_path: Path, legacy: bool, wrapped: bool) -> None:
    sd = _state_dict()
    source = tmp_path / "model.pt"
    obj: Any = {"model": sd, "epoch": 3, "note": "hello"} if wrapped else sd
    torch.save(obj, source, _use_new_zipfile_serialization=not legacy)

    report = convert_file(source)

    assert not report.findings
    assert report.source_format == ("torch-legacy" if legacy else "torch-zip")
    output = tmp_path / "model.safetensors"
    assert report.output == str(output)
    _same(st_torch.load_file(output), sd)
    if wrapped:
        assert {s.key for s in report.skipped} == {"epoch", "note"}
    assert any("tied" in note for note in report.notes)
    tied = next(t for t in report.tensors if t.name == "tied")
    assert tied.shared_with == ["0.weight"]
    from safetensors import safe_open

    with safe_open(str(output), framework="pt") as handle:
        meta = handle.metadata()
    assert meta["format"] == "pt"
    assert meta["converted_by"].startswith("ssdf-ai ")
    assert meta["source_sha256"] == report.source_sha256


def test_parameters_and_nested_dicts(tmp_path: Path) -> None:
    weight = torch.nn.Parameter(torch.randn(2, 2))
    source = tmp_path / "p.pt"
    torch.save({"state_dict": {"enc": {"w": weight, "b": torch.ones(2)}}, "opt": {0: 1}}, source)
    report = convert_file(source)
    loaded = st_torch.load_file(report.output)
    assert torch.equal(loaded["enc.w"], weight.detach())
    assert torch.equal(loaded["enc.b"], torch.ones(2))


def test_name_collision_fails(tmp_path: Path) -> None:
    source = tmp_path / "c.pt"
    torch.save({"a.b": torch.ones(1), "a": {"b": torch.zeros(1)}}, source)
    with pytest.raises(InputError, match="collide"):
        convert_file(source)
    assert not (tmp_path / "c.safetensors").exists()


def test_numpy_npy_and_npz(tmp_path: Path) -> None:
    arrays = {
        "f32": np.arange(12, dtype=np.float32).reshape(3, 4),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
        "big": np.arange(5, dtype=">i4"),
        "mask": np.array([True, False]),
        "half": np.array([1.5, -2.0], dtype=np.float16),
        "u16": np.array([1, 65535], dtype=np.uint16),
    }
    np.savez(tmp_path / "arrays.npz", **arrays)
    report = convert_file(tmp_path / "arrays.npz", tmp_path / "out.safetensors")
    assert report.source_format == "npz"
    loaded = st_numpy.load_file(tmp_path / "out.safetensors")
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert np.array_equal(loaded[name], array), name
        assert loaded[name].dtype == array.dtype.newbyteorder("<") or array.dtype == bool

    np.save(tmp_path / "single.npy", arrays["fortran"])
    report = convert_file(tmp_path / "single.npy")
    loaded = st_numpy.load_file(tmp_path / "single.safetensors")
    assert np.array_equal(loaded["single"], arrays["fortran"])


@pytest.mark.parametrize("protocol", [2, 4])
def test_pickled_numpy_dict(tmp_path: Path, protocol: int) -> None:
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], np.int16)}
    source = tmp_path / "weights.pkl"
    source.write_bytes(pickle.dumps({**arrays, "epoch": 7}, protocol=protocol))
    report = convert_file(source)
    assert not report.findings, report.findings
    loaded = st_numpy.load_file(report.output)
    for name, array in arrays.items():
        assert np.array_equal(loaded[name], array)
    assert [s.key for s in report.skipped] == ["epoch"]


# -- refusals -------------------------------------------------------------------------------


def _rezip(source: Path, target: Path, data_pkl: bytes) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = data_pkl if info.filename.endswith("/data.pkl") else zin.read(info)
            zout.writestr(info, data)


def test_torch_zip_with_payload_is_refused(tmp_path: Path) -> None:
    benign = tmp_path / "benign.pt"
    torch.save({"w": torch.ones(2)}, benign)
    canary = tmp_path / "CANARY"
    evil = tmp_path / "evil.pt"
    _rezip(benign, evil, payload(canary, protocol=2))

    code, out, err = _invoke(str(evil), "--format", "json")

    assert code == 1, (out, err)
    doc = json.loads(out)
    assert doc["report"] == "convert"
    assert doc["output"] is None
    (finding,) = doc["findings"]
    assert finding["rule_id"] == rules.DANGEROUS_GLOBAL
    assert "system" in finding["message"]
    assert "offset" in finding["location"]["address"]
    assert not (tmp_path / "evil.safetensors").exists()
    assert not canary.exists()


def test_unknown_global_is_refused_and_named(tmp_path: Path) -> None:
    source = tmp_path / "odd.pkl"
    source.write_bytes(pickle.dumps({"w": [1.0], "when": datetime.date(2020, 1, 1)}))
    report = convert_file(source)
    (finding,) = report.findings
    assert "datetime.date" in finding.message
    assert report.exit_code() == 1
    assert not (tmp_path / "odd.safetensors").exists()


def test_object_array_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    code, _, _ = _invoke(str(tmp_path / "obj.npy"))
    assert code == 1
    assert not (tmp_path / "obj.safetensors").exists()


def test_canary_never_fires_and_no_loader_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a real loader was called")

    sd_file = tmp_path / "ok.pt"
    torch.save({"w": torch.ones(3)}, sd_file)
    np.savez(tmp_path / "arr.npz", a=np.ones(2))
    canary = tmp_path / "CANARY"
    (tmp_path / "evil.pkl").write_bytes(payload(canary))
    (tmp_path / "evil2.pkl").write_bytes(payload(canary, protocol=0))
    for module, name in [
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
        (pickle, "_Unpickler"),
        (torch, "load"),
        (np, "load"),
    ]:
        monkeypatch.setattr(module, name, boom)
    assert convert_file(sd_file).output is not None
    assert convert_file(tmp_path / "arr.npz").output is not None
    for evil in ("evil.pkl", "evil2.pkl"):
        report = convert_file(tmp_path / evil)
        assert report.findings
        assert report.findings[0].rule_id == rules.DANGEROUS_GLOBAL
    assert not canary.exists()


@pytest.mark.parametrize(
    "payload_bytes",
    [
        # REDUCE of an allowlisted global with arguments it does not accept.
        b"\x80\x02ccollections\nOrderedDict\nq\x00X\x01\x00\x00\x00aq\x01\x85q\x02Rq\x03.",
        # INST, OBJ and NEWOBJ of anything.
        b"(ibuiltins\nobject\n.",
        b"\x80\x02cbuiltins\nobject\n)\x81.",
        # BUILD on a plain list.
        b"\x80\x02]}b.",
        # An extension code.
        b"\x80\x02\x82\x01.",
    ],
)
def test_restricted_loader_refuses_constructs(payload_bytes: bytes) -> None:
    with pytest.raises(Refused):
        restricted_load(payload_bytes)


def test_restricted_loader_builds_plain_values() -> None:
    value = {"a": [1, 2.5, "x", b"y", None, True], "b": (1, (2,)), "c": {1, 2}}
    for protocol in range(6):
        built, end = restricted_load(pickle.dumps(value, protocol=protocol))
        assert built == value
        assert end == len(pickle.dumps(value, protocol=protocol))


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_inputs_write_nothing(tmp_path: Path, keep: float) -> None:
    full = tmp_path / "full.pt"
    torch.save({"w": torch.randn(64, 64)}, full, _use_new_zipfile_serialization=False)
    cut = tmp_path / "legacy.pt"
    data = full.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    code, _, err = _invoke(str(cut))
    assert code in (1, 2), err
    assert "error" in err or code == 1
    assert not cut.with_suffix(".safetensors").exists()
    zipped = tmp_path / "zipped.pt"
    torch.save({"w": torch.randn(64, 64)}, zipped)
    data = zipped.read_bytes()
    zipped.write_bytes(data[: int(len(data) * keep)])
    code, _, err = _invoke(str(zipped))
    assert code in (1, 2), err
    assert not zipped.with_suffix(".safetensors").exists()


def test_existing_output_needs_force(tmp_path: Path) -> None:
    source = tmp_path / "m.pt"
    torch.save({"w": torch.ones(2)}, source)
    (tmp_path / "m.safetensors").write_bytes(b"old")
    code, _, err = _invoke(str(source))
    assert code == 2
    assert "--force" in err
    assert (tmp_path / "m.safetensors").read_bytes() == b"old"
    code, _, _ = _invoke(str(source), "--force", "--quiet")
    assert code == 0
    assert torch.equal(st_torch.load_file(tmp_path / "m.safetensors")["w"], torch.ones(2))


def test_missing_and_unsupported_inputs_exit_two(tmp_path: Path) -> None:
    code, _, _ = _invoke(str(tmp_path / "nope.pt"))
    assert code == 2
    (tmp_path / "notes.txt").write_text("just text\n")
    code, _, err = _invoke(str(tmp_path / "notes.txt"))
    assert code == 2
    assert "cannot convert" in err


def test_dest_option_and_terminal_report(tmp_path: Path) -> None:
    source = tmp_path / "m.bin"
    torch.save({"layer": {"w": torch.ones(2, 2)}}, source)
    dest = tmp_path / "elsewhere.safetensors"
    code, out, _ = _invoke(str(source), "--dest", str(dest), "--to", "safetensors")
    assert code == 0
    assert "layer.w" in out
    assert dest.is_file()


def test_failed_verification_removes_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "m.pt"
    torch.save({"w": torch.ones(2)}, source)
    real_write = convert_mod._write

    def tampered(*args: Any, **kwargs: Any) -> tuple[dict[str, str], str]:
        digests, whole = real_write(*args, **kwargs)
        return dict.fromkeys(digests, "0" * 64), whole

    monkeypatch.setattr(convert_mod, "_write", tampered)
    with pytest.raises(VerificationError):
        convert_file(source)
    assert not (tmp_path / "m.safetensors").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_malformed_pickle_is_an_input_error() -> None:
    with pytest.raises(MalformedPickle):
        restricted_load(b"\x80\x02]q\x00(K\x01")


@pytest.mark.parametrize(
    ("shape", "perm", "index"),
    [
        ((4, 5), (1, 0), (slice(None), slice(None))),
        ((3, 4, 5), (2, 0, 1), (slice(None), slice(1, 3), slice(None, None, 2))),
        ((6,), (0,), (slice(1, None, 3),)),
        ((2, 1, 3), (0, 1, 2), (slice(None), slice(None), slice(None))),
    ],
)
def test_gather_matches_torch(shape: tuple[int, ...], perm: tuple[int, ...], index: Any) -> None:
    base = torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape)
    view = base.permute(perm)[index]
    raw = base.numpy().tobytes()
    got = _gather(raw, 4, view.storage_offset(), tuple(view.shape), tuple(view.stride()))
    assert got == view.contiguous().numpy().tobytes()


def test_report_schema_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "m.pt"
    torch.save({"w": torch.ones(2)}, source)
    report = convert_file(source)
    again = ConvertReport.model_validate_json(report.model_dump_json())
    assert again.tensors == report.tensors
    assert io.BytesIO(Path(report.output or "").read_bytes()).read(8)


def test_conversion_and_refusal_are_recorded_as_evidence(tmp_path: Path) -> None:
    from ssdf_ai.store import EvidenceStore

    np = pytest.importorskip("numpy", reason="numpy writes the test's .npy files")
    np.save(tmp_path / "w.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert _invoke(str(tmp_path / "w.npy"), "--quiet")[0] == 0
    assert _invoke(str(tmp_path / "obj.npy"), "--quiet")[0] == 1
    with EvidenceStore.open(tmp_path, create=False) as store:
        runs = [r for r in store.runs() if r.command == "convert"]
        assert [r.exit_code for r in runs] == [1, 0]
        converted = store.get_run(runs[1].id)
        assert sorted(s.name for s in converted.subjects) == ["w.npy", "w.safetensors"]
        refused = store.get_run(runs[0].id)
        assert [f.finding.rule_id for f in refused.findings] == ["SSDF-SCAN-011"]
        assert len(store.artifacts(kind="convert-report")) == 2
