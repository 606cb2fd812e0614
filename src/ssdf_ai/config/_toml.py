"""A small TOML writer for the configuration's own shapes (for ``ssdf config show``)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(value: str) -> str:
    """Quote ``value`` as a TOML basic string.

    Args:
        value: Any text.

    Returns:
        The quoted string; JSON's escapes are valid TOML, except that DEL must be escaped too.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_key(key: str) -> str:
    """Write a key bare when TOML allows it, else quoted."""
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """Write a scalar, an array of scalars or an inline table as TOML.

    Args:
        value: A string, enum, bool, int, float, date, sequence or mapping.

    Returns:
        The TOML text of the value.

    Raises:
        TypeError: For a value TOML cannot represent.
    """
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}" if inner else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_toml(data: Mapping[str, Any]) -> str:
    """Write a document of tables, arrays of tables and scalars as TOML.

    ``None`` values are left out, as TOML has no null.

    Args:
        data: The document, as nested mappings.

    Returns:
        The TOML text.
    """
    lines: list[str] = []
    _table(lines, (), data)
    return "\n".join(lines).strip("\n") + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _table(lines: list[str], path: tuple[str, ...], data: Mapping[str, Any]) -> None:
    name = ".".join(toml_key(p) for p in path)
    scalars = {
        k: v
        for k, v in data.items()
        if v is not None and not _is_table(v) and not _is_table_array(v)
    }
    if path:
        lines.append("")
        lines.append(f"[{name}]")
    lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in scalars.items())
    for key, value in data.items():
        if _is_table(value):
            _table(lines, (*path, key), value)
        elif _is_table_array(value):
            for item in value:
                lines.append("")
                lines.append(f"[[{'.'.join(toml_key(p) for p in (*path, key))}]]")
                lines.extend(
                    f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items() if v is not None
                )
