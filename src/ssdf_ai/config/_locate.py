"""Map a key path such as ``roles[1].covers`` to its line in a TOML document.

:mod:`tomllib` reports no line numbers for the values it returns, so this module scans the text
once more for table headers (``[a.b]``), arrays of tables (``[[roles]]``, counted per parent),
``key = value`` lines and the elements of arrays. It runs only on text that tomllib has already
parsed, and it is an approximation: keys inside an inline table map to the inline table's line.
A path that is not found falls back to its longest known prefix.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence

PathPart = str | int
KeyPath = tuple[PathPart, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class TomlLocator:
    """Line numbers of the keys, tables and array elements of one TOML document.

    Args:
        text: The document; it should be valid TOML.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1
        self._lines: dict[KeyPath, int] = {}
        self._arrays_of_tables: dict[KeyPath, int] = {}
        # Invalid TOML reaches here only by mistake; keep what was found so far.
        with contextlib.suppress(IndexError, ValueError):
            self._scan()

    def line_of(self, path: Sequence[PathPart]) -> int | None:
        """Return the line of ``path``, or of its longest known prefix.

        Args:
            path: Keys and array indices, such as ``("roles", 1, "covers")``.

        Returns:
            The 1-based line number, or ``None`` when no prefix of the path is in the document.
        """
        candidate: KeyPath = tuple(path)
        while candidate:
            for variant in (candidate, _split_dotted(candidate)):
                if variant in self._lines:
                    return self._lines[variant]
            candidate = candidate[:-1]
        return None

    # -- scanning -------------------------------------------------------------------------

    def _peek(self, offset: int = 0) -> str:
        index = self._pos + offset
        return self._text[index] if index < len(self._text) else ""

    def _advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self._peek() == "\n":
                self._line += 1
            self._pos += 1

    def _skip_space(self, *, newlines: bool) -> None:
        while self._pos < len(self._text):
            char = self._peek()
            if char in " \t\r" or (newlines and char == "\n"):
                self._advance()
            elif char == "#":
                while self._pos < len(self._text) and self._peek() != "\n":
                    self._advance()
            else:
                return

    def _record(self, path: KeyPath) -> None:
        self._lines.setdefault(path, self._line)

    def _scan(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip_space(newlines=True)
            if self._pos >= len(self._text):
                return
            if self._peek() == "[":
                table = self._header()
            else:
                start = self._pos
                keys = self._key()
                path = table + tuple(keys)
                for depth in range(len(table) + 1, len(path) + 1):
                    self._record(path[:depth])
                self._skip_space(newlines=False)
                self._advance()  # "="
                self._skip_space(newlines=False)
                self._value(path)
                if self._pos == start:  # pragma: no cover - defensive: always make progress
                    self._advance()

    def _header(self) -> KeyPath:
        array = self._peek(1) == "["
        self._advance(2 if array else 1)
        self._skip_space(newlines=False)
        keys = self._key()
        self._skip_space(newlines=False)
        self._advance(2 if array else 1)
        path = self._resolve(keys)
        for depth in range(1, len(path)):
            self._record(path[:depth])
        if array:
            index = self._arrays_of_tables.get(path, 0)
            self._arrays_of_tables[path] = index + 1
            self._record(path)
            path = (*path, index)
        self._record(path)
        return path

    def _resolve(self, keys: list[str]) -> KeyPath:
        """Resolve a header's keys through the arrays of tables opened so far."""
        path: list[PathPart] = []
        for position, key in enumerate(keys):
            path.append(key)
            last = position == len(keys) - 1
            count = self._arrays_of_tables.get(tuple(path))
            if not last and count:
                path.append(count - 1)
        return tuple(path)

    def _key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self._skip_space(newlines=False)
            char = self._peek()
            if char in "\"'":
                keys.append(self._string())
            else:
                match = _BARE_KEY.match(self._text, self._pos)
                if not match:
                    raise ValueError(f"no key at line {self._line}")
                keys.append(match.group())
                self._advance(match.end() - self._pos)
            self._skip_space(newlines=False)
            if self._peek() != ".":
                return keys
            self._advance()

    def _string(self) -> str:
        quote = self._peek()
        if self._text.startswith(quote * 3, self._pos):
            self._advance(3)
            end = self._text.find(quote * 3, self._pos)
            if end < 0:
                raise ValueError("unterminated string")
            # A multi-line string may end with up to two extra quotes.
            while self._text.startswith(quote, end + 3):
                end += 1
            raw = self._text[self._pos : end]
            self._advance(end + 3 - self._pos)
            return raw
        self._advance()
        chars: list[str] = []
        while True:
            char = self._peek()
            if char in ("", "\n"):
                raise ValueError("unterminated string")
            self._advance()
            if char == quote:
                return "".join(chars)
            if char == "\\" and quote == '"':
                chars.append(self._escape())
            else:
                chars.append(char)

    def _escape(self) -> str:
        char = self._peek()
        if char in "uU":
            width = 4 if char == "u" else 8
            digits = self._text[self._pos + 1 : self._pos + 1 + width]
            self._advance(1 + width)
            return str(json.loads(f'"\\u{digits}"')) if width == 4 else chr(int(digits, 16))
        self._advance()
        return _ESCAPES.get(char, char)

    def _value(self, path: KeyPath) -> None:
        char = self._peek()
        if char == "[":
            self._advance()
            index = 0
            while True:
                self._skip_space(newlines=True)
                if self._peek() in ("]", ""):
                    self._advance()
                    return
                element = (*path, index)
                self._record(element)
                self._value(element)
                self._skip_space(newlines=True)
                if self._peek() == ",":
                    self._advance()
                    index += 1
        elif char == "{":
            self._advance()
            while True:
                self._skip_space(newlines=False)
                if self._peek() in ("}", ""):
                    self._advance()
                    return
                keys = self._key()
                self._record((*path, *keys))
                self._skip_space(newlines=False)
                self._advance()  # "="
                self._skip_space(newlines=False)
                self._value((*path, *keys))
                self._skip_space(newlines=False)
                if self._peek() == ",":
                    self._advance()
        elif char in "\"'":
            self._string()
        else:
            while self._peek() not in ("", ",", "]", "}", "\n", "#"):
                self._advance()


def _split_dotted(path: KeyPath) -> KeyPath:
    """``("responsibility", "PW.4.4")`` -> ``("responsibility", "PW", "4", "4")``."""
    parts: list[PathPart] = []
    for part in path:
        if isinstance(part, str) and "." in part:
            parts.extend(part.split("."))
        else:
            parts.append(part)
    return tuple(parts)


def format_key_path(path: Sequence[PathPart]) -> str:
    """Write a key path as ``roles[1].covers``; keys that are not bare are quoted.

    Args:
        path: Keys and array indices.

    Returns:
        The path as text.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else json.dumps(part)
            text += f".{key}" if text else key
    return text
