"""The engine routes Keras, HDF5, GGUF, ONNX and SavedModel files to their checkers, by content.

The checkers have their own tests; these prove the dispatch end to end on real files made by
the real libraries, under misleading names too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ssdf_ai.findings import Severity
from ssdf_ai.scan import engine as eng
from ssdf_ai.scan import rules

SSTI = (
    "{% for x in ().__class__.__base__.__subclasses__() %}"
    "{% if 'warning' in x.__name__ %}{{ x()._module.__builtins__['__import__']('os')"
    ".popen('touch pwned').read() }}{% endif %}{% endfor %}"
)


def _scan(root: Path) -> list[tuple[str, str, Severity]]:
    result = eng.scan_paths([root], root=root)
    return sorted((f.location.path or "", f.rule_id, f.severity) for f in result.findings)


@pytest.fixture(scope="module")
def keras_module():  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_BACKEND", "torch")
        import keras

        yield keras


def test_keras_lambda_is_critical_and_plain_model_is_clean(tmp_path: Path, keras_module) -> None:  # type: ignore[no-untyped-def]
    keras = keras_module

    def model(extra):  # type: ignore[no-untyped-def]
        layers = [keras.Input((3,)), keras.layers.Dense(2)] + ([extra] if extra else [])
        return keras.Sequential(layers)

    model(None).save(tmp_path / "plain.keras")
    model(keras.layers.Lambda(lambda x: x * 2, name="doubler")).save(tmp_path / "lambda.keras")
    # Content decides, not the name: the Lambda model renamed to .zip is still caught.
    os.replace(tmp_path / "lambda.keras", tmp_path / "lambda.zip")
    found = _scan(tmp_path)
    assert ("lambda.zip", rules.EMBEDDED_CODE, Severity.CRITICAL) in found
    assert not [f for f in found if f[0] == "plain.keras"]


def test_gguf_template_injection_is_critical(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf", reason="the gguf package writes the test's GGUF files")
    for name, template in (("good.gguf", "{{ messages[0]['content'] }}"), ("evil.gguf", SSTI)):
        writer = gguf.GGUFWriter(str(tmp_path / name), "llama")
        writer.add_chat_template(template)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    assert _scan(tmp_path) == [("evil.gguf", rules.TEMPLATE_INJECTION, Severity.CRITICAL)]


def test_onnx_custom_domain_and_escaping_external_data(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="the onnx package writes the test's models")
    from onnx import TensorProto, helper

    def graph(node):  # type: ignore[no-untyped-def]
        return helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])],
        )

    plain = helper.make_model(graph(helper.make_node("Neg", ["X"], ["Y"])))
    custom = helper.make_model(
        graph(helper.make_node("Pwn", ["X"], ["Y"], domain="evil.custom")),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("evil.custom", 1)],
    )
    onnx.save_model(plain, tmp_path / "plain.onnx")
    onnx.save_model(custom, tmp_path / "custom.onnx")
    found = _scan(tmp_path)
    assert ("custom.onnx", rules.CUSTOM_OPERATOR, Severity.MEDIUM) in found
    assert not [f for f in found if f[0] == "plain.onnx"]
