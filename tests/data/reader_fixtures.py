"""Builders of real dataset files for the reader tests, each made by the library that owns it."""

from __future__ import annotations

import csv
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

# One small table every tabular format is written from: the readers must give it back.
ROWS: list[dict[str, Any]] = [
    {
        "id": i,
        "score": i / 4,
        "ok": i % 3 == 0,
        "text": f'row {i}, with "quotes" and a comma' if i % 5 else f"row {i}",
    }
    for i in range(23)
]
TYPES = {"id": "integer", "score": "float", "ok": "boolean", "text": "string"}


def write_csv(path: Path, rows: list[dict[str, Any]] = ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()}
            )
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]] = ROWS) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]] = ROWS) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=5)
    return path


def hf_offline() -> Any:
    """Import ``datasets`` with the Hub switched off."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    import datasets

    datasets.disable_progress_bars()
    return datasets


def write_hf(path: Path, rows: list[dict[str, Any]] = ROWS, *, shards: int = 1) -> Path:
    datasets = hf_offline()
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    datasets.Dataset.from_dict(columns).save_to_disk(str(path), num_shards=shards)
    return path


def write_hf_dict(path: Path, splits: dict[str, list[dict[str, Any]]]) -> Path:
    datasets = hf_offline()
    built = {
        name: datasets.Dataset.from_dict({key: [row[key] for row in rows] for key in rows[0]})
        for name, rows in splits.items()
    }
    datasets.DatasetDict(built).save_to_disk(str(path))
    return path


def write_images(root: Path, classes: dict[str, int], size: tuple[int, int] = (12, 9)) -> Path:
    from PIL import Image

    for c, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            colour = (40 * c % 256, 10 * i % 256, 200)
            suffix = ".png" if i % 2 == 0 else ".jpg"
            Image.new("RGB", size, colour).save(folder / f"img{i:02d}{suffix}")
    return root


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A real 2x2 PNG whose IHDR is edited to claim ``width`` x ``height`` (CRC fixed)."""
    from PIL import Image

    Image.new("RGB", (2, 2), (1, 2, 3)).save(path)
    data = bytearray(path.read_bytes())
    # signature (8) + length (4) + b"IHDR" (4), then width and height, big-endian
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


class Canary:
    """Unpickling this creates ``path``: proof that something was (or was not) unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


def object_array(canary: Path) -> Any:
    array = np.empty(2, dtype=object)
    array[0] = Canary(canary)
    array[1] = "x"
    return array
