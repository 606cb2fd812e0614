"""Keras config checks: real Keras 3 files (torch backend) and hand-made configs."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ssdf_ai.errors import MissingExtraError
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import keras_check, rules
from ssdf_ai.scan._types import ScanLimits
from ssdf_ai.scan.keras_check import (
    MAX_CONFIG_DEPTH,
    check_keras_config,
    check_keras_h5,
)

LIMITS = ScanLimits()


@pytest.fixture(scope="module")
def keras() -> Iterator[ModuleType]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_BACKEND", "torch")
        pytest.importorskip("torch")
        module = pytest.importorskip("keras")
        if module.backend.backend() != "torch":  # pragma: no cover - imported elsewhere first
            pytest.skip("keras was already imported with another backend")
        yield module


def rule_ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def check(config: Any, member: str | None = "config.json") -> list[Finding]:
    raw = config if isinstance(config, bytes) else json.dumps(config).encode()
    return check_keras_config(raw, path="m.keras", member=member)


def keras_config(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("config.json")


def dense_model(keras: ModuleType, *extra: Any) -> Any:
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), *extra])


# --------------------------------------------------------------------------------------------
# real .keras files


def test_dense_keras_file_is_clean(keras: ModuleType, tmp_path: Path) -> None:
    file = tmp_path / "m.keras"
    dense_model(keras, keras.layers.Dense(1)).save(file)
    assert check(keras_config(file)) == []


def test_functional_nested_model_is_clean(keras: ModuleType, tmp_path: Path) -> None:
    inner = dense_model(keras)
    inputs = keras.Input((3,))
    x = inner(inputs)
    outputs = keras.layers.Dense(2)(keras.layers.Dropout(0.1)(x))
    file = tmp_path / "f.keras"
    keras.Model(inputs, outputs).save(file)
    assert check(keras_config(file)) == []


def test_lambda_layer_is_critical(keras: ModuleType, tmp_path: Path) -> None:
    file = tmp_path / "l.keras"
    dense_model(keras, keras.layers.Lambda(lambda x: x * 2, name="doubler")).save(file)
    findings = check(keras_config(file))
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert findings[0].severity is Severity.CRITICAL
    assert "doubler" in (findings[0].location.address or "")
    assert "member config.json" in (findings[0].location.address or "")


def test_lambda_in_nested_model_is_found(keras: ModuleType, tmp_path: Path) -> None:
    inner = keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(lambda x: x + 1, name="inner_lambda")],
        name="inner",
    )
    inputs = keras.Input((3,))
    file = tmp_path / "n.keras"
    keras.Model(inputs, keras.layers.Dense(1)(inner(inputs))).save(file)
    findings = check(keras_config(file))
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert "inner/inner_lambda" in (findings[0].location.address or "")


def test_custom_registered_layer_is_medium(keras: ModuleType, tmp_path: Path) -> None:
    @keras.saving.register_keras_serializable(package="ssdf_test")
    class Scale(keras.layers.Layer):  # type: ignore[misc,name-defined]
        def call(self, x: Any) -> Any:
            return x * 3

    file = tmp_path / "c.keras"
    dense_model(keras, Scale(name="scale")).save(file)
    findings = check(keras_config(file))
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT]
    assert findings[0].severity is Severity.MEDIUM
    assert "ssdf_test>Scale" in findings[0].message
    assert "scale" in (findings[0].location.address or "")


def test_named_functions_are_keras_builtins_form(keras: ModuleType, tmp_path: Path) -> None:
    # Keras 3 writes every named function as {"module": "builtins", "class_name": "function"}
    # (its own relu too); the loader resolves the name without importing anything.
    file = tmp_path / "fn.keras"
    model = dense_model(keras, keras.layers.Lambda(_triple, name="tripler"))
    model.save(file)
    assert check(keras_config(file)) == []


def _triple(x: Any) -> Any:
    return x * 3


# --------------------------------------------------------------------------------------------
# legacy .h5


def test_h5_dense_is_clean(keras: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    file = tmp_path / "m.h5"
    dense_model(keras).save(file)
    assert check_keras_h5(file, path="m.h5", limits=LIMITS) == []


def test_h5_lambda_is_critical(keras: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    file = tmp_path / "l.h5"
    dense_model(keras, keras.layers.Lambda(lambda x: x * 2, name="doubler")).save(file)
    findings = check_keras_h5(file, path="l.h5", limits=LIMITS)
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert "attribute model_config" in (findings[0].location.address or "")


def test_h5_custom_layer_is_medium(keras: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("h5py")

    @keras.saving.register_keras_serializable(package="ssdf_test_h5")
    class Shift(keras.layers.Layer):  # type: ignore[misc,name-defined]
        def call(self, x: Any) -> Any:
            return x + 1

    file = tmp_path / "c.h5"
    dense_model(keras, Shift()).save(file)
    findings = check_keras_h5(file, path="c.h5", limits=LIMITS)
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT]
    assert "ssdf_test_h5>Shift" in findings[0].message


def _h5_with(tmp_path: Path, **attrs: Any) -> Path:
    h5py = pytest.importorskip("h5py")
    file = tmp_path / "hand.h5"
    with h5py.File(file, "w") as h5:
        for name, value in attrs.items():
            h5.attrs[name] = value
    return file


KERAS2_LAMBDA = {
    "class_name": "Sequential",
    "config": {
        "name": "seq",
        "layers": [
            {"class_name": "Dense", "config": {"name": "d", "units": 2}},
            {
                "class_name": "Lambda",
                "config": {
                    "name": "evil",
                    "function": [
                        base64.b64encode(b"\xe3\x00\x00os\x00system\x00").decode(),
                        None,
                        None,
                    ],
                    "function_type": "lambda",
                    "output_shape": None,
                    "output_shape_type": "raw",
                },
            },
        ],
    },
}


def test_h5_keras2_lambda_in_bytes_attribute(tmp_path: Path) -> None:
    file = _h5_with(tmp_path, model_config=json.dumps(KERAS2_LAMBDA).encode())
    findings = check_keras_h5(file, path="hand.h5", limits=LIMITS)
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert "evil" in (findings[0].location.address or "")
    assert "os" in findings[0].message
    assert "system" in findings[0].message


def test_h5_training_config_is_checked(tmp_path: Path) -> None:
    training = {"loss": {"module": "my_losses", "class_name": "Focal", "config": {}}}
    file = _h5_with(
        tmp_path,
        model_config=json.dumps({"class_name": "Sequential", "config": {"layers": []}}),
        training_config=json.dumps(training),
    )
    findings = check_keras_h5(file, path="hand.h5", limits=LIMITS)
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT]
    assert "attribute training_config" in (findings[0].location.address or "")


def test_h5_malformed_attribute_and_file(tmp_path: Path) -> None:
    file = _h5_with(tmp_path, model_config="{not json")
    assert rule_ids(check_keras_h5(file, path="hand.h5", limits=LIMITS)) == [rules.UNPARSEABLE]
    number = _h5_with(tmp_path, model_config=3)
    assert rule_ids(check_keras_h5(number, path="hand.h5", limits=LIMITS)) == [rules.UNPARSEABLE]
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    assert rule_ids(check_keras_h5(junk, path="junk.h5", limits=LIMITS)) == [rules.UNPARSEABLE]


def test_h5_attribute_over_limit(tmp_path: Path) -> None:
    file = _h5_with(tmp_path, model_config=json.dumps(KERAS2_LAMBDA).encode())
    small = ScanLimits(max_header_bytes=16)
    findings = check_keras_h5(file, path="hand.h5", limits=small)
    assert rule_ids(findings) == [rules.UNPARSEABLE]


def test_h5_without_config_is_clean(tmp_path: Path) -> None:
    file = _h5_with(tmp_path, other="x")
    assert check_keras_h5(file, path="hand.h5", limits=LIMITS) == []


def test_missing_h5py_raises_missing_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(MissingExtraError) as info:
        check_keras_h5(tmp_path / "x.h5", path="x.h5", limits=LIMITS)
    assert info.value.extra == "scan-h5"


# --------------------------------------------------------------------------------------------
# hand-made configs


def test_keras3_lambda_dict_anywhere() -> None:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "Dense",
                    "config": {
                        "name": "d",
                        "activation": {"class_name": "__lambda__", "config": {"code": "!!"}},
                    },
                }
            ],
        },
    }
    findings = check(config)
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert "s/d" in (findings[0].location.address or "")


def test_dangerous_module_function_is_critical() -> None:
    config = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "l",
            "function": {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": "function",
            },
        },
    }
    findings = check(config)
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert "os.system" in findings[0].message


@pytest.mark.parametrize(
    "module",
    [
        "keras",
        "keras.layers",
        "keras_hub.src.models",
        "keras_nlp.x",
        "tf_keras.layers",
        "tensorflow.keras.layers",
    ],
)
def test_keras_modules_are_allowed(module: str) -> None:
    config = {"module": module, "class_name": "X", "config": {"name": "x"}, "registered_name": None}
    assert check(config) == []


@pytest.mark.parametrize("module", ["kerasx", "tensorflow", "mypkg.layers", "__main__"])
def test_other_modules_are_medium(module: str) -> None:
    config = {"module": module, "class_name": "X", "config": {"name": "x"}}
    findings = check(config)
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT]
    assert findings[0].severity is Severity.MEDIUM


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2]",
        b"\xff\xfe{}",
        b'{"a": NaN',
        b"",
    ],
)
def test_malformed_is_unparseable(raw: bytes) -> None:
    assert rule_ids(check(raw)) == [rules.UNPARSEABLE]


def test_too_deep_is_unparseable() -> None:
    deep = b'{"a": ' * (MAX_CONFIG_DEPTH + 1) + b"1" + b"}" * (MAX_CONFIG_DEPTH + 1)
    findings = check(deep)
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "levels deep" in findings[0].message
    brackets_in_strings = json.dumps({"s": "[" * 10_000}).encode()
    assert check(brackets_in_strings) == []


def test_too_large_is_unparseable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keras_check, "MAX_CONFIG_BYTES", 10)
    assert rule_ids(check({"class_name": "Sequential"})) == [rules.UNPARSEABLE]


def test_duplicate_keys_are_reported_and_last_copy_checked() -> None:
    raw = (
        b'{"class_name": "Lambda", "config": {"name": "l", "function": 1, '
        b'"function": {"class_name": "__lambda__", "config": {"code": ""}}}}'
    )
    assert sorted(rule_ids(check(raw))) == sorted([rules.UNPARSEABLE, rules.EMBEDDED_CODE])


def test_findings_are_capped() -> None:
    layers = [
        {"module": f"m{i}", "class_name": "X", "config": {"name": f"x{i}"}} for i in range(80)
    ]
    findings = check({"class_name": "Sequential", "config": {"layers": layers}})
    assert len(findings) == 51
    assert "30 more" in findings[-1].message


def test_member_none_and_address() -> None:
    findings = check({"module": "mypkg", "class_name": "X", "config": {}}, member=None)
    assert findings[0].location.address is None
    assert findings[0].location.path == "m.keras"
