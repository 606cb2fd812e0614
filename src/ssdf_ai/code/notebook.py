"""Jupyter notebooks read as data: the cells' source and the text of their saved outputs.

A notebook is JSON (nbformat 4; nbformat 3's ``worksheets`` are read too). Nothing in it is
run. Each :class:`Cell` carries its source and the text of its saved outputs (streams, plain
text and HTML results, error tracebacks) so that the code rules can analyse the source and the
secret scan can read both; :attr:`Cell.line` maps a line of the source to the line of the
``.ipynb`` file where that cell's source begins, so findings point at the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssdf_ai.errors import InputError

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_CELLS = 20_000
# Output data types read as text; images and other binary payloads are skipped.
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "application/json", "text/latex")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a notebook.

    Attributes:
        index: Its position, from 0.
        kind: ``code``, ``markdown`` or ``raw``.
        source: Its source text (IPython magics and shell escapes included as written).
        outputs: The text of its saved outputs, joined by newlines ('' when none).
        line: The line of the ``.ipynb`` file where its source begins (1-based; 1 when unknown).
    """

    index: int
    kind: str
    source: str
    outputs: str
    line: int


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def _outputs(raw: Any) -> str:
    parts: list[str] = []
    for output in raw if isinstance(raw, list) else []:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(_text(output.get("text")))
        elif kind == "error":
            parts.append(_ANSI.sub("", "\n".join(_text(t) for t in output.get("traceback", []))))
            parts.append(f"{_text(output.get('ename'))}: {_text(output.get('evalue'))}")
        else:  # execute_result, display_data; nbformat 3 keeps the text at the top level
            data = output.get("data")
            data = data if isinstance(data, dict) else output
            for mime in (*TEXT_MIME, "text"):
                value = data.get(mime)
                if isinstance(value, dict | list) and mime == "application/json":
                    parts.append(json.dumps(value))
                elif value is not None:
                    parts.append(_text(value))
    return "\n".join(p for p in parts if p)


def _source_lines(raw_text: str) -> list[int]:
    """Line numbers (1-based) of each ``"source"`` key in the raw JSON, in order."""
    lines = []
    for number, line in enumerate(raw_text.splitlines(), start=1):
        if line.lstrip().startswith(('"source":', '"input":')):
            lines.append(number)
    return lines


def read_notebook(path: Path, *, limit: int = MAX_NOTEBOOK_BYTES) -> list[Cell]:
    """The cells of the notebook at ``path``.

    Raises:
        InputError: The file is larger than ``limit``, not JSON, or not a notebook.
    """
    size = path.stat().st_size
    if size > limit:
        raise InputError(
            f"{path} is {size:,} bytes, over the {limit:,}-byte limit for notebooks",
            where=path,
            hint="clear its outputs (jupyter nbconvert --clear-output) or check it separately",
        )
    raw = path.read_bytes().decode("utf-8", "replace")
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InputError(f"{path} is not a notebook: {error}", where=path, hint="") from None
    if not isinstance(document, dict):
        raise InputError(f"{path} is not a notebook (no cells)", where=path)
    cells = document.get("cells")
    if cells is None and isinstance(document.get("worksheets"), list):  # nbformat 3
        cells = [
            c for w in document["worksheets"] if isinstance(w, dict) for c in w.get("cells", [])
        ]
    if not isinstance(cells, list):
        raise InputError(f"{path} is not a notebook (no cells)", where=path)
    if len(cells) > MAX_CELLS:
        raise InputError(f"{path} has {len(cells):,} cells, over {MAX_CELLS:,}", where=path)
    starts = _source_lines(raw)
    found: list[Cell] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        kind = kind if isinstance(kind, str) else "code"
        source = _text(cell.get("source", cell.get("input")))
        line = starts[index] if index < len(starts) else 1
        # A source given as a list starts on the line after the key.
        if isinstance(cell.get("source", cell.get("input")), list) and source:
            line += 1
        found.append(Cell(index, kind, source, _outputs(cell.get("outputs")), line))
    return found
