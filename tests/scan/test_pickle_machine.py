"""The symbolic machine's semantics, its limits, the policy's verdicts and the findings."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest
from pickle_payloads import Asm, dumps_reduce, findings_for, uses

from ssdf_ai.errors import ConfigError
from ssdf_ai.findings import Severity
from ssdf_ai.scan.pickle import (
    GlobalUse,
    Policy,
    VerdictKind,
    analyze,
    classify,
    pickle_findings,
)

# -- values, memo and stack -----------------------------------------------------------------


def test_plain_values_have_no_globals() -> None:
    analysis = analyze(pickle.dumps({"a": [1, 2.5, "x", None, True]}, protocol=4))
    assert analysis.globals == []
    assert analysis.streams == 1
    assert analysis.error is None
    assert analysis.nested == []


def test_ops_are_counted() -> None:
    data = Asm().proto(2).op("NONE").stop().build()
    assert analyze(data).ops == 3


def test_memoize_index_is_the_memo_size() -> None:
    # PUT 5 then MEMOIZE stores at index 1 (len(memo)), as CPython does.
    data = (
        Asm()
        .proto(4)
        .su("os")
        .put(5)
        .su("system")
        .memoize()
        .op("POP", "POP")
        .get(5)
        .binget(1)
        .op("STACK_GLOBAL")
        .stop()
        .build()
    )
    assert [g.qualified for g in analyze(data).globals] == ["os.system"]


def test_pop_with_an_empty_stack_discards_the_mark() -> None:
    data = Asm().proto(2).op("MARK", "POP", "NONE").stop().build()
    analysis = analyze(data)
    assert analysis.error is None


def test_global_use_fields() -> None:
    data = Asm().proto(2).global_("os", "system").string("id").op("TUPLE1", "REDUCE").stop()
    analysis = analyze(data.build())
    (use,) = analysis.globals
    assert use == GlobalUse("os", "system", 2, "GLOBAL", True, "os.system('id')", 0)


def test_uncalled_global_is_recorded_as_such() -> None:
    analysis = analyze(Asm().proto(4).stack_global("os", "system").stop().build())
    (use,) = analysis.globals
    assert (use.opcode, use.called, use.chain) == ("STACK_GLOBAL", False, "os.system")


def test_persistent_ids_are_recorded_not_flagged() -> None:
    data = Asm().proto(2).su("storage").op("TUPLE1", "BINPERSID").stop().build()
    assert findings_for(data) == []


def test_out_of_band_buffers() -> None:
    data = Asm().proto(5).op("NEXT_BUFFER", "READONLY_BUFFER").stop().build()
    assert analyze(data).error is None


def test_frame_is_skipped() -> None:
    data = Asm().proto(4).frame(2).op("NONE").stop().build()
    assert analyze(data).error is None


def test_deep_container_nesting_is_fine() -> None:
    value: list[object] = []
    for _ in range(200):
        value = [value]
    assert analyze(pickle.dumps(value, protocol=4)).error is None


# -- several pickles, trailing data ---------------------------------------------------------


def test_trailing_bytes_that_are_not_a_pickle_are_ignored() -> None:
    data = pickle.dumps([1, 2]) + b"\x00\x00\x00 trailing"
    analysis = analyze(data)
    assert (analysis.streams, analysis.error) == (1, None)


def test_trailing_garbage_that_starts_like_a_pickle_is_not_an_error() -> None:
    data = pickle.dumps([1, 2]) + b"(\xff\xff"
    analysis = analyze(data)
    assert (analysis.streams, analysis.error) == (1, None)


def test_globals_of_every_stream_are_reported() -> None:
    data = pickle.dumps(1) + dumps_reduce(os.system, "id") + dumps_reduce(os.system, "id")
    analysis = analyze(data)
    assert analysis.streams == 3
    assert [g.stream for g in analysis.globals] == [1, 2]
    critical = [f for f in findings_for(data) if f.rule_id == "SSDF-SCAN-001"]
    assert len(critical) == 2  # one per stream


# -- malformed streams ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "offset", "words"),
    [
        (b"", 0, "empty"),
        (b"\x80\x04N", 3, "STOP"),
        (b"\x80\x04\xff", 2, "invalid opcode"),
        (b"\x80\x09N.", 0, "protocol 9"),
        (b"\x80\x04h\x05.", 2, "never set"),
        (b"\x80\x04R.", 2, "stack"),
        (b"\x80\x04.", 2, "stack"),
        (b"\x80\x04(K\x01u.", 5, "odd"),
        (b"\x80\x04K\x01K\x02\x93.", 6, "two strings"),
        (b"\x80\x04X\xff\xff\xff\xff", 2, "past the end"),
        (b"\x80\x04\x8b\x00\x00\x00\x7f", 2, "past the end"),
        (b"\x80\x04\x8e" + b"\xff" * 8, 2, "past the end"),
        (b"\x80\x04\x95" + (10**9).to_bytes(8, "little") + b"N.", 2, "FRAME"),
        (b"cos\nsystem", 0, "newline"),
        (b"\x80\x04\x8c\x02\xff\xfe.", 2, "UTF-8"),
        (b"S'abc\n.", 0, "quoted"),
        (b"Iabc\n.", 0, "number"),
        (b"\x80\x02\x82\x00.", 2, "not positive"),
    ],
)
def test_malformed_stream_records_where_it_broke(data: bytes, offset: int, words: str) -> None:
    analysis = analyze(data)
    assert analysis.error is not None
    assert words in analysis.error
    assert analysis.error_offset == offset


def test_op_limit_is_an_error_not_a_clean_result() -> None:
    data = pickle.dumps(list(range(1000)), protocol=4)
    analysis = analyze(data, max_ops=100)
    assert analysis.error is not None
    assert "100 opcodes" in analysis.error
    assert findings_for(data) == []  # the default limit reads it all
    assert any(
        f.rule_id == "SSDF-SCAN-003"
        for f in pickle_findings(analysis, path="x.pkl", member="data.pkl")
    )


def test_mark_nesting_is_bounded() -> None:
    analysis = analyze(b"(" * 200_000 + b".")
    assert analysis.error is not None
    assert "MARK" in analysis.error


# -- policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name", "kind"),
    [
        ("collections", "OrderedDict", VerdictKind.SAFE),
        ("torch._utils", "_rebuild_tensor_v2", VerdictKind.SAFE),
        ("torch", "FloatStorage", VerdictKind.SAFE),
        ("torch", "bfloat16", VerdictKind.SAFE),
        ("numpy.core.multiarray", "_reconstruct", VerdictKind.SAFE),
        ("numpy._core.multiarray", "scalar", VerdictKind.SAFE),
        ("numpy.random._pickle", "__bit_generator_ctor", VerdictKind.SAFE),
        ("_codecs", "encode", VerdictKind.SAFE),
        ("__builtin__", "set", VerdictKind.SAFE),
        ("sklearn.linear_model._logistic", "LogisticRegression", VerdictKind.SAFE),
        ("sklearn.decomposition._pca", "PCA", VerdictKind.SAFE),
        ("sklearn.utils._testing", "TempMemmap", VerdictKind.UNKNOWN),
        ("sklearn.utils", "resample", VerdictKind.UNKNOWN),
        ("sklearn.linear_model", "LogisticRegression.__reduce__", VerdictKind.DANGEROUS),
        ("mypackage.models", "Net", VerdictKind.UNKNOWN),
        ("builtins", "print", VerdictKind.UNKNOWN),
        ("os", "system", VerdictKind.DANGEROUS),
        ("os.path", "join", VerdictKind.DANGEROUS),
        ("nt", "system", VerdictKind.DANGEROUS),
        ("builtins", "eval", VerdictKind.DANGEROUS),
        ("__builtin__", "getattr", VerdictKind.DANGEROUS),
        ("__builtins__", "exec", VerdictKind.DANGEROUS),
        ("commands", "getoutput", VerdictKind.DANGEROUS),
        ("tempfile", "_os.system", VerdictKind.DANGEROUS),
        ("torch.serialization", "os.system", VerdictKind.DANGEROUS),
        ("collections", "__builtins__.eval", VerdictKind.DANGEROUS),
        ("builtins", "object.__subclasses__", VerdictKind.DANGEROUS),
        (" os ", "system ", VerdictKind.DANGEROUS),
        ("code", "InteractiveInterpreter.runsource", VerdictKind.DANGEROUS),
        ("torch", "load", VerdictKind.DANGEROUS),
        ("numpy", "load", VerdictKind.DANGEROUS),
        ("joblib.numpy_pickle", "NumpyArrayWrapper", VerdictKind.SAFE),
        ("<dynamic>", "x", VerdictKind.DANGEROUS),
        ("<extension>", "5", VerdictKind.DANGEROUS),
    ],
)
def test_classify(module: str, name: str, kind: VerdictKind) -> None:
    verdict = classify(module, name)
    assert verdict.kind is kind, verdict.reason
    assert verdict.reason


def test_dangerous_reason_names_the_match() -> None:
    assert "(os)" in classify("os", "system").reason
    assert "torch.serialization.os" in classify("torch.serialization", "os.system").reason


_MINIMAL = """
version = 1
[[dangerous]]
reason = "r"
modules = ["os"]
[[safe]]
reason = "s"
names = ["collections.OrderedDict"]
"""


def test_policy_from_toml() -> None:
    policy = Policy.from_toml(_MINIMAL)
    assert policy.classify("os", "system").dangerous
    assert policy.classify("collections", "OrderedDict").safe
    assert policy.classify("torch", "Size").kind is VerdictKind.UNKNOWN


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "version"),
        ("version = 1", "non-empty [[dangerous]]"),
        (_MINIMAL.replace('reason = "r"', ""), "needs a reason"),
        (_MINIMAL.replace('modules = ["os"]', 'modules = "os"'), "list of non-empty strings"),
        (_MINIMAL.replace('modules = ["os"]', 'module = ["os"]'), "unknown keys"),
        (_MINIMAL.replace('modules = ["os"]', "modules = []"), "both dangerous and safe"),
        ("version = [", "invalid TOML"),
    ],
)
def test_invalid_policy_is_rejected(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[")):
        Policy.from_toml(text)


def test_findings_use_the_given_policy() -> None:
    data = Asm().proto(4).stack_global("torch", "Size").stop().build()
    default = pickle_findings(analyze(data), path="m.pt")
    assert default == []
    custom = pickle_findings(analyze(data), path="m.pt", policy=Policy.from_toml(_MINIMAL))
    assert [f.rule_id for f in custom] == ["SSDF-SCAN-002"]


# -- findings -------------------------------------------------------------------------------


def test_unknown_global_is_medium_and_named() -> None:
    data = Asm().proto(4).stack_global("mypackage.models", "Net").op("EMPTY_TUPLE", "REDUCE")
    (finding,) = findings_for(data.stop().build())
    assert finding.rule_id == "SSDF-SCAN-002"
    assert finding.severity is Severity.MEDIUM
    assert "mypackage.models.Net" in finding.message
    assert finding.location.path == "model.pkl"


def test_duplicates_are_grouped_with_a_count_and_the_first_offset() -> None:
    asm = Asm().proto(2)
    for _ in range(3):
        asm.global_("os", "system").string("id").op("TUPLE1", "REDUCE", "POP")
    data = asm.op("NONE").stop().build()
    (finding,) = findings_for(data)
    assert "3 times" in finding.message
    assert finding.location.address == "member data.pkl, offset 2"


def test_offsets_are_shifted_by_base_offset() -> None:
    analysis = analyze(Asm().proto(2).global_("os", "system").stop().build())
    (finding,) = pickle_findings(analysis, path="a.pt", member="a/data.pkl", base_offset=1000)
    assert finding.location.address == "member a/data.pkl, offset 1002"
    assert "offset 1002" in finding.message
    assert "member a/data.pkl" in finding.message
    (bare,) = pickle_findings(analysis, path="a.pkl")
    assert bare.location.address == "offset 2"


def test_unparseable_finding_says_where_and_that_the_rest_was_not_analysed() -> None:
    data = Asm().proto(2).op("NONE").raw(b"\xff").build()
    (finding,) = findings_for(data)
    assert finding.rule_id == "SSDF-SCAN-003"
    assert finding.severity is Severity.HIGH
    assert "offset 3" in finding.message
    assert "not analysed" in finding.message


def test_nested_findings_carry_the_outer_offset() -> None:
    inner = dumps_reduce(os.system, "id", protocol=4)
    data = dumps_reduce(pickle.loads, inner, protocol=4)
    analysis = analyze(data)
    ((where, nested),) = analysis.nested
    assert data[where : where + len(inner)] == inner
    (use,) = nested.globals
    found = findings_for(data)
    nested_finding = next(f for f in found if "nested" in f.message)
    assert nested_finding.location.address == f"member data.pkl, offset {where + use.offset}"


def test_allowlisted_globals_give_no_finding() -> None:
    data = Asm().proto(2).global_("collections", "OrderedDict").op("EMPTY_TUPLE", "REDUCE")
    assert findings_for(data.stop().build()) == []


def test_called_dangerous_global_is_high_confidence() -> None:
    (finding,) = findings_for(dumps_reduce(os.system, "id"))
    assert finding.confidence == "high"
    assert "calls" in finding.message


# -- speed ----------------------------------------------------------------------------------


def test_many_small_ops_are_analysed_in_one_pass() -> None:
    # Work is proportional to the opcodes: 10x the data, 10x the ops (to within the framing).
    # Time itself is measured in benchmarks, not asserted here (timing asserts are flaky on
    # a busy machine); the generous bound below only catches a hang.
    small = pickle.dumps([[i, "a", 1.5] for i in range(20_000)], protocol=4)
    large = pickle.dumps([[i, "a", 1.5] for i in range(200_000)], protocol=4)
    small_ops = analyze(small).ops
    started = time.perf_counter()
    analysis = analyze(large)
    assert time.perf_counter() - started < 30
    assert analysis.error is None
    assert 9 * small_ops <= analysis.ops <= 11 * small_ops


def test_memo_reuse_is_cheap() -> None:
    # One global memoized and called 100k times (what torch pickles do per tensor).
    asm = Asm().proto(4).stack_global("collections", "OrderedDict").memoize().op("POP")
    for _ in range(100_000):
        asm.binget(0).op("EMPTY_TUPLE", "REDUCE", "POP")
    data = asm.op("NONE").stop().build()
    started = time.perf_counter()
    analysis = analyze(data)
    assert time.perf_counter() - started < 5
    assert uses(analysis) == {"collections.OrderedDict": True}


# -- never executes -------------------------------------------------------------------------


def test_analysis_never_runs_the_payload(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    payloads = [
        dumps_reduce(open, str(canary), "w"),
        dumps_reduce(os.system, f"touch {canary}"),
        dumps_reduce(pickle.loads, dumps_reduce(open, str(canary), "w")),
        Asm().proto(4).stack_global("pathlib", "Path").call1(str(canary)).su("touch").build(),
    ]
    for data in payloads:
        analysis = analyze(data)
        pickle_findings(analysis, path="canary.pkl")
    assert not canary.exists()
