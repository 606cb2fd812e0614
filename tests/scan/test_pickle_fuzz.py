"""Hostile and random input: analyze() never raises, stays fast and keeps memory bounded."""

from __future__ import annotations

import collections
import os
import pickle
import struct
import time
import tracemalloc

import pytest
from pickle_payloads import Asm, dumps_reduce

from ssdf_ai.scan.pickle import analyze, pickle_findings

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given = hypothesis.given
settings = hypothesis.settings

_FUZZ = settings(
    max_examples=150,
    deadline=None,  # time is bounded by _check; hypothesis deadlines flake on a busy machine
    database=None,
    derandomize=True,  # the same examples every run: CI stays reproducible
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)


def _corpus() -> list[bytes]:
    values: list[object] = [
        {"weights": [1.0, 2.0], "name": "model", "shape": (3, 4)},
        collections.OrderedDict(a=b"\x00\x01", b=frozenset({1}), c={2, 3}),
        [None, True, 2**80, -7, "ü" * 3, bytearray(b"ab")],
    ]
    out = [pickle.dumps(v, protocol=p) for v in values for p in range(6)]
    out.append(dumps_reduce(os.system, "id", protocol=2))
    out.append(dumps_reduce(pickle.loads, dumps_reduce(os.system, "id"), protocol=4))
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy comes with scikit-learn in dev
        return out
    out.append(pickle.dumps({"a": np.arange(6.0).reshape(2, 3)}, protocol=2))
    out.append(pickle.dumps(np.random.default_rng(1), protocol=5))
    return out


CORPUS = _corpus()
_OPCODES = [
    bytes([c]) for c in b"()012.NaebdeltRsu}]\x85\x86\x87\x88\x89\x8f\x90\x91\x93\x94\x81\x92Qo"
]
_OPCODES += [b"K\x01", b"h\x00", b"q\x00", b"\x8c\x02os", b"\x8c\x06system", b"X\x01\x00\x00\x00a"]
_OPCODES += [b"\x82\x05", b"cos\nsystem\n", b"\x80\x04", b"\x95\x02\x00\x00\x00\x00\x00\x00\x00"]


def _check(data: bytes, seconds: float = 10.0) -> None:
    started = time.perf_counter()
    analysis = analyze(data, max_ops=200_000)
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"{elapsed:.2f}s for {len(data)} bytes"
    assert analysis.ops <= 200_000 * 4  # the top level and the few nested pickles it may hold
    assert (analysis.error is None) == (analysis.error_offset is None)
    pickle_findings(analysis, path="fuzz.pkl", member="data.pkl")


@_FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@_FUZZ
@given(st.binary(max_size=2048).map(lambda b: b"\x80\x04" + b))
def test_random_bytes_after_a_proto_header(data: bytes) -> None:
    _check(data)


@_FUZZ
@given(st.lists(st.sampled_from(_OPCODES), max_size=200).map(b"".join))
def test_random_opcode_sequences(data: bytes) -> None:
    _check(data)


@_FUZZ
@given(
    st.sampled_from(CORPUS),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), min_size=1, max_size=8),
)
def test_bit_flips_of_real_pickles(original: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(original)
    for where, bit in flips:
        data[where % len(data)] ^= 1 << bit
    _check(bytes(data))


@_FUZZ
@given(st.sampled_from(CORPUS), st.integers(0, 1 << 20))
def test_truncations_of_real_pickles(original: bytes, cut: int) -> None:
    _check(original[: cut % (len(original) + 1)])


@_FUZZ
@given(
    st.sampled_from(CORPUS),
    st.sampled_from(CORPUS),
    st.integers(0, 1 << 20),
    st.integers(0, 1 << 20),
    st.integers(0, 64),
)
def test_splices_of_real_pickles(a: bytes, b: bytes, at: int, start: int, length: int) -> None:
    at %= len(a) + 1
    start %= len(b) + 1
    _check(a[:at] + b[start : start + length] + a[at:])


# -- specific bombs -------------------------------------------------------------------------


def _bounded(data: bytes, *, seconds: float = 5.0, megabytes: float = 64.0) -> None:
    started = time.perf_counter()
    analysis = analyze(data)
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, elapsed
    pickle_findings(analysis, path="bomb.pkl")
    tracemalloc.start()  # slows allocation down a lot: a second run, for memory only
    try:
        analyze(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 2**20, peak / 2**20


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x04\x8b" + struct.pack("<i", 2**31 - 1) + b"\x00" * 16,  # LONG4 huge length
        b"\x80\x04\x8e" + struct.pack("<Q", 2**63) + b"abc",  # BINBYTES8 past the end
        b"\x80\x04\x8d" + struct.pack("<Q", 2**40) + b"abc",  # BINUNICODE8 past the end
        b"\x80\x04\x96" + struct.pack("<Q", 2**40) + b"abc",  # BYTEARRAY8 past the end
        b"\x80\x04T" + struct.pack("<i", -5) + b"abc",  # BINSTRING negative length
        b"L" + b"9" * 100_000 + b"L\n.",  # a giant text long
        b"I" + b"9" * 100_000 + b"\n.",  # a giant text int
    ],
    ids=["long4", "binbytes8", "binunicode8", "bytearray8", "binstring", "long", "int"],
)
def test_declared_lengths_beyond_the_data(data: bytes) -> None:
    _bounded(data)


def test_deep_mark_nesting() -> None:
    _bounded(b"\x80\x04" + b"(" * 1_000_000 + b".")


def test_dup_and_appends_cannot_grow_exponentially() -> None:
    # Each round appends the list to itself twice: a real unpickler would build a list whose
    # rendering doubles every round; the machine keeps a bounded number of references.
    asm = Asm().proto(4).op("EMPTY_LIST").memoize()
    for _ in range(20_000):
        asm.op("MARK").binget(0).binget(0).op("APPENDS", "DUP").binget(0).op("APPEND", "POP")
    asm.op("STOP")
    _bounded(asm.build())


def test_memo_flood() -> None:
    asm = Asm().proto(4).op("NONE")
    for i in range(50_000):
        asm.long_binput(i * 7919)
    _bounded(asm.stop().build())


def test_self_referencing_call_chains_render_bounded() -> None:
    # f(f(f(...))) with a dangerous f: the chain rendering is capped, not exponential.
    asm = Asm().proto(4).stack_global("os", "system").memoize()
    asm.su("x").op("TUPLE1", "REDUCE")
    for _ in range(10_000):
        asm.binput(1).op("POP").binget(0).binget(1).binget(1).op("TUPLE2", "REDUCE")
    data = asm.stop().build()
    _bounded(data)
    for finding in pickle_findings(analyze(data), path="x"):
        assert len(finding.message) < 2_000


def test_many_nested_pickles_are_capped() -> None:
    inner = dumps_reduce(os.system, "id", protocol=4)
    asm = Asm().proto(4).stack_global("pickle", "loads").memoize().op("POP")
    for i in range(2_000):
        asm.binget(0).bytes_(inner + bytes([i % 256])).op("TUPLE1", "REDUCE", "POP")
    _bounded(asm.op("NONE").stop().build())
