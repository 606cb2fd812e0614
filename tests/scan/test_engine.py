"""The engine: walking, dispatch, fail-closed reporting and the per-file unit of work."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest

from ssdf_ai.errors import InputError
from ssdf_ai.findings import Severity
from ssdf_ai.scan import ScanLimits, rules
from ssdf_ai.scan import engine as eng
from ssdf_ai.scan._joblib import inline_regions


def _ids(result: eng.ScanResult) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        eng.scan_paths([tmp_path / "missing.pt"])


def test_walk_is_sorted_and_skips_git_and_ssdf(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", ".git/objects/x", ".ssdf/evidence.db", "sub/c.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("text\n")
    result = eng.scan_paths([tmp_path], root=tmp_path)
    assert [s.path for s in result.scanned] == ["a.txt", "b.txt", "sub/c.md"]
    assert {s.format for s in result.scanned} == {"text"}
    assert result.findings == []


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "model.txt").write_text("weights\n")
    outside = tmp_path / "secret.pkl"
    outside.write_bytes(pickle.dumps([1]))
    os.symlink(outside, tree / "escape.pkl")
    os.symlink(tree / "model.txt", tree / "alias.txt")
    result = eng.scan_paths([tree], root=tmp_path)
    assert [s.path for s in result.scanned] == ["tree/model.txt"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert "outside the scanned tree" in reasons["tree/escape.pkl"]
    assert "inside the scanned tree" in reasons["tree/alias.txt"]
    assert [(f.rule_id, f.location.path) for f in result.findings] == [
        (rules.NOT_SCANNED, "tree/escape.pkl")
    ]


def test_unknown_binary_unsupported_and_broken_formats_fail_closed(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    (tmp_path / "model.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + b"\0" * 60)
    (tmp_path / "model.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 60)
    result = eng.scan_paths([tmp_path], root=tmp_path)
    by_file = {f.location.path: f.rule_id for f in result.findings}
    assert by_file == {
        "blob.bin": rules.NOT_SCANNED,
        "model.7z": rules.UNPARSEABLE,  # a 7z signature header whose CRC does not match
        "model.gguf": rules.UNPARSEABLE,
        "model.h5": rules.UNPARSEABLE,
    }
    assert {s.format for s in result.scanned} == {"unknown", "7z", "gguf", "hdf5"}


def test_a_parser_bug_is_unparseable_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssdf_ai.scan.safetensors_check as checker

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise KeyError("bug")

    monkeypatch.setattr(checker, "check_safetensors", broken)
    header = b'{"__metadata__":{}}'
    (tmp_path / "m.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    (tmp_path / "ok.txt").write_text("fine\n")
    result = eng.scan_paths([tmp_path], root=tmp_path)
    assert len(result.scanned) == 2
    [finding] = result.findings
    assert finding.rule_id == rules.UNPARSEABLE
    assert "KeyError" in finding.message


def test_scan_file_is_a_picklable_unit_of_work(tmp_path: Path) -> None:
    path = tmp_path / "w.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    result = eng.scan_file(path, "w.pkl", ScanLimits())
    again = pickle.loads(pickle.dumps(result))  # noqa: S301 - our own FileResult
    assert again.scanned == result.scanned
    assert again.findings == result.findings


def test_hf_custom_code_is_reported_medium(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    config = {
        "auto_map": {
            "AutoModel": "modeling_evil.EvilModel",
            "AutoConfig": "other/repo--configuration_x.XConfig",
        }
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_evil.py").write_text("import os\n")
    result = eng.scan_paths([folder], root=tmp_path)
    custom = [f for f in result.findings if f.rule_id == rules.CUSTOM_CODE]
    assert {f.severity for f in custom} == {Severity.MEDIUM}
    assert any(f.location.path == "model/modeling_evil.py" for f in custom)
    assert any("other/repo--configuration_x" in f.message for f in custom)


def _torchscript_zip(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m/data.pkl", pickle.dumps({}, protocol=2))
        archive.writestr("m/constants.pkl", pickle.dumps((), protocol=2))
        archive.writestr("m/code/__torch__/m.py", code)
    return buffer.getvalue()


def test_torchscript_code_calling_os_system_is_critical(tmp_path: Path) -> None:
    clean = "def forward(self, x: Tensor) -> Tensor:\n  return torch.ops.aten.relu(x)\n"
    evil = clean + "  _ = ops.prim.x(os.system('touch CANARY'))\n"
    (tmp_path / "clean.pt").write_bytes(_torchscript_zip(clean))
    (tmp_path / "evil.pt").write_bytes(_torchscript_zip(evil))
    result = eng.scan_paths([tmp_path], root=tmp_path)
    critical = [f for f in result.findings if f.severity is Severity.CRITICAL]
    assert [f.location.path for f in critical] == ["evil.pt"]
    assert "line 3" in (critical[0].location.address or "")
    assert "os.system" in critical[0].message


def test_joblib_inline_regions_are_found() -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    buffer = io.BytesIO()
    joblib.dump(
        {
            "f": np.arange(5, dtype="f4"),
            "u": np.array(["ab", "c"]),
            "o": np.array([1, "a"], dtype=object),
        },
        buffer,
    )
    data = buffer.getvalue()
    regions, problem = inline_regions(data, max_ops=100_000)
    assert problem is None
    assert [r.kind for r in regions] == ["array", "array", "pickle"]
    assert data[regions[-1].end :] == b"u."  # SETITEMS and STOP follow the last array


def test_display_path_is_relative_to_root(tmp_path: Path) -> None:
    assert eng.display_path(tmp_path / "a" / "b.pt", tmp_path) == "a/b.pt"
    assert eng.display_path(Path("/elsewhere/b.pt"), tmp_path) == "/elsewhere/b.pt"


def test_torchscript_policy_still_flags_payloads(tmp_path: Path) -> None:
    from model_fixtures import payload

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m/data.pkl", payload(tmp_path / "CANARY", protocol=2))
        archive.writestr("m/constants.pkl", pickle.dumps((), protocol=2))
        archive.writestr("m/code/__torch__/m.py", "def forward(self):\n  pass\n")
    (tmp_path / "ts.pt").write_bytes(buffer.getvalue())
    result = eng.scan_paths([tmp_path / "ts.pt"], root=tmp_path)
    assert result.scanned[0].format == "torchscript"
    assert any(f.severity is Severity.CRITICAL for f in result.findings)


def test_docs_rules_table_matches_the_registry() -> None:
    from pathlib import Path as _Path

    doc = (_Path(__file__).resolve().parents[2] / "docs" / "scan.md").read_text()
    rows = {
        line.split("|")[1].strip(): line for line in doc.splitlines() if line.startswith("| SSDF-")
    }
    assert set(rows) == set(rules.RULES)
    for rule in rules.RULES.values():
        cells = [c.strip() for c in rows[rule.id].split("|")[1:-1]]
        assert cells[1:4] == [rule.name, rule.severity.value, ", ".join(rule.cwe) or "-"]
        assert cells[4] == rule.description
