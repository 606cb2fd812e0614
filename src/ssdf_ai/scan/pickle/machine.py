"""A symbolic pickle machine: runs a pickle's opcodes over symbols, never over real objects.

The machine reads the opcode stream itself (no :mod:`pickle`, no ``pickletools.genops``), keeps
the unpickler's stack, mark stack and memo exactly as CPython's unpickler does for protocols
0 to 5, and pushes symbols instead of objects: constants for literals, :class:`_Ref` for a
global, :class:`_Call` for what calling something returns. Every global the stream reaches is
recorded with its byte offset, whether it is called, and the call chain it takes part in.

Calls to a few well-known indirections are followed symbolically when their arguments are
constant, so that what they reach is recorded (and classified) too: ``builtins.getattr``,
``importlib.import_module``, ``builtins.__import__``, ``pkgutil.resolve_name``,
``pydoc.locate``, ``operator.attrgetter`` / ``methodcaller``, ``functools.partial`` /
``reduce``, copyreg's extension registry, and the loaders of nested pickles
(``pickle.loads`` and friends), whose byte-string arguments are analysed in turn.

Hostile input is expected: every length is checked against the data before it is used,
containers keep at most a few items symbolically, the mark stack, memo, opcode count and
nesting depth are bounded, and a malformed stream is recorded as an error at its offset with
everything found before it kept.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import dataclasses
import struct
from collections.abc import Sequence

from ssdf_ai.scan.pickle.policy import DYNAMIC_MODULE, EXTENSION_MODULE

# Items kept per symbolic container and rendered per call; the rest is counted, not stored.
_KEEP = 32
# The deepest MARK nesting and the largest memo accepted (CPython has no limit but memory).
MAX_MARK_DEPTH = 100_000
MAX_MEMO = 5_000_000
# Nested pickles analysed per top-level analysis.
MAX_NESTED = 256
# Longest call chain rendered into a finding, in characters.
_CHAIN_CHARS = 300
# How many records a symbol carries for call-chain updates.
_MAX_RECS = 8

_U1 = struct.Struct("<B").unpack_from
_U2 = struct.Struct("<H").unpack_from
_U4 = struct.Struct("<I").unpack_from
_I4 = struct.Struct("<i").unpack_from
_U8 = struct.Struct("<Q").unpack_from
_F8 = struct.Struct(">d").unpack_from

_OPNAMES: dict[int, str] = {
    0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT",
    0x49: "INT", 0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE",
    0x50: "PERSID", 0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING",
    0x55: "SHORT_BINSTRING", 0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND",
    0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT", 0x7D: "EMPTY_DICT", 0x65: "APPENDS",
    0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET", 0x6C: "LIST",
    0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
    0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT",
    0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1",
    0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1",
    0x8B: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES", 0x8C: "SHORT_BINUNICODE",
    0x8D: "BINUNICODE8", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
    0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
    0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}  # fmt: skip
_HEADERS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
_STR_HEADERS = ("\x80\x02", "\x80\x03", "\x80\x04", "\x80\x05")


@dataclasses.dataclass(frozen=True, slots=True)
class GlobalUse:
    """One global a pickle reaches.

    Attributes:
        module: The module, as the stream names it (``<dynamic>`` when computed at load time,
            ``<extension>`` for an extension code the stream does not register).
        name: The (possibly dotted) name inside the module; empty for a module itself.
        offset: Byte offset of the opcode that reached it (in the analysed bytes).
        opcode: That opcode's name: ``GLOBAL``, ``STACK_GLOBAL``, ``INST``, ``EXT1``/``2``/``4``,
            or the calling opcode (``REDUCE`` …) for a global reached through an indirection
            such as ``getattr(import_module('os'), 'system')``.
        called: Whether the stream calls it (REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX, or BUILD
            through an instance's ``__setstate__``), directly or through an indirection.
        chain: A readable rendering of the largest expression it takes part in, such as
            ``builtins.getattr(importlib.import_module('os'), 'system')('id')``.
        stream: Which pickle of a multi-pickle byte string (0 for the first).
    """

    module: str
    name: str
    offset: int
    opcode: str
    called: bool
    chain: str
    stream: int = 0

    @property
    def qualified(self) -> str:
        """``module.name`` (or the module alone)."""
        return f"{self.module}.{self.name}" if self.name else self.module


@dataclasses.dataclass(frozen=True, slots=True)
class PickleAnalysis:
    """What the symbolic machine found in a byte string.

    Attributes:
        globals: Every global reached, in stream order.
        streams: How many pickles were analysed (a byte string may hold several in a row).
        error: Why analysis stopped early (malformed stream, limit), or None. Everything
            before ``error_offset`` was analysed; nothing after it was.
        error_offset: Byte offset of the opcode where the stream broke.
        nested: Pickles found inside byte strings the stream passes to a pickle loader (or
            that parse as a pickle), each with its offset in these bytes.
        ops: How many opcodes were executed.
    """

    globals: list[GlobalUse]
    streams: int
    error: str | None
    error_offset: int | None
    nested: list[tuple[int, PickleAnalysis]]
    ops: int


# ---------------------------------------------------------------------------------------------
# Symbols
# ---------------------------------------------------------------------------------------------


class _Rec:
    """A mutable record of one global use, frozen into a :class:`GlobalUse` at the end."""

    __slots__ = ("called", "chain", "module", "name", "offset", "opcode", "stream")

    def __init__(self, module: str, name: str, offset: int, opcode: str, stream: int) -> None:
        self.module = module
        self.name = name
        self.offset = offset
        self.opcode = opcode
        self.stream = stream
        self.called = False
        self.chain: object = None


class _Ref:
    """A global (or an attribute of one) as a symbol."""

    __slots__ = ("module", "name", "rec", "recs", "special", "via")

    def __init__(
        self,
        module: str,
        name: str,
        rec: _Rec | None,
        recs: tuple[_Rec, ...],
        special: int,
        via: object = None,
    ) -> None:
        self.module = module
        self.name = name
        self.rec = rec
        self.recs = recs
        self.special = special
        self.via = via


class _Call:
    """What calling (or instantiating) something returns."""

    __slots__ = ("args", "func", "kwargs", "recs", "setstate")

    def __init__(self, func: object, args: object, kwargs: object = None) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.recs: tuple[_Rec, ...] = ()
        self.setstate: object = None


class _List:
    __slots__ = ("items", "more")

    def __init__(self) -> None:
        self.items: list[object] = []
        self.more = 0

    def extend(self, items: list[object]) -> None:
        kept = self.items
        room = _KEEP - len(kept)
        if room >= len(items):
            kept.extend(items)
        else:
            if room > 0:
                kept.extend(items[:room])
                self.more += len(items) - room
            else:
                self.more += len(items)


class _Dict:
    __slots__ = ("items", "more", "setstate")

    def __init__(self) -> None:
        self.items: list[object] = []  # key, value, key, value …
        self.more = 0
        self.setstate: object = None

    def update(self, flat: list[object]) -> None:
        room = 2 * _KEEP - len(self.items)
        if room > 0:
            self.items.extend(flat[:room])
        if len(flat) > room:
            self.more += (len(flat) - max(room, 0)) // 2
        keys = flat[0::2]
        if "__setstate__" in keys:
            self.setstate = flat[2 * keys.index("__setstate__") + 1]


class _Set:
    __slots__ = ("frozen", "items", "more")

    def __init__(self, items: list[object], frozen: bool) -> None:
        self.items = items[:_KEEP]
        self.more = len(items) - len(self.items)
        self.frozen = frozen


class _Opaque:
    """A value the machine does not model (a persistent id, an out-of-band buffer, a huge int)."""

    __slots__ = ("text", "value")

    def __init__(self, text: str, value: object = None) -> None:
        self.text = text
        self.value = value


_BIG_INT = _Opaque("<large int>")
_BUFFER = _Opaque("<out-of-band buffer>")


class _Break(Exception):  # noqa: N818 - control flow inside the machine, never escapes it
    """The stream cannot be read on: ``args[0]`` says why."""


# Indirections the machine follows. Keys are ``module.name`` after Python 2 name mapping.
_GETATTR, _IMPORT, _IMPORT_MODULE, _RESOLVE_NAME, _LOCATE, _UFUNC = 1, 2, 3, 4, 5, 6
_PARTIAL, _METHODCALLER, _ATTRGETTER, _REDUCE_FN, _CALL_FN, _CALL_FIRST = 7, 8, 9, 10, 11, 12
_RECONSTRUCTOR, _NEWOBJ_FN, _ADD_EXTENSION, _LOADER, _BYTESIO, _ENCODE, _BYTES = (
    13, 14, 15, 16, 17, 18, 19,
)  # fmt: skip
_SPECIALS: dict[str, int] = {
    "builtins.getattr": _GETATTR,
    "builtins.__import__": _IMPORT,
    "importlib.__import__": _IMPORT,
    "importlib.import_module": _IMPORT_MODULE,
    "importlib._bootstrap._gcd_import": _IMPORT_MODULE,
    "_frozen_importlib._gcd_import": _IMPORT_MODULE,
    "pkgutil.resolve_name": _RESOLVE_NAME,
    "pydoc.locate": _LOCATE,
    "torch._utils._import_dotted_name": _LOCATE,
    "numpy.core._ufunc_reconstruct": _UFUNC,
    "numpy._core._ufunc_reconstruct": _UFUNC,
    "functools.partial": _PARTIAL,
    "functools.partialmethod": _PARTIAL,
    "_functools.partial": _PARTIAL,
    "operator.methodcaller": _METHODCALLER,
    "_operator.methodcaller": _METHODCALLER,
    "operator.attrgetter": _ATTRGETTER,
    "_operator.attrgetter": _ATTRGETTER,
    "functools.reduce": _REDUCE_FN,
    "_functools.reduce": _REDUCE_FN,
    "operator.call": _CALL_FN,
    "_operator.call": _CALL_FN,
    "builtins.apply": _CALL_FN,
    "torch._utils._rebuild_from_type_v2": _CALL_FIRST,
    "torch._tensor._rebuild_from_type_v2": _CALL_FIRST,
    "torch._tensor._rebuild_from_type": _CALL_FIRST,
    "copyreg._reconstructor": _RECONSTRUCTOR,
    "copyreg.__newobj__": _NEWOBJ_FN,
    "copyreg.__newobj_ex__": _NEWOBJ_FN,
    "copyreg.add_extension": _ADD_EXTENSION,
    "io.BytesIO": _BYTESIO,
    "_io.BytesIO": _BYTESIO,
    "_codecs.encode": _ENCODE,
    "codecs.encode": _ENCODE,
    "builtins.bytes": _BYTES,
    "builtins.bytearray": _BYTES,
}
for _loader in (
    "pickle.loads", "pickle.load", "pickle._loads", "pickle._load", "pickle.Unpickler",
    "pickle._Unpickler", "_pickle.loads", "_pickle.load", "_pickle.Unpickler", "dill.loads",
    "dill.load", "dill._dill.loads", "dill._dill.load", "cloudpickle.loads", "cloudpickle.load",
    "cloudpickle.cloudpickle.loads", "torch.load", "torch.serialization.load", "joblib.load",
    "joblib.numpy_pickle.load", "pandas.read_pickle", "numpy.load", "shelve.open",
    "torch.storage._load_from_bytes",
):  # fmt: skip
    _SPECIALS[_loader] = _LOADER
_TEXT_ENCODINGS = frozenset({"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "ascii"})


def _special_of(module: str, name: str) -> int:
    special = _SPECIALS.get(f"{module}.{name}", 0)
    if special or not module:
        return special
    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        return _SPECIALS.get(f"{mapped[0]}.{mapped[1]}", 0)
    if module in _compat_pickle.IMPORT_MAPPING:
        return _SPECIALS.get(f"{_compat_pickle.IMPORT_MAPPING[module]}.{name}", 0)
    if module in ("__builtins__", "__builtin__"):
        return _SPECIALS.get(f"builtins.{name}", 0)
    return 0


def _join(name: str, attr: str) -> str:
    return f"{name}.{attr}" if name else attr


def _merge(*groups: tuple[_Rec, ...]) -> tuple[_Rec, ...]:
    out: list[_Rec] = []
    for group in groups:
        for rec in group:
            if rec not in out:
                out.append(rec)
    return tuple(out[:_MAX_RECS])


def _recs_of(value: object) -> tuple[_Rec, ...]:
    if type(value) is _Ref or type(value) is _Call:
        return value.recs
    return ()


# ---------------------------------------------------------------------------------------------
# Rendering call chains
# ---------------------------------------------------------------------------------------------


class _Renderer:
    """Renders a symbol as Python-like text, within a character budget."""

    def __init__(self, budget: int = _CHAIN_CHARS) -> None:
        self.out: list[str] = []
        self.left = budget

    def text(self, value: object) -> str:
        self._value(value, 0)
        text = "".join(self.out)
        return text if self.left > 0 else text + "…"

    def _put(self, text: str) -> bool:
        if self.left <= 0:
            return False
        self.out.append(text[: self.left])
        self.left -= len(text)
        return self.left > 0

    def _value(self, value: object, depth: int) -> None:
        if self.left <= 0:
            return
        if depth > 8:
            self._put("…")
            return
        if isinstance(value, str | bytes):
            self._put(repr(value[:40]) + ("…" if len(value) > 40 else ""))
        elif value is None or isinstance(value, int | float):
            self._put(repr(value))
        elif type(value) is _Ref:
            if value.via is not None:
                self._value(value.via, depth + 1)
            else:
                self._put(f"{value.module}.{value.name}" if value.name else value.module)
        elif type(value) is _Call:
            self._value(value.func, depth + 1)
            self._put("(")
            if type(value.args) is tuple:
                self._items(value.args, 0, depth)
            else:
                self._put("*")
                self._value(value.args, depth + 1)
            if value.kwargs is not None:
                self._put(", **")
                self._value(value.kwargs, depth + 1)
            self._put(")")
        elif type(value) is tuple:
            self._put("(")
            self._items(value, 0, depth)
            self._put(",)" if len(value) == 1 else ")")
        elif type(value) is _List:
            self._put("[")
            self._items(value.items, value.more, depth)
            self._put("]")
        elif type(value) is _Set:
            self._put("frozenset({" if value.frozen else "{")
            self._items(value.items, value.more, depth)
            self._put("})" if value.frozen else "}")
        elif type(value) is _Dict:
            self._put("{")
            for i in range(0, min(len(value.items), 12), 2):
                if i:
                    self._put(", ")
                self._value(value.items[i], depth + 1)
                self._put(": ")
                if i + 1 < len(value.items):
                    self._value(value.items[i + 1], depth + 1)
            if value.more or len(value.items) > 12:
                self._put(", …")
            self._put("}")
        elif type(value) is _Opaque:
            if value.value is None:
                self._put(value.text)
            else:
                self._put(f"{value.text}(")
                self._value(value.value, depth + 1)
                self._put(")")
        else:
            self._put(f"<{type(value).__name__}>")

    def _items(self, items: Sequence[object], more: int, depth: int) -> None:
        for i, item in enumerate(items[:6]):
            if i:
                self._put(", ")
            self._value(item, depth + 1)
        if more or len(items) > 6:
            self._put(", …")


def _render(value: object) -> str:
    return _Renderer().text(value)


# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------


class _Shared:
    """State shared by an analysis and the analyses of pickles nested in it."""

    __slots__ = ("extensions", "max_depth", "max_ops", "nested_count")

    def __init__(self, max_ops: int, max_depth: int) -> None:
        self.max_ops = max_ops
        self.max_depth = max_depth
        # copyreg's extension registry is process state: a registration in one pickle is seen
        # by every later pickle loaded in the same process.
        self.extensions: dict[int, tuple[str, str]] = {}
        self.nested_count = 0


class _Machine:
    def __init__(self, data: bytes, shared: _Shared, depth: int) -> None:
        self.data = data
        self.shared = shared
        self.depth = depth
        self.recs: list[_Rec] = []
        self.nested: list[tuple[int, PickleAnalysis]] = []
        self.nested_seen: dict[int, object] = {}
        self.encoded: dict[int, tuple[str, bytes]] = {}
        self.stream = 0
        self.ops = 0

    # -- the result ---------------------------------------------------------------------------

    def run(self) -> PickleAnalysis:
        data = self.data
        n = len(data)
        error: str | None = None
        error_offset: int | None = None
        streams = 0
        pos = 0
        if n == 0:
            error, error_offset = "empty input: no pickle opcodes", 0
        while pos < n:
            recs_before = len(self.recs)
            nested_before = len(self.nested)
            pos, error, error_offset = self._stream(pos)
            if error is not None:
                if streams and len(self.recs) == recs_before and len(self.nested) == nested_before:
                    # Bytes after a complete pickle that do not parse as one either (the raw
                    # storages of a legacy torch.save file, padding): not a further pickle.
                    error = error_offset = None
                else:
                    streams += 1
                break
            streams += 1
            self.stream += 1
            if pos >= n or not _starts_like_pickle(data, pos):
                break
        return PickleAnalysis(
            globals=[self._use(rec) for rec in self.recs],
            streams=streams,
            error=error,
            error_offset=error_offset,
            nested=self.nested,
            ops=self.ops,
        )

    @staticmethod
    def _use(rec: _Rec) -> GlobalUse:
        qualified = f"{rec.module}.{rec.name}" if rec.name else rec.module
        chain = _render(rec.chain) if rec.chain is not None else qualified
        return GlobalUse(
            rec.module, rec.name, rec.offset, rec.opcode, rec.called, chain, rec.stream
        )

    # -- one pickle -----------------------------------------------------------------------------

    def _stream(self, pos: int) -> tuple[int, str | None, int | None]:
        """Run one pickle from ``pos`` to its STOP; return where it ended and any error."""
        data = self.data
        n = len(data)
        stack: list[object] = []
        metastack: list[list[object]] = []
        memo: dict[int, object] = {}
        ops = self.ops
        limit = self.shared.max_ops
        op_pos = pos
        code = 0
        try:
            while True:
                if pos >= n:
                    op_pos = pos
                    raise _Break("the data ends before the pickle's STOP opcode")
                op_pos = pos
                code = data[pos]
                pos += 1
                ops += 1
                if ops > limit:
                    raise _Break(
                        f"more than {limit} opcodes: analysis stopped at the limit (max_pickle_ops)"
                    )
                # Ordered roughly by how often real pickles use each opcode.
                if code == 0x71:  # BINPUT
                    if pos >= n:
                        raise _Break("truncated BINPUT")
                    if len(memo) >= MAX_MEMO:
                        raise _Break(f"more than {MAX_MEMO} memo entries")
                    memo[data[pos]] = stack[-1]
                    pos += 1
                elif code == 0x68:  # BINGET
                    if pos >= n:
                        raise _Break("truncated BINGET")
                    value = memo.get(data[pos], memo)
                    if value is memo:
                        raise _Break(f"BINGET of memo index {data[pos]}, which was never set")
                    stack.append(value)
                    pos += 1
                elif code == 0x94:  # MEMOIZE
                    if len(memo) >= MAX_MEMO:
                        raise _Break(f"more than {MAX_MEMO} memo entries")
                    memo[len(memo)] = stack[-1]
                elif code == 0x8C:  # SHORT_BINUNICODE
                    if pos >= n:
                        raise _Break("truncated SHORT_BINUNICODE")
                    end = pos + 1 + data[pos]
                    if end > n:
                        raise _Break("SHORT_BINUNICODE runs past the end of the data")
                    stack.append(data[pos + 1 : end].decode("utf-8", "surrogatepass"))
                    pos = end
                elif code == 0x4B:  # BININT1
                    if pos >= n:
                        raise _Break("truncated BININT1")
                    stack.append(data[pos])
                    pos += 1
                elif code == 0x28:  # MARK
                    if len(metastack) >= MAX_MARK_DEPTH:
                        raise _Break(f"MARK nested more than {MAX_MARK_DEPTH} deep")
                    metastack.append(stack)
                    stack = []
                elif code == 0x85:  # TUPLE1
                    stack[-1] = (stack[-1],)
                elif code == 0x86:  # TUPLE2
                    second = stack.pop()
                    stack[-1] = (stack[-1], second)
                elif code == 0x87:  # TUPLE3
                    third = stack.pop()
                    second = stack.pop()
                    stack[-1] = (stack[-1], second, third)
                elif code == 0x74:  # TUPLE
                    items = stack
                    stack = metastack.pop()
                    stack.append(tuple(items[:_KEEP]))
                elif code == 0x29:  # EMPTY_TUPLE
                    stack.append(())
                elif code == 0x52:  # REDUCE
                    args = stack.pop()
                    stack[-1] = self._call(stack[-1], args, None, "REDUCE", op_pos)
                elif code == 0x4A:  # BININT
                    if pos + 4 > n:
                        raise _Break("truncated BININT")
                    stack.append(_I4(data, pos)[0])
                    pos += 4
                elif code == 0x4D:  # BININT2
                    if pos + 2 > n:
                        raise _Break("truncated BININT2")
                    stack.append(_U2(data, pos)[0])
                    pos += 2
                elif code == 0x4E:  # NONE
                    stack.append(None)
                elif code == 0x88:  # NEWTRUE
                    stack.append(True)
                elif code == 0x89:  # NEWFALSE
                    stack.append(False)
                elif code == 0x65:  # APPENDS
                    items = stack
                    stack = metastack.pop()
                    target = stack[-1]
                    if type(target) is _List:
                        target.extend(items)
                    else:
                        self._append(target, items, op_pos)
                elif code == 0x75:  # SETITEMS
                    items = stack
                    stack = metastack.pop()
                    if len(items) % 2:
                        raise _Break("SETITEMS with an odd number of items")
                    self._setitems(stack[-1], items, op_pos)
                elif code == 0x7D:  # EMPTY_DICT
                    stack.append(_Dict())
                elif code == 0x5D:  # EMPTY_LIST
                    stack.append(_List())
                elif code == 0x47:  # BINFLOAT
                    if pos + 8 > n:
                        raise _Break("truncated BINFLOAT")
                    stack.append(_F8(data, pos)[0])
                    pos += 8
                elif code == 0x58 or code == 0x8D:  # BINUNICODE, BINUNICODE8
                    width = 4 if code == 0x58 else 8
                    if pos + width > n:
                        raise _Break("truncated string length")
                    size = _U4(data, pos)[0] if width == 4 else _U8(data, pos)[0]
                    start = pos + width
                    if size > n - start:
                        raise _Break(f"a {size}-byte string runs past the end of the data")
                    stack.append(data[start : start + size].decode("utf-8", "surrogatepass"))
                    pos = start + size
                elif code == 0x72:  # LONG_BINPUT
                    if pos + 4 > n:
                        raise _Break("truncated LONG_BINPUT")
                    if len(memo) >= MAX_MEMO:
                        raise _Break(f"more than {MAX_MEMO} memo entries")
                    memo[_U4(data, pos)[0]] = stack[-1]
                    pos += 4
                elif code == 0x6A:  # LONG_BINGET
                    if pos + 4 > n:
                        raise _Break("truncated LONG_BINGET")
                    index = _U4(data, pos)[0]
                    value = memo.get(index, memo)
                    if value is memo:
                        raise _Break(f"LONG_BINGET of memo index {index}, which was never set")
                    stack.append(value)
                    pos += 4
                elif code == 0x95:  # FRAME
                    if pos + 8 > n:
                        raise _Break("truncated FRAME")
                    size = _U8(data, pos)[0]
                    pos += 8
                    if size > n - pos:
                        raise _Break(f"a FRAME of {size} bytes runs past the end of the data")
                elif code == 0x80:  # PROTO
                    if pos >= n:
                        raise _Break("truncated PROTO")
                    if data[pos] > 5:
                        raise _Break(f"unsupported pickle protocol {data[pos]}")
                    pos += 1
                elif code == 0x2E:  # STOP
                    stack.pop()
                    self.ops = ops
                    return pos, None, None
                elif code == 0x93:  # STACK_GLOBAL
                    name = stack.pop()
                    module = stack.pop()
                    stack.append(self._stack_global(module, name, op_pos))
                elif code == 0x63 or code == 0x69:  # GLOBAL, INST
                    module_text, pos = _line(data, pos)
                    name_text, pos = _line(data, pos)
                    try:
                        module = module_text.decode("utf-8")
                        name = name_text.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise _Break(f"module or name is not UTF-8: {exc.reason}") from None
                    if code == 0x63:
                        stack.append(self._global(module, name, op_pos, "GLOBAL"))
                    else:
                        items = stack
                        stack = metastack.pop()
                        cls = self._global(module, name, op_pos, "INST")
                        stack.append(self._call(cls, tuple(items[:_KEEP]), None, "INST", op_pos))
                elif code == 0x81:  # NEWOBJ
                    args = stack.pop()
                    stack[-1] = self._call(stack[-1], args, None, "NEWOBJ", op_pos)
                elif code == 0x92:  # NEWOBJ_EX
                    kwargs = stack.pop()
                    args = stack.pop()
                    stack[-1] = self._call(stack[-1], args, kwargs, "NEWOBJ_EX", op_pos)
                elif code == 0x6F:  # OBJ
                    items = stack
                    stack = metastack.pop()
                    stack.append(
                        self._call(items[0], tuple(items[1 : _KEEP + 1]), None, "OBJ", op_pos)
                    )
                elif code == 0x62:  # BUILD
                    state = stack.pop()
                    self._build(stack[-1], state, op_pos)
                elif code == 0x61:  # APPEND
                    value = stack.pop()
                    self._append(stack[-1], [value], op_pos)
                elif code == 0x73:  # SETITEM
                    value = stack.pop()
                    key = stack.pop()
                    self._setitems(stack[-1], [key, value], op_pos)
                elif code == 0x90:  # ADDITEMS
                    items = stack
                    stack = metastack.pop()
                    target = stack[-1]
                    if type(target) is _Set:
                        room = _KEEP - len(target.items)
                        target.items.extend(items[: max(room, 0)])
                        target.more += max(len(items) - max(room, 0), 0)
                    else:
                        self._mutate(target, "add", op_pos)
                elif code == 0x8F:  # EMPTY_SET
                    stack.append(_Set([], frozen=False))
                elif code == 0x91:  # FROZENSET
                    items = stack
                    stack = metastack.pop()
                    stack.append(_Set(items, frozen=True))
                elif code == 0x6C:  # LIST
                    items = stack
                    stack = metastack.pop()
                    built_list = _List()
                    built_list.extend(items)
                    stack.append(built_list)
                elif code == 0x64:  # DICT
                    items = stack
                    stack = metastack.pop()
                    if len(items) % 2:
                        raise _Break("DICT with an odd number of items")
                    built = _Dict()
                    built.update(items)
                    stack.append(built)
                elif code == 0x30:  # POP
                    if stack:
                        stack.pop()
                    else:  # CPython: POP with an empty stack discards the topmost MARK
                        stack = metastack.pop()
                elif code == 0x31:  # POP_MARK
                    stack = metastack.pop()
                elif code == 0x32:  # DUP
                    stack.append(stack[-1])
                elif code == 0x43 or code == 0x42 or code == 0x8E or code == 0x96:
                    # SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8
                    width = 1 if code == 0x43 else 4 if code == 0x42 else 8
                    if pos + width > n:
                        raise _Break("truncated byte-string length")
                    size = (
                        data[pos] if width == 1 else _U4(data, pos)[0] if width == 4 else
                        _U8(data, pos)[0]
                    )  # fmt: skip
                    start = pos + width
                    if size > n - start:
                        raise _Break(f"a {size}-byte byte string runs past the end of the data")
                    stack.append(data[start : start + size])
                    pos = start + size
                elif code == 0x55 or code == 0x54:  # SHORT_BINSTRING, BINSTRING
                    width = 1 if code == 0x55 else 4
                    if pos + width > n:
                        raise _Break("truncated string length")
                    size = data[pos] if width == 1 else _I4(data, pos)[0]
                    start = pos + width
                    if size < 0:
                        raise _Break("BINSTRING with a negative length")
                    if size > n - start:
                        raise _Break(f"a {size}-byte string runs past the end of the data")
                    # Python 3 decodes Python 2 str as text (ASCII by default); latin-1 keeps
                    # every byte so that names built from it are still recognised.
                    stack.append(data[start : start + size].decode("latin-1"))
                    pos = start + size
                elif code == 0x8A or code == 0x8B:  # LONG1, LONG4
                    width = 1 if code == 0x8A else 4
                    if pos + width > n:
                        raise _Break("truncated long length")
                    size = data[pos] if width == 1 else _I4(data, pos)[0]
                    start = pos + width
                    if size < 0:
                        raise _Break("LONG4 with a negative length")
                    if size > n - start:
                        raise _Break(f"a {size}-byte integer runs past the end of the data")
                    if size <= 16:
                        stack.append(
                            int.from_bytes(data[start : start + size], "little", signed=True)
                        )
                    else:
                        stack.append(_BIG_INT)
                    pos = start + size
                elif code == 0x49 or code == 0x4C:  # INT, LONG
                    line, pos = _line(data, pos)
                    stack.append(_text_int(line, code == 0x4C))
                elif code == 0x46:  # FLOAT
                    line, pos = _line(data, pos)
                    try:
                        stack.append(float(line))
                    except ValueError:
                        raise _Break("FLOAT argument is not a number") from None
                elif code == 0x53:  # STRING
                    line, pos = _line(data, pos)
                    stack.append(_text_string(line))
                elif code == 0x56:  # UNICODE
                    line, pos = _line(data, pos)
                    try:
                        stack.append(str(line, "raw-unicode-escape"))
                    except UnicodeDecodeError:
                        raise _Break("UNICODE argument does not decode") from None
                elif code == 0x67 or code == 0x70:  # GET, PUT
                    line, pos = _line(data, pos)
                    try:
                        index = int(line)
                    except ValueError:
                        raise _Break("memo index is not a number") from None
                    if code == 0x67:
                        value = memo.get(index, memo)
                        if value is memo:
                            raise _Break(f"GET of memo index {index}, which was never set")
                        stack.append(value)
                    else:
                        if index < 0:
                            raise _Break("negative PUT index")
                        if len(memo) >= MAX_MEMO:
                            raise _Break(f"more than {MAX_MEMO} memo entries")
                        memo[index] = stack[-1]
                elif code == 0x82 or code == 0x83 or code == 0x84:  # EXT1, EXT2, EXT4
                    width = 1 if code == 0x82 else 2 if code == 0x83 else 4
                    if pos + width > n:
                        raise _Break("truncated extension code")
                    ext = data[pos] if width == 1 else _U2(data, pos)[0] if width == 2 else (
                        _I4(data, pos)[0]
                    )  # fmt: skip
                    pos += width
                    stack.append(self._extension(ext, op_pos, _OPNAMES[code]))
                elif code == 0x50:  # PERSID
                    line, pos = _line(data, pos)
                    stack.append(_Opaque("persistent_load", line.decode("latin-1")))
                elif code == 0x51:  # BINPERSID
                    stack[-1] = _Opaque("persistent_load", stack[-1])
                elif code == 0x97:  # NEXT_BUFFER
                    stack.append(_BUFFER)
                elif code == 0x98:  # READONLY_BUFFER
                    stack[-1]  # noqa: B018 - CPython needs a value there
                else:
                    raise _Break(f"invalid opcode 0x{code:02x}")
        except _Break as exc:
            message = str(exc)
        except UnicodeDecodeError as exc:
            message = f"{_OPNAMES.get(code, 'opcode')} argument is not UTF-8: {exc.reason}"
        except IndexError:
            message = (
                f"{_OPNAMES.get(code, 'opcode')} needs more values than the stack holds "
                "(stack underflow or missing MARK)"
            )
        self.ops = ops
        return pos, message, op_pos

    # -- globals --------------------------------------------------------------------------------

    def _global(self, module: str, name: str, offset: int, opcode: str) -> _Ref:
        rec = _Rec(module, name, offset, opcode, self.stream)
        self.recs.append(rec)
        return _Ref(module, name, rec, (rec,), _special_of(module, name))

    def _stack_global(self, module: object, name: object, offset: int) -> _Ref:
        if type(module) is str and type(name) is str:
            return self._global(module, name, offset, "STACK_GLOBAL")
        if any(type(part) is not str and _is_constant(part) for part in (module, name)):
            raise _Break("STACK_GLOBAL needs two strings")
        # Module or name computed by a call: only the loading process knows what it reaches.
        text = f"{_render(module)}, {_render(name)}"
        rec = _Rec(DYNAMIC_MODULE, text, offset, "STACK_GLOBAL", self.stream)
        self.recs.append(rec)
        return _Ref(DYNAMIC_MODULE, text, rec, _merge((rec,), _recs_of(module), _recs_of(name)), 0)

    def _extension(self, ext: int, offset: int, opcode: str) -> _Ref:
        key = self.shared.extensions.get(ext)
        if key is not None:
            return self._global(key[0], key[1], offset, opcode)
        if ext <= 0:
            raise _Break(f"extension code {ext} is not positive")
        return self._global(EXTENSION_MODULE, str(ext), offset, opcode)

    def _reach(
        self, module: str, name: str, via: _Call, offset: int, opcode: str, *recs: tuple[_Rec, ...]
    ) -> _Ref:
        """A global reached through an indirection (getattr, import_module, …)."""
        if not name:  # a module: recorded when an attribute of it is reached
            return _Ref(module, name, None, _merge(*recs), 0, via)
        rec = _Rec(module, name, offset, opcode, self.stream)
        rec.chain = via
        self.recs.append(rec)
        return _Ref(module, name, rec, _merge((rec,), *recs), _special_of(module, name), via)

    def _dynamic(self, via: _Call, offset: int, opcode: str, *recs: tuple[_Rec, ...]) -> _Ref:
        return self._reach(DYNAMIC_MODULE, _render(via), via, offset, opcode, *recs)

    # -- calls ----------------------------------------------------------------------------------

    def _call(self, func: object, args: object, kwargs: object, opcode: str, offset: int) -> object:
        node = _Call(func, args, kwargs)
        argt = args if type(args) is tuple else ()
        return self._apply(func, argt, kwargs, node, offset, opcode, 0)

    def _apply(
        self,
        func: object,
        argt: tuple[object, ...],
        kwargs: object,
        node: _Call,
        offset: int,
        opcode: str,
        depth: int,
    ) -> object:
        """Call ``func`` symbolically; ``node`` is the expression rendered in call chains."""
        if type(func) is _Ref:
            if func.rec is not None:
                func.rec.called = True
            for rec in func.recs:
                rec.chain = node
            node.recs = func.recs
            special = func.special
            if special:
                return self._special(special, func, argt, kwargs, node, offset, opcode, depth)
            if argt:
                self._probe(argt, offset, loader=False)
            return node
        if type(func) is _Call:
            for rec in func.recs:
                rec.chain = node
            node.recs = func.recs
            inner = func.func
            inner_args = func.args if type(func.args) is tuple else ()
            if type(inner) is _Ref and inner.special and inner_args and depth < 8:
                special = inner.special
                if special == _PARTIAL:
                    # functools.partial(f, *a)(*b) calls f(*a, *b).
                    return self._apply(
                        inner_args[0],
                        inner_args[1:] + argt,
                        kwargs,
                        node,
                        offset,
                        opcode,
                        depth + 1,
                    )
                if special == _METHODCALLER and argt and type(inner_args[0]) is str:
                    # operator.methodcaller('m', *a)(obj) calls obj.m(*a).
                    method = self._attr(argt[0], inner_args[0], node, offset, opcode, func.recs)
                    if method is not None:
                        return self._apply(
                            method, inner_args[1:], None, node, offset, opcode, depth + 1
                        )
                if special == _ATTRGETTER and argt:
                    # operator.attrgetter('a.b')(obj) is obj.a.b.
                    reached: object = node
                    for path in inner_args:
                        if type(path) is not str:
                            return self._dynamic(node, offset, opcode, func.recs)
                        target: object = argt[0]
                        for part in path.split("."):
                            target = self._attr(target, part, node, offset, opcode, func.recs)
                            if target is None:
                                return node
                        reached = target
                    return reached
            if argt:
                self._probe(argt, offset, loader=False)
            return node
        return node

    def _special(
        self,
        special: int,
        func: _Ref,
        argt: tuple[object, ...],
        kwargs: object,
        node: _Call,
        offset: int,
        opcode: str,
        depth: int,
    ) -> object:
        recs = func.recs
        first = argt[0] if argt else None
        if special == _GETATTR:
            if len(argt) >= 2:
                if type(argt[1]) is str:
                    reached = self._attr(first, argt[1], node, offset, opcode, recs)
                    return node if reached is None else reached
                return self._dynamic(node, offset, opcode, recs)
            return node
        if special in (_IMPORT, _IMPORT_MODULE, _RESOLVE_NAME, _LOCATE):
            if type(first) is not str:
                return self._dynamic(node, offset, opcode, recs) if argt else node
            if special == _IMPORT:
                fromlist = argt[3] if len(argt) > 3 else None
                module = first if _truthy(fromlist) else first.partition(".")[0]
                return self._reach(module, "", node, offset, opcode, recs)
            if special == _IMPORT_MODULE:
                return self._reach(first, "", node, offset, opcode, recs)
            if special == _RESOLVE_NAME and ":" in first:
                module, _, name = first.partition(":")
            else:
                module, _, name = first.partition(".")
            return self._reach(module, name, node, offset, opcode, recs)
        if special == _UFUNC:
            if len(argt) >= 2 and type(argt[0]) is str and type(argt[1]) is str:
                return self._reach(argt[0], argt[1], node, offset, opcode, recs)
            return self._dynamic(node, offset, opcode, recs)
        if special in (_PARTIAL, _METHODCALLER, _ATTRGETTER):
            return node  # followed when the result is called
        if special in (_REDUCE_FN, _CALL_FN, _CALL_FIRST):
            if argt and depth < 8:
                inner_args = argt[1:]
                if special == _CALL_FIRST:
                    inner_args = argt[2] if len(argt) > 2 and type(argt[2]) is tuple else ()
                elif special == _REDUCE_FN:
                    inner_args = ()
                self._apply(first, inner_args, None, node, offset, opcode, depth + 1)
            return node
        if special in (_RECONSTRUCTOR, _NEWOBJ_FN):
            # copyreg._reconstructor(cls, base, state) calls base.__new__(cls) and base.__init__;
            # copyreg.__newobj__(cls, *args) calls cls.__new__(cls, *args).
            targets = argt[:2] if special == _RECONSTRUCTOR else argt[:1]
            for target in targets:
                if type(target) is _Ref and target.rec is not None:
                    target.rec.called = True
                    if target.rec.chain is None:
                        target.rec.chain = node
            node.recs = _merge(_recs_of(first), recs)
            return node
        if special == _ADD_EXTENSION:
            if len(argt) >= 3 and type(argt[0]) is str and type(argt[1]) is str:
                code = argt[2]
                if type(code) is int:
                    self.shared.extensions[code] = (argt[0], argt[1])
            return node
        if special == _LOADER:
            self._probe(argt, offset, loader=True)
            if type(kwargs) is _Dict:
                self._probe(tuple(kwargs.items[1::2]), offset, loader=True)
            return node
        if argt:
            self._probe(argt, offset, loader=False)
        return node

    def _attr(
        self,
        obj: object,
        attr: str,
        node: _Call,
        offset: int,
        opcode: str,
        recs: tuple[_Rec, ...],
    ) -> _Ref | None:
        """``getattr(obj, attr)`` when ``obj`` is a global, a module, or an instance of one."""
        if type(obj) is _Ref:
            return self._reach(
                obj.module, _join(obj.name, attr), node, offset, opcode, recs, obj.recs
            )
        if type(obj) is _Call and type(obj.func) is _Ref:
            # An attribute of an instance: judged as the class attribute it most likely is.
            cls = obj.func
            return self._reach(
                cls.module, _join(cls.name, attr), node, offset, opcode, recs, obj.recs
            )
        if type(obj) is str:
            return self._reach("builtins", f"str.{attr}", node, offset, opcode, recs)
        return None

    # -- containers and state -----------------------------------------------------------------

    def _append(self, target: object, items: list[object], offset: int) -> None:
        if type(target) is _List:
            target.extend(items)
        else:
            self._mutate(target, "extend" if len(items) != 1 else "append", offset)

    def _setitems(self, target: object, items: list[object], offset: int) -> None:
        if type(target) is _Dict:
            target.update(items)
        else:
            self._mutate(target, "__setitem__", offset)

    def _mutate(self, target: object, method: str, offset: int) -> None:
        """APPEND/SETITEM/ADDITEMS/BUILD on a global itself: a call on a module-level object."""
        if type(target) is _Ref:
            node = _Call(_Opaque(f"{_render(target)}.{method}"), ())
            ref = self._reach(
                target.module, _join(target.name, method), node, offset, "BUILD", target.recs
            )
            if ref.rec is not None:
                ref.rec.called = True
                ref.rec.opcode = _OPNAMES.get(self.data[offset], "BUILD")

    def _build(self, target: object, state: object, offset: int) -> None:
        if type(target) is _Call:
            setstate = target.setstate
            if setstate is not None:
                # An earlier BUILD put __setstate__ in the instance: this BUILD calls it.
                node = _Call(setstate, (state,))
                self._apply(setstate, (state,), None, node, offset, "BUILD", 0)
                return
            func = target.func
            if (
                type(func) is _Ref
                and func.special == _PARTIAL
                and type(state) is tuple
                and len(state) == 4
            ):
                # functools.partial.__setstate__((func, args, kwds, dict)).
                args = state[1] if type(state[1]) is tuple else ()
                target.args = (state[0], *args)
            found = _setstate_in(state)
            if found is not None:
                target.setstate = found
            if type(state) is tuple:
                self._probe(state, offset, loader=False)
            elif type(state) is bytes:
                self._probe((state,), offset, loader=False)
        elif type(target) is _Ref:
            self._mutate(target, "__setstate__", offset)

    # -- nested pickles -------------------------------------------------------------------------

    def _probe(self, values: tuple[object, ...], offset: int, *, loader: bool) -> None:
        """Analyse byte-string arguments that are (or, for a loader, must be) pickles."""
        for value in values:
            if type(value) is bytes:
                if loader or value[:2] in _HEADERS:
                    self._nested_pickle(value, value, offset, loader=loader)
            elif type(value) is _Call:
                raw = self._bytes_of(value, loader=loader)
                if raw is not None:
                    self._nested_pickle(raw[0], raw[1], offset, loader=loader)
            elif loader and type(value) is str:
                self._nested_pickle(value, value.encode("latin-1", "replace"), offset, loader=True)

    def _bytes_of(self, value: _Call, *, loader: bool) -> tuple[object, bytes] | None:
        """Constant-fold ``_codecs.encode(s, 'latin1')``, ``bytes(s, enc)``, ``BytesIO(b)``."""
        func = value.func
        args = value.args
        if type(func) is not _Ref or type(args) is not tuple or not args:
            return None
        first = args[0]
        if func.special == _BYTESIO:
            if type(first) is bytes:
                return (first, first) if loader or first[:2] in _HEADERS else None
            if type(first) is _Call:
                return self._bytes_of(first, loader=loader)
            return None
        if func.special not in (_ENCODE, _BYTES) or type(first) is not str:
            if func.special == _BYTES and type(first) is bytes:
                return (first, first) if loader or first[:2] in _HEADERS else None
            return None
        if not loader and not first.startswith(_STR_HEADERS):
            return None
        encoding = args[1] if len(args) > 1 else "utf-8"
        if type(encoding) is not str:
            return None
        cached = self.encoded.get(id(first))
        if cached is not None and cached[0] is first:
            return first, cached[1]
        try:
            raw = first.encode(codecs.lookup(encoding).name)
        except (LookupError, UnicodeError):
            return None
        self.encoded[id(first)] = (first, raw)
        return first, raw

    def _nested_pickle(self, source: object, raw: bytes, offset: int, *, loader: bool) -> None:
        if id(source) in self.nested_seen:
            return
        self.nested_seen[id(source)] = source
        shared = self.shared
        where = _find(self.data, source, offset)
        if self.depth >= shared.max_depth or shared.nested_count >= MAX_NESTED:
            if loader:
                why = (
                    f"pickles nested more than {shared.max_depth} deep"
                    if self.depth >= shared.max_depth
                    else f"more than {MAX_NESTED} nested pickles"
                )
                self.nested.append((where, _unanalysed(f"not analysed: {why}")))
            return
        shared.nested_count += 1
        analysis = _Machine(raw, shared, self.depth + 1).run()
        if loader or (analysis.error is None and analysis.ops > 2):
            self.nested.append((where, analysis))


def _unanalysed(why: str) -> PickleAnalysis:
    return PickleAnalysis(globals=[], streams=0, error=why, error_offset=0, nested=[], ops=0)


def _find(data: bytes, source: object, fallback: int) -> int:
    """Where a nested pickle's bytes sit in the parent (its first copy), else the call's offset."""
    if type(source) is bytes:
        where = data.find(source)
    elif type(source) is str:
        where = data.find(source.encode("utf-8", "surrogatepass"))
    else:
        where = -1
    return where if where >= 0 else fallback


def _setstate_in(state: object) -> object:
    if type(state) is _Dict:
        return state.setstate
    if type(state) is tuple and len(state) == 2:
        for part in state:
            if type(part) is _Dict and part.setstate is not None:
                return part.setstate
    return None


def _truthy(value: object) -> bool:
    if value is None or value == () or value == "" or value is False or value == 0:
        return False
    if type(value) is _List:
        return bool(value.items or value.more)
    return True


def _is_constant(value: object) -> bool:
    return not (type(value) is _Call or type(value) is _Ref or type(value) is _Opaque)


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.find(b"\n", pos)
    if end < 0:
        raise _Break("a text argument is missing its newline")
    return data[pos:end], end + 1


def _text_int(line: bytes, long: bool) -> object:
    if not long and line in (b"00", b"01"):
        return line == b"01"
    if long and line.endswith(b"L"):
        line = line[:-1]
    if len(line) > 64:
        if not line.strip().lstrip(b"-+").isdigit():
            raise _Break("INT argument is not a number")
        return _BIG_INT
    try:
        return int(line, 0)
    except ValueError:
        try:
            return int(line)
        except ValueError:
            raise _Break("INT argument is not a number") from None


def _text_string(line: bytes) -> str:
    if len(line) >= 2 and line[0] == line[-1] and line[:1] in (b"'", b'"'):
        try:
            raw: bytes = codecs.escape_decode(line[1:-1])[0]
        except ValueError:
            raise _Break("STRING argument has an invalid escape") from None
        return raw.decode("latin-1")
    raise _Break("the STRING opcode argument must be quoted")


def _starts_like_pickle(data: bytes, pos: int) -> bool:
    code = data[pos]
    if code == 0x80:
        return pos + 1 < len(data) and data[pos + 1] <= 5
    return code in _OPNAMES


def analyze(data: bytes, *, max_ops: int = 10_000_000, max_nested_depth: int = 3) -> PickleAnalysis:
    """Run the symbolic machine over a byte string that holds one or more pickles.

    Nothing is unpickled, imported or evaluated. The analysis never raises on malformed or
    hostile input: it records where and why the stream broke, keeping everything before it.

    Args:
        data: The bytes (a ``.pkl`` file, a ``data.pkl`` member of a PyTorch archive, …).
        max_ops: Most opcodes executed; past it the analysis stops with an error (the engine
            reports it as unparseable, never clean).
        max_nested_depth: How deep pickles nested in byte strings are followed.

    Returns:
        The globals reached, the number of pickles analysed, any error, nested pickles and
        the opcode count.
    """
    data = data if type(data) is bytes else bytes(data)
    return _Machine(data, _Shared(max_ops, max_nested_depth), 0).run()
