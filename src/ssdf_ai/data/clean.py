"""``ssdf data clean``: a filtered copy of a dataset, never in place, and a log of every change.

:func:`clean_dataset` takes what :func:`ssdf_ai.data.check.check_dataset` flagged and writes a
new dataset without the rows of the chosen checks (removed), with secrets and personal data in
text replaced by ``[REDACTED:<kind>]`` and invisible characters taken out (altered), and a JSON
Lines log with one line per removed or altered row: its row id, where it was in the source,
what was done and why. The source is never modified; the copy and the log are written
atomically (to a temporary file beside them, then renamed).

Rows are matched by their row id as the check saw them; the copy is made by reading the source
again the same way (the same records and lines, the same unreadable rows), so that ids and
source records line up. CSV and JSON Lines keep their records exactly as written, except the
altered ones; Parquet keeps its schema; NumPy keeps its arrays (filtered along the first axis);
an image folder keeps its files. Hugging Face datasets saved to disk are not written back
(export the split to Parquet first).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ssdf_ai.errors import InputError

if TYPE_CHECKING:
    from ssdf_ai.data.check import DataCheck
    from ssdf_ai.data.readers import Dataset

# What each removal choice removes: the check's flagged rows.
REMOVABLE = {
    "duplicates": "a duplicate of an earlier row",
    "backdoor": "carries a backdoor pattern tied to one label",
    "triggers": "carries a text trigger tied to one target",
    "injection": "holds a prompt-injection string",
    "labels": "its label looks wrong (label issue)",
    "outliers": "an outlier",
    "secrets": "holds a secret",
    "pii": "holds personal data",
    "unreadable": "could not be read",
}
DEFAULT_REMOVE = ("duplicates", "backdoor", "triggers", "injection", "unreadable")
_FLAGGED_KEY = {
    "injection": "text:injection",
    "secrets": "text:secret",
    "pii": "text:pii",
}
# Categories of text hazards that are redacted in place (altered rows) unless removed.
REDACT = ("secret", "pii", "unicode")


@dataclasses.dataclass(frozen=True)
class CleanResult:
    """What :func:`clean_dataset` wrote.

    Attributes:
        output: The cleaned copy.
        log: The change log (JSON Lines).
        rows_in: Rows the check read (unreadable ones not counted).
        rows_out: Rows written.
        removed: Rows removed, by reason (a row removed for two reasons counts for each).
        altered: Rows altered (redacted).
        unreadable: Source records that could not be read (removed).
    """

    output: Path
    log: Path
    rows_in: int
    rows_out: int
    removed: dict[str, int]
    altered: int
    unreadable: int


class _Log:
    """The change log, written to a temporary file and moved into place at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self.tmp = Path(tmp)
        self.handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8")
        self.removed: dict[str, int] = {}
        self.altered = 0

    def write(self, entry: dict[str, Any]) -> None:
        self.handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")

    def remove(self, row: int | None, where: str, reasons: list[str]) -> None:
        for reason in reasons:
            self.removed[reason] = self.removed.get(reason, 0) + 1
        self.write(
            {
                "row": row,
                "where": where,
                "action": "removed",
                "checks": reasons,
                "reason": "; ".join(REMOVABLE.get(r, r) for r in reasons),
            }
        )

    def alter(self, row: int, where: str, kinds: list[str]) -> None:
        self.altered += 1
        self.write(
            {
                "row": row,
                "where": where,
                "action": "altered",
                "checks": ["text"],
                "reason": "redacted " + ", ".join(sorted(set(kinds))),
            }
        )

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


def redact(text: str) -> tuple[str, list[str]]:
    """``text`` with secrets and personal data replaced and invisible characters removed.

    Returns:
        The new text and the kinds of what was replaced (empty when nothing was).
    """
    from ssdf_ai.detect import scan_text

    hits = [h for h in scan_text(text) if h.category in REDACT]
    if not hits:
        return text, []
    out = text
    for hit in sorted(hits, key=lambda h: -h.start):
        marker = "" if hit.category == "unicode" else f"[REDACTED:{hit.kind}]"
        out = out[: hit.start] + marker + out[hit.end :]
    return out, [h.kind for h in hits]


def _redact_json(value: Any, kinds: list[str]) -> Any:
    if isinstance(value, str):
        new, found = redact(value)
        kinds.extend(found)
        return new
    if isinstance(value, list):
        return [_redact_json(v, kinds) for v in value]
    if isinstance(value, dict):
        return {k: _redact_json(v, kinds) for k, v in value.items()}
    return value


def plan(check: DataCheck, remove: Iterable[str]) -> dict[int, list[str]]:
    """Row id -> the removal reasons that apply to it."""
    reasons: dict[int, list[str]] = {}
    for choice in remove:
        if choice == "unreadable":
            continue
        key = _FLAGGED_KEY.get(choice, choice)
        for row in check.flagged.get(key, []):
            reasons.setdefault(row, []).append(choice)
    return reasons


def _source_rows(problem_ordinals: set[int], total: int) -> Iterator[tuple[int, int | None]]:
    """``(ordinal, row id or None)`` for every source record, unreadable ones with None."""
    row = 0
    for ordinal in range(total):
        if ordinal in problem_ordinals:
            yield ordinal, None
        else:
            yield ordinal, row
            row += 1


def clean_dataset(
    dataset: Dataset,
    check: DataCheck,
    output: Path,
    *,
    log: Path,
    remove: Iterable[str] = DEFAULT_REMOVE,
    redact_text: bool = True,
    unreadable: Iterable[int] = (),
) -> CleanResult:
    """Write the cleaned copy of ``dataset`` to ``output`` and the change log to ``log``.

    Args:
        dataset: The dataset the check read.
        check: What the check found (its ``flagged`` rows).
        output: Where the copy goes; must not exist and must not be the source.
        log: Where the log goes.
        remove: Which flagged rows to remove (names from :data:`REMOVABLE`).
        redact_text: Redact secrets and personal data in the rows that are kept (CSV, JSON
            Lines).
        unreadable: Source ordinals of the records the check could not read.

    Returns:
        What was written.

    Raises:
        InputError: The output exists or is the source, a removal choice is unknown, or the
            format cannot be written back.
    """
    choices = list(dict.fromkeys(remove))
    unknown = sorted(set(choices) - set(REMOVABLE))
    if unknown:
        raise InputError(
            f"unknown removal choice(s): {', '.join(unknown)}",
            hint="choose from: " + ", ".join(REMOVABLE),
        )
    if output.exists() or output.is_symlink():
        raise InputError(
            f"{output} exists; the cleaned copy is never written over anything",
            where=output,
            hint="give a new path with --output",
        )
    if output.resolve() == dataset.path.resolve() or log.resolve() == dataset.path.resolve():
        raise InputError("the output would replace the source", where=output)
    reasons = plan(check, choices)
    bad = set(unreadable) if "unreadable" in choices else set()
    writer = _WRITERS.get(dataset.format.value)
    if writer is None:
        raise InputError(
            f"cleaning {dataset.format.value} datasets is not supported",
            where=dataset.path,
            hint="export the split to Parquet (Dataset.to_parquet) and clean that",
        )
    entries = _Log(log)
    try:
        job = _Job(dataset, output, reasons, bad, set(unreadable), redact_text, entries)
        rows_out = writer(job)
        entries.commit()
    except BaseException:
        entries.abort()
        raise
    rows_in = int(check.profile.get("rows", 0))
    return CleanResult(
        output=output,
        log=log,
        rows_in=rows_in,
        rows_out=rows_out,
        removed=dict(sorted(entries.removed.items())),
        altered=entries.altered,
        unreadable=len(set(unreadable)),
    )


@dataclasses.dataclass(frozen=True)
class _Job:
    """One cleaning: the source, the copy, the rows to remove and why, the log."""

    dataset: Any
    output: Path
    reasons: dict[int, list[str]]
    bad: set[int]  # unreadable source records to remove
    unreadable: set[int]  # every unreadable source record
    redact_text: bool
    log: _Log


class _Atomic:
    """A file written beside its destination and renamed into place when complete."""

    def __init__(self, path: Path, mode: str = "w") -> None:
        self.path = path
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


def _with_atomic(path: Path, write: Any) -> int:
    target = _Atomic(path)
    try:
        rows = int(write(target.tmp))
        target.commit()
    except BaseException:
        target.abort()
        raise
    return rows


def _copy_records(
    job: _Job,
    records: Iterable[tuple[str, Any, bool]],
    write: Callable[[Any], None],
    redact_record: Callable[[Any], tuple[Any, list[str]]],
) -> int:
    """Copy source records in order: ``(where, record or None, readable)`` for each.

    Readable records are numbered as the check numbered its rows, removed when the plan says
    so, redacted when asked; unreadable ones are copied as they are, unless their removal was
    asked for or there is nothing to copy (both are logged). Returns the records written.
    """
    kept = 0
    row = -1
    for ordinal, (where, record, readable) in enumerate(records):
        if not readable:
            if record is None or ordinal in job.bad:
                job.log.remove(None, where, ["unreadable"])
            else:
                write(record)
                kept += 1
            continue
        row += 1
        if row in job.reasons:
            job.log.remove(row, where, job.reasons[row])
            continue
        if job.redact_text:
            redacted, kinds = redact_record(record)
            if kinds:
                job.log.alter(row, where, kinds)
                record = redacted
        write(record)
        kept += 1
    return kept


def _redact_fields(fields: list[str]) -> tuple[list[str], list[str]]:
    kinds: list[str] = []
    new = []
    for value in fields:
        text, found = redact(value)
        kinds.extend(found)
        new.append(text)
    return new, kinds


def _redact_line(raw: bytes) -> tuple[bytes, list[str]]:
    kinds: list[str] = []
    obj = _redact_json(json.loads(raw), kinds)
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8"), kinds


def _csv(job: _Job) -> int:
    dataset = job.dataset

    def write(tmp: Path) -> int:
        records = dataset._records()  # the reader's own records: the same ordinals
        header = next(records, None)
        width = len(dataset.names)
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle, dialect=dataset.dialect)
            if header is not None and header[1] is not None:
                out.writerow(header[1])
            return _copy_records(
                job,
                (
                    (
                        f"{dataset.path.name} line {line}",
                        fields,
                        problem is None and fields is not None and len(fields) == width,
                    )
                    for line, fields, problem in records
                ),
                out.writerow,
                _redact_fields,
            )

    return _with_atomic(job.output, write)


def _jsonl(job: _Job) -> int:
    dataset = job.dataset
    from ssdf_ai.data._read_text import _bounded_lines, _open

    def raw_lines() -> Iterator[tuple[str, bytes | None, bool]]:
        """The non-blank lines, as the reader counts them (an unreadable one as None)."""
        ordinal = -1
        with _open(dataset.path) as fh:
            for lineno, raw in enumerate(
                _bounded_lines(fh, dataset.limits.max_line_bytes), start=1
            ):
                where = f"{dataset.path.name} line {lineno}"
                if raw is not None:
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        text = "undecodable"  # counted: the reader reports it as a problem
                    if lineno == 1:
                        text = text.removeprefix("\ufeff")
                    if not text.strip():
                        continue
                ordinal += 1
                yield where, raw, raw is not None and ordinal not in job.unreadable

    def write(tmp: Path) -> int:
        with tmp.open("wb") as handle:

            def put(raw: bytes) -> None:
                handle.write(raw if raw.endswith(b"\n") else raw + b"\n")

            return _copy_records(job, raw_lines(), put, _redact_line)

    return _with_atomic(job.output, write)


def _parquet(job: _Job) -> int:
    dataset, output, reasons, log = job.dataset, job.output, job.reasons, job.log
    from ssdf_ai.data.readers import _pyarrow

    pa, _ipc, pq = _pyarrow()

    def write(tmp: Path) -> int:
        source = pq.ParquetFile(dataset.path)
        kept = 0
        start = 0
        with pq.ParquetWriter(tmp, source.schema_arrow) as out:
            for batch in source.iter_batches(batch_size=10_000):
                mask = []
                for i in range(batch.num_rows):
                    row = start + i
                    if row in reasons:
                        log.remove(row, f"{dataset.path.name} row {row}", reasons[row])
                        mask.append(False)
                    else:
                        mask.append(True)
                start += batch.num_rows
                filtered = batch.filter(pa.array(mask, type=pa.bool_()))
                kept += filtered.num_rows
                out.write_table(pa.Table.from_batches([filtered], schema=source.schema_arrow))
        return kept

    return _with_atomic(output, write)


def _numpy(job: _Job) -> int:
    dataset, output, reasons, log = job.dataset, job.output, job.reasons, job.log
    import numpy as np

    def write(tmp: Path) -> int:
        if dataset.path.suffix.lower() == ".npz" or dataset.path.is_dir():
            with np.load(dataset.path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        else:
            arrays = {"arr_0": np.load(dataset.path, allow_pickle=False, mmap_mode="r")}
        rows = max((len(a) for a in arrays.values() if a.ndim), default=0)
        keep = np.ones(rows, dtype=bool)
        for row in sorted(reasons):
            if row < rows:
                keep[row] = False
                log.remove(row, f"{dataset.path.name} row {row}", reasons[row])
        out = {name: a[keep] if a.ndim and len(a) == rows else a for name, a in arrays.items()}
        with tmp.open("wb") as handle:
            if dataset.path.suffix.lower() == ".npy":
                np.save(handle, out["arr_0"], allow_pickle=False)
            else:
                np.savez(handle, **out)
        return int(keep.sum())

    return _with_atomic(output, write)


def _images(job: _Job) -> int:
    dataset, output, reasons, log = job.dataset, job.output, job.reasons, job.log
    staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}."))
    kept = 0
    try:
        for chunk in dataset.chunks(columns=["path"], chunk_rows=1000):
            for i, rel in enumerate(chunk.columns["path"]):
                row = chunk.start + i
                if row in reasons:
                    log.remove(row, rel, reasons[row])
                    continue
                source = dataset.path / rel
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                kept += 1
        os.replace(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return kept


_WRITERS: dict[str, Any] = {
    "csv": _csv,
    "jsonl": _jsonl,
    "parquet": _parquet,
    "numpy": _numpy,
    "images": _images,
}
