"""Streaming readers for training, fine-tuning and alignment datasets (SP 800-218A PW.3.1).

The data checks read datasets in many formats through one small API:

- :func:`detect_format` tells the format of a file or folder from its content (Parquet magic,
  NumPy magic, a zip of ``.npy`` members, a Hugging Face ``save_to_disk`` layout, a folder of
  class folders of images, JSON Lines, CSV); the extension is only a hint.
- :func:`open_dataset` returns a :class:`Dataset`: its :meth:`~Dataset.schema`, its row count
  when known without a full read, its files, and its rows as a stream of :class:`Chunk` (column
  name -> Python values, plus a float32 feature matrix for arrays and images).

Reading never executes anything in the data: NumPy arrays are loaded with
``allow_pickle=False`` (object arrays are refused before any byte of them is read), Hugging
Face datasets are read as plain Arrow files (never through ``datasets``, which can run loading
scripts), and images are decoded by a fixed list of Pillow formats after a pixel-count check.
Memory stays bounded: rows are read in chunks of ``chunk_rows``, and every unit the reader
must hold whole (a CSV field or record, a JSON line, a ``.npz`` member, an image) is bounded by
:class:`ReadLimits`. A row that breaks a limit or cannot be parsed is skipped and reported in
:attr:`Chunk.problems`; a dataset that cannot be read at all raises
:class:`~ssdf_ai.errors.InputError`.

CSV and JSON Lines need only the standard library; NumPy arrays and images need NumPy, Parquet
and Arrow need pyarrow, images need Pillow (the ``data`` extra). See docs/data-formats.md.
"""

from __future__ import annotations

import abc
import contextlib
import csv
import enum
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ssdf_ai.errors import InputError, MissingExtraError

__all__ = [
    "Chunk",
    "Dataset",
    "DatasetFormat",
    "ReadLimits",
    "RowProblem",
    "detect_format",
    "open_dataset",
]

#: Image file extensions read from image folders.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
#: Rows read to infer column types where the format has no schema.
SAMPLE_ROWS = 1000
#: Bytes read from the start of a file to detect its format and CSV dialect.
SAMPLE_BYTES = 64 << 10

_NUMPY_MAGIC = b"\x93NUMPY"
_PARQUET_MAGIC = b"PAR1"
_ZIP_MAGIC = b"PK\x03\x04"
_ARROW_FILE_MAGIC = b"ARROW1"
_ARROW_STREAM_CONTINUATION = b"\xff\xff\xff\xff"


class DatasetFormat(enum.StrEnum):
    """The dataset formats :func:`open_dataset` reads."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    NUMPY = "numpy"
    IMAGES = "images"
    HF_ARROW = "hf-arrow"


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what a reader holds at once; a row over a bound is skipped and reported.

    Attributes:
        max_cell_bytes: One CSV field or JSON string value (nested JSON: its compact text).
        max_line_bytes: One CSV record or JSON Lines line.
        max_json_depth: Nesting depth of one JSON line (objects and arrays).
        max_columns: Columns of a table (more is an :class:`~ssdf_ai.errors.InputError`).
        max_image_pixels: Pixels of one image (width x height), checked before decoding.
        max_member_bytes: Declared uncompressed size of one ``.npz`` member (and the size its
            array header implies); more is an :class:`~ssdf_ai.errors.InputError`.
        image_size: Images are resized to ``image_size`` x ``image_size`` for their features.
    """

    max_cell_bytes: int = 1 << 20
    max_line_bytes: int = 16 << 20
    max_json_depth: int = 64
    max_columns: int = 10_000
    max_image_pixels: int = 50_000_000
    max_member_bytes: int = 4 << 30
    image_size: int = 32


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped, or a file-level remark, and why.

    Attributes:
        row: 0-based ordinal of the row in the source, counting skipped rows too (so it equals
            the row id while no row before it was skipped); -1 for a file-level problem.
        where: File and position, e.g. ``"data.csv line 17"`` or ``"train/cat/x.png"``.
        reason: What is wrong, in one sentence.
    """

    row: int
    where: str
    reason: str


@dataclass
class Chunk:
    """A run of consecutive rows of a dataset.

    Attributes:
        start: 0-based id of the first row; ids count the rows delivered, so they are
            contiguous from one chunk to the next.
        columns: Column name -> one Python value per row (``str``, ``int``, ``float``,
            ``bool``, ``None``; ``bytes`` in binary columns; nested JSON values as compact JSON
            strings).
        features: For NumPy arrays and images, a 2-D float32 array (rows x features); else
            ``None``.
        problems: Rows skipped while reading this chunk, and why.
    """

    start: int
    columns: dict[str, list[Any]]
    features: Any = None
    problems: list[RowProblem] = field(default_factory=list)

    def __len__(self) -> int:
        """Return the number of rows in the chunk."""
        if self.features is not None:
            return int(self.features.shape[0])
        for values in self.columns.values():
            return len(values)
        return 0

    @property
    def row_ids(self) -> range:
        """The ids of the rows in the chunk: ``start`` .. ``start + len``."""
        return range(self.start, self.start + len(self))


class Dataset(abc.ABC):
    """A dataset opened by :func:`open_dataset`; one subclass per format.

    Attributes:
        path: The file or folder given to :func:`open_dataset`.
        format: Its format.
        limits: The bounds the reader applies.
    """

    format: DatasetFormat

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self.path = path
        self.limits = limits

    @abc.abstractmethod
    def schema(self) -> dict[str, str]:
        """Return column name -> type.

        Types are ``"integer"``, ``"float"``, ``"boolean"``, ``"string"``, ``"json"``,
        ``"binary"`` or ``"null"``, inferred from a bounded sample of rows where the format has
        no schema; arrays and images add the pseudo-column ``"features"`` ->
        ``"float[<n>]"``.

        Returns:
            The columns in reading order.
        """

    @abc.abstractmethod
    def num_rows(self) -> int | None:
        """Return the number of rows when it is known without reading every row, else None."""

    @abc.abstractmethod
    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows as a stream of chunks of at most ``chunk_rows`` rows.

        Args:
            columns: Only these columns (``None``: all); ``"features"`` selects the feature
                matrix of arrays and images.
            chunk_rows: Most rows per chunk.

        Yields:
            Chunks in row order. A chunk may hold fewer rows (or none) when rows were skipped;
            skipped rows are listed in its ``problems``.

        Raises:
            InputError: A column is unknown, or the data cannot be read at all.
        """

    def files(self) -> list[Path]:
        """Return the files the dataset consists of (for integrity checks), sorted.

        A single-file dataset is its own path; folder formats override this.
        """
        return [self.path]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"


def detect_format(path: Path) -> DatasetFormat:
    """Tell the format of a dataset file or folder from its content.

    Args:
        path: A file or folder.

    Returns:
        The format.

    Raises:
        InputError: The path does not exist, or its format cannot be told.
    """
    path = Path(path)
    if path.is_dir():
        return _detect_folder(path)
    if not path.is_file():
        raise InputError(
            "no such dataset file or folder", where=path, hint="check the path and try again"
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(SAMPLE_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read the dataset: {exc.strerror}", where=path) from exc
    if head.startswith(_PARQUET_MAGIC):
        return DatasetFormat.PARQUET
    if head.startswith(_NUMPY_MAGIC):
        return DatasetFormat.NUMPY
    if head.startswith(_ARROW_FILE_MAGIC) or head.startswith(_ARROW_STREAM_CONTINUATION):
        return DatasetFormat.HF_ARROW
    if head.startswith(_ZIP_MAGIC):
        if _zip_has_npy(path):
            return DatasetFormat.NUMPY
        raise InputError(
            "the file is a zip archive without .npy members, not a dataset format read here",
            where=path,
            hint="unpack it and check the files inside",
        )
    return _detect_text(path, head)


def _zip_has_npy(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(name.endswith(".npy") for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _detect_text(path: Path, head: bytes) -> DatasetFormat:
    unknown = InputError(
        "cannot tell the format of the dataset",
        where=path,
        hint="give the format explicitly (csv, jsonl, parquet, numpy, images, hf-arrow)",
    )
    if b"\x00" in head:
        raise unknown
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError("the dataset file is empty", where=path)
    first = lines[0]
    if first.startswith("{"):
        # two complete lines that are not JSON each: one JSON document over many lines
        complete = lines[:2] if len(head) < SAMPLE_BYTES else lines[:2][: len(lines) - 1]
        if len(complete) == 2 and not any(map(_is_json, complete)):
            raise InputError(
                "the file is one JSON document over many lines, not JSON Lines",
                where=path,
                hint="write one object per line, e.g. jq -c '.[]' in.json > out.jsonl",
            )
        return DatasetFormat.JSONL
    if first.startswith("["):
        raise InputError(
            "the file is a JSON array; only JSON Lines (one object per line) is read",
            where=path,
            hint="convert it to JSON Lines, e.g. jq -c '.[]' in.json > out.jsonl",
        )
    # cut the sample at its last full line so the sniffer does not see a partial record
    sample = text if len(head) < SAMPLE_BYTES else text[: text.rfind("\n") + 1] or text
    if _guess_dialect(sample) is not None or path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return DatasetFormat.CSV
    raise unknown


_DELIMITERS = ",\t;|"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _excel_with(delimiter: str) -> type[csv.Dialect]:
    return type("SniffedDialect", (csv.excel,), {"delimiter": delimiter})


def _guess_dialect(sample: str) -> type[csv.Dialect] | None:
    """The CSV dialect of a sample, or None when no dialect fits it.

    Quoting is always RFC 4180's (``"``, doubled inside a field), which every common writer
    uses: the standard library's sniffer guesses quoting wrongly when the sample has little of
    it. Delimiters tried: the sniffer's guess, then each of ``, TAB ; |``; the first under which
    the header has at least two fields and most records of the sample have as many is taken.
    """
    delimiters: list[str] = []
    with contextlib.suppress(csv.Error):
        delimiters.append(csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter)
    for delimiter in dict.fromkeys(delimiters + list(_DELIMITERS)):
        dialect = _excel_with(delimiter)
        try:
            records = [r for r in csv.reader(io.StringIO(sample), dialect) if r][:50]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        rest = records[1:]
        if sum(len(r) == len(records[0]) for r in rest) >= 0.8 * len(rest):
            return dialect
    return None


def _visible(entry: Path) -> bool:
    return not entry.name.startswith(".")


def _detect_folder(path: Path) -> DatasetFormat:
    if (path / "dataset_dict.json").is_file():
        return DatasetFormat.HF_ARROW
    if (path / "state.json").is_file() and any(path.glob("*.arrow")):
        return DatasetFormat.HF_ARROW
    for sub in sorted(path.iterdir()):
        if sub.is_symlink() or not sub.is_dir() or not _visible(sub):
            continue
        for item in sub.rglob("*"):
            if item.suffix.lower() in IMAGE_SUFFIXES and item.is_file():
                return DatasetFormat.IMAGES
    raise InputError(
        "cannot tell the format of the dataset folder",
        where=path,
        hint=(
            "a folder is read as a Hugging Face dataset saved with save_to_disk (state.json, "
            "dataset_info.json, *.arrow, or dataset_dict.json) or as class folders of images; "
            "otherwise give one file"
        ),
    )


def open_dataset(
    path: Path,
    *,
    format: DatasetFormat | str | None = None,
    split: str | None = None,
    limits: ReadLimits = ReadLimits(),  # noqa: B008 - frozen, so a shared default is safe
) -> Dataset:
    """Open a dataset for streaming reads.

    Args:
        path: A dataset file or folder.
        format: Its format; detected from the content when ``None``.
        split: For a Hugging Face ``DatasetDict``, the split to read (default: every split,
            with an added column ``split``). Only Hugging Face datasets have splits.
        limits: Bounds on what the reader holds at once.

    Returns:
        The dataset; nothing but headers and metadata has been read yet.

    Raises:
        InputError: The path or format is wrong, or the dataset cannot be read.
        MissingExtraError: The format needs an optional library that is not installed.
    """
    path = Path(path)
    if format is None:
        fmt = detect_format(path)
    else:
        try:
            fmt = DatasetFormat(format)
        except ValueError:
            allowed = ", ".join(f.value for f in DatasetFormat)
            raise InputError(
                f"unknown dataset format {format!r}", hint=f"use one of: {allowed}"
            ) from None
    if not path.exists():
        raise InputError("no such dataset file or folder", where=path)
    if split is not None and fmt is not DatasetFormat.HF_ARROW:
        raise InputError(
            f"only Hugging Face datasets have splits; this is {fmt.value}",
            where=path,
            hint="leave out the split",
        )
    if fmt is DatasetFormat.CSV:
        from ssdf_ai.data._read_text import CsvDataset

        return CsvDataset(path, limits)
    if fmt is DatasetFormat.JSONL:
        from ssdf_ai.data._read_text import JsonlDataset

        return JsonlDataset(path, limits)
    if fmt is DatasetFormat.PARQUET:
        from ssdf_ai.data._read_arrow import ParquetDataset

        return ParquetDataset(path, limits)
    if fmt is DatasetFormat.HF_ARROW:
        from ssdf_ai.data._read_arrow import HfArrowDataset

        return HfArrowDataset(path, limits, split=split)
    if fmt is DatasetFormat.NUMPY:
        from ssdf_ai.data._read_arrays import NumpyDataset

        return NumpyDataset(path, limits)
    if fmt is DatasetFormat.IMAGES:
        from ssdf_ai.data._read_arrays import ImageFolderDataset

        return ImageFolderDataset(path, limits)
    raise AssertionError(fmt)  # pragma: no cover - every member is handled above


# ---- helpers shared by the private readers ----------------------------------------------


def _numpy() -> ModuleType:
    try:
        import numpy
    except ImportError as exc:
        raise MissingExtraError("data", "numpy") from exc
    return numpy


def _pyarrow() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Return ``pyarrow``, ``pyarrow.ipc`` and ``pyarrow.parquet``."""
    try:
        import pyarrow  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.ipc  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise MissingExtraError("data", "pyarrow") from exc
    return pyarrow, pyarrow.ipc, pyarrow.parquet


def _pil() -> ModuleType:
    try:
        from PIL import Image
    except ImportError as exc:
        raise MissingExtraError("data", "PIL") from exc
    return Image


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


# one encoder for every nested value: json.dumps would build a new one per call
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _compact_json(value: Any) -> str:
    """A nested value as compact JSON text (bytes as hex, other non-JSON values as text)."""
    return _ENCODER.encode(value)


def _check_chunk_rows(chunk_rows: int) -> None:
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1, not {chunk_rows}")


def _select(
    available: Sequence[str], columns: Sequence[str] | None, where: Path
) -> list[str] | None:
    """Validate a column selection; ``None`` means all columns."""
    if columns is None:
        return None
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise InputError(
            f"unknown column(s): {', '.join(map(repr, unknown))}",
            where=where,
            hint=f"the dataset has: {', '.join(available)}",
        )
    return list(columns)


def _merge_type(old: str | None, new: str) -> str:
    """Combine the types seen in one column: null yields, integer widens to float."""
    if old is None or old == "null" or old == new:
        return new
    if new == "null":
        return old
    if {old, new} == {"integer", "float"}:
        return "float"
    return "json" if "json" in (old, new) else "string"


class _ChunkBuilder:
    """Collect rows (dicts) and problems into chunks of at most ``chunk_rows`` rows.

    Problems count toward the chunk size too, so a file of bad rows yields bounded chunks.
    """

    def __init__(self, names: Sequence[str], chunk_rows: int, wanted: list[str] | None):
        self.names = list(names)
        self.chunk_rows = chunk_rows
        self.wanted = wanted
        self.next_id = 0
        self.rows: list[dict[str, Any]] = []
        self.features: list[Any] = []
        self.problems: list[RowProblem] = []

    def add(self, row: dict[str, Any], features: Any = None) -> Chunk | None:
        self.rows.append(row)
        if features is not None:
            self.features.append(features)
        return self._maybe_flush()

    def problem(self, problem: RowProblem) -> Chunk | None:
        self.problems.append(problem)
        return self._maybe_flush()

    def _maybe_flush(self) -> Chunk | None:
        if len(self.rows) >= self.chunk_rows or len(self.problems) >= self.chunk_rows:
            return self.flush()
        return None

    def flush(self) -> Chunk | None:
        if not self.rows and not self.problems:
            return None
        if self.wanted is not None:
            names = [n for n in self.wanted if n != "features"]
        else:
            known = set(self.names)
            extra = dict.fromkeys(k for row in self.rows for k in row if k not in known)
            names = self.names + list(extra)
        cols = {name: [row.get(name) for row in self.rows] for name in names}
        features = None
        if self.features and (self.wanted is None or "features" in self.wanted):
            np = _numpy()
            features = np.stack(self.features).astype(np.float32, copy=False)
        chunk = Chunk(self.next_id, cols, features, self.problems)
        self.next_id += len(self.rows)
        self.rows, self.features, self.problems = [], [], []
        return chunk
