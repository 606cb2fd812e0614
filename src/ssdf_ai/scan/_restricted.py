"""A restricted pickle loader: builds plain values and tensor references, refuses the rest.

This is the loader behind ``ssdf convert``. It is its own small interpreter over the pickle
opcodes (protocols 0 to 5); it never calls :mod:`pickle`, never imports a module named by the
stream and never calls anything the stream names. Real Python values are built only for:

* ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``, ``bytearray``, ``tuple``,
  ``list``, ``dict``, ``set``, ``frozenset``, and ``collections.OrderedDict``;
* ``_codecs.encode(text, "latin1")`` and ``builtins.bytes()`` (how protocol 2 writes bytes),
  ``builtins.set`` / ``builtins.frozenset`` of a list;
* torch's tensor rebuild functions (``torch._utils._rebuild_tensor``,
  ``_rebuild_tensor_v2``, ``_rebuild_tensor_v3``, ``_rebuild_parameter``,
  ``_rebuild_parameter_with_state`` without state) which become a :class:`TensorRef`;
* torch's persistent ids ``('storage', <storage type>, key, location, numel[, view])``,
  which become a :class:`StorageRef` through the caller's ``persistent_load``;
* torch dtypes (``torch.float32``), storage classes (``torch.FloatStorage``,
  ``torch.UntypedStorage``) and ``torch.Size``;
* NumPy arrays as NumPy pickles them (``numpy.core.multiarray._reconstruct`` or
  ``numpy._core.multiarray._reconstruct`` of ``numpy.ndarray``, then ``BUILD`` with a
  ``numpy.dtype`` of a plain numeric type and the raw bytes), which become an
  :class:`ArrayRef`.

Any other global, any ``REDUCE``, ``NEWOBJ``, ``INST``, ``OBJ`` or ``BUILD`` on something not
allowlisted, extension codes and out-of-band buffers raise :class:`Refused`, naming the global
and its byte offset. A malformed stream raises :class:`MalformedPickle`. Operations, memo
size, mark depth and long integers are bounded; :class:`LimitExceeded` is raised past them.

The allowlist follows torch's own ``weights_only`` unpickler
(``torch/_weights_only_unpickler.py``), narrowed to what a conversion to safetensors needs.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import dataclasses
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ssdf_ai.scan._types import LimitExceeded

__all__ = [
    "DTYPE_SIZES",
    "ArrayRef",
    "MalformedPickle",
    "Refused",
    "StorageRef",
    "TensorRef",
    "restricted_load",
]

# Element sizes of the torch dtypes a tensor may have here (bytes per element).
DTYPE_SIZES: dict[str, int] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "uint16": 2,
    "uint32": 4,
    "uint64": 8,
    "bool": 1,
    "complex64": 8,
    "complex128": 16,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "float8_e4m3fnuz": 1,
    "float8_e5m2fnuz": 1,
    "float8_e8m0fnu": 1,
}

# torch's legacy storage classes (torch/storage.py ``_dtype_to_storage_type_map``).
_STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
}

# Aliases torch pickles dtypes under (``torch.float`` pickles as ``torch.float32``).
_DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64"}

_MAX_MEMO = 1_000_000
_MAX_MARKS = 100_000
_MAX_LONG_BYTES = 1024
_MAX_STACK = 10_000_000

_NUMPY_RECONSTRUCT = frozenset(
    {"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"}
)
# NumPy dtype strings accepted in a pickled array: byte order, kind, size.
_NUMPY_KINDS = frozenset("biufc")


class Refused(Exception):  # noqa: N818 - a verdict, turned into ConversionRefused by the caller
    """The stream names something outside the allowlist.

    Attributes:
        what: The offending global (``module.name``) or construct.
        offset: Byte offset in the stream of the opcode that brought it in.
        reason: Why it was refused.
        module: The global's module, when a global is at fault.
        name: The global's name, when a global is at fault.
    """

    def __init__(
        self, what: str, offset: int, reason: str, *, module: str = "", name: str = ""
    ) -> None:
        super().__init__(f"{what} at offset {offset}: {reason}")
        self.what = what
        self.offset = offset
        self.reason = reason
        self.module = module
        self.name = name


class MalformedPickle(Exception):  # noqa: N818 - turned into InputError by the caller
    """The stream is not a well-formed pickle (truncated, bad opcode, stack underflow)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


@dataclasses.dataclass(frozen=True)
class StorageRef:
    """A torch storage the pickle refers to by persistent id.

    Attributes:
        key: The storage key (``data/<key>`` in a zip checkpoint).
        dtype: The element dtype (torch name, e.g. ``float32``; ``uint8`` for untyped).
        location: Where it lived (``cpu``, ``cuda:0``); informational.
        numel: Elements in the storage (bytes for untyped storages).
    """

    key: str
    dtype: str
    location: str
    numel: int


@dataclasses.dataclass(frozen=True)
class TensorRef:
    """A tensor as a view of a storage.

    Attributes:
        storage: The storage it views.
        dtype: Its dtype (torch name).
        offset: Storage offset, in elements of ``dtype``.
        size: Its shape.
        stride: Its strides, in elements.
    """

    storage: StorageRef
    dtype: str
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class ArrayRef:
    """A NumPy array pickled with its raw bytes.

    Attributes:
        descr: The NumPy dtype string (``<f4``).
        shape: Its shape.
        fortran_order: Whether the bytes are in column-major order.
        data: The raw bytes.
    """

    descr: str
    shape: tuple[int, ...]
    fortran_order: bool
    data: bytes


@dataclasses.dataclass(frozen=True)
class _Global:
    module: str
    name: str
    offset: int

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


@dataclasses.dataclass(frozen=True)
class _StorageType:
    dtype: str


@dataclasses.dataclass(frozen=True)
class _Dtype:
    name: str


class _NumpyDtype:
    """A ``numpy.dtype`` under construction (``REDUCE`` then ``BUILD`` with its state)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.order = "|"


class _NumpyArray:
    """A ``numpy.ndarray`` under construction; complete once ``BUILD`` gives its state."""

    def __init__(self) -> None:
        self.ref: ArrayRef | None = None


class _Mark:
    pass


_MARK = _Mark()


def _resolve(module: str, name: str, offset: int) -> object:
    """The value an allowlisted global stands for; :class:`Refused` for anything else."""
    glob = _Global(module, name, offset)
    qualified = glob.qualified
    if module == "torch" or module == "torch.cuda":
        if name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name == "UntypedStorage":
            return _StorageType("uint8")
        dtype = _DTYPE_ALIASES.get(name, name)
        if module == "torch" and dtype in DTYPE_SIZES:
            return _Dtype(dtype)
    if qualified in {
        "torch.storage.UntypedStorage",
        "torch.Size",
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "_codecs.encode",
        "builtins.bytes",
        "builtins.bytearray",
        "builtins.set",
        "builtins.frozenset",
        "numpy.ndarray",
        "numpy.dtype",
        *_NUMPY_RECONSTRUCT,
    }:
        if qualified == "torch.storage.UntypedStorage":
            return _StorageType("uint8")
        return glob
    raise Refused(
        qualified,
        offset,
        "this global is not on the conversion allowlist",
        module=module,
        name=name,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_tuple(value: object) -> tuple[int, ...] | None:
    if isinstance(value, tuple | list) and all(_is_int(v) and v >= 0 for v in value):
        return tuple(value)
    return None


def _empty_hooks(value: object) -> bool:
    return value is None or (isinstance(value, dict) and not value)


class _Interpreter:
    def __init__(
        self,
        data: bytes,
        pos: int,
        persistent_load: Callable[[object, int], object] | None,
        max_ops: int,
    ) -> None:
        self.data = data
        self.pos = pos
        self.persistent_load = persistent_load
        self.max_ops = max_ops
        self.stack: list[Any] = []
        self.marks: list[list[Any]] = []
        self.memo: dict[int, Any] = {}
        self.proto = 0

    # -- reading ----------------------------------------------------------------------------

    def _take(self, n: int, at: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MalformedPickle("the pickle ends early (truncated)", at)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _line(self, at: int) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise MalformedPickle("the pickle ends early (unterminated line)", at)
        line = self.data[self.pos : end]
        self.pos = end + 1
        return line

    def _unpack(self, fmt: str, at: int) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self._take(size, at))[0]

    # -- stack ------------------------------------------------------------------------------

    def _pop(self, at: int) -> Any:
        if not self.stack:
            raise MalformedPickle("stack underflow", at)
        return self.stack.pop()

    def _top(self, at: int) -> Any:
        if not self.stack:
            raise MalformedPickle("stack underflow", at)
        return self.stack[-1]

    def _pop_mark(self, at: int) -> list[Any]:
        if not self.marks:
            raise MalformedPickle("no MARK to pop to", at)
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def _push(self, value: object) -> None:
        if len(self.stack) >= _MAX_STACK:
            raise LimitExceeded(f"pickle stack deeper than {_MAX_STACK}")
        self.stack.append(value)

    def _memo_put(self, index: int, value: object) -> None:
        if index not in self.memo and len(self.memo) >= _MAX_MEMO:
            raise LimitExceeded(f"pickle memo larger than {_MAX_MEMO} entries")
        self.memo[index] = value

    def _memo_get(self, index: int, at: int) -> object:
        if index not in self.memo:
            raise MalformedPickle(f"memo entry {index} is not defined", at)
        return self.memo[index]

    # -- running ----------------------------------------------------------------------------

    def run(self) -> tuple[object, int]:  # noqa: C901, PLR0912, PLR0915 - one opcode switch
        ops = 0
        data = self.data
        while True:
            at = self.pos
            if at >= len(data):
                raise MalformedPickle("the pickle ends before STOP (truncated)", at)
            op = data[at]
            self.pos += 1
            ops += 1
            if ops > self.max_ops:
                raise LimitExceeded(f"more than {self.max_ops} pickle opcodes")
            if op == 0x2E:  # STOP
                value = self._pop(at)
                if self.stack or self.marks:
                    raise MalformedPickle("values left on the stack at STOP", at)
                return value, self.pos
            if op == 0x80:  # PROTO
                self.proto = self._take(1, at)[0]
                if self.proto > 5:
                    raise MalformedPickle(f"unsupported pickle protocol {self.proto}", at)
            elif op == 0x95:  # FRAME
                self._take(8, at)
            elif op == 0x28:  # MARK
                if len(self.marks) >= _MAX_MARKS:
                    raise LimitExceeded(f"more than {_MAX_MARKS} nested MARKs")
                self.marks.append(self.stack)
                self.stack = []
            elif op == 0x30:  # POP
                if self.stack:
                    self.stack.pop()
                else:
                    self._pop_mark(at)
            elif op == 0x31:  # POP_MARK
                self._pop_mark(at)
            elif op == 0x32:  # DUP
                self._push(self._top(at))
            elif op == 0x4E:  # NONE
                self._push(None)
            elif op == 0x88:  # NEWTRUE
                self._push(True)
            elif op == 0x89:  # NEWFALSE
                self._push(False)
            elif op == 0x49:  # INT
                self._push(self._text_int(self._line(at), at))
            elif op == 0x4A:  # BININT
                self._push(self._unpack("<i", at))
            elif op == 0x4B:  # BININT1
                self._push(self._take(1, at)[0])
            elif op == 0x4D:  # BININT2
                self._push(self._unpack("<H", at))
            elif op == 0x4C:  # LONG
                line = self._line(at).rstrip(b"L")
                self._push(self._parse_int(line, at))
            elif op in (0x8A, 0x8B):  # LONG1, LONG4
                n = self._take(1, at)[0] if op == 0x8A else self._unpack("<i", at)
                if n < 0 or n > _MAX_LONG_BYTES:
                    raise MalformedPickle(f"long integer of {n} bytes refused", at)
                self._push(int.from_bytes(self._take(n, at), "little", signed=True))
            elif op == 0x46:  # FLOAT
                try:
                    self._push(float(self._line(at)))
                except ValueError:
                    raise MalformedPickle("bad FLOAT literal", at) from None
            elif op == 0x47:  # BINFLOAT
                self._push(self._unpack(">d", at))
            elif op == 0x53:  # STRING
                self._push(self._quoted(self._line(at), at))
            elif op in (0x54, 0x55):  # BINSTRING, SHORT_BINSTRING
                n = self._unpack("<i", at) if op == 0x54 else self._take(1, at)[0]
                self._push(self._legacy_str(self._take(n, at)))
            elif op in (0x42, 0x43, 0x8E, 0x96):  # BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
                fmt = {0x42: "<I", 0x8E: "<Q", 0x96: "<Q"}.get(op)
                n = self._unpack(fmt, at) if fmt else self._take(1, at)[0]
                raw = self._take(n, at)
                self._push(bytearray(raw) if op == 0x96 else raw)
            elif op == 0x56:  # UNICODE
                try:
                    self._push(self._line(at).decode("raw-unicode-escape"))
                except UnicodeDecodeError:
                    raise MalformedPickle("bad UNICODE literal", at) from None
            elif op in (0x58, 0x8C, 0x8D):  # BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                fmt = {0x58: "<I", 0x8D: "<Q"}.get(op)
                n = self._unpack(fmt, at) if fmt else self._take(1, at)[0]
                try:
                    self._push(self._take(n, at).decode("utf-8", "surrogatepass"))
                except UnicodeDecodeError:
                    raise MalformedPickle("string is not valid UTF-8", at) from None
            elif op == 0x29:  # EMPTY_TUPLE
                self._push(())
            elif op == 0x74:  # TUPLE
                self._push(tuple(self._pop_mark(at)))
            elif op in (0x85, 0x86, 0x87):  # TUPLE1, TUPLE2, TUPLE3
                n = op - 0x84
                if len(self.stack) < n:
                    raise MalformedPickle("stack underflow", at)
                items = self.stack[-n:]
                del self.stack[-n:]
                self._push(tuple(items))
            elif op == 0x5D:  # EMPTY_LIST
                self._push([])
            elif op == 0x6C:  # LIST
                self._push(self._pop_mark(at))
            elif op == 0x61:  # APPEND
                item = self._pop(at)
                self._list_target(at).append(item)
            elif op == 0x65:  # APPENDS
                items = self._pop_mark(at)
                self._list_target(at).extend(items)
            elif op == 0x7D:  # EMPTY_DICT
                self._push({})
            elif op == 0x64:  # DICT
                items = self._pop_mark(at)
                target: dict[Any, Any] = {}
                self._set_items(target, items, at)
                self._push(target)
            elif op == 0x73:  # SETITEM
                value = self._pop(at)
                key = self._pop(at)
                self._set_items(self._dict_target(at), [key, value], at)
            elif op == 0x75:  # SETITEMS
                items = self._pop_mark(at)
                self._set_items(self._dict_target(at), items, at)
            elif op == 0x8F:  # EMPTY_SET
                self._push(set())
            elif op == 0x90:  # ADDITEMS
                items = self._pop_mark(at)
                target_set = self._top(at)
                if not isinstance(target_set, set):
                    raise MalformedPickle("ADDITEMS on something that is not a set", at)
                target_set.update(self._hashable(i, at) for i in items)
            elif op == 0x91:  # FROZENSET
                self._push(frozenset(self._hashable(i, at) for i in self._pop_mark(at)))
            elif op in (0x70, 0x71, 0x72, 0x94):  # PUT, BINPUT, LONG_BINPUT, MEMOIZE
                if op == 0x70:
                    index = self._parse_int(self._line(at), at)
                elif op == 0x71:
                    index = self._take(1, at)[0]
                elif op == 0x72:
                    index = self._unpack("<I", at)
                else:
                    index = len(self.memo)
                self._memo_put(index, self._top(at))
            elif op in (0x67, 0x68, 0x6A):  # GET, BINGET, LONG_BINGET
                if op == 0x67:
                    index = self._parse_int(self._line(at), at)
                elif op == 0x68:
                    index = self._take(1, at)[0]
                else:
                    index = self._unpack("<I", at)
                self._push(self._memo_get(index, at))
            elif op == 0x63:  # GLOBAL
                module = self._line(at).decode("utf-8", "replace")
                name = self._line(at).decode("utf-8", "replace")
                self._push(self._global(module, name, at))
            elif op == 0x93:  # STACK_GLOBAL
                name_obj = self._pop(at)
                module_obj = self._pop(at)
                if not isinstance(module_obj, str) or not isinstance(name_obj, str):
                    raise MalformedPickle("STACK_GLOBAL needs two strings", at)
                self._push(self._global(module_obj, name_obj, at))
            elif op in (0x50, 0x51):  # PERSID, BINPERSID
                pid: object = (
                    self._line(at).decode("ascii", "replace") if op == 0x50 else self._pop(at)
                )
                if self.persistent_load is None:
                    raise Refused("persistent id", at, "this stream may not use persistent ids")
                self._push(self.persistent_load(pid, at))
            elif op == 0x52:  # REDUCE
                args = self._pop(at)
                func = self._pop(at)
                self._push(self._call(func, args, at))
            elif op == 0x62:  # BUILD
                state = self._pop(at)
                self._build(self._top(at), state, at)
            elif op in (0x81, 0x92):  # NEWOBJ, NEWOBJ_EX
                if op == 0x92:
                    self._pop(at)
                self._pop(at)
                cls = self._pop(at)
                raise self._refuse_call(cls, "NEWOBJ", at)
            elif op == 0x69:  # INST
                module = self._line(at).decode("utf-8", "replace")
                name = self._line(at).decode("utf-8", "replace")
                raise Refused(
                    f"{module}.{name}",
                    at,
                    "INST instantiates a class; refused",
                    module=module,
                    name=name,
                )
            elif op == 0x6F:  # OBJ
                items = self._pop_mark(at)
                cls = items[0] if items else None
                raise self._refuse_call(cls, "OBJ", at)
            elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
                raise Refused("extension code", at, "the copyreg extension registry is refused")
            elif op in (0x97, 0x98):  # NEXT_BUFFER, READONLY_BUFFER
                raise Refused("out-of-band buffer", at, "out-of-band buffers are refused")
            else:
                raise MalformedPickle(f"unknown opcode 0x{op:02x}", at)

    # -- helpers ----------------------------------------------------------------------------

    def _parse_int(self, text: bytes, at: int) -> int:
        try:
            if len(text) > 4 * _MAX_LONG_BYTES:
                raise ValueError
            return int(text)
        except ValueError:
            raise MalformedPickle("bad integer literal", at) from None

    def _text_int(self, text: bytes, at: int) -> int | bool:
        if text == b"00":
            return False
        if text == b"01":
            return True
        return self._parse_int(text, at)

    def _quoted(self, text: bytes, at: int) -> str | bytes:
        if len(text) >= 2 and text[0] == text[-1] and text[:1] in (b"'", b'"'):
            raw, _ = codecs.escape_decode(text[1:-1])
            return self._legacy_str(bytes(raw))
        raise MalformedPickle("the STRING opcode argument must be quoted", at)

    @staticmethod
    def _legacy_str(raw: bytes) -> str | bytes:
        # Python 2 ``str``: the unpickler's default encoding is ASCII; keep bytes otherwise.
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            return raw

    def _hashable(self, value: object, at: int) -> object:
        try:
            hash(value)
        except TypeError:
            raise MalformedPickle(f"unhashable {type(value).__name__} used as a key", at) from None
        return value

    def _list_target(self, at: int) -> list[Any]:
        target = self._top(at)
        if not isinstance(target, list):
            raise MalformedPickle("APPEND to something that is not a list", at)
        return target

    def _dict_target(self, at: int) -> dict[Any, Any]:
        target = self._top(at)
        if not isinstance(target, dict):
            raise MalformedPickle("SETITEM on something that is not a dict", at)
        return target

    def _set_items(self, target: dict[Any, Any], items: list[Any], at: int) -> None:
        if len(items) % 2:
            raise MalformedPickle("odd number of items for a dict", at)
        for i in range(0, len(items), 2):
            target[self._hashable(items[i], at)] = items[i + 1]

    def _global(self, module: str, name: str, at: int) -> object:
        if self.proto < 3:
            # Python 2 names, mapped as CPython's unpickler does with fix_imports.
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return _resolve(module, name, at)

    def _refuse_call(self, func: object, how: str, at: int) -> Refused:
        if isinstance(func, _Global):
            return Refused(
                func.qualified,
                func.offset,
                f"{how} of this global with these arguments is refused (at offset {at})",
                module=func.module,
                name=func.name,
            )
        return Refused(
            f"{how} on {type(func).__name__}", at, f"{how} on a non-allowlisted value is refused"
        )

    def _call(self, func: object, args: object, at: int) -> object:  # noqa: C901, PLR0911, PLR0912
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            raise self._refuse_call(func, "REDUCE", at)
        q = func.qualified
        if q == "collections.OrderedDict" and not args:
            return OrderedDict()
        if q == "torch.Size" and len(args) == 1 and _int_tuple(args[0]) is not None:
            return tuple(args[0])
        if (
            q == "_codecs.encode"
            and len(args) == 2
            and isinstance(args[0], str)
            and args[1] in ("latin1", "latin-1")
        ):
            return args[0].encode("latin-1")
        if q == "builtins.bytes" and not args:
            return b""
        if q == "builtins.bytearray" and len(args) <= 1:
            if not args:
                return bytearray()
            if isinstance(args[0], bytes):
                return bytearray(args[0])
        if q in ("builtins.set", "builtins.frozenset") and len(args) <= 1:
            items = args[0] if args else []
            if isinstance(items, list | tuple):
                hashed = [self._hashable(i, at) for i in items]
                return set(hashed) if q == "builtins.set" else frozenset(hashed)
        if q.startswith("torch._utils._rebuild"):
            tensor = self._rebuild(q, args)
            if tensor is not None:
                return tensor
        if q in _NUMPY_RECONSTRUCT and len(args) == 3:
            cls = args[0]
            if isinstance(cls, _Global) and cls.qualified == "numpy.ndarray":
                return _NumpyArray()
        if q == "numpy.dtype" and len(args) == 3 and isinstance(args[0], str):
            return _NumpyDtype(args[0])
        raise self._refuse_call(func, "REDUCE", at)

    @staticmethod
    def _rebuild(q: str, args: tuple[Any, ...]) -> TensorRef | None:
        name = q.rsplit(".", 1)[1]
        if name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
            want = 3 if name == "_rebuild_parameter" else 4
            if len(args) != want or not isinstance(args[0], TensorRef):
                return None
            if not isinstance(args[1], bool) or not _empty_hooks(args[2]):
                return None
            if want == 4 and not _empty_hooks(args[3]) and args[3] != ():
                return None
            return args[0]
        if name == "_rebuild_tensor_v3":
            if len(args) not in (7, 8) or not isinstance(args[6], _Dtype):
                return None
            dtype = args[6].name
            if len(args) == 8 and args[7]:
                return None
        elif name == "_rebuild_tensor_v2":
            if len(args) not in (6, 7) or (len(args) == 7 and args[6]):
                return None
            dtype = None
        elif name == "_rebuild_tensor":
            if len(args) != 4:
                return None
            dtype = None
        else:
            return None
        storage, offset = args[0], args[1]
        size, stride = _int_tuple(args[2]), _int_tuple(args[3])
        if not isinstance(storage, StorageRef) or not _is_int(offset) or offset < 0:
            return None
        if size is None or stride is None or len(size) != len(stride):
            return None
        if len(args) >= 6 and (not isinstance(args[4], bool) or not _empty_hooks(args[5])):
            return None
        return TensorRef(storage, dtype or storage.dtype, offset, size, stride)

    def _build(self, target: object, state: object, at: int) -> None:
        # torch's state dicts carry ``_metadata`` (module versions) as instance state; it is
        # not needed for the tensors and is dropped.
        if isinstance(target, OrderedDict) and isinstance(state, dict | type(None)):
            return
        # A NumPy dtype's state: (version, byteorder, subdescr, names, fields, elsize,
        # alignment, flags); only plain scalar dtypes (no subarray, no fields) are accepted.
        if (
            isinstance(target, _NumpyDtype)
            and isinstance(state, tuple)
            and len(state) >= 5
            and isinstance(state[1], str)
            and state[1] in ("<", ">", "|", "=")
            and all(s is None for s in state[2:5])
        ):
            target.order = state[1]
            return
        if isinstance(target, _NumpyArray) and target.ref is None and isinstance(state, tuple):
            ref = _numpy_state(state)
            if ref is not None:
                target.ref = ref
                return
        raise Refused(
            f"BUILD on {type(target).__name__}", at, "setting state on this value is refused"
        )


def _numpy_state(state: tuple[Any, ...]) -> ArrayRef | None:
    if len(state) != 5:
        return None
    _version, shape, dtype, fortran, raw = state
    shape_t = _int_tuple(shape)
    if shape_t is None or not isinstance(dtype, _NumpyDtype) or not isinstance(fortran, bool):
        return None
    if not isinstance(raw, bytes | bytearray):
        return None  # a list of objects: an object array
    code = dtype.code
    if len(code) < 2 or code[0] not in _NUMPY_KINDS or not code[1:].isdigit():
        return None
    order = dtype.order if dtype.order in "<>" else "|"
    if order == "|" and int(code[1:]) > 1:
        order = "<"
    if dtype.order == "=":
        order = "<" if struct.pack("=H", 1) == b"\x01\x00" else ">"
    return ArrayRef(f"{order}{code}", shape_t, fortran, bytes(raw))


def finish(value: object) -> object:
    """Replace NumPy arrays under construction by their :class:`ArrayRef` (in place).

    Args:
        value: What :func:`restricted_load` built.

    Returns:
        The value with every completed array as an :class:`ArrayRef`.

    Raises:
        MalformedPickle: An array was never given its state.
    """
    return _finish(value, 0)


def _finish(value: object, depth: int) -> object:
    if depth > 200:
        raise LimitExceeded("containers nested more than 200 deep")
    if isinstance(value, _NumpyArray):
        if value.ref is None:
            raise MalformedPickle("a NumPy array was never given its data", 0)
        return value.ref
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _finish(value[key], depth + 1)
        return value
    if isinstance(value, list):
        value[:] = [_finish(v, depth + 1) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(_finish(v, depth + 1) for v in value)
    if isinstance(value, _Global | _StorageType | _Dtype | _NumpyDtype):
        return value
    return value


def restricted_load(
    data: bytes,
    *,
    start: int = 0,
    persistent_load: Callable[[object, int], object] | None = None,
    max_ops: int = 10_000_000,
) -> tuple[object, int]:
    """Run one pickle from ``data[start:]`` through the allowlist.

    Args:
        data: The bytes holding the pickle.
        start: Where the pickle starts.
        persistent_load: Called with ``(persistent id, offset)`` for ``PERSID`` /
            ``BINPERSID``; returns the value to push or raises :class:`Refused`. ``None``
            refuses every persistent id.
        max_ops: Most opcodes run.

    Returns:
        The value built (tensors as :class:`TensorRef`, NumPy arrays as :class:`ArrayRef`)
        and the offset just past ``STOP``. Globals that stand in the value uncalled (a bare
        dtype, a storage class) are left as opaque objects the caller treats as non-plain.

    Raises:
        Refused: Something outside the allowlist, with the global and its offset.
        MalformedPickle: The stream is not a well-formed pickle.
        LimitExceeded: A bound on operations, memo, marks or nesting was passed.
    """
    machine = _Interpreter(data, start, persistent_load, max_ops)
    value, end = machine.run()
    return finish(value), end


def is_opaque(value: object) -> bool:
    """Whether ``value`` is one of the loader's internal markers (not a plain value).

    Args:
        value: A value from :func:`restricted_load`.

    Returns:
        True for bare globals, dtypes and storage classes left in the result.
    """
    return isinstance(value, _Global | _StorageType | _Dtype | _NumpyDtype | _NumpyArray)


def storage_dtype(value: object) -> str | None:
    """The dtype a storage class or dtype marker stands for, if ``value`` is one.

    Args:
        value: The second item of a ``('storage', ...)`` persistent id, or a dtype.

    Returns:
        The torch dtype name, or ``None``.
    """
    if isinstance(value, _StorageType):
        return value.dtype
    if isinstance(value, _Dtype):
        return value.name
    return None
