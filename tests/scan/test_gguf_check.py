"""GGUF header parsing and chat-template checks: real files are clean, SSTI is critical."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from container_fixtures import SMALL_LIMITS
from hypothesis import given, settings
from hypothesis import strategies as st

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import ScanLimits
from ssdf_ai.scan.gguf_check import check_gguf, template_indicators

# Qwen2 / ChatML template, as shipped in Qwen2.5's tokenizer_config.json (shortened).
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Llama 3 style: namespace(), raise_exception, strftime_now, tools as JSON.
LLAMA3 = (
    "{{- bos_token }}{%- set ns = namespace(system='') %}"
    "{%- if messages[0]['role'] == 'system' %}{%- set ns.system = messages[0]['content']|trim %}"
    "{%- endif %}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
    "{%- if tools is not none %}{{- tools | tojson(indent=4) }}{%- endif %}"
    "{{- raise_exception('bad role') if false }}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}"
)
# The payload published with CVE-2024-34359 (llama-cpp-python).
SSTI = (
    "{% for x in ().__class__.__base__.__subclasses__() %}"
    '{% if "warning" in x.__name__ %}'
    "{{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}"
    "{%endif%}{% endfor %}"
)


def check(data: bytes, limits: ScanLimits = SMALL_LIMITS) -> list[Finding]:
    return check_gguf(io.BytesIO(data), len(data), path="m.gguf", limits=limits)


def write_gguf(tmp_path: Path, template: str | None, **extra: str) -> bytes:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    out = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name("tiny")
    writer.add_context_length(128)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(["<s>", "</s>", "hello", "world"])
    writer.add_token_scores([0.0, 0.0, -1.0, -2.0])
    writer.add_array("test.nested", [[1, 2], [3, 4]])
    writer.add_bool("test.flag", True)
    writer.add_float64("test.f64", 1.5)
    if template is not None:
        writer.add_chat_template(template)
    for key, value in extra.items():
        writer.add_string(key, value)
    writer.add_tensor("token_embd.weight", np.ones((4, 8), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.zeros(8, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out.read_bytes()


def rule_ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


@pytest.mark.parametrize("template", [None, CHATML, LLAMA3])
def test_real_gguf_with_benign_template_is_clean(tmp_path: Path, template: str | None) -> None:
    assert check(write_gguf(tmp_path, template)) == []


def test_ssti_chat_template_is_critical(tmp_path: Path) -> None:
    findings = check(write_gguf(tmp_path, SSTI))
    assert rule_ids(findings) == [rules.TEMPLATE_INJECTION]
    assert findings[0].severity is Severity.CRITICAL
    assert "__subclasses__" in findings[0].message
    assert "popen" in findings[0].message
    assert findings[0].location.address == "metadata 'tokenizer.chat_template'"


def test_named_chat_templates_are_checked(tmp_path: Path) -> None:
    data = write_gguf(
        tmp_path, CHATML, **{"tokenizer.chat_template.tool_use": "{{ lipsum.__globals__ }}"}
    )
    findings = check(data)
    assert rule_ids(findings) == [rules.TEMPLATE_INJECTION]
    assert "tool_use" in findings[0].message


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1] }}",
        "{{ ''|attr('__class__') }}",
        "{{ ''['__cla' ~ 'ss__'] }}",
        "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
        "{{ ''|attr(\"\\u005f\\u005fglobals\\u005f\\u005f\") }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ request.application.__self__ }}",
        "{{ config.__class__.__init__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ x.mro()[1] }}",
        "{{ eval('1') }}",
        "{% set s = 'sub' + 'process' %}{{ s }}",
        "{% if joiner %}{{ x }}{% endif %}",
    ],
)
def test_obfuscated_payloads_are_found(payload: str) -> None:
    hits = template_indicators(payload)
    assert hits
    assert any(critical for _, _, critical in hits)


@pytest.mark.parametrize(
    "template",
    [
        CHATML,
        LLAMA3,
        "{{ messages | length }} {{ 'Positions. os' }} {{ message.content.split('</think>')[-1] }}",
        "{%- if tools %}{{ tool.function.name }}{%- endif %}{{ strftime_now('%d %b %Y') }}",
    ],
)
def test_benign_templates_have_no_indicator(template: str) -> None:
    assert template_indicators(template) == []


def test_fragment_is_truncated(tmp_path: Path) -> None:
    template = "x" * 500 + "{{ ''.__class__ }}" + "y" * 500
    findings = check(write_gguf(tmp_path, template))
    assert len(findings[0].message) < 500


# --- hand-crafted files ---------------------------------------------------------------------


def gstr(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def header(n_tensors: int, n_kv: int, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


def kv_string(key: str, value: str) -> bytes:
    return gstr(key) + struct.pack("<I", 8) + gstr(value)


def tensor_info(name: str, dims: list[int], ggml_type: int = 0, offset: int = 0) -> bytes:
    out = gstr(name) + struct.pack("<I", len(dims))
    out += b"".join(struct.pack("<Q", d) for d in dims)
    return out + struct.pack("<IQ", ggml_type, offset)


def minimal(template: str = "hi") -> bytes:
    body = header(1, 1) + kv_string("tokenizer.chat_template", template)
    body += tensor_info("w", [2])
    body += b"\0" * (-len(body) % 32) + b"\0" * 8
    return body


def test_hand_made_minimal_file_is_clean() -> None:
    assert check(minimal()) == []


def assert_unparseable(data: bytes, needle: str) -> None:
    findings = check(data)
    assert rules.UNPARSEABLE in rule_ids(findings), findings
    assert any(needle in f.message for f in findings), [f.message for f in findings]


def test_bad_magic() -> None:
    assert_unparseable(b"GGUX" + minimal()[4:], "magic")


def test_bad_version() -> None:
    assert_unparseable(header(0, 0, version=7), "version 7")


def test_empty_file() -> None:
    assert_unparseable(b"", "magic")


@pytest.mark.parametrize("cut", [10, 24, 30, 40, 60])
def test_truncated(cut: int) -> None:
    findings = check(minimal()[:cut])
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert any(word in findings[0].message for word in ("past the end", "cannot fit"))


def test_absurd_counts() -> None:
    assert_unparseable(header(0, 1 << 60) + b"\0" * 64, "metadata count")
    assert_unparseable(header(1 << 62, 0) + b"\0" * 64, "tensor count")


def test_string_length_beyond_eof() -> None:
    data = header(0, 1) + gstr("k") + struct.pack("<IQ", 8, 1 << 40) + b"abc"
    assert_unparseable(data, "runs past the end")


def test_key_length_beyond_eof() -> None:
    assert_unparseable(header(0, 1) + struct.pack("<Q", 1 << 63) + b"\0" * 20, "runs past")


def test_deep_arrays() -> None:
    nested = b""
    for _ in range(20):
        nested += struct.pack("<IQ", 9, 1)
    data = header(0, 1) + gstr("deep") + struct.pack("<I", 9) + nested + b"\0" * 16
    assert_unparseable(data, "nested deeper")


def test_array_count_too_big() -> None:
    data = header(0, 1) + gstr("a") + struct.pack("<IIQ", 9, 8, 1 << 50) + b"\0" * 32
    assert_unparseable(data, "cannot fit")


def test_unknown_value_type() -> None:
    assert_unparseable(header(0, 1) + gstr("k") + struct.pack("<I", 77) + b"\0" * 8, "type 77")


def test_bad_bool() -> None:
    assert_unparseable(header(0, 1) + gstr("k") + struct.pack("<IB", 7, 2), "bool")


def test_key_not_utf8() -> None:
    assert_unparseable(header(0, 1) + gstr(b"\xff\xfe") + struct.pack("<IB", 0, 1), "UTF-8")


def test_duplicate_key() -> None:
    data = header(0, 2) + kv_string("a", "x") + kv_string("a", "y")
    assert_unparseable(data, "appears twice")


def test_tensor_problems() -> None:
    base = header(1, 0)
    assert_unparseable(base + tensor_info("w", [1] * 9) + b"\0" * 64, "dimensions")
    assert_unparseable(base + tensor_info("w", [1], ggml_type=99) + b"\0" * 64, "ggml type 99")
    assert_unparseable(base + tensor_info("w", [1], offset=3) + b"\0" * 64, "alignment")
    assert_unparseable(base + tensor_info("w", [1], offset=1 << 20) + b"\0" * 64, "past the")
    removed = check(base + tensor_info("w", [1], ggml_type=4) + b"\0" * 64)
    assert [f.severity for f in removed] == [Severity.MEDIUM]


def test_template_not_a_string() -> None:
    data = header(0, 1) + gstr("tokenizer.chat_template") + struct.pack("<II", 4, 7)
    findings = check(data)
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert findings[0].severity is Severity.MEDIUM


def test_header_limit_is_not_scanned() -> None:
    data = header(0, 1) + kv_string("k", "v" * 5000)
    findings = check(data, ScanLimits(max_header_bytes=1000))
    assert rule_ids(findings) == [rules.NOT_SCANNED]


def test_big_endian_is_not_scanned() -> None:
    data = b"GGUF" + struct.pack(">IQQ", 3, 0, 0)
    assert rule_ids(check(data)) == [rules.NOT_SCANNED]


def test_malicious_template_found_even_if_header_breaks_later() -> None:
    data = header(2, 2) + kv_string("tokenizer.chat_template", SSTI) + b"\0\0"
    ids = rule_ids(check(data))
    assert rules.TEMPLATE_INJECTION in ids
    assert rules.UNPARSEABLE in ids


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=300), st.integers(0, 400))
def test_fuzz_never_raises(noise: bytes, where: int) -> None:
    base = bytearray(minimal(SSTI))
    where %= len(base)
    mutated = bytes(base[:where]) + noise + bytes(base[where + len(noise) :])
    for data in (mutated, header(3, 3) + noise):
        findings = check(data)
        assert all(isinstance(f, Finding) for f in findings)
