"""The churn example: its configuration validates and every committed asset can be rebuilt."""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ssdf_ai.config import Area, ConfigSource, OrganizationKind, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn"
# Within a year of the roles' review dates, so that the check does not depend on today.
REVIEW_DAY = dt.date(2026, 11, 1)
_DTYPE_SIZES = {"F16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}


def _run(*args: str | Path) -> None:
    subprocess.run([sys.executable, *map(str, args)], check=True, capture_output=True)


def test_config_validates_without_warnings() -> None:
    loaded = load_config(EXAMPLE, today=REVIEW_DAY)
    assert loaded.source is ConfigSource.SSDF_TOML
    assert loaded.warnings == ()
    config = loaded.config
    assert config.project.kind is OrganizationKind.AI_MODEL_PRODUCER
    assert [r.name for r in config.roles] == ["ML engineering", "MLOps", "Data science"]
    assert {a for r in config.roles for a in r.covers} == set(Area)
    assert len(config.requirements) >= 2
    assert config.party_for("PW.4.4") == "self"
    assert "third_party" in config.paths.models


def test_config_validates_through_the_cli() -> None:
    ssdf = Path(sys.executable).with_name("ssdf")
    result = subprocess.run(
        [ssdf, "config", "validate", EXAMPLE, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project"] == "churn"


def test_configured_paths_exist() -> None:
    config = load_config(EXAMPLE, today=REVIEW_DAY).config
    for pattern in (*config.paths.models, *config.paths.datasets, *config.paths.code):
        assert list(EXAMPLE.glob(pattern)), pattern


def test_generate_data_is_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"
    _run(EXAMPLE / "generate_data.py", "--out", out)
    committed = EXAMPLE / "data" / "customers.csv"
    assert out.read_bytes() == committed.read_bytes()
    assert committed.stat().st_size < 400_000
    header, *rows = committed.read_text(encoding="utf-8").splitlines()
    assert header.split(",")[-1] == "churned"
    assert len(rows) == 4000
    churn_rate = sum(row.endswith(",1") for row in rows) / len(rows)
    assert 0.1 < churn_rate < 0.4


def test_third_party_model_is_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "model.safetensors"
    _run(EXAMPLE / "tools" / "make_third_party_model.py", "--out", out)
    committed = EXAMPLE / "third_party" / "model.safetensors"
    assert out.read_bytes() == committed.read_bytes()
    assert committed.stat().st_size < 100_000


def _parse_safetensors(data: bytes) -> tuple[dict[str, Any], bytes]:
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    return header, data[8 + length :]


def test_third_party_model_parses_as_safetensors() -> None:
    data = (EXAMPLE / "third_party" / "model.safetensors").read_bytes()
    header, buffer = _parse_safetensors(data)
    assert struct.unpack("<Q", data[:8])[0] % 8 == 0  # the header is padded to 8 bytes
    metadata = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in metadata.values())
    # Offsets tile the buffer exactly, in order, and each matches its dtype and shape.
    position = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        assert begin == position, name
        assert end - begin == _DTYPE_SIZES[info["dtype"]] * math.prod(info["shape"]), name
        position = end
    assert position == len(buffer)
    config = json.loads((EXAMPLE / "third_party" / "config.json").read_text())
    assert header["encoder.0.weight"]["shape"] == [config["hidden_size"], config["input_features"]]
    assert header["encoder.2.weight"]["shape"] == [config["output_size"], config["hidden_size"]]


def test_third_party_model_loads_with_safetensors() -> None:
    from safetensors import numpy as numpy_loader

    tensors = numpy_loader.load_file(str(EXAMPLE / "third_party" / "model.safetensors"))
    assert tensors["region_embedding.weight"].shape == (5, 4)
    assert str(tensors["norm.weight"].dtype) == "float16"
    assert int(tensors["norm.num_batches_tracked"]) == 12500


def test_model_card_and_data_card_record_the_digests() -> None:
    import hashlib

    model = EXAMPLE / "third_party" / "model.safetensors"
    data = EXAMPLE / "data" / "customers.csv"
    card = (EXAMPLE / "third_party" / "README.md").read_text(encoding="utf-8")
    data_card = (EXAMPLE / "data" / "DATA_CARD.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlicense: apache-2.0\n")
    assert hashlib.sha256(model.read_bytes()).hexdigest() in card
    assert hashlib.sha256(data.read_bytes()).hexdigest() in data_card
    assert "seed 20240726" in data_card or "--seed 20240726" in data_card


def test_security_policy_and_owners() -> None:
    security = (EXAMPLE / "SECURITY.md").read_text(encoding="utf-8")
    for needed in ("How to report", "model", "Known limitations"):
        assert needed in security
    owners = (EXAMPLE / "CODEOWNERS").read_text(encoding="utf-8")
    for path in ("/models/", "/data/", "/third_party/", "/train.py"):
        assert any(line.startswith(path) for line in owners.splitlines()), path


def test_train_config_is_complete() -> None:
    config = tomllib.loads((EXAMPLE / "config" / "train.toml").read_text(encoding="utf-8"))
    assert config["model"]["kind"] in {"gradient-boosting", "logistic-regression"}
    assert (EXAMPLE / config["data"]["path"]).is_file()
    assert config["output"]["model"].endswith(".skops")


@pytest.mark.slow
def test_training_runs(tmp_path: Path) -> None:
    train_toml = (EXAMPLE / "config" / "train.toml").read_text(encoding="utf-8")
    train_toml = train_toml.replace('"models/churn-model.skops"', f'"{tmp_path}/model.skops"')
    train_toml = train_toml.replace('"models/metrics.json"', f'"{tmp_path}/metrics.json"')
    train_toml = train_toml.replace("max_iter = 200", "max_iter = 30")
    config = tmp_path / "train.toml"
    config.write_text(train_toml, encoding="utf-8")
    _run(EXAMPLE / "train.py", "--config", config)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.7
    assert (tmp_path / "model.skops").is_file()
