"""Build pickle payloads by code: a small opcode assembler and ``__reduce__`` helpers.

Payloads are only ever built here (by hand or with ``pickle.dumps``); the tests never load them.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable
from typing import Any

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan.pickle import PickleAnalysis, analyze, pickle_findings


class Asm:
    """A fluent pickle assembler: each method appends one opcode and returns the assembler."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, data: bytes) -> Asm:
        self._parts.append(data)
        return self

    def op(self, *names: str) -> Asm:
        """Argument-less opcodes by name: ``op("MARK")``, ``op("TUPLE1", "REDUCE")``."""
        for name in names:
            self._parts.append(_CODES[name])
        return self

    # -- framing ------------------------------------------------------------------------------
    def proto(self, version: int = 4) -> Asm:
        return self.raw(b"\x80" + bytes([version]))

    def frame(self, size: int) -> Asm:
        return self.raw(b"\x95" + struct.pack("<Q", size))

    def stop(self) -> Asm:
        return self.op("STOP")

    # -- strings ------------------------------------------------------------------------------
    def su(self, text: str) -> Asm:
        """SHORT_BINUNICODE."""
        data = text.encode("utf-8")
        return self.raw(b"\x8c" + bytes([len(data)]) + data)

    def binunicode(self, text: str) -> Asm:
        data = text.encode("utf-8")
        return self.raw(b"X" + struct.pack("<I", len(data)) + data)

    def binunicode8(self, text: str) -> Asm:
        data = text.encode("utf-8")
        return self.raw(b"\x8d" + struct.pack("<Q", len(data)) + data)

    def unicode(self, text: str) -> Asm:
        """Protocol 0 UNICODE (raw-unicode-escape, newline-terminated)."""
        return self.raw(b"V" + text.encode("raw-unicode-escape") + b"\n")

    def string(self, text: str) -> Asm:
        """Protocol 0 STRING (quoted, escaped)."""
        return self.raw(b"S" + repr(text).encode("ascii") + b"\n")

    def binstring(self, text: str) -> Asm:
        data = text.encode("latin-1")
        return self.raw(b"T" + struct.pack("<i", len(data)) + data)

    def short_binstring(self, text: str) -> Asm:
        data = text.encode("latin-1")
        return self.raw(b"U" + bytes([len(data)]) + data)

    def bytes_(self, data: bytes) -> Asm:
        if len(data) < 256:
            return self.raw(b"C" + bytes([len(data)]) + data)
        return self.raw(b"B" + struct.pack("<I", len(data)) + data)

    def bytes8(self, data: bytes) -> Asm:
        return self.raw(b"\x8e" + struct.pack("<Q", len(data)) + data)

    def int_(self, value: int) -> Asm:
        if 0 <= value < 256:
            return self.raw(b"K" + bytes([value]))
        return self.raw(b"J" + struct.pack("<i", value))

    # -- globals ------------------------------------------------------------------------------
    def global_(self, module: str, name: str) -> Asm:
        """Protocol 0 text GLOBAL."""
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def inst(self, module: str, name: str) -> Asm:
        return self.raw(b"i" + module.encode() + b"\n" + name.encode() + b"\n")

    def stack_global(self, module: str, name: str) -> Asm:
        return self.su(module).su(name).op("STACK_GLOBAL")

    def ext(self, code: int) -> Asm:
        if code < 256:
            return self.raw(b"\x82" + bytes([code]))
        if code < 65536:
            return self.raw(b"\x83" + struct.pack("<H", code))
        return self.raw(b"\x84" + struct.pack("<i", code))

    # -- memo ---------------------------------------------------------------------------------
    def memoize(self) -> Asm:
        return self.op("MEMOIZE")

    def put(self, index: int) -> Asm:
        return self.raw(b"p" + str(index).encode() + b"\n")

    def binput(self, index: int) -> Asm:
        return self.raw(b"q" + bytes([index]))

    def long_binput(self, index: int) -> Asm:
        return self.raw(b"r" + struct.pack("<I", index))

    def get(self, index: int) -> Asm:
        return self.raw(b"g" + str(index).encode() + b"\n")

    def binget(self, index: int) -> Asm:
        return self.raw(b"h" + bytes([index]))

    def long_binget(self, index: int) -> Asm:
        return self.raw(b"j" + struct.pack("<I", index))

    # -- shorthands ---------------------------------------------------------------------------
    def call1(self, arg: str) -> Asm:
        """Call the callable on the stack with one string argument."""
        return self.su(arg).op("TUPLE1", "REDUCE")

    def build(self) -> bytes:
        return b"".join(self._parts)


_CODES: dict[str, bytes] = {
    "MARK": b"(",
    "STOP": b".",
    "POP": b"0",
    "POP_MARK": b"1",
    "DUP": b"2",
    "NONE": b"N",
    "NEWTRUE": b"\x88",
    "NEWFALSE": b"\x89",
    "REDUCE": b"R",
    "BUILD": b"b",
    "APPEND": b"a",
    "APPENDS": b"e",
    "DICT": b"d",
    "EMPTY_DICT": b"}",
    "LIST": b"l",
    "EMPTY_LIST": b"]",
    "OBJ": b"o",
    "SETITEM": b"s",
    "SETITEMS": b"u",
    "TUPLE": b"t",
    "EMPTY_TUPLE": b")",
    "TUPLE1": b"\x85",
    "TUPLE2": b"\x86",
    "TUPLE3": b"\x87",
    "NEWOBJ": b"\x81",
    "NEWOBJ_EX": b"\x92",
    "EMPTY_SET": b"\x8f",
    "ADDITEMS": b"\x90",
    "FROZENSET": b"\x91",
    "STACK_GLOBAL": b"\x93",
    "MEMOIZE": b"\x94",
    "BINPERSID": b"Q",
    "NEXT_BUFFER": b"\x97",
    "READONLY_BUFFER": b"\x98",
}


class Reducer:
    """An object whose pickle calls ``func(*args)`` when loaded (built, never loaded here)."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


def dumps_reduce(func: Callable[..., Any], *args: Any, protocol: int = 4) -> bytes:
    """The pickle of ``func(*args)``, made by :func:`pickle.dumps`."""
    return pickle.dumps(Reducer(func, *args), protocol=protocol)


def findings_for(data: bytes, member: str | None = "data.pkl") -> list[Finding]:
    return pickle_findings(analyze(data), path="model.pkl", member=member)


def critical(data: bytes, target: str) -> list[Finding]:
    """Assert a critical SSDF-SCAN-001 finding names ``target``; return all findings."""
    found = findings_for(data)
    hits = [
        f
        for f in found
        if f.rule_id == "SSDF-SCAN-001" and f.severity is Severity.CRITICAL and target in f.message
    ]
    assert hits, f"no critical finding naming {target!r}: {[f.message for f in found]}"
    return found


def uses(analysis: PickleAnalysis) -> dict[str, bool]:
    """Qualified name of each global reached -> whether any use of it is called."""
    out: dict[str, bool] = {}
    for use in analysis.globals:
        out[use.qualified] = out.get(use.qualified, False) or use.called
    return out
