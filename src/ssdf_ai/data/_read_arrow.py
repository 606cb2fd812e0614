"""Parquet files and Hugging Face datasets saved to disk, read with pyarrow.

Hugging Face ``save_to_disk`` folders are read as plain Arrow IPC streams named by
``state.json``; the ``datasets`` library is never imported, so no loading script can run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ssdf_ai.data.readers import (
    Chunk,
    Dataset,
    DatasetFormat,
    ReadLimits,
    _check_chunk_rows,
    _compact_json,
    _merge_type,
    _pyarrow,
    _select,
)
from ssdf_ai.errors import InputError

_MAX_METADATA_BYTES = 16 << 20


def _kind(pa: Any, t: Any) -> str:
    """Map an Arrow type to a schema type."""
    types = pa.types
    if types.is_dictionary(t):
        return _kind(pa, t.value_type)
    if types.is_boolean(t):
        return "boolean"
    if types.is_integer(t):
        return "integer"
    if types.is_floating(t):
        return "float"
    if types.is_null(t):
        return "null"
    if types.is_string(t) or types.is_large_string(t):
        return "string"
    if types.is_binary(t) or types.is_large_binary(t) or types.is_fixed_size_binary(t):
        return "binary"
    if types.is_nested(t):
        return "json"
    return "string"  # dates, times, decimals and the like, as their text


def _values(column: Any, kind: str) -> list[Any]:
    """Python values of an Arrow column, shaped as :class:`~ssdf_ai.data.readers.Chunk` says."""
    values: list[Any] = column.to_pylist()
    if kind == "json":
        return [None if v is None else _compact_json(v) for v in values]
    if kind == "string":
        return [v if v is None or isinstance(v, str) else str(v) for v in values]
    return values


def _check_columns(names: Sequence[str], limits: ReadLimits, where: Path) -> None:
    if len(names) > limits.max_columns:
        raise InputError(
            f"the dataset has {len(names)} columns, more than the limit of {limits.max_columns}",
            where=where,
        )


class ParquetDataset(Dataset):
    """A Parquet file, read in record batches."""

    format = DatasetFormat.PARQUET

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        super().__init__(path, limits)
        pa, _ipc, pq = _pyarrow()
        try:
            pf = pq.ParquetFile(str(path))
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read the Parquet file: {exc}", where=path) from exc
        try:
            schema = pf.schema_arrow
            self._rows = int(pf.metadata.num_rows)
        finally:
            pf.close()
        self._types = {f.name: _kind(pa, f.type) for f in schema}
        _check_columns(list(self._types), limits, path)

    def schema(self) -> dict[str, str]:
        """Return column -> type, from the file's schema."""
        return dict(self._types)

    def num_rows(self) -> int | None:
        """Return the row count from the file's metadata."""
        return self._rows

    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows in chunks (see :meth:`Dataset.chunks`)."""
        _check_chunk_rows(chunk_rows)
        pa, _ipc, pq = _pyarrow()
        wanted = _select(list(self._types), columns, self.path)
        names = wanted if wanted is not None else list(self._types)
        start = 0
        try:
            pf = pq.ParquetFile(str(self.path))
            try:
                for batch in pf.iter_batches(batch_size=chunk_rows, columns=names):
                    cols = {n: _values(batch.column(n), self._types[n]) for n in names}
                    yield Chunk(start, cols)
                    start += batch.num_rows
            finally:
                pf.close()
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read the Parquet file: {exc}", where=self.path) from exc


def _load_json(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_METADATA_BYTES:
            raise InputError("the metadata file is too large", where=path)
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the metadata file: {exc}", where=path) from exc


def _inside(root: Path, name: object, where: Path) -> Path:
    """Resolve ``name`` under ``root``, refusing anything that leaves it (path traversal)."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InputError(f"invalid file name {name!r} in the metadata", where=where)
    try:
        target = (root / name).resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links (RuntimeError before Python 3.13)
        raise InputError(f"cannot resolve {name!r}: {exc}", where=where) from exc
    if Path(name).is_absolute() or not target.is_relative_to(root.resolve()):
        raise InputError(
            f"the metadata names {name!r}, which is outside the dataset folder",
            where=where,
            hint="the dataset may have been tampered with; do not use it",
        )
    if not target.is_file():
        raise InputError(f"the data file {name!r} named in the metadata is missing", where=where)
    return root / name


def _split_files(folder: Path) -> list[Path]:
    """The Arrow files of one saved ``Dataset`` (a folder with ``state.json``)."""
    state_path = folder / "state.json"
    state = _load_json(state_path)
    entries = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError("state.json lists no data files (_data_files)", where=state_path)
    files = []
    for entry in entries:
        name = entry.get("filename") if isinstance(entry, dict) else None
        files.append(_inside(folder, name, state_path))
    return files


class HfArrowDataset(Dataset):
    """A Hugging Face dataset saved with ``save_to_disk`` (or one Arrow file), read with pyarrow.

    Args:
        path: The folder (``Dataset``: ``state.json``; ``DatasetDict``: ``dataset_dict.json``
            and one folder per split) or a single ``.arrow`` file.
        limits: Bounds on what is held at once.
        split: The split of a ``DatasetDict`` to read; ``None`` reads every split and adds the
            column ``split``.
    """

    format = DatasetFormat.HF_ARROW

    def __init__(self, path: Path, limits: ReadLimits, *, split: str | None = None) -> None:
        super().__init__(path, limits)
        pa, _ipc, _pq = _pyarrow()
        self._pa = pa
        self._meta: list[Path] = []
        self.splits: list[tuple[str | None, list[Path]]] = []
        if path.is_file():
            if split is not None:
                raise InputError("a single Arrow file has no splits", where=path)
            self.splits = [(None, [path])]
        elif (path / "dataset_dict.json").is_file():
            self._open_dict(path, split)
        elif (path / "state.json").is_file():
            if split is not None:
                raise InputError(
                    "this is a single Dataset, not a DatasetDict: it has no splits",
                    where=path,
                    hint="leave out the split",
                )
            self.splits = [(None, _split_files(path))]
            self._meta += [path / "state.json", path / "dataset_info.json"]
        else:
            raise InputError(
                "not a Hugging Face dataset saved with save_to_disk",
                where=path,
                hint="expected state.json (a Dataset) or dataset_dict.json (a DatasetDict)",
            )
        self._meta = [p for p in self._meta if p.is_file()]
        self._types: dict[str, str] = {}
        for _split, files in self.splits:
            for file in files:
                for f in self._stream_schema(file):
                    self._types[f.name] = _merge_type(self._types.get(f.name), _kind(pa, f.type))
        if self.splits[0][0] is not None and split is None:
            self._types["split"] = "string"
        _check_columns(list(self._types), limits, path)
        self._count: int | None = None

    def _open_dict(self, path: Path, split: str | None) -> None:
        meta = path / "dataset_dict.json"
        self._meta.append(meta)
        content = _load_json(meta)
        names = content.get("splits") if isinstance(content, dict) else None
        if not isinstance(names, list) or not names:
            raise InputError("dataset_dict.json lists no splits", where=meta)
        if split is not None:
            if split not in names:
                raise InputError(
                    f"no split {split!r}", where=path, hint=f"the splits are: {', '.join(names)}"
                )
            names = [split]
        for name in names:
            folder = _inside_folder(path, name, meta)
            self.splits.append((str(name), _split_files(folder)))
            self._meta += [folder / "state.json", folder / "dataset_info.json"]

    def _batches(self, file: Path) -> Iterator[Any]:
        """Record batches of one Arrow file (IPC stream, or IPC file), memory-mapped."""
        pa = self._pa
        _pa, ipc, _pq = _pyarrow()
        try:
            with pa.memory_map(str(file)) as source:
                try:
                    reader = ipc.open_stream(source)
                except pa.ArrowInvalid:
                    source.seek(0)
                    file_reader = ipc.open_file(source)
                    for i in range(file_reader.num_record_batches):
                        yield file_reader.get_batch(i)
                    return
                yield from reader
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read the Arrow file: {exc}", where=file) from exc

    def _stream_schema(self, file: Path) -> Any:
        pa = self._pa
        _pa, ipc, _pq = _pyarrow()
        try:
            with pa.memory_map(str(file)) as source:
                try:
                    return ipc.open_stream(source).schema
                except pa.ArrowInvalid:
                    source.seek(0)
                    return ipc.open_file(source).schema
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read the Arrow file: {exc}", where=file) from exc

    def schema(self) -> dict[str, str]:
        """Return column -> type, from the Arrow schemas (plus ``split`` for every split)."""
        return dict(self._types)

    def num_rows(self) -> int | None:
        """Return the row count, summed over the record batches (memory-mapped, no copy)."""
        if self._count is None:
            self._count = sum(
                batch.num_rows
                for _split, files in self.splits
                for file in files
                for batch in self._batches(file)
            )
        return self._count

    def files(self) -> list[Path]:
        """Return the Arrow files and the metadata files beside them."""
        data = [file for _split, files in self.splits for file in files]
        return sorted(set(data + self._meta))

    def _tagged(self) -> Iterator[tuple[str | None, Any]]:
        for split, files in self.splits:
            for file in files:
                for batch in self._batches(file):
                    yield split, batch

    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows in chunks (see :meth:`Dataset.chunks`); batches are re-cut to size."""
        _check_chunk_rows(chunk_rows)
        wanted = _select(list(self._types), columns, self.path)
        names = wanted if wanted is not None else list(self._types)
        start = 0
        pending: list[tuple[str | None, Any]] = []
        size = 0
        for split, batch in self._tagged():
            offset = 0
            while offset < batch.num_rows:
                take = min(chunk_rows - size, batch.num_rows - offset)
                pending.append((split, batch.slice(offset, take)))
                size += take
                offset += take
                if size == chunk_rows:
                    yield Chunk(start, self._columns(pending, names))
                    start += size
                    pending, size = [], 0
        if pending:
            yield Chunk(start, self._columns(pending, names))

    def _columns(self, pieces: Iterable[tuple[str | None, Any]], names: list[str]) -> Any:
        cols: dict[str, list[Any]] = {name: [] for name in names}
        for split, piece in pieces:
            present = set(piece.schema.names)
            for name in names:
                if name == "split" and "split" not in present and split is not None:
                    cols[name].extend([split] * piece.num_rows)
                elif name in present:
                    cols[name].extend(_values(piece.column(name), self._types[name]))
                else:
                    cols[name].extend([None] * piece.num_rows)
        return cols


def _inside_folder(root: Path, name: object, where: Path) -> Path:
    """A split folder named in dataset_dict.json, which must be a folder inside ``root``."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in ("..", "."):
        raise InputError(f"invalid split name {name!r}", where=where)
    try:
        folder = (root / name).resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(f"cannot resolve {name!r}: {exc}", where=where) from exc
    if not folder.is_relative_to(root.resolve()) or not folder.is_dir():
        raise InputError(
            f"the split folder {name!r} is missing or outside the dataset folder", where=where
        )
    return root / name
