"""``scan_secrets`` on the working tree: text files and configs, notebooks (source and output
apart), model metadata read by content, and hostile input bounded in time and memory."""

from __future__ import annotations

import json
import os
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ssdf_ai.code import secret_rules as rules
from ssdf_ai.code._model_meta import MAX_SAFETENSORS_HEADER
from ssdf_ai.code.secrets import scan_secrets
from ssdf_ai.code.secrets_report import SecretsReport

# Built by code so that no whole token sits in the repository.
GH = "ghp_" + "Q7x2Lm9Pz4Rt8Vw1Yb6Nc3Kd5Hf0Js2Ga4Ue"
HF = "hf_" + "Xa8Kq2Lm7Np4Rt9Vw3Yb6Zc1Df5Gh0JkLm"
AWS = "AKIA" + "Q3ZL7MXR2TWV5YNB"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n"


def _scan(root: Path, **kwargs: object) -> SecretsReport:
    return scan_secrets(root, root=root, **kwargs)  # type: ignore[arg-type]


def _by_rule(report: SecretsReport) -> dict[str, list[tuple[str | None, int | None, str | None]]]:
    out: dict[str, list[tuple[str | None, int | None, str | None]]] = {}
    for f in report.findings:
        out.setdefault(f.rule_id, []).append((f.location.path, f.location.line, f.location.address))
    return out


def _no_secret_in(report: SecretsReport, *values: str) -> None:
    dumped = report.model_dump_json()
    for value in values:
        assert value not in dumped
        assert value[6:] not in dumped  # not even the tail of it


def _notebook(path: Path, cells: list[tuple[str, list[dict[str, object]]]]) -> None:
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "execution_count": 1,
                        "source": source.splitlines(keepends=True),
                        "outputs": outputs,
                    }
                    for source, outputs in cells
                ],
            },
            indent=1,
        )
    )


def test_text_files_and_configs(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/app.py").write_text(f'import os\n\nTOKEN = "{GH}"\n')
    (tmp_path / ".env").write_text(f"HF_TOKEN={HF}\n")
    (tmp_path / "deploy.yaml").write_text(f"aws:\n  key_id: {AWS}\n")
    (tmp_path / "Dockerfile").write_text(f"FROM python:3.12\nENV STRIPE={STRIPE}\n")
    (tmp_path / "id_rsa").write_text(PEM)
    (tmp_path / "notes.md").write_text(
        "A UUID 1b4e28ba-2fa1-11d2-883f-0016d3cca427 is no secret.\n"
    )
    report = _scan(tmp_path)
    found = _by_rule(report)
    assert sorted(found[rules.IN_TREE]) == [
        (".env", 1, None),
        ("Dockerfile", 2, None),
        ("deploy.yaml", 2, None),
        ("src/app.py", 3, None),
    ]
    assert found[rules.PRIVATE_KEY_FILE] == [("id_rsa", 1, None)]
    assert report.kinds == {
        "aws-access-key-id": 1,
        "github-token": 1,
        "huggingface-token": 1,
        "private-key": 1,
        "stripe-live-key": 1,
    }
    app = next(f for f in report.findings if f.location.path == "src/app.py")
    assert app.location.column == 10
    assert "PW.5.1" in app.task_ids  # hard-coded in source
    env = next(f for f in report.findings if f.location.path == ".env")
    assert "PW.5.1" not in env.task_ids  # a config file: stored, not hard-coded
    assert {"PO.5.1", "PO.5.1.R6", "PO.5.3"} <= set(env.task_ids)
    assert "Rotate" in (env.remediation or "")
    assert report.files_scanned == 6
    assert report.history_scanned is False
    _no_secret_in(report, GH, HF, AWS, STRIPE)


def test_medium_confidence_keyed_secret_is_medium_severity(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text(
        'client_secret = "' + "9fK2mQ7x" + 'L4pR8tV1wY6zB3nC5dH0jS2g"\n'
    )
    (finding,) = _scan(tmp_path).findings
    assert (finding.severity.value, finding.confidence.value) == ("medium", "medium")


def test_notebook_source_and_output_are_told_apart(tmp_path: Path) -> None:
    nb = tmp_path / "train.ipynb"
    _notebook(
        nb,
        [
            ("import os\nprint(1)\n", []),
            (
                f'token = "{GH}"\nprint(os.environ)\n',
                [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": ["environ({\n", f"  'HF_TOKEN': '{HF}'\n", "})\n"],
                    }
                ],
            ),
        ],
    )
    report = _scan(tmp_path)
    assert report.notebooks == 1
    lines = nb.read_text().splitlines()
    source = next(f for f in report.findings if f.rule_id == rules.IN_TREE)
    assert source.location.address == "cell 2"
    assert GH in lines[source.location.line - 1]  # type: ignore[operator]
    output = next(f for f in report.findings if f.rule_id == rules.IN_NOTEBOOK_OUTPUT)
    assert output.location.address == "cell 2, output line 2"
    assert output.location.line == source.location.line  # where the cell starts
    assert "clear" in (output.remediation or "")
    _no_secret_in(report, GH, HF)


def test_a_broken_notebook_is_still_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text('{"cells": [ oops ' + GH)
    report = _scan(tmp_path)
    assert [f.rule_id for f in report.findings] == [rules.IN_TREE]
    assert report.skipped[0].path == "bad.ipynb"


def test_safetensors_metadata(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(
        {"w": np.zeros(4, np.float32)},
        str(tmp_path / "model.safetensors"),
        metadata={"format": "pt", "hub_token": HF},
    )
    save_file({"w": np.zeros(4, np.float32)}, str(tmp_path / "clean.safetensors"))
    report = _scan(tmp_path)
    assert report.model_files == 2
    assert _by_rule(report) == {
        rules.IN_MODEL_METADATA: [("model.safetensors", None, "__metadata__ hub_token")]
    }


def test_gguf_string_values(tmp_path: Path) -> None:
    import gguf

    writer = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    writer.add_string("general.name", "tiny")
    writer.add_string("custom.hf_access", HF)
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", GH])  # arrays are not read
    writer.add_uint32("llama.context_length", 128)
    writer.add_tensor("w", np.zeros(4, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    report = _scan(tmp_path)
    assert _by_rule(report) == {
        rules.IN_MODEL_METADATA: [("m.gguf", None, "gguf custom.hf_access")]
    }


def test_onnx_metadata_props_and_doc_string(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, doc_string=f"exported with {GH}")
    helper.set_model_props(model, {"author": "me", "stripe": STRIPE})
    onnx.save(model, str(tmp_path / "m.onnx"))
    found = _by_rule(_scan(tmp_path))[rules.IN_MODEL_METADATA]
    assert sorted(found) == [
        ("m.onnx", None, "onnx doc_string"),
        ("m.onnx", None, "onnx metadata_props stripe"),
    ]


def test_keras_archive_config_members(tmp_path: Path) -> None:
    # A .keras file is a zip of config.json, metadata.json and model.weights.h5 (Keras 3).
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.5", "api_key": AWS}))
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + GH.encode())
    found = _by_rule(_scan(tmp_path))
    assert found == {rules.IN_MODEL_METADATA: [("m.keras", None, "keras metadata.json")]}


def test_model_config_json(tmp_path: Path) -> None:
    (tmp_path / "generation_config.json").write_text(json.dumps({"hf_token": HF}))
    found = _by_rule(_scan(tmp_path))
    assert found == {rules.IN_MODEL_METADATA: [("generation_config.json", 1, None)]}


# -- hostile input ---------------------------------------------------------------------------


def test_safetensors_header_length_2_60(tmp_path: Path) -> None:
    (tmp_path / "evil.safetensors").write_bytes(struct.pack("<Q", 1 << 60) + b"{}")
    report = _scan(tmp_path)
    (finding,) = report.findings
    assert finding.rule_id == rules.NOT_SCANNED
    assert "header length" in finding.message
    assert MAX_SAFETENSORS_HEADER > 0


def test_gguf_claiming_a_billion_keys(tmp_path: Path) -> None:
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 10**9) + b"\x00" * 64
    (tmp_path / "evil.gguf").write_bytes(data)
    start = time.perf_counter()
    report = _scan(tmp_path)
    assert time.perf_counter() - start < 2
    (finding,) = report.findings
    assert finding.rule_id == rules.NOT_SCANNED
    assert "1,000,000,000 key-values" in finding.message


def test_gguf_string_array_longer_than_the_file(tmp_path: Path) -> None:
    key = b"tokenizer.ggml.tokens"
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    data += struct.pack("<IIQ", 9, 8, 10**6)  # a million strings in 4 KiB + b"\x00" * 4096
    (tmp_path / "evil.gguf").write_bytes(data)
    start = time.perf_counter()
    (finding,) = _scan(tmp_path).findings
    assert time.perf_counter() - start < 2
    assert "claims 1,000,000 elements" in finding.message


def test_gguf_string_longer_than_the_file(tmp_path: Path) -> None:
    key = b"general.name"
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    data += struct.pack("<IQ", 8, 1 << 62)  # a string of 2^62 bytes
    (tmp_path / "evil.gguf").write_bytes(data)
    (finding,) = _scan(tmp_path).findings
    assert "past the end" in finding.message


def test_onnx_length_past_the_end(tmp_path: Path) -> None:
    (tmp_path / "evil.onnx").write_bytes(b"\x72\xff\xff\xff\xff\x0f" + b"x" * 10)  # field 14
    (finding,) = _scan(tmp_path).findings
    assert finding.rule_id == rules.NOT_SCANNED


def test_keras_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "m.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b" " * (17 * 1024 * 1024))
    (finding,) = _scan(tmp_path).findings
    assert finding.rule_id == rules.NOT_SCANNED
    assert "config.json" in finding.message


def test_ten_megabyte_single_line_json(tmp_path: Path) -> None:
    items = [{"id": i, "sha": f"{i:064x}", "text": "lorem ipsum dolor"} for i in range(90_000)]
    items[45_000]["token"] = GH
    blob = json.dumps(items, separators=(",", ":"))
    assert len(blob) > 10_000_000
    assert "\n" not in blob
    (tmp_path / "bundle.min.json").write_text(blob)
    start = time.perf_counter()
    report = _scan(tmp_path)
    assert time.perf_counter() - start < 20
    (finding,) = report.findings
    assert (finding.location.line, finding.location.column) == (1, blob.index(GH) + 1)


def test_huge_file_is_reported_not_read(tmp_path: Path) -> None:
    with (tmp_path / "dump.sql").open("wb") as f:
        f.truncate(17 * 1024 * 1024)  # sparse: no disk used
        f.seek(0)
        f.write(b"-- dump\n")
    report = _scan(tmp_path)
    (finding,) = report.findings
    assert finding.rule_id == rules.NOT_SCANNED
    assert finding.location.path == "dump.sql"


def test_notebook_with_huge_outputs(tmp_path: Path) -> None:
    big = ["x" * 1000 + "\n"] * 20_000
    _notebook(
        tmp_path / "big.ipynb",
        [("print(x)", [{"output_type": "stream", "name": "stdout", "text": [*big, HF]}])],
    )
    start = time.perf_counter()
    report = _scan(tmp_path)
    assert time.perf_counter() - start < 20
    (finding,) = report.findings
    assert finding.location.address == "cell 1, output line 20001"


def test_binary_files_are_skipped_and_listed(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + GH.encode())
    report = _scan(tmp_path)
    assert report.findings == []
    assert [(s.path, s.reason.split(" ")[0]) for s in report.skipped] == [("image.png", "binary")]


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.txt").write_text(f"token={GH}\n")
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(outside / "creds.txt", project / "link.txt")
    os.symlink(outside, project / "linked_dir")
    report = scan_secrets(project, root=project)
    assert report.findings == []
    assert report.files_scanned == 0


def test_skipped_folders(tmp_path: Path) -> None:
    for folder in (".venv", "node_modules", ".ssdf"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.py").write_text(f'T = "{GH}"\n')
    assert _scan(tmp_path).findings == []


def test_a_single_file_and_a_path_inside_the_project(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/a.py").write_text(f'T = "{GH}"\n')
    report = scan_secrets(tmp_path / "pkg", root=tmp_path)
    assert report.path == "pkg"
    assert [f.location.path for f in report.findings] == ["pkg/a.py"]
    single = scan_secrets(tmp_path / "pkg/a.py", root=tmp_path)
    assert [f.location.path for f in single.findings] == ["pkg/a.py"]


def test_missing_path(tmp_path: Path) -> None:
    from ssdf_ai.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        scan_secrets(tmp_path / "nope", root=tmp_path)


def test_an_owner_only_key_file_is_noted_a_readable_one_is_critical(tmp_path: Path) -> None:
    """A signing key kept as `ssdf keys generate` keeps it (mode 0600, not committed) is a note;
    the same key readable by everyone is a leak."""
    from typer.testing import CliRunner

    from ssdf_ai.cli import app

    result = CliRunner().invoke(
        app, ["keys", "generate", "Priya", "--unsafe-no-passphrase", "--project", str(tmp_path)]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    (key,) = (tmp_path / "keys").glob("*.key")
    assert key.stat().st_mode & 0o077 == 0
    (noted,) = _scan(tmp_path).findings
    assert (noted.rule_id, noted.severity) == (rules.PRIVATE_KEY_FILE, "info")
    assert "Only its owner can read" in noted.message
    key.chmod(0o644)
    (leaked,) = _scan(tmp_path).findings
    assert (leaked.rule_id, leaked.severity) == (rules.PRIVATE_KEY_FILE, "critical")
