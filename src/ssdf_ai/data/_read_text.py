"""CSV and JSON Lines readers (standard library only), with bounded lines, fields and depth."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ssdf_ai.data.readers import (
    SAMPLE_BYTES,
    SAMPLE_ROWS,
    Chunk,
    Dataset,
    DatasetFormat,
    ReadLimits,
    RowProblem,
    _check_chunk_rows,
    _ChunkBuilder,
    _compact_json,
    _guess_dialect,
    _merge_type,
    _select,
)
from ssdf_ai.errors import InputError

_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
# no leading zeros ("007" is an identifier, kept as text); "1.", ".5" and "1e3" are floats
_FLOAT = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
# JSON strings (escapes included) are removed before brackets are counted for the depth check
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SKIP_CHUNK = 1 << 20


def _bounded_lines(fh: IO[bytes], max_bytes: int) -> Iterator[bytes | None]:
    """Yield the lines of a binary file, or ``None`` for a line over ``max_bytes``.

    An overlong line is read past in 1 MiB pieces and never held whole.
    """
    while True:
        line = fh.readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes or (len(line) == max_bytes + 1 and line.endswith(b"\n")):
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = fh.readline(_SKIP_CHUNK)
        yield None


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the dataset: {exc.strerror}", where=path) from exc


# ---- CSV -------------------------------------------------------------------------------


class _LineFeed:
    """Decoded lines for ``csv.reader``; remembers why the current record must be skipped.

    An overlong or undecodable line is replaced by an empty line, and :attr:`bad` says why, so
    the record it belonged to is reported and skipped while the reader keeps going.
    """

    def __init__(self, fh: IO[bytes], max_line_bytes: int) -> None:
        self.fh = fh
        self.max_line_bytes = max_line_bytes
        self.lineno = 0
        self.consumed = 0
        self.bad: str | None = None

    def __iter__(self) -> Iterator[str]:
        for raw in _bounded_lines(self.fh, self.max_line_bytes):
            self.lineno += 1
            if raw is None:
                self.bad = self.bad or f"the line is longer than {self.max_line_bytes} bytes"
                yield "\n"
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad = self.bad or "the line is not valid UTF-8"
                yield "\n"
                continue
            if self.lineno == 1:
                text = text.removeprefix("\ufeff")
            self.consumed += len(raw)
            yield text


def _csv_value_type(value: str) -> str:
    if value == "":
        return "null"
    if _INTEGER.fullmatch(value):
        return "integer"
    if _FLOAT.fullmatch(value):
        return "float"
    if value.lower() in _BOOLEANS:
        return "boolean"
    return "string"


def _converter(kind: str) -> Callable[[str], Any]:
    """Return the function that types one CSV value of a column of type ``kind``.

    A value that does not fit the column's type (seen past the sample) is kept as its text.
    """

    def integer(value: str) -> Any:
        if value == "":
            return None
        return int(value) if _INTEGER.fullmatch(value) else value

    def real(value: str) -> Any:
        if value == "":
            return None
        return float(value) if _FLOAT.fullmatch(value) else value

    def boolean(value: str) -> Any:
        if value == "":
            return None
        return _BOOLEANS.get(value.lower(), value)

    def text(value: str) -> Any:
        return None if value == "" else value

    return {"integer": integer, "float": real, "boolean": boolean}.get(kind, text)


class CsvDataset(Dataset):
    """A CSV file with a header row; dialect sniffed, types inferred from the first rows."""

    format = DatasetFormat.CSV

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        super().__init__(path, limits)
        self.dialect = self._sniff()
        self.names = self._header()
        self._types: dict[str, str] | None = None

    def _sniff(self) -> type[csv.Dialect]:
        with _open(self.path) as fh:
            head = fh.read(SAMPLE_BYTES)
        text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
        if len(head) == SAMPLE_BYTES and "\n" in text:
            text = text[: text.rfind("\n") + 1]
        fallback = csv.excel_tab if self.path.suffix.lower() == ".tsv" else csv.excel
        return _guess_dialect(text) or fallback

    def _records(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """Yield ``(line, fields, problem)`` for the header and every record after it."""
        limit = min(self.limits.max_cell_bytes, 2**31 - 1)
        with _open(self.path) as fh:
            feed = _LineFeed(fh, self.limits.max_line_bytes)
            reader = csv.reader(feed, self.dialect)
            while True:
                feed.bad, feed.consumed = None, 0
                line = feed.lineno + 1
                # the field limit is process-wide: set it only while this reader parses
                previous = csv.field_size_limit(limit)
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    reason = str(exc)
                    if "field larger than field limit" in reason:
                        reason = f"a field is longer than {limit} characters"
                    yield line, None, f"malformed CSV record: {reason}"
                    continue
                finally:
                    csv.field_size_limit(previous)
                if feed.bad is not None:
                    yield line, None, feed.bad
                elif feed.consumed > self.limits.max_line_bytes:
                    yield (
                        line,
                        None,
                        f"the record is longer than {self.limits.max_line_bytes} bytes",
                    )
                elif record:
                    yield line, record, None

    def _header(self) -> list[str]:
        for line, fields, problem in self._records():
            if fields is None:
                raise InputError(
                    f"the header row cannot be read: {problem}", where=f"{self.path} line {line}"
                )
            if len(fields) > self.limits.max_columns:
                raise InputError(
                    f"the header has {len(fields)} columns, more than the limit of "
                    f"{self.limits.max_columns}",
                    where=self.path,
                )
            names: list[str] = []
            for i, raw in enumerate(fields):
                name = raw.strip() or f"column_{i}"
                while name in names:
                    name = f"{name}_{i}"
                names.append(name)
            return names
        raise InputError("the CSV file is empty: a header row is needed", where=self.path)

    def _body(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        records = self._records()
        next(records, None)  # the header
        return records

    def schema(self) -> dict[str, str]:
        """Return column -> type, inferred from the first rows (see :meth:`Dataset.schema`)."""
        if self._types is None:
            types: dict[str, str | None] = dict.fromkeys(self.names)
            seen = 0
            for _line, fields, _problem in self._body():
                if fields is None or len(fields) != len(self.names):
                    continue
                for name, value in zip(self.names, fields, strict=True):
                    types[name] = _merge_type(types[name], _csv_value_type(value))
                seen += 1
                if seen >= SAMPLE_ROWS:
                    break
            self._types = {name: kind or "null" for name, kind in types.items()}
        return dict(self._types)

    def num_rows(self) -> int | None:
        """Return None: counting CSV rows needs a full read."""
        return None

    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows in chunks (see :meth:`Dataset.chunks`)."""
        _check_chunk_rows(chunk_rows)
        wanted = _select(self.names, columns, self.path)
        types = self.schema()
        keep = [
            (i, name, _converter(types[name]))
            for i, name in enumerate(self.names)
            if wanted is None or name in wanted
        ]
        builder = _ChunkBuilder([name for _, name, _ in keep], chunk_rows, wanted)
        width = len(self.names)
        name = self.path.name
        ordinal = -1
        for line, fields, problem in self._body():
            ordinal += 1
            if fields is not None and len(fields) != width:
                problem = f"the record has {len(fields)} fields, the header has {width}"
            if problem is not None:
                out = builder.problem(RowProblem(ordinal, f"{name} line {line}", problem))
            else:
                assert fields is not None  # noqa: S101 - narrowing for mypy
                out = builder.add({col: conv(fields[i]) for i, col, conv in keep})
            if out is not None:
                yield out
        last = builder.flush()
        if last is not None:
            yield last


# ---- JSON Lines --------------------------------------------------------------------------


def _too_deep(text: str, max_depth: int) -> bool:
    """Whether a JSON text nests objects and arrays deeper than ``max_depth``, without parsing."""
    if text.count("{") + text.count("[") <= max_depth:
        return False
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "json"


def _as_text(value: Any) -> str:
    """Render a message content or a chosen/rejected answer as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value):
        return "\n".join(f"{m['role']}: {_as_text(m.get('content'))}" for m in value)
    if isinstance(value, list) and all(isinstance(p, dict) and "text" in p for p in value):
        return "\n".join(_as_text(p["text"]) for p in value)  # content parts
    return "" if value is None else _compact_json(value)


def _derived(obj: dict[str, Any]) -> dict[str, str]:
    """Text columns derived from chat, preference and instruction records."""
    messages = obj.get("messages")
    if isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
        roles = [(str(m.get("role", "")), _as_text(m.get("content"))) for m in messages]
        answers = [content for role, content in roles if role == "assistant"]
        return {
            "prompt": "\n".join(content for role, content in roles if role != "assistant"),
            "response": answers[-1] if answers else "",
            "text": "\n".join(f"{role}: {content}" for role, content in roles),
        }
    if "chosen" in obj and "rejected" in obj:
        parts = [obj.get("prompt"), obj["chosen"]]
        return {"text": "\n".join(_as_text(p) for p in parts if p not in (None, ""))}
    for keys in (
        ("instruction", "input", "output"),
        ("prompt", "completion"),
        ("question", "answer"),
    ):
        if keys[0] in obj and keys[-1] in obj:
            parts = [obj.get(k) for k in keys]
            return {"text": "\n".join(_as_text(p) for p in parts if p not in (None, ""))}
    return {}


class JsonlDataset(Dataset):
    """A JSON Lines file: one object per line; scalar keys become columns."""

    format = DatasetFormat.JSONL

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        super().__init__(path, limits)
        self._types: dict[str, str] | None = None
        _open(path).close()  # fail early when unreadable

    def _rows(self) -> Iterator[tuple[int, _Row | None, str | None]]:
        """Yield ``(line, row, problem)`` for every non-blank line."""
        limits = self.limits
        with _open(self.path) as fh:
            for lineno, raw in enumerate(_bounded_lines(fh, limits.max_line_bytes), start=1):
                if raw is None:
                    yield lineno, None, f"the line is longer than {limits.max_line_bytes} bytes"
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield lineno, None, "the line is not valid UTF-8"
                    continue
                if lineno == 1:
                    text = text.removeprefix("\ufeff")
                if not text.strip():
                    continue
                yield (lineno, *self._parse(text))

    def _parse(self, text: str) -> tuple[_Row | None, str | None]:
        limits = self.limits
        if _too_deep(text, limits.max_json_depth):
            return None, f"the JSON nests deeper than {limits.max_json_depth} levels"
        try:
            obj = json.loads(text)
        except RecursionError:
            return None, f"the JSON nests deeper than {limits.max_json_depth} levels"
        except ValueError as exc:
            return None, f"invalid JSON: {exc}"
        if not isinstance(obj, dict):
            return None, f"the line holds a JSON {type(obj).__name__}, not an object"
        if len(obj) > limits.max_columns:
            return None, f"the object has {len(obj)} keys, more than {limits.max_columns}"
        row = _Row()
        nested = []
        max_chars = limits.max_cell_bytes // 4  # a UTF-8 character takes at most 4 bytes
        for key, value in obj.items():
            if isinstance(value, dict | list):
                nested.append(key)
                value = _compact_json(value)
            if (
                isinstance(value, str)
                and len(value) > max_chars
                and len(value.encode("utf-8", "surrogatepass")) > limits.max_cell_bytes
            ):
                return None, f"the value of {key!r} is longer than {limits.max_cell_bytes} bytes"
            row[key] = value
        row.nested = frozenset(nested)
        for key, value in _derived(obj).items():
            row.setdefault(key, value)
        return row, None

    def schema(self) -> dict[str, str]:
        """Return column -> type, inferred from the first rows (see :meth:`Dataset.schema`)."""
        if self._types is None:
            types: dict[str, str] = {}
            seen = 0
            for _line, row, _problem in self._rows():
                if row is None:
                    continue
                kinds = {k: "json" if k in row.nested else _json_type(v) for k, v in row.items()}
                for key, kind in kinds.items():
                    types[key] = _merge_type(types.get(key), kind)
                seen += 1
                if seen >= SAMPLE_ROWS:
                    break
            self._types = types
        return dict(self._types)

    def num_rows(self) -> int | None:
        """Return None: counting JSON Lines rows needs a full read."""
        return None

    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows in chunks (see :meth:`Dataset.chunks`).

        Columns are those of :meth:`schema`, plus any key first seen later in a chunk (with
        ``None`` for the rows of that chunk that lack it).
        """
        _check_chunk_rows(chunk_rows)
        names = list(self.schema())
        wanted = None if columns is None else list(columns)
        builder = _ChunkBuilder(names, chunk_rows, wanted)
        ordinal = -1
        name = self.path.name
        for line, row, problem in self._rows():
            ordinal += 1
            if row is None:
                out = builder.problem(RowProblem(ordinal, f"{name} line {line}", str(problem)))
            else:
                out = builder.add(row)
            if out is not None:
                yield out
        last = builder.flush()
        if last is not None:
            yield last


class _Row(dict[str, Any]):
    """A parsed JSON line; :attr:`nested` names the keys whose values were objects or arrays."""

    nested: frozenset[str] = frozenset()
