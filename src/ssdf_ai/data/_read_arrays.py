"""NumPy arrays (``.npy``, ``.npz``) and folders of images, read as features.

Arrays are never unpickled: every array header is read first and an object dtype (which only
a pickle can hold) is refused before any data is loaded; loads use ``allow_pickle=False``.
Images are opened without following symbolic links, by a fixed list of Pillow formats, and
their pixel count is checked before they are decoded.
"""

from __future__ import annotations

import math
import os
import stat
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ssdf_ai.data.readers import (
    IMAGE_SUFFIXES,
    Chunk,
    Dataset,
    DatasetFormat,
    ReadLimits,
    RowProblem,
    _check_chunk_rows,
    _ChunkBuilder,
    _numpy,
    _pil,
    _select,
)
from ssdf_ai.errors import InputError

_FEATURE_NAMES = ("X", "x", "features", "data", "inputs")
_LABEL_NAMES = ("y", "labels", "label", "target", "targets")
_NUMERIC_KINDS = "biuf"
_PIL_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
# float32 features of one chunk stay under this; wide arrays get chunks of fewer rows
FEATURE_CHUNK_BYTES = 256 << 20
_PICKLE_HINT = (
    "object arrays can only be stored as pickles, which can run code when loaded, so they are "
    "never loaded; save the data as numeric or string arrays"
)

# ---- NumPy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    shape: tuple[int, ...]
    fortran: bool
    dtype: Any

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * int(self.dtype.itemsize)


def _read_header(np: Any, fh: IO[bytes], where: str) -> _Header:
    """Read a ``.npy`` header (NumPy's own parser, which evaluates literals only)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise InputError(f"unsupported .npy format version {version}", where=where)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"not a valid .npy array: {exc}", where=where) from exc
    if dtype.hasobject:
        raise InputError("the array has an object dtype", where=where, hint=_PICKLE_HINT)
    return _Header(tuple(int(n) for n in shape), bool(fortran), dtype)


def _kind(dtype: Any) -> str:
    kind = dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer"
    if kind == "f":
        return "float"
    if kind in "SV":
        return "binary"
    return "string"  # unicode, dates, complex numbers: as their text


def _column_values(array: Any, kind: str) -> list[Any]:
    values: list[Any] = array.tolist()
    if kind == "string":
        return [v if isinstance(v, str) else str(v) for v in values]
    return values


def _features(np: Any, array: Any) -> Any:
    rows = array.shape[0] if array.ndim else 1
    return np.asarray(array, dtype=np.float32).reshape(rows, -1)


def _check_features(header: _Header, where: str) -> None:
    if header.dtype.kind not in _NUMERIC_KINDS:
        raise InputError(
            f"a {len(header.shape)}-D array of dtype {header.dtype} cannot be read as features",
            where=where,
            hint="features must be boolean, integer or floating-point",
        )


class NumpyDataset(Dataset):
    """A ``.npy`` array (memory-mapped) or a ``.npz`` archive of arrays (streamed per member)."""

    format = DatasetFormat.NUMPY

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        super().__init__(path, limits)
        self._np = _numpy()
        try:
            with path.open("rb") as fh:
                self._zip = fh.read(4) == b"PK\x03\x04"
        except OSError as exc:
            raise InputError(f"cannot read the dataset: {exc.strerror}", where=path) from exc
        self._notes: list[RowProblem] = []
        if self._zip:
            self._plan_npz()
        else:
            self._plan_npy()

    # .npy: one array; 1-D (or structured) -> columns, N-D -> features
    def _plan_npy(self) -> None:
        with self.path.open("rb") as fh:
            header = _read_header(self._np, fh, str(self.path))
        self._header = header
        self._rows = header.shape[0] if header.shape else 1
        self._types: dict[str, str] = {}
        self._feature_width: int | None = None
        dtype = header.dtype
        if len(header.shape) >= 2:
            _check_features(header, str(self.path))
            self._feature_width = math.prod(header.shape[1:])
        elif dtype.names:
            for name in dtype.names:
                sub = dtype.fields[name][0]
                if sub.shape:
                    raise InputError(
                        f"the structured field {name!r} holds sub-arrays, which are not read",
                        where=self.path,
                    )
                self._types[name] = _kind(sub)
        else:
            self._types["value"] = _kind(dtype)

    # .npz: features, label and other columns from named members
    def _plan_npz(self) -> None:
        np, limits = self._np, self.limits
        headers: dict[str, tuple[str, _Header]] = {}
        try:
            with zipfile.ZipFile(self.path) as zf:
                for info in zf.infolist():
                    where = f"{self.path.name}:{info.filename}"
                    if info.is_dir():
                        continue
                    if not info.filename.endswith(".npy"):
                        self._notes.append(RowProblem(-1, where, "not a .npy member; ignored"))
                        continue
                    if info.file_size > limits.max_member_bytes:
                        raise InputError(
                            f"the member declares {info.file_size} bytes uncompressed, more "
                            f"than the limit of {limits.max_member_bytes}",
                            where=where,
                            hint="raise max_member_bytes only for data you trust",
                        )
                    with zf.open(info) as fh:
                        header = _read_header(np, fh, where)
                    if header.nbytes > min(info.file_size, limits.max_member_bytes):
                        raise InputError(
                            f"the array header implies {header.nbytes} bytes, more than the "
                            f"member's declared size of {info.file_size}",
                            where=where,
                        )
                    headers[info.filename.removesuffix(".npy")] = (info.filename, header)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"not a valid .npz archive: {exc}", where=self.path) from exc
        if not headers:
            raise InputError("the .npz archive holds no arrays", where=self.path)
        feature = next((n for n in _FEATURE_NAMES if n in headers), None)
        if feature is None:
            many = [n for n, (_m, h) in headers.items() if len(h.shape) >= 2]
            feature = many[0] if len(many) == 1 else None
        label = next((n for n in _LABEL_NAMES if n in headers), None)
        anchor = feature or label or next(iter(headers))
        rows = headers[anchor][1].shape[0] if headers[anchor][1].shape else 1
        self._rows = rows
        self._feature_width = None
        self._types = {}
        self._members: dict[str, tuple[str, _Header]] = {}
        for name, (member, header) in headers.items():
            where = f"{self.path.name}:{member}"
            length = header.shape[0] if header.shape else 1
            if name == feature:
                _check_features(header, where)
                self._feature_width = math.prod(header.shape[1:])
                self._members["features"] = (member, header)
            elif length != rows or len(header.shape) > 1 or header.dtype.names:
                self._notes.append(
                    RowProblem(-1, where, f"array of shape {header.shape} does not fit; ignored")
                )
            else:
                # a second label-like array named "label" keeps its member name
                column = "label" if name == label else member if name == "label" else name
                self._types[column] = _kind(header.dtype)
                self._members[column] = (member, header)
        if feature is not None and headers[feature][1].shape[0:1] != (rows,):
            raise InputError("the feature array has no rows", where=self.path)

    def schema(self) -> dict[str, str]:
        """Return column -> type from the array headers, with ``features`` -> ``float[<n>]``."""
        out = dict(self._types)
        if self._feature_width is not None:
            out["features"] = f"float[{self._feature_width}]"
        return out

    def num_rows(self) -> int | None:
        """Return the row count from the array headers."""
        return self._rows

    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows in chunks (see :meth:`Dataset.chunks`); features become float32."""
        _check_chunk_rows(chunk_rows)
        wanted = _select(list(self.schema()), columns, self.path)
        names = wanted if wanted is not None else list(self.schema())
        if self._feature_width and "features" in names:
            chunk_rows = min(chunk_rows, max(1, FEATURE_CHUNK_BYTES // (4 * self._feature_width)))
        if self._zip:
            yield from self._npz_chunks(names, chunk_rows)
        else:
            yield from self._npy_chunks(names, chunk_rows)

    def _npy_chunks(self, names: list[str], chunk_rows: int) -> Iterator[Chunk]:
        np = self._np
        try:
            if self._header.nbytes == 0:  # an empty file cannot be memory-mapped
                array = np.load(self.path, allow_pickle=False)
            else:
                array = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"cannot load the array: {exc}", where=self.path) from exc
        if array.ndim == 0:
            array = array.reshape(1)
        for start in range(0, max(self._rows, 0), chunk_rows):
            part = array[start : start + chunk_rows]
            cols: dict[str, list[Any]] = {}
            features = None
            for name in names:
                if name == "features":
                    features = _features(np, part)
                elif name == "value":
                    cols[name] = _column_values(part, self._types[name])
                else:
                    cols[name] = _column_values(part[name], self._types[name])
            yield Chunk(start, cols, features, self._notes if start == 0 else [])

    def _npz_chunks(self, names: list[str], chunk_rows: int) -> Iterator[Chunk]:
        np = self._np
        try:
            with zipfile.ZipFile(self.path) as zf:
                streams = {
                    name: _MemberRows(np, zf, *self._members[name], self.limits) for name in names
                }
                try:
                    first = True
                    for start in range(0, self._rows, chunk_rows):
                        count = min(chunk_rows, self._rows - start)
                        cols: dict[str, list[Any]] = {}
                        features = None
                        for name, stream in streams.items():
                            part = stream.take(count)
                            if name == "features":
                                features = _features(np, part)
                            else:
                                cols[name] = _column_values(part, self._types[name])
                        yield Chunk(start, cols, features, self._notes if first else [])
                        first = False
                finally:
                    for stream in streams.values():
                        stream.close()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InputError(f"cannot read the .npz archive: {exc}", where=self.path) from exc


class _MemberRows:
    """Rows of one ``.npz`` member, read a chunk at a time (C order) or whole (Fortran order)."""

    def __init__(self, np: Any, zf: zipfile.ZipFile, member: str, header: _Header, limits: Any):
        self.np = np
        self.header = header
        self.fh = zf.open(member)
        _read_header(np, self.fh, member)  # skip to the data
        self.row_shape = header.shape[1:]
        self.row_bytes = math.prod(self.row_shape) * int(header.dtype.itemsize)
        self.whole: Any = None
        self.offset = 0
        if header.fortran or not header.shape:
            # column-major data cannot be cut into rows as it streams: read it whole (bounded
            # by max_member_bytes, checked against the header when the archive was opened)
            data = self.fh.read(header.nbytes)
            if len(data) != header.nbytes:
                raise ValueError("the member ends before its declared shape")
            flat = np.frombuffer(data, dtype=header.dtype)
            self.whole = flat.reshape(header.shape[::-1]).T if header.shape else flat

    def take(self, count: int) -> Any:
        if self.whole is not None:
            part = self.whole[self.offset : self.offset + count]
            self.offset += count
            return part
        data = self.fh.read(count * self.row_bytes)
        if len(data) != count * self.row_bytes:
            raise ValueError("the member ends before its declared shape")
        return self.np.frombuffer(data, dtype=self.header.dtype).reshape(count, *self.row_shape)

    def close(self) -> None:
        self.fh.close()


# ---- images ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Listing:
    images: list[tuple[str, str]]  # (relative POSIX path, label)
    notes: list[RowProblem]


def _skipped(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"


def _list_images(root: Path) -> _Listing:
    """Image files under ``root/<class>/``, sorted, never following symbolic links."""
    images: list[tuple[str, str]] = []
    notes: list[RowProblem] = []
    real_root = root.resolve()

    def link(entry: os.DirEntry[str], rel: str) -> None:
        try:
            leaves = not Path(entry.path).resolve().is_relative_to(real_root)
        except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
            leaves = True
        where = "that leaves the dataset folder" if leaves else "inside the dataset folder"
        notes.append(RowProblem(-1, rel, f"a symbolic link {where}; not followed"))

    def walk(folder: Path, label: str) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            rel = Path(entry.path).relative_to(root).as_posix()
            if _skipped(entry.name):
                continue
            if entry.is_symlink():
                link(entry, rel)
            elif entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), label)
            elif (
                entry.is_file(follow_symlinks=False)
                and Path(entry.name).suffix.lower() in IMAGE_SUFFIXES
            ):
                images.append((rel, label))

    try:
        for entry in sorted(os.scandir(root), key=lambda e: e.name):
            if _skipped(entry.name):
                continue
            if entry.is_symlink():
                link(entry, entry.name)
            elif entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), entry.name)
    except OSError as exc:
        raise InputError(f"cannot list the image folder: {exc}", where=root) from exc
    return _Listing(images, notes)


def _decode(image_mod: Any, np: Any, path: Path, limits: ReadLimits) -> tuple[Any, str | None]:
    """Decode one image into a flat float32 RGB vector in [0, 1], or say why not."""
    size = limits.image_size
    try:
        # O_NOFOLLOW: the file may have been swapped for a link since it was listed
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        return None, f"cannot open the image: {exc.strerror}"
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "not a regular file"
        with warnings.catch_warnings():
            # the pixel bound below replaces Pillow's decompression-bomb warning
            warnings.simplefilter("ignore")
            try:
                with image_mod.open(fh, formats=_PIL_FORMATS) as im:
                    width, height = im.size
                    if width * height > limits.max_image_pixels:
                        return None, (
                            f"the image declares {width}x{height} pixels, more than the limit "
                            f"of {limits.max_image_pixels} (a decompression bomb?)"
                        )
                    im.draft("RGB", (size, size))
                    rgb = im.convert("RGB").resize((size, size), image_mod.Resampling.BILINEAR)
            except image_mod.DecompressionBombError as exc:
                return None, f"decompression bomb: {exc}"
            # a decoder can fail in many ways on hostile bytes; each is this row's problem
            except Exception as exc:
                return None, f"cannot decode the image: {type(exc).__name__}: {exc}"
    vector = np.asarray(rgb, dtype=np.float32).reshape(-1) / np.float32(255.0)
    return vector, None


class ImageFolderDataset(Dataset):
    """A folder of class folders of images: ``PATH/<class>/<image>``."""

    format = DatasetFormat.IMAGES

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        super().__init__(path, limits)
        # fail now, not at the first chunk, when Pillow or NumPy is missing
        _pil()
        _numpy()
        if not path.is_dir():
            raise InputError("an image dataset must be a folder of class folders", where=path)
        self._listing = _list_images(path)
        if not self._listing.images:
            raise InputError(
                "no images found in class folders",
                where=path,
                hint="expected PATH/<class>/<image> (png, jpg, jpeg, bmp, gif, webp)",
            )

    def schema(self) -> dict[str, str]:
        """Return ``path`` and ``label`` (strings) and ``features`` (``float[size*size*3]``)."""
        width = self.limits.image_size**2 * 3
        return {"path": "string", "label": "string", "features": f"float[{width}]"}

    def num_rows(self) -> int | None:
        """Return None: rows are known only once every image has been decoded."""
        return None

    def files(self) -> list[Path]:
        """Return the image files (symbolic links are not part of the dataset)."""
        return sorted(self.path / rel for rel, _label in self._listing.images)

    def chunks(
        self, *, columns: Sequence[str] | None = None, chunk_rows: int = 10_000
    ) -> Iterator[Chunk]:
        """Read the rows in chunks (see :meth:`Dataset.chunks`); every image is decoded."""
        _check_chunk_rows(chunk_rows)
        wanted = _select(list(self.schema()), columns, self.path)
        image_mod, np = _pil(), _numpy()
        builder = _ChunkBuilder(["path", "label"], chunk_rows, wanted)
        builder.problems.extend(self._listing.notes)
        for ordinal, (rel, label) in enumerate(self._listing.images):
            vector, problem = _decode(image_mod, np, self.path / rel, self.limits)
            if problem is not None:
                out = builder.problem(RowProblem(ordinal, rel, problem))
            else:
                out = builder.add({"path": rel, "label": label}, vector)
            if out is not None:
                yield out
        last = builder.flush()
        if last is not None:
            yield last
