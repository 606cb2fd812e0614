"""Streaming dataset readers (ssdf_ai.data.readers), on real files made by the real libraries."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import tracemalloc
import weakref
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_fixtures import (
    ROWS,
    TYPES,
    object_array,
    png_claiming,
    write_csv,
    write_hf,
    write_hf_dict,
    write_images,
    write_jsonl,
    write_parquet,
)

from ssdf_ai.data.readers import (
    Chunk,
    Dataset,
    DatasetFormat,
    ReadLimits,
    RowProblem,
    detect_format,
    open_dataset,
)
from ssdf_ai.errors import InputError, MissingExtraError


def _read_all(dataset: Dataset, **kwargs: Any) -> tuple[dict[str, list[Any]], list[RowProblem]]:
    """Every chunk joined, checking that row ids run on from one chunk to the next."""
    columns: dict[str, list[Any]] = {}
    problems: list[RowProblem] = []
    expected_start = 0
    for chunk in dataset.chunks(**kwargs):
        assert chunk.start == expected_start
        assert chunk.row_ids == range(expected_start, expected_start + len(chunk))
        for values in chunk.columns.values():
            assert len(values) == len(chunk)
        for name, values in chunk.columns.items():
            columns.setdefault(name, [None] * expected_start).extend(values)
        problems.extend(chunk.problems)
        expected_start += len(chunk)
    return columns, problems


@pytest.fixture
def quick() -> Iterator[Callable[[], None]]:
    """Assert that the test body took under 2 seconds."""
    began = time.monotonic()

    def check() -> None:
        assert time.monotonic() - began < 2.0

    yield check
    check()


# ---- round trips -------------------------------------------------------------------------

WRITERS: dict[str, Callable[[Path], Path]] = {
    "csv": lambda d: write_csv(d / "rows.csv"),
    "jsonl": lambda d: write_jsonl(d / "rows.jsonl"),
    "parquet": lambda d: write_parquet(d / "rows.parquet"),
    "hf-arrow": lambda d: write_hf(d / "saved"),
    "hf-arrow-sharded": lambda d: write_hf(d / "saved", shards=3),
}


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("chunk_rows", [1, 7, 10_000])
def test_tabular_formats_give_back_the_same_rows(
    tmp_path: Path, kind: str, chunk_rows: int
) -> None:
    dataset = open_dataset(WRITERS[kind](tmp_path))
    assert dataset.format == kind.removesuffix("-sharded")
    assert dataset.schema() == TYPES
    assert dataset.num_rows() in (None, len(ROWS))
    columns, problems = _read_all(dataset, chunk_rows=chunk_rows)
    assert problems == []
    assert columns == {key: [row[key] for row in ROWS] for key in TYPES}
    for path in dataset.files():
        assert path.is_file()


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet", "hf-arrow"])
def test_a_column_selection_reads_only_those_columns(tmp_path: Path, kind: str) -> None:
    dataset = open_dataset(WRITERS[kind](tmp_path))
    columns, _ = _read_all(dataset, columns=["text", "id"], chunk_rows=4)
    assert set(columns) == {"text", "id"}
    assert columns["id"] == list(range(len(ROWS)))


@pytest.mark.parametrize("kind", ["csv", "parquet", "hf-arrow"])
def test_an_unknown_column_is_an_input_error(tmp_path: Path, kind: str) -> None:
    dataset = open_dataset(WRITERS[kind](tmp_path))
    with pytest.raises(InputError, match="unknown column"):
        next(dataset.chunks(columns=["nope"]))


def test_csv_types_empty_values_and_values_past_the_sample(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    lines = ["zip;n;x;flag;empty"]
    lines += [f"0{i};{i};{i}.5;{'TRUE' if i % 2 else 'false'};" for i in range(1, 1100)]
    lines += ["12345;not a number;;yes;"]  # past the 1000-row sample
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = open_dataset(path)
    assert dataset.schema() == {
        "zip": "string",  # leading zeros are kept as text
        "n": "integer",
        "x": "float",
        "flag": "boolean",
        "empty": "null",
    }
    columns, problems = _read_all(dataset, chunk_rows=100)
    assert problems == []
    assert columns["zip"][0] == "01"
    assert columns["flag"][:2] == [True, False]
    assert columns["empty"][0] is None
    assert columns["n"][-1] == "not a number"  # kept as text, not dropped
    assert columns["x"][-1] is None
    assert columns["flag"][-1] == "yes"


def test_csv_quoted_newlines_tabs_and_malformed_records(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, dialect="excel-tab")
        writer.writerow(["a", "b"])
        writer.writerow(["multi\nline", "1"])
        writer.writerow(["only one field"])
        writer.writerow(["x", "2"])
    columns, problems = _read_all(open_dataset(path), chunk_rows=1)
    assert columns == {"a": ["multi\nline", "x"], "b": [1, 2]}
    assert problems == [
        RowProblem(1, "data.tsv line 4", "the record has 1 fields, the header has 2")
    ]


def test_csv_without_a_header_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError):
        open_dataset(path, format="csv")


def test_csv_restores_the_process_wide_field_size_limit(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    dataset = open_dataset(write_csv(tmp_path / "r.csv"), limits=ReadLimits(max_cell_bytes=99))
    for _chunk in dataset.chunks(chunk_rows=2):
        assert csv.field_size_limit() == before
    assert csv.field_size_limit() == before


CHAT_CASES = [
    (
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi?"},
                {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": "Bye?"},
                {"role": "assistant", "content": "Bye."},
            ]
        },
        {
            "prompt": "Be brief.\nHi?\nBye?",
            "response": "Bye.",
            "text": "system: Be brief.\nuser: Hi?\nassistant: Hello.\nuser: Bye?\nassistant: Bye.",
        },
    ),
    (
        {"instruction": "Add.", "input": "1 2", "output": "3"},
        {"instruction": "Add.", "input": "1 2", "output": "3", "text": "Add.\n1 2\n3"},
    ),
    (
        {"instruction": "Greet.", "input": "", "output": "Hi"},
        {"text": "Greet.\nHi"},
    ),
    ({"prompt": "2+2", "completion": "4"}, {"prompt": "2+2", "text": "2+2\n4"}),
    ({"question": "Sky?", "answer": "Blue"}, {"text": "Sky?\nBlue"}),
    (
        {"prompt": "Pick", "chosen": "good", "rejected": "bad"},
        {"chosen": "good", "rejected": "bad", "text": "Pick\ngood"},
    ),
]


@pytest.mark.parametrize(("record", "expected"), CHAT_CASES)
def test_jsonl_chat_instruction_and_preference_columns(
    tmp_path: Path, record: dict[str, Any], expected: dict[str, Any]
) -> None:
    path = tmp_path / "sft.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    dataset = open_dataset(path)
    columns, problems = _read_all(dataset)
    assert problems == []
    for key, value in expected.items():
        assert columns[key] == [value]
        assert dataset.schema()[key] == "string"
    if "messages" in record:
        assert dataset.schema()["messages"] == "json"
        assert json.loads(columns["messages"][0]) == record["messages"]


def test_jsonl_nested_values_become_compact_json_and_new_keys_appear(tmp_path: Path) -> None:
    path = tmp_path / "data.json"  # .json with one object per line
    records = [{"a": 1, "meta": {"k": [1, 2]}}] + [{"a": i} for i in range(2, 5)] + [{"b": True}]
    path.write_text("\n\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    dataset = open_dataset(path)
    assert dataset.format is DatasetFormat.JSONL
    assert dataset.schema() == {"a": "integer", "meta": "json", "b": "boolean"}
    columns, problems = _read_all(dataset, chunk_rows=2)
    assert problems == []
    assert columns["meta"][0] == '{"k":[1,2]}'
    assert columns["a"] == [1, 2, 3, 4, None]
    assert columns["b"] == [None, None, None, None, True]


def test_jsonl_bad_lines_are_problems_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": \n[1, 2]\n\xff\xfe\n{"a": 2}\n')
    columns, problems = _read_all(open_dataset(path), chunk_rows=10)
    assert columns == {"a": [1, 2]}
    assert [(p.row, p.where) for p in problems] == [
        (1, "mixed.jsonl line 2"),
        (2, "mixed.jsonl line 3"),
        (3, "mixed.jsonl line 4"),
    ]
    assert problems[0].reason.startswith("invalid JSON")
    assert "not an object" in problems[1].reason
    assert "UTF-8" in problems[2].reason


def test_chunks_of_problems_stay_bounded(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("nope\n" * 250, encoding="utf-8")
    chunks = list(open_dataset(path, format="jsonl").chunks(chunk_rows=100))
    assert [len(c.problems) for c in chunks] == [100, 100, 50]
    assert all(len(c) == 0 for c in chunks)


def test_parquet_schema_and_nested_values(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "n": pa.array([1, None], pa.int16()),
            "blob": pa.array([b"\x00\x01", None]),
            "tags": pa.array([["a"], []]),
            "when": pa.array([0, 86_400], pa.date32()),
            "cat": pa.array(["x", "y"]).dictionary_encode(),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    dataset = open_dataset(tmp_path / "t.parquet")
    assert dataset.schema() == {
        "n": "integer",
        "blob": "binary",
        "tags": "json",
        "when": "string",
        "cat": "string",
    }
    columns, _ = _read_all(dataset)
    assert columns == {
        "n": [1, None],
        "blob": [b"\x00\x01", None],
        "tags": ['["a"]', "[]"],
        "when": ["1970-01-01", "2206-07-23"],
        "cat": ["x", "y"],
    }


def test_npy_one_dimensional_is_a_value_column(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.arange(10, dtype=np.int32))
    dataset = open_dataset(tmp_path / "v.npy")
    assert dataset.schema() == {"value": "integer"}
    assert dataset.num_rows() == 10
    columns, _ = _read_all(dataset, chunk_rows=3)
    assert columns == {"value": list(range(10))}


@pytest.mark.parametrize("fortran", [False, True])
def test_npy_n_dimensional_is_float32_features(tmp_path: Path, fortran: bool) -> None:
    array = np.arange(5 * 2 * 3, dtype=np.int64).reshape(5, 2, 3)
    np.save(tmp_path / "x.npy", np.asfortranarray(array) if fortran else array)
    dataset = open_dataset(tmp_path / "x.npy")
    assert dataset.schema() == {"features": "float[6]"}
    chunks = list(dataset.chunks(chunk_rows=2))
    assert [c.start for c in chunks] == [0, 2, 4]
    features = np.concatenate([c.features for c in chunks])
    assert features.dtype == np.float32
    np.testing.assert_array_equal(features, array.reshape(5, 6))


def test_npy_structured_fields_are_columns(tmp_path: Path) -> None:
    array = np.array([(1, 0.5, "a"), (2, 1.5, "b")], dtype=[("id", "i4"), ("w", "f8"), ("s", "U3")])
    np.save(tmp_path / "s.npy", array)
    dataset = open_dataset(tmp_path / "s.npy")
    assert dataset.schema() == {"id": "integer", "w": "float", "s": "string"}
    columns, _ = _read_all(dataset)
    assert columns == {"id": [1, 2], "w": [0.5, 1.5], "s": ["a", "b"]}


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_features_labels_and_other_columns(tmp_path: Path, compressed: bool) -> None:
    x = np.random.default_rng(0).normal(size=(11, 4))
    save = np.savez_compressed if compressed else np.savez
    save(
        tmp_path / "d.npz",
        features=x,
        targets=np.arange(11) % 3,
        weight=np.linspace(0, 1, 11),
        other=np.zeros(4),
        extra=np.ones((11, 2)),
    )
    dataset = open_dataset(tmp_path / "d.npz")
    assert dataset.format is DatasetFormat.NUMPY
    assert dataset.schema() == {"label": "integer", "weight": "float", "features": "float[4]"}
    assert dataset.num_rows() == 11
    chunks = list(dataset.chunks(chunk_rows=4))
    np.testing.assert_allclose(np.concatenate([c.features for c in chunks]), x, rtol=1e-6)
    labels = [v for c in chunks for v in c.columns["label"]]
    assert labels == [i % 3 for i in range(11)]
    ignored = {p.where for p in chunks[0].problems}
    assert ignored == {"d.npz:other.npy", "d.npz:extra.npy"}
    assert all(p.row == -1 for p in chunks[0].problems)


def test_npz_fortran_ordered_members_and_a_label_alone(tmp_path: Path) -> None:
    x = np.arange(7 * 3, dtype=np.float64).reshape(7, 3)
    np.savez(tmp_path / "f.npz", X=np.asfortranarray(x), labels=np.arange(7))
    chunks = list(open_dataset(tmp_path / "f.npz").chunks(chunk_rows=3))
    np.testing.assert_array_equal(np.concatenate([c.features for c in chunks]), x)
    np.savez(tmp_path / "y.npz", y=np.array(["a", "b", "c"]))
    dataset = open_dataset(tmp_path / "y.npz")
    assert dataset.schema() == {"label": "string"}
    assert _read_all(dataset, chunk_rows=2)[0] == {"label": ["a", "b", "c"]}


def test_image_folder_rows_labels_and_features(tmp_path: Path) -> None:
    root = write_images(tmp_path / "imgs", {"cat": 3, "dog": 2})
    (root / "cat" / ".hidden.png").write_bytes(b"x")
    (root / ".ssdf").mkdir()
    (root / "README.txt").write_text("not a class", encoding="utf-8")
    dataset = open_dataset(root, limits=ReadLimits(image_size=8))
    assert dataset.format is DatasetFormat.IMAGES
    assert dataset.schema() == {"path": "string", "label": "string", "features": "float[192]"}
    chunks = list(dataset.chunks(chunk_rows=2))
    paths = [p for c in chunks for p in c.columns["path"]]
    assert paths == [
        "cat/img00.png",
        "cat/img01.jpg",
        "cat/img02.png",
        "dog/img00.png",
        "dog/img01.jpg",
    ]
    assert [v for c in chunks for v in c.columns["label"]] == ["cat"] * 3 + ["dog"] * 2
    features = np.concatenate([c.features for c in chunks])
    assert features.shape == (5, 192)
    assert features.dtype == np.float32
    assert features.min() >= 0.0
    assert features.max() <= 1.0
    np.testing.assert_allclose(features[0].reshape(8, 8, 3)[0, 0], [0, 0, 200 / 255], atol=1e-6)
    assert len(dataset.files()) == 5


def test_hf_dataset_dict_reads_every_split_or_one(tmp_path: Path) -> None:
    root = write_hf_dict(tmp_path / "dd", {"train": ROWS[:15], "test": ROWS[15:]})
    assert detect_format(root) is DatasetFormat.HF_ARROW
    every = open_dataset(root)
    assert every.schema() == {**TYPES, "split": "string"}
    assert every.num_rows() == len(ROWS)
    columns, _ = _read_all(every, chunk_rows=4)
    assert columns["split"] == ["train"] * 15 + ["test"] * 8
    assert columns["id"] == list(range(len(ROWS)))
    test = open_dataset(root, split="test")
    assert test.schema() == TYPES
    columns, _ = _read_all(test, chunk_rows=4)
    assert columns["id"] == list(range(15, len(ROWS)))
    names = {p.name for p in every.files()}
    assert {"dataset_dict.json", "state.json", "dataset_info.json"} <= names
    with pytest.raises(InputError, match="no split"):
        open_dataset(root, split="validation")


def test_readers_import_no_optional_library() -> None:
    code = (
        "import sys, ssdf_ai.data.readers; "
        "print([m for m in ('numpy', 'pyarrow', 'PIL', 'datasets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- detection ---------------------------------------------------------------------------


def _npz(path: Path) -> Path:
    with path.open("wb") as fh:  # a file object: savez would add ".npz" to a name
        np.savez(fh, x=np.ones((2, 2)))
    return path


def _npy(path: Path) -> Path:
    with path.open("wb") as fh:
        np.save(fh, np.ones(3))
    return path


DETECT_CASES: list[tuple[str, Callable[[Path], Path], DatasetFormat]] = [
    ("parquet named .csv", lambda d: write_parquet(d / "data.csv"), DatasetFormat.PARQUET),
    ("npy named .txt", lambda d: _npy(d / "data.txt"), DatasetFormat.NUMPY),
    ("npz named .bin", lambda d: _npz(d / "data.bin"), DatasetFormat.NUMPY),
    ("jsonl named .csv", lambda d: write_jsonl(d / "data.csv"), DatasetFormat.JSONL),
    ("csv named .jsonl", lambda d: write_csv(d / "data.jsonl"), DatasetFormat.CSV),
    ("hf folder", lambda d: write_hf(d / "saved"), DatasetFormat.HF_ARROW),
    (
        "hf arrow file named .parquet",
        lambda d: next((write_hf(d / "s")).glob("*.arrow")).rename(d / "x.parquet"),
        DatasetFormat.HF_ARROW,
    ),
    ("images", lambda d: write_images(d / "imgs", {"a": 1}), DatasetFormat.IMAGES),
]


@pytest.mark.parametrize(
    ("maker", "expected"), [c[1:] for c in DETECT_CASES], ids=[c[0] for c in DETECT_CASES]
)
def test_detect_format_by_content(
    tmp_path: Path, maker: Callable[[Path], Path], expected: DatasetFormat
) -> None:
    path = maker(tmp_path)
    assert detect_format(path) is expected
    dataset = open_dataset(path)
    assert sum(len(c) for c in dataset.chunks()) > 0


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("blob.dat", b"\x00\x01\x02binary", "cannot tell"),
        ("empty.csv", b"", "empty"),
        ("array.json", b'[{"a": 1}]', "JSON array"),
        ("pretty.json", b'{\n  "a": 1,\n  "b": 2\n}\n', "one JSON document"),
        ("a.zip", b"", "zip archive"),
        ("missing.csv", None, "no such"),
    ],
)
def test_detect_format_refuses_what_it_cannot_tell(
    tmp_path: Path, name: str, content: bytes | None, match: str
) -> None:
    path = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "hi")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        detect_format(path)


def test_an_empty_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        open_dataset(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"format": "xlsx"}, "unknown dataset format"), ({"split": "train"}, "splits")],
)
def test_open_dataset_argument_errors(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        open_dataset(write_csv(tmp_path / "r.csv"), **kwargs)


# ---- bounded memory ----------------------------------------------------------------------


def test_a_large_csv_is_read_one_chunk_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "value"])
        writer.writerows(
            [i, f"some training text number {i} " * 2, i * 0.5] for i in range(200_000)
        )
    size = path.stat().st_size
    dataset = open_dataset(path)
    dataset.schema()

    seen: list[weakref.ref[Chunk]] = []

    def consume(chunks: Iterator[Chunk]) -> int:
        rows = 0
        for chunk in chunks:
            # every earlier chunk is gone: the reader holds one chunk at a time
            assert all(ref() is None for ref in seen)
            assert len(chunk) <= 1000
            assert chunk.start == rows
            seen.append(weakref.ref(chunk))
            rows += len(chunk)
            del chunk  # the consumer keeps nothing; the reader must not either
        return rows

    tracemalloc.start()
    try:
        rows = consume(dataset.chunks(chunk_rows=1000))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 200_000
    assert len(seen) == 200
    assert peak < size / 10, f"peak {peak} bytes for a {size}-byte file"


# ---- hostile input -----------------------------------------------------------------------


def test_a_20_mb_csv_field_is_a_problem(tmp_path: Path, quick: Callable[[], None]) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(b"a,b\n1,2\n")
        fh.write(b"x" * (20 << 20) + b",3\n")
        fh.write(b'"' + b"y" * (2 << 20) + b'",4\n')  # under the line limit, over the cell limit
        fh.write(b"5,6\n")
    columns, problems = _read_all(open_dataset(path, format="csv"), chunk_rows=10)
    assert columns == {"a": [1, 5], "b": [2, 6]}
    assert [(p.row, p.where) for p in problems] == [(1, "huge.csv line 3"), (2, "huge.csv line 4")]
    assert "longer than" in problems[0].reason
    assert "field" in problems[1].reason


def test_a_long_json_line_is_a_problem(tmp_path: Path, quick: Callable[[], None]) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text('{"a": "' + "z" * 5000 + '"}\n{"a": "ok"}\n', encoding="utf-8")
    limits = ReadLimits(max_line_bytes=1000, max_cell_bytes=100)
    columns, problems = _read_all(open_dataset(path, limits=limits))
    assert columns == {"a": ["ok"]}
    assert "longer than 1000 bytes" in problems[0].reason
    path.write_text('{"a": "' + "z" * 500 + '"}\n', encoding="utf-8")
    _, problems = _read_all(open_dataset(path, limits=limits))
    assert "value of 'a'" in problems[0].reason


def test_json_nested_100000_deep_is_a_problem(tmp_path: Path, quick: Callable[[], None]) -> None:
    path = tmp_path / "deep.jsonl"
    deep = '{"a": ' * 100_000 + "1" + "}" * 100_000
    path.write_text(deep + '\n{"a": "[[[[not nesting]]]]"}\n', encoding="utf-8")
    dataset = open_dataset(path)
    columns, problems = _read_all(dataset)
    assert columns == {"a": ["[[[[not nesting]]]]"]}
    assert problems == [RowProblem(0, "deep.jsonl line 1", "the JSON nests deeper than 64 levels")]


def test_an_npz_declaring_a_10_gib_member_is_refused(
    tmp_path: Path, quick: Callable[[], None]
) -> None:
    path = tmp_path / "bomb.npz"
    np.savez(path, x=np.ones((4, 4)))
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("y.npy", b"\x93NUMPY tiny")
        zf.infolist()[-1].file_size = 10 << 30  # written to the central directory on close
    assert zipfile.ZipFile(path).getinfo("y.npy").file_size == 10 << 30
    with pytest.raises(InputError, match="declares 10737418240 bytes"):
        open_dataset(path)


def test_an_npy_header_larger_than_its_member_is_refused(
    tmp_path: Path, quick: Callable[[], None]
) -> None:
    # a real header claiming 10**9 rows over two rows of data
    with (tmp_path / "big.npy").open("wb") as fh:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 2)}
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(np.ones((2, 2)).tobytes())
    with zipfile.ZipFile(tmp_path / "lie.npz", "w") as zf:
        zf.write(tmp_path / "big.npy", "x.npy")
    with pytest.raises(InputError, match="header implies"):
        open_dataset(tmp_path / "lie.npz")


@pytest.mark.parametrize("kind", ["npy", "npz"])
def test_object_arrays_are_never_unpickled(
    tmp_path: Path, kind: str, quick: Callable[[], None]
) -> None:
    canary = tmp_path / "canary"
    array = object_array(canary)
    path = tmp_path / f"evil.{kind}"
    if kind == "npy":
        np.save(path, array, allow_pickle=True)
    else:
        np.savez(path, x=np.ones((2, 2)), y=array)
    assert detect_format(path) is DatasetFormat.NUMPY
    with pytest.raises(InputError, match="object dtype") as info:
        open_dataset(path)
    assert "pickle" in (info.value.hint or "")
    assert not canary.exists()
    # the payload is live: loading it the unsafe way does create the canary
    loaded = np.load(path, allow_pickle=True)
    _ = loaded if kind == "npy" else loaded["y"]
    assert canary.exists()


def test_an_image_claiming_10_gigapixels_is_a_problem(
    tmp_path: Path, quick: Callable[[], None]
) -> None:
    root = write_images(tmp_path / "imgs", {"a": 2})
    png_claiming(root / "a" / "bomb.png", 100_000, 100_000)
    png_claiming(root / "a" / "big.png", 8000, 8000)  # 64 Mpx: over our bound, under Pillow's
    (root / "a" / "junk.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPjunk")
    columns, problems = _read_all(open_dataset(root))
    assert columns["path"] == ["a/img00.png", "a/img01.jpg"]
    reasons = {p.where: p.reason for p in problems}
    assert set(reasons) == {"a/big.png", "a/bomb.png", "a/junk.webp"}
    assert "decompression bomb" in reasons["a/bomb.png"]
    assert "8000x8000" in reasons["a/big.png"]
    assert "cannot decode" in reasons["a/junk.webp"]


def test_a_symlink_leaving_the_image_folder_is_not_followed(
    tmp_path: Path, quick: Callable[[], None]
) -> None:
    outside = write_images(tmp_path / "outside", {"secret": 1})
    root = write_images(tmp_path / "imgs", {"a": 1})
    (root / "a" / "leak.png").symlink_to(outside / "secret" / "img00.png")
    (root / "b").symlink_to(outside / "secret")
    (root / "a" / "inner.png").symlink_to(root / "a" / "img00.png")
    dataset = open_dataset(root)
    columns, problems = _read_all(dataset)
    assert columns["path"] == ["a/img00.png"]
    reasons = {p.where: p.reason for p in problems}
    assert reasons == {
        "a/leak.png": "a symbolic link that leaves the dataset folder; not followed",
        "b": "a symbolic link that leaves the dataset folder; not followed",
        "a/inner.png": "a symbolic link inside the dataset folder; not followed",
    }
    assert all(p.row == -1 for p in problems)
    assert dataset.files() == [root / "a" / "img00.png"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "../outside.arrow"])
def test_state_json_naming_a_file_outside_is_an_input_error(
    tmp_path: Path, name: str, quick: Callable[[], None]
) -> None:
    root = write_hf(tmp_path / "saved")
    (tmp_path / "outside.arrow").write_bytes(next(root.glob("*.arrow")).read_bytes())
    state = json.loads((root / "state.json").read_text(encoding="utf-8"))
    state["_data_files"] = [{"filename": name}]
    (root / "state.json").write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(InputError, match="outside the dataset folder"):
        open_dataset(root)


def test_a_dataset_dict_split_outside_is_an_input_error(tmp_path: Path) -> None:
    root = write_hf_dict(tmp_path / "dd", {"train": ROWS})
    (root / "dataset_dict.json").write_text('{"splits": ["../dd/train", ".."]}', encoding="utf-8")
    with pytest.raises(InputError, match="invalid split name"):
        open_dataset(root)


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"PAR1 not really parquet", "Parquet"), (b"\x93NUMPY\x01\x00garbage", "npy")],
)
def test_corrupt_binary_files_are_input_errors(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "corrupt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        open_dataset(path)


# ---- missing extras ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "maker", "missing"),
    [
        ("pyarrow", lambda d: write_parquet(d / "t.parquet"), "pyarrow"),
        ("pyarrow", lambda d: write_hf(d / "saved"), "pyarrow"),
        ("PIL", lambda d: write_images(d / "imgs", {"a": 1}), "PIL"),
        ("numpy", lambda d: _npy(d / "v.npy"), "numpy"),
    ],
)
def test_a_missing_library_names_the_extra(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    maker: Callable[[Path], Path],
    missing: str,
) -> None:
    path = maker(tmp_path)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtraError) as info:
        open_dataset(path)
    assert info.value.extra == "data"
    assert info.value.module == missing


def test_a_json_object_with_too_many_keys_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "wide.jsonl"
    wide = {f"k{i}": i for i in range(50)}
    path.write_text(json.dumps(wide) + "\n" + json.dumps({"k0": 1}) + "\n", encoding="utf-8")
    columns, problems = _read_all(open_dataset(path, limits=ReadLimits(max_columns=10)))
    assert columns == {"k0": [1]}
    assert problems[0].reason == "the object has 50 keys, more than 10"


def test_too_many_csv_columns_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(20)) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="more than the limit of 10"):
        open_dataset(path, limits=ReadLimits(max_columns=10))


def test_wide_feature_arrays_come_in_smaller_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssdf_ai.data import _read_arrays

    monkeypatch.setattr(_read_arrays, "FEATURE_CHUNK_BYTES", 4 * 100 * 3)
    np.save(tmp_path / "wide.npy", np.zeros((10, 100)))
    chunks = list(open_dataset(tmp_path / "wide.npy").chunks(chunk_rows=1000))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]


def test_image_labels_alone_still_decode_every_image(tmp_path: Path) -> None:
    root = write_images(tmp_path / "imgs", {"a": 2})
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    chunks = list(open_dataset(root).chunks(columns=["label"]))
    assert [c.columns for c in chunks] == [{"label": ["a", "a"]}]
    assert chunks[0].features is None
    assert [p.where for p in chunks[0].problems] == ["a/broken.png"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(*[st.text(alphabet=" xyz,;|\t\"\n'é", max_size=12)] * 3),
        min_size=1,
        max_size=30,
    )
)
def test_csv_text_round_trips_whatever_the_quoting(
    tmp_path: Path, rows: list[tuple[str, str, str]]
) -> None:
    path = tmp_path / "prop.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["a", "b", "c"])
        writer.writerows([tuple(f"v{v}" for v in row) for row in rows])
    columns, problems = _read_all(open_dataset(path), chunk_rows=7)
    assert problems == []
    assert columns == {k: [f"v{row[i]}" for row in rows] for i, k in enumerate("abc")}


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.dictionaries(st.sampled_from("abc"), _JSON_VALUES), max_size=20))
def test_jsonl_values_round_trip(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    path = tmp_path / "prop.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + "{}\n", encoding="utf-8")
    columns, problems = _read_all(open_dataset(path, format="jsonl"), chunk_rows=6)
    assert problems == []
    assert set(columns) == {key for row in rows for key in row}
    for key, values in columns.items():
        expected = [row.get(key) for row in rows] + [None]
        assert values == [
            json.dumps(v, separators=(",", ":"), ensure_ascii=False)
            if isinstance(v, dict | list)
            else v
            for v in expected
        ]


def test_loops_of_links_are_reported_not_followed(tmp_path: Path) -> None:
    root = write_images(tmp_path / "imgs", {"a": 1})
    (root / "a" / "loop1.png").symlink_to(root / "a" / "loop2.png")
    (root / "a" / "loop2.png").symlink_to(root / "a" / "loop1.png")
    _, problems = _read_all(open_dataset(root))
    assert {p.where for p in problems} == {"a/loop1.png", "a/loop2.png"}
    saved = write_hf(tmp_path / "saved")
    (saved / "l1.arrow").symlink_to(saved / "l2.arrow")
    (saved / "l2.arrow").symlink_to(saved / "l1.arrow")
    (saved / "state.json").write_text('{"_data_files": [{"filename": "l1.arrow"}]}', "utf-8")
    with pytest.raises(InputError):
        open_dataset(saved)
