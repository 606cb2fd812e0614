"""Find the raw NumPy array bytes that joblib writes inline in its pickle stream.

``joblib.dump`` pickles a ``joblib.numpy_pickle.NumpyArrayWrapper`` in place of every array and
writes the array's bytes straight after the wrapper's ``BUILD`` opcode (one padding-length byte,
the padding, then ``prod(shape) * itemsize`` bytes), or, for object arrays, a nested pickle
(``joblib/numpy_pickle.py``, ``NumpyArrayWrapper.write_array``). To a pickle parser those bytes
are garbage. :func:`inline_regions` follows the stream with a small symbolic stack machine
(opcodes are decoded by :func:`pickletools.genops`; nothing is imported or called), reads the
wrapper's state (shape and dtype) and returns where each inline region starts and ends, so that
the engine can analyse the pickle around them and the nested pickles on their own.
"""

from __future__ import annotations

import dataclasses
import io
import math
import pickletools
import re
from typing import Any

WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_DTYPE_CODE = re.compile(r"^[<>|=]?([a-zA-Z])(\d+)")


@dataclasses.dataclass(frozen=True)
class InlineRegion:
    """Bytes joblib wrote inline after a ``NumpyArrayWrapper``.

    Attributes:
        start: Offset of the first byte (the padding-length byte, or the nested pickle).
        end: Offset just past the last byte.
        kind: ``array`` (raw numbers, not analysed) or ``pickle`` (an object array: a
            nested pickle stream that must be analysed on its own).
    """

    start: int
    end: int
    kind: str


@dataclasses.dataclass(frozen=True)
class _Global:
    module: str
    name: str


@dataclasses.dataclass
class _Obj:
    cls: Any
    args: Any
    state: Any = None


class _Dict(list[tuple[Any, Any]]):
    def get(self, key: str) -> Any:
        for k, v in self:
            if k == key:
                return v
        return None


class _Mark:
    pass


_UNKNOWN = object()


class _BrokenError(Exception):
    """The stream does not follow the shape this walker understands."""


def inline_regions(data: bytes, *, max_ops: int) -> tuple[list[InlineRegion], str | None]:
    """Locate joblib's inline array regions in a pickle stream.

    Args:
        data: The whole (decompressed) joblib file.
        max_ops: Most opcodes to walk.

    Returns:
        The regions in order, and ``None`` or a reason the walk stopped early (the rest of the
        stream is then left to the pickle analyzer, which reports what it cannot parse).
    """
    regions: list[InlineRegion] = []
    walker = _Walker(data, max_ops)
    try:
        walker.run(regions)
    except _BrokenError as exc:
        return regions, str(exc)
    return regions, None


class _Walker:
    def __init__(self, data: bytes, max_ops: int) -> None:
        self.data = data
        self.max_ops = max_ops
        self.ops = 0
        self.stack: list[Any] = []
        self.marks: list[list[Any]] = []
        self.memo: dict[int, Any] = {}

    def run(self, regions: list[InlineRegion]) -> None:
        pos = 0
        while pos < len(self.data):
            pos, stopped = self._walk_from(pos, regions)
            if stopped and pos < len(self.data) and self.data[pos] != 0x80:
                break

    def _walk_from(self, start: int, regions: list[InlineRegion]) -> tuple[int, bool]:
        """Walk opcodes from ``start`` to a STOP or an inline region; return where, and which."""
        stream = io.BytesIO(self.data)
        stream.seek(start)
        try:
            for opcode, arg, pos in pickletools.genops(stream):
                self.ops += 1
                if self.ops > self.max_ops:
                    raise _BrokenError("too many opcodes")
                if opcode.name == "STOP":
                    self.stack.clear()
                    self.memo.clear()
                    return (pos or 0) + 1, True
                built = self._step(opcode.name, arg)
                if built is not None:
                    region = self._region(built, (pos or 0) + 1)
                    regions.append(region)
                    return region.end, False
        except _BrokenError:
            raise
        except Exception as exc:  # noqa: BLE001 - genops raises several types on bad input
            raise _BrokenError(f"stream unreadable: {exc}") from None
        raise _BrokenError("stream ended without STOP")

    def _pop(self) -> Any:
        if not self.stack:
            raise _BrokenError("stack underflow")
        return self.stack.pop()

    def _pop_mark(self) -> list[Any]:
        if not self.marks:
            raise _BrokenError("no MARK")
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def _step(self, name: str, arg: Any) -> _Obj | None:  # noqa: C901, PLR0912 - one opcode each
        stack = self.stack
        if name in ("PROTO", "FRAME"):
            return None
        if name == "MARK":
            self.marks.append(stack)
            self.stack = []
        elif name in ("POP",):
            self._pop()
        elif name == "POP_MARK":
            self._pop_mark()
        elif name == "DUP":
            stack.append(stack[-1] if stack else _UNKNOWN)
        elif name in ("MEMOIZE",):
            self.memo[len(self.memo)] = stack[-1] if stack else _UNKNOWN
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[int(arg)] = stack[-1] if stack else _UNKNOWN
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(self.memo.get(int(arg), _UNKNOWN))
        elif name == "NONE":
            stack.append(None)
        elif name == "NEWTRUE":
            stack.append(True)
        elif name == "NEWFALSE":
            stack.append(False)
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = [self._pop() for _ in range(n)][::-1]
            stack.append(tuple(items))
        elif name == "TUPLE":
            items = self._pop_mark()
            self.stack.append(tuple(items))
        elif name in ("EMPTY_LIST",):
            stack.append([])
        elif name == "LIST":
            items = self._pop_mark()
            self.stack.append(list(items))
        elif name == "APPEND":
            value = self._pop()
            target = self.stack[-1] if self.stack else None
            if isinstance(target, list):
                target.append(value)
        elif name == "APPENDS":
            items = self._pop_mark()
            target = self.stack[-1] if self.stack else None
            if isinstance(target, list):
                target.extend(items)
        elif name == "EMPTY_DICT":
            stack.append(_Dict())
        elif name == "DICT":
            items = self._pop_mark()
            self.stack.append(_Dict(zip(items[::2], items[1::2], strict=False)))
        elif name == "SETITEM":
            value, key = self._pop(), self._pop()
            target = self.stack[-1] if self.stack else None
            if isinstance(target, _Dict):
                target.append((key, value))
        elif name == "SETITEMS":
            items = self._pop_mark()
            target = self.stack[-1] if self.stack else None
            if isinstance(target, _Dict):
                target.extend(zip(items[::2], items[1::2], strict=False))
        elif name in ("EMPTY_SET",):
            stack.append([])
        elif name == "ADDITEMS":
            self._pop_mark()
        elif name == "FROZENSET":
            items = self._pop_mark()
            self.stack.append(list(items))
        elif name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            stack.append(_Global(module, attr))
        elif name == "STACK_GLOBAL":
            attr, module = self._pop(), self._pop()
            stack.append(_Global(str(module), str(attr)))
        elif name in ("REDUCE", "NEWOBJ"):
            args = self._pop()
            cls = self._pop()
            stack.append(_Obj(cls, args))
        elif name == "NEWOBJ_EX":
            self._pop()
            args = self._pop()
            cls = self._pop()
            stack.append(_Obj(cls, args))
        elif name == "OBJ":
            items = self._pop_mark()
            self.stack.append(_Obj(items[0] if items else _UNKNOWN, tuple(items[1:])))
        elif name == "INST":
            module, _, attr = str(arg).partition(" ")
            items = self._pop_mark()
            self.stack.append(_Obj(_Global(module, attr), tuple(items)))
        elif name == "BUILD":
            state = self._pop()
            target = self.stack[-1] if self.stack else None
            if isinstance(target, _Obj):
                target.state = state
                if _is_wrapper(target):
                    return target
        elif name in ("PERSID", "BINPERSID"):
            if name == "BINPERSID":
                self._pop()
            stack.append(_UNKNOWN)
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            if name == "NEXT_BUFFER":
                stack.append(_UNKNOWN)
        else:
            # Every remaining opcode pushes one constant (ints, floats, strings, bytes, EXTn).
            stack.append(arg)
        return None

    def _region(self, wrapper: _Obj, start: int) -> InlineRegion:
        state = wrapper.state
        if not isinstance(state, _Dict):
            raise _BrokenError("NumpyArrayWrapper state is not a dict")
        itemsize, has_object = _dtype_info(state.get("dtype"))
        if has_object:
            end = _pickle_end(self.data, start)
            return InlineRegion(start, end, "pickle")
        shape = state.get("shape")
        if not isinstance(shape, tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise _BrokenError("NumpyArrayWrapper shape is not a tuple of sizes")
        pos = start
        if state.get("numpy_array_alignment_bytes") is not None:
            if pos >= len(self.data):
                raise _BrokenError("array padding missing")
            pos += 1 + self.data[pos]
        end = pos + math.prod(shape) * itemsize
        if end > len(self.data):
            raise _BrokenError(f"array of {end - pos} bytes runs past the end of the stream")
        return InlineRegion(start, end, "array")


def _is_wrapper(obj: _Obj) -> bool:
    cls = obj.cls
    if isinstance(cls, _Global) and cls.name in ("__newobj__", "_reconstructor"):
        args = obj.args
        cls = args[0] if isinstance(args, tuple) and args else None
    return isinstance(cls, _Global) and (cls.module, cls.name) == WRAPPER


def _dtype_info(dtype: Any) -> tuple[int, bool]:
    """(itemsize, has_object) of a symbolically rebuilt ``numpy.dtype``."""
    if not isinstance(dtype, _Obj) or not isinstance(dtype.args, tuple) or not dtype.args:
        raise _BrokenError("NumpyArrayWrapper dtype is not a numpy.dtype")
    code = dtype.args[0]
    if not isinstance(code, str):
        raise _BrokenError("NumpyArrayWrapper dtype has no type code")
    match = _DTYPE_CODE.match(code)
    state = dtype.state
    elsize = state[5] if isinstance(state, tuple) and len(state) > 7 else -1
    flags = state[7] if isinstance(state, tuple) and len(state) > 7 else 0
    has_object = code.lstrip("<>|=").startswith("O") or (isinstance(flags, int) and flags & 1)
    if isinstance(elsize, int) and elsize > 0:
        return elsize, bool(has_object)
    if match is None:
        raise _BrokenError(f"unknown dtype code {code!r}")
    return int(match.group(2)), bool(has_object)


def _pickle_end(data: bytes, start: int) -> int:
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        for opcode, _arg, pos in pickletools.genops(stream):
            if opcode.name == "STOP":
                return (pos or 0) + 1
    except Exception as exc:  # noqa: BLE001 - genops raises several types on bad input
        raise _BrokenError(f"nested object-array pickle unreadable: {exc}") from None
    raise _BrokenError("nested object-array pickle has no STOP")
