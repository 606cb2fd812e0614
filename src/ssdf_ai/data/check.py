"""``ssdf data check``: every data check over one dataset, read as a stream.

:func:`check_dataset` reads a dataset (:mod:`ssdf_ai.data.readers`) chunk by chunk and runs the
checks that its columns allow:

- text hazards (secrets, personal data, prompt injection, hidden Unicode) in every string column;
- exact and near-duplicates (MinHash LSH over the text; row digests for other data) and
  diversity statistics;
- label issues (confident learning) and backdoor patterns (rare feature patterns and spectral
  signatures) on numeric features with a label, held in memory up to ``max_rows_in_memory``;
- text triggers tied to one label or one response;
- label-rate disparity across declared sensitive attributes, and class imbalance;
- outliers in numeric features (fitted on a bounded sample, scored in a second pass);
- integrity: the registered digest (tampering), the schema recorded by the last check (drift),
  and rows appended after an unchanged prefix.

Each check says whether it ran, and why not when it did not; a check that was asked for and
could not run is itself a finding (``SSDF-DATA-015``). Findings name the row (``row 17``), the
column and the reason; at most ``max_findings_per_rule`` findings per rule are listed, and the
check's summary counts the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ssdf_ai.data import rules
from ssdf_ai.data.readers import Chunk
from ssdf_ai.findings import Confidence, Finding, Severity

if TYPE_CHECKING:
    from ssdf_ai.data.readers import Dataset
    from ssdf_ai.detect import Hit

CHECKS = (
    "text",
    "duplicates",
    "labels",
    "backdoor",
    "triggers",
    "bias",
    "outliers",
    "integrity",
)
# Columns whose values are the text a model learns from, in order of preference.
TEXT_NAMES = (
    "text",
    "content",
    "prompt",
    "instruction",
    "input",
    "question",
    "sentence",
    "review",
    "document",
)
RESPONSE_NAMES = ("response", "output", "completion", "answer", "chosen")
_CATEGORY_RULE = {
    "secret": rules.SECRET,
    "pii": rules.PII,
    "injection": rules.INJECTION,
    "unicode": rules.HIDDEN_UNICODE,
}
_PREVIEW = 160
_CACHE_CHARS = 64
_CACHE_ENTRIES = 100_000
# Below this many features, the backdoor check's "rare pattern tied to one label" is what any
# informative feature of low-dimensional tabular data looks like (measured on scikit-learn's
# wine data with 3 features: 13 clean rows flagged); it runs on images, arrays and wide tables.
MIN_BACKDOOR_FEATURES = 16
# Out-of-sample accuracy below which label issues are reported as low-severity leads.
RELIABLE_ACCURACY = 0.85


@dataclasses.dataclass(frozen=True)
class CheckSettings:
    """What to check and how.

    Attributes:
        label: The label column (classification data), if any.
        text: Text columns; empty: the dataset's text column found by name (``text``,
            ``prompt``...). Every string column is scanned for text hazards either way.
        sensitive: Sensitive attribute columns for the bias check.
        response: The response column of generation data (text triggers tied to one
            response); found by name (``response``, ``output``...) when not given.
        checks: The checks to run (names from :data:`CHECKS`); None: every check the data allows.
        max_rows_in_memory: Most rows whose features are held in memory for the label and
            backdoor checks.
        max_findings_per_rule: Most findings listed per rule (the rest are counted).
        chunk_rows: Rows read at a time.
    """

    label: str | None = None
    text: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    response: str | None = None
    checks: frozenset[str] | None = None
    max_rows_in_memory: int = 200_000
    max_findings_per_rule: int = 100
    chunk_rows: int = 10_000


@dataclasses.dataclass(frozen=True)
class CheckSummary:
    """One check's outcome.

    Attributes:
        name: The check (see :data:`CHECKS`).
        status: ``ran``, ``skipped`` (the data does not call for it) or ``not-run`` (asked
            for, or called for, and it could not run).
        detail: One sentence: what it found, or why it did not run.
        flagged_rows: Rows it flagged.
        figures: Its statistics.
    """

    name: str
    status: str
    detail: str
    flagged_rows: int = 0
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Previous:
    """What the last recorded check and the registry know about this dataset.

    Attributes:
        profile: The profile the last check recorded (:attr:`DataCheck.profile`), if any.
        registered_digest: The digest the dataset was registered with, if registered.
        current_digest: The dataset's digest now (computed by the caller with the same method).
    """

    profile: dict[str, Any] | None = None
    registered_digest: str | None = None
    current_digest: str | None = None


@dataclasses.dataclass
class DataCheck:
    """Everything :func:`check_dataset` found.

    Attributes:
        findings: The findings, each naming a row or the dataset.
        checks: One summary per check, in :data:`CHECKS` order.
        flagged: Check name -> the row ids it flagged (at most 10,000 each); the text check
            by category: ``text:secret``, ``text:pii``, ``text:injection``, ``text:unicode``.
        profile: Schema, row count, per-column statistics and the ordered-prefix digest; the
            next check compares against it.
        plots: Data for the HTML report's charts (distributions, per-group rates, examples).
        unreadable: Source positions (counting every record) of the rows that could not be read.
    """

    findings: list[Finding] = dataclasses.field(default_factory=list)
    checks: list[CheckSummary] = dataclasses.field(default_factory=list)
    flagged: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    profile: dict[str, Any] = dataclasses.field(default_factory=dict)
    plots: dict[str, Any] = dataclasses.field(default_factory=dict)
    unreadable: list[int] = dataclasses.field(default_factory=list)


class _Findings:
    """Findings capped per rule; the counts stay exact."""

    def __init__(self, path: str, cap: int) -> None:
        self.path = path
        self.cap = cap
        self.items: list[Finding] = []
        self.counts: Counter[str] = Counter()

    def add(
        self,
        rule_id: str,
        message: str,
        *,
        address: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.HIGH,
        remediation: str | None = None,
    ) -> None:
        self.counts[rule_id] += 1
        if self.counts[rule_id] > self.cap:
            return
        self.items.append(
            rules.RULES[rule_id].finding(
                message,
                path=self.path,
                address=address,
                severity=severity,
                confidence=confidence,
                remediation=remediation,
            )
        )

    def done(self) -> list[Finding]:
        for rule_id, count in sorted(self.counts.items()):
            if count > self.cap:
                self.items.append(
                    rules.RULES[rule_id].finding(
                        f"{count - self.cap} more {rules.RULES[rule_id].name} finding(s) not "
                        f"listed ({count} in all); see the report's check summary",
                        path=self.path,
                        severity=Severity.INFO,
                    )
                )
        return self.items


def _preview(text: str) -> str:
    """A short, single-line preview of a value, with detected hazards masked."""
    from ssdf_ai.detect import scan_text

    short = text[: _PREVIEW * 2]
    for hit in sorted(scan_text(short), key=lambda h: -h.start):
        short = short[: hit.start] + f"[{hit.kind}]" + short[hit.end :]
    short = " ".join(short.split())
    return short if len(short) <= _PREVIEW else short[: _PREVIEW - 1] + "…"


def _is_text(kind: str) -> bool:
    return kind == "string"


def _is_number(kind: str) -> bool:
    return kind in ("integer", "float", "boolean")


def text_columns(schema: dict[str, str], settings: CheckSettings) -> tuple[str, ...]:
    """The columns whose text the duplicate and trigger checks read."""
    if settings.text:
        return settings.text
    if "features" in schema:
        return ()  # arrays and images: their string columns are file names and labels
    for name in TEXT_NAMES:
        if schema.get(name) == "string":
            return (name,)
    # Other string columns of a table are usually ids and categories, not text to learn from:
    # name the text column with --text.
    return ()


def response_column(schema: dict[str, str], settings: CheckSettings) -> str | None:
    """The response column of generation data, if any."""
    if settings.response:
        return settings.response
    for name in RESPONSE_NAMES:
        if schema.get(name) == "string":
            return name
    return None


def _check_columns(schema: dict[str, str], settings: CheckSettings) -> None:
    from ssdf_ai.errors import InputError

    named = [settings.label, *settings.text, *settings.sensitive, settings.response]
    missing = [c for c in named if c and c not in schema]
    if missing:
        raise InputError(
            f"column(s) {', '.join(missing)} not in the dataset",
            hint="its columns are: " + ", ".join(sorted(schema)) if schema else None,
        )


def _row_text(chunk: Chunk, columns: Sequence[str], i: int) -> str:
    parts = [chunk.columns[c][i] for c in columns]
    return "\n".join(str(p) for p in parts if p not in (None, ""))


def _numeric_matrix(np: Any, chunk: Chunk, columns: Sequence[str]) -> Any:
    """Rows x features (float64) of a chunk: its array features, else its numeric columns."""
    if chunk.features is not None:
        return np.asarray(chunk.features, dtype=np.float64)
    if not columns:
        return None
    matrix = np.empty((len(chunk), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        matrix[:, j] = _floats(np, chunk.columns[column])
    return matrix


def _floats(np: Any, values: list[Any]) -> Any:
    """A column as float64 (None as NaN): NumPy's conversion, per value only when it must."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.asarray(
            [math.nan if v is None or isinstance(v, str) else float(v) for v in values],
            dtype=np.float64,
        )


def _value_keys(np: Any, values: list[Any]) -> Any:
    """A 64-bit key per value (BLAKE2b of its ``repr``), the same in every process (Python's
    ``hash`` of a string is salted per process, so keys made by two workers would not match).
    Each distinct value is hashed once: categorical columns repeat a few values."""
    texts = list(map(repr, values))
    seen = {
        text: int.from_bytes(
            hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest(), "little"
        )
        for text in set(texts)
    }
    return np.fromiter(map(seen.__getitem__, texts), np.uint64, len(texts))


_MIX = 0x100000001B3
_GOLDEN = 0x9E3779B97F4A7C15


def _fmix(np: Any, x: Any) -> Any:
    """MurmurHash3's 64-bit finaliser, vectorised: every input bit reaches every output bit.

    Float bit patterns end in runs of zeros; without it, combining columns by multiplication
    keeps those zeros and distinct rows collide.
    """
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


# Rows per block of the prefix digest. Partitions that are to be merged start on a multiple of
# this (see :meth:`_Profile.merge`).
BLOCK_ROWS = 1 << 16
PREFIX_SCHEME = "blocks-v2"


class _Profile:
    """Streaming profile: schema, counts, numeric ranges, text lengths, the prefix digest.

    The prefix digest is a list of block digests: the rows are cut into blocks of
    :data:`BLOCK_ROWS`, and each block hashes each column on its own (values in row order,
    ``repr`` joined; the feature matrix as row-major bytes), so the digest of the first N rows
    depends neither on how the rows were chunked nor on how they were partitioned: a profile
    made over rows [a, b) with ``a`` a multiple of the block size merges onto the profile of
    rows [0, a) (:meth:`merge`) into exactly the one-pass profile. The profile keeps the digest
    at the row count of the previous check, to tell appended rows from changed ones. Exact
    duplicate rows (data without text) are found by a 64-bit key per row that does not depend
    on the process (no salted ``hash``), compared once at the end.
    """

    def __init__(
        self, schema: dict[str, str], previous_rows: int | None, np: Any, start: int = 0
    ) -> None:
        if start % BLOCK_ROWS:
            raise ValueError(f"a partition starts on a multiple of {BLOCK_ROWS} rows, not {start}")
        self.schema = schema
        self.np = np
        self.start = start
        self.rows = 0
        self.nulls: Counter[str] = Counter()
        self.numeric: dict[str, list[float]] = {}  # name -> [min, max, sum, count]
        self.lengths: dict[str, list[int]] = {}  # name -> [total length, count]
        self.blocks: list[bytes] = []  # digests of the full blocks, in order
        self.hashers: dict[str, Any] = {}  # the open block's column hashers
        self.previous_rows = previous_rows
        # The open block's digest at the previous row count, when the cut falls inside this
        # profile's rows: (number of full blocks before it, partial digest or None).
        self.cut: tuple[int, bytes | None] | None = None
        self.keys: list[Any] = []

    def _hash(self, chunk: Chunk, lo: int, hi: int) -> None:
        for name, values in chunk.columns.items():
            hasher = self.hashers.setdefault(name, hashlib.sha256())
            if self.np is not None and _is_number(self.schema.get(name, "")):
                hasher.update(_floats(self.np, values[lo:hi]).tobytes())
                continue
            # Every value ends with a separator, so the bytes do not depend on where the
            # chunks were cut.
            segment = values[lo:hi]
            if segment:
                text = "\x1f".join(map(repr, segment)) + "\x1f"
                hasher.update(text.encode("utf-8", "replace"))
        if chunk.features is not None:
            hasher = self.hashers.setdefault("\x00features", hashlib.sha256())
            hasher.update(chunk.features[lo:hi].tobytes())

    def _open_digest(self) -> bytes | None:
        if not self.hashers:
            return None
        total = hashlib.sha256()
        for name in sorted(self.hashers):
            total.update(name.encode("utf-8") + b"\x00" + self.hashers[name].digest())
        return total.digest()

    @staticmethod
    def _digest(blocks: list[bytes], partial: bytes | None) -> str:
        total = hashlib.sha256(PREFIX_SCHEME.encode("ascii"))
        for block in blocks:
            total.update(block)
        if partial is not None:
            total.update(b"\x00partial" + partial)
        return total.hexdigest()

    def _absorb(self, chunk: Chunk, lo: int, hi: int) -> None:
        """Hash rows [lo, hi) of ``chunk``, closing blocks at their boundaries and noting the
        digest at the previous row count."""
        at = lo
        while at < hi:
            row = self.start + self.rows + (at - lo)  # the absolute row of chunk row ``at``
            if row == self.previous_rows:
                self.cut = (len(self.blocks), self._open_digest())
            boundary = (row // BLOCK_ROWS + 1) * BLOCK_ROWS
            stop = min(hi, at + (boundary - row))
            if self.previous_rows is not None and row < self.previous_rows < row + (stop - at):
                stop = at + (self.previous_rows - row)
            self._hash(chunk, at, stop)
            at = stop
            if (self.start + self.rows + (at - lo)) % BLOCK_ROWS == 0:
                closed = self._open_digest()
                if closed is not None:
                    self.blocks.append(closed)
                self.hashers = {}

    def update(self, chunk: Chunk, keep_keys: bool) -> None:
        n = len(chunk)
        self._absorb(chunk, 0, n)
        np = self.np
        for name, values in chunk.columns.items():
            kind = self.schema.get(name, "")
            self.nulls[name] += values.count(None) + values.count("")
            if _is_number(kind) and np is not None:
                array = _floats(np, values)
                finite = array[np.isfinite(array)]
                if finite.size:
                    stats = self.numeric.setdefault(name, [math.inf, -math.inf, 0.0, 0])
                    stats[0] = min(stats[0], float(finite.min()))
                    stats[1] = max(stats[1], float(finite.max()))
                    stats[2] += float(finite.sum())
                    stats[3] += int(finite.size)
            elif kind == "string":
                strings = [v for v in values if isinstance(v, str) and v]
                total = self.lengths.setdefault(name, [0, 0])
                total[0] += sum(map(len, strings))
                total[1] += len(strings)
        if keep_keys and np is not None and n:
            self.keys.append(self._row_keys(chunk))
        self.rows += n

    def merge(self, other: _Profile) -> None:
        """Add the profile of the rows that follow this one's (another partition).

        Raises:
            ValueError: ``other`` does not start where this profile ends, or this profile ends
                inside a block (only the last partition may).
        """
        if other.start != self.start + self.rows:
            raise ValueError(
                f"partition at row {other.start} does not follow rows up to "
                f"{self.start + self.rows}"
            )
        if self.hashers and other.rows:
            raise ValueError(f"only the last partition may end inside a {BLOCK_ROWS}-row block")
        if other.cut is not None:
            self.cut = (len(self.blocks) + other.cut[0], other.cut[1])
        self.blocks.extend(other.blocks)
        self.hashers = other.hashers
        self.nulls.update(other.nulls)
        for name, (low, high, total, count) in other.numeric.items():
            stats = self.numeric.setdefault(name, [math.inf, -math.inf, 0.0, 0])
            stats[0], stats[1] = min(stats[0], low), max(stats[1], high)
            stats[2] += total
            stats[3] += count
        for name, (length, count) in other.lengths.items():
            mine = self.lengths.setdefault(name, [0, 0])
            mine[0] += length
            mine[1] += count
        self.keys.extend(other.keys)
        self.rows += other.rows

    @property
    def prefix_at_previous(self) -> str | None:
        """The digest of the rows before the previous check's row count, when there are more
        rows now (appended rows leave it unchanged)."""
        if self.cut is None:
            return None
        return self._digest(self.blocks[: self.cut[0]], self.cut[1])

    def _row_keys(self, chunk: Chunk) -> Any:
        np = self.np
        keys = np.zeros(len(chunk), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for name in sorted(chunk.columns):
                if name == "path" and chunk.features is not None:
                    continue  # an image's file name: two copies of a picture are duplicates
                values = chunk.columns[name]
                if _is_number(self.schema.get(name, "")):
                    column = _floats(np, values).view(np.uint64)
                else:
                    column = _value_keys(np, values)
                keys = _fmix(np, (keys * np.uint64(_MIX)) ^ _fmix(np, column.view(np.uint64)))
            if chunk.features is not None:
                words = np.ascontiguousarray(chunk.features).view(np.uint32).astype(np.uint64)
                mixed = _fmix(np, words + np.arange(words.shape[1], dtype=np.uint64) * _GOLDEN)
                keys = _fmix(np, (keys * np.uint64(_MIX)) ^ mixed.sum(axis=1))
        return keys

    def duplicates(self) -> list[tuple[int, int]]:
        """``(row, first row with the same content)`` for every repeated row, in row order."""
        np = self.np
        if not self.keys:
            return []
        keys = np.concatenate(self.keys)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        firsts = first[inverse.reshape(-1)]
        rows = np.flatnonzero(firsts != np.arange(len(keys)))
        return [(int(r), int(firsts[r])) for r in rows]

    def result(self, labels: Counter[Any]) -> dict[str, Any]:
        numeric = {
            name: {
                "min": s[0],
                "max": s[1],
                "mean": s[2] / s[3] if s[3] else None,
                "count": s[3],
            }
            for name, s in sorted(self.numeric.items())
            if s[3]
        }
        lengths = {name: round(t[0] / t[1], 1) for name, t in sorted(self.lengths.items()) if t[1]}
        return {
            "schema": dict(self.schema),
            "rows": self.rows,
            "nulls": dict(sorted(self.nulls.items())),
            "numeric": numeric,
            "mean_text_length": lengths,
            "labels": {str(k): v for k, v in sorted(labels.items(), key=lambda kv: str(kv[0]))},
            "prefix_scheme": PREFIX_SCHEME,
            "prefix_sha256": self._digest(self.blocks, self._open_digest()),
            "prefix_at_previous": self.prefix_at_previous,
        }


def check_dataset(
    dataset: Dataset,
    settings: CheckSettings = CheckSettings(),  # noqa: B008 - frozen dataclass
    *,
    display: str | None = None,
    previous: Previous = Previous(),  # noqa: B008 - frozen dataclass
    on_chunk: Callable[[int], None] | None = None,
) -> DataCheck:
    """Run the data checks over ``dataset``.

    Args:
        dataset: An opened dataset (:func:`ssdf_ai.data.readers.open_dataset`).
        settings: Columns and limits.
        display: The dataset's name in findings (default: its path).
        previous: The last recorded profile and the registered digest, for the integrity check.
        on_chunk: Called with the number of rows read so far (for progress).

    Returns:
        The findings, each check's summary, the flagged rows, the profile and plot data.

    Raises:
        InputError: A named column does not exist, or the dataset cannot be read.
    """
    schema = dataset.schema()
    _check_columns(schema, settings)
    wanted = settings.checks
    name = display or dataset.path.as_posix()
    out = _Findings(name, settings.max_findings_per_rule)
    texts = text_columns(schema, settings)
    response = response_column(schema, settings)
    strings = [c for c, kind in schema.items() if _is_text(kind)]
    excluded = {settings.label, *settings.sensitive}
    numeric = [c for c, kind in schema.items() if _is_number(kind) and c not in excluded]
    previous_rows = (previous.profile or {}).get("rows")
    profile = _Profile(
        schema, previous_rows if isinstance(previous_rows, int) else None, _try_numpy()
    )
    result = DataCheck()

    def want(check: str) -> bool:
        return wanted is None or check in wanted

    # -- pass 1: everything that streams --------------------------------------------------
    passes = _Pass1(settings, out, texts, response, strings, numeric, want)
    for chunk in dataset.chunks(chunk_rows=settings.chunk_rows):
        for problem in chunk.problems:
            if problem.row >= 0:
                result.unreadable.append(problem.row)
            out.add(
                rules.UNREADABLE_ROWS,
                f"{problem.where}: {problem.reason}; the row was skipped",
                address=f"row {problem.row}" if problem.row >= 0 else None,
            )
        passes.update(chunk)
        profile.update(chunk, keep_keys=want("duplicates") and not texts)
        if on_chunk is not None:
            on_chunk(profile.rows)
    result.profile = profile.result(passes.label_counts)

    summaries: dict[str, CheckSummary] = {}
    summaries["text"] = passes.text_summary(want("text"))
    for category, rows in sorted(passes.hazard_rows_by.items()):
        result.flagged[f"text:{category}"] = sorted(set(rows))
    summaries["duplicates"] = _duplicates(dataset, settings, texts, profile, out, want, result)
    for check, run in (
        ("labels", passes.labels),
        ("backdoor", passes.backdoor),
        ("triggers", passes.triggers),
        ("bias", passes.bias),
    ):
        summaries[check] = run(want(check), result)
    summaries["outliers"] = passes.outliers(dataset, want("outliers"), result)
    summaries["integrity"] = _integrity(previous, result.profile, out, want("integrity"))
    result.checks = [summaries[c] for c in CHECKS]
    for summary in result.checks:
        asked = wanted is not None and summary.name in wanted
        if summary.status == "not-run" or (asked and summary.status == "skipped"):
            out.add(
                rules.NOT_CHECKED,
                f"the {summary.name} check did not run: {summary.detail}",
                remediation="give the columns it needs (--label, --text, --sensitive), "
                "install the extra it names, or check a sample",
            )
    result.plots = passes.plots(result.profile)
    result.findings = out.done()
    return result


def _try_numpy() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _skipped(name: str, why: str) -> CheckSummary:
    return CheckSummary(name=name, status="skipped", detail=why)


def _not_run(name: str, why: str) -> CheckSummary:
    return CheckSummary(name=name, status="not-run", detail=why)


class _Pass1:
    """The streaming accumulators of the first pass, and the checks that use them."""

    def __init__(
        self,
        settings: CheckSettings,
        out: _Findings,
        texts: tuple[str, ...],
        response: str | None,
        strings: list[str],
        numeric: list[str],
        want: Callable[[str], bool],
    ) -> None:
        self.settings = settings
        self.out = out
        self.texts = texts
        self.response = response
        self.strings = strings
        self.numeric = numeric
        self.want = want
        self.label_counts: Counter[Any] = Counter()
        self.label_values: list[Any] = []
        self.hazards: Counter[str] = Counter()
        self.hazard_rows: set[int] = set()
        self.hazard_cache: dict[str, list[Hit]] = {}
        self.hazard_rows_by: dict[str, list[int]] = {}
        self.matrices: list[Any] = []
        self.feature_rows = 0
        self.features_dropped = False
        self._bias: Any = None
        self._triggers: Any = None
        self._outliers: Any = None
        self.numpy: Any = None
        self.missing_extra: str | None = None
        self._setup()

    def _setup(self) -> None:
        try:
            import numpy

            self.numpy = numpy
        except ImportError:
            self.missing_extra = "numpy"
            return
        label = self.settings.label
        if label and self.settings.sensitive and self.want("bias"):
            from ssdf_ai.data.bias import BiasAccumulator

            self._bias = BiasAccumulator()
        target = label or self.response
        if self.texts and target and self.want("triggers"):
            from ssdf_ai.data.triggers import TriggerAccumulator

            self._triggers = TriggerAccumulator()
        if self.want("outliers"):
            from ssdf_ai.data.outliers import OutlierDetector

            self._outliers = OutlierDetector()

    # -- streaming ---------------------------------------------------------------------

    def update(self, chunk: Chunk) -> None:
        if self.want("text"):
            self._hazards(chunk)
        label = self.settings.label
        labels = chunk.columns.get(label, []) if label else []
        if label:
            self.label_counts.update(labels)
            self.label_values.extend(labels)
        if self._bias is not None and label:
            groups = {s: chunk.columns[s] for s in self.settings.sensitive}
            self._bias.update(labels, groups)
        if self._triggers is not None:
            texts = [_row_text(chunk, self.texts, i) for i in range(len(chunk))]
            targets = labels if label else chunk.columns[self.response or ""]
            self._triggers.update(texts, targets)
        if self.numpy is not None and (chunk.features is not None or self.numeric):
            self._features(chunk)

    def _hazards(self, chunk: Chunk) -> None:
        from ssdf_ai.detect import scan_text

        cache = self.hazard_cache
        for column in self.strings:
            for i, value in enumerate(chunk.columns.get(column, [])):
                if not isinstance(value, str) or not value:
                    continue
                # Categorical columns repeat a few short values: scan each once.
                hits = cache.get(value) if len(value) <= _CACHE_CHARS else None
                if hits is None:
                    hits = scan_text(value)
                    if len(value) <= _CACHE_CHARS and len(cache) < _CACHE_ENTRIES:
                        cache[value] = hits
                for hit in hits:
                    row = chunk.start + i
                    self.hazards[hit.category] += 1
                    self.hazard_rows.add(row)
                    by_category = self.hazard_rows_by.setdefault(hit.category, [])
                    if (not by_category or by_category[-1] != row) and len(by_category) < 10_000:
                        by_category.append(row)
                    self.out.add(
                        _CATEGORY_RULE[hit.category],
                        f"{hit.kind} ({hit.preview}) in row {row}, column {column!r}, at "
                        f"line {hit.line} column {hit.column} of the value",
                        address=f"row {row}, column {column}: {hit.kind}",
                        confidence=Confidence(hit.confidence),
                        remediation="remove or redact it, and rotate it if it is a credential",
                    )

    def _features(self, chunk: Chunk) -> None:
        np = self.numpy
        matrix = _numeric_matrix(np, chunk, self.numeric)
        if matrix is None or matrix.size == 0:
            return
        if self._outliers is not None:
            self._outliers.fit_update(matrix)
        if self.features_dropped:
            return
        if self.feature_rows + len(matrix) > self.settings.max_rows_in_memory:
            self.features_dropped = True
            self.matrices = []
            return
        self.matrices.append(matrix)
        self.feature_rows += len(matrix)

    # -- summaries ---------------------------------------------------------------------

    def text_summary(self, wanted: bool) -> CheckSummary:
        if not wanted:
            return _skipped("text", "not requested")
        if not self.strings:
            return _skipped("text", "the dataset has no text columns")
        found = ", ".join(f"{n} {c}" for c, n in sorted(self.hazards.items())) or "nothing"
        return CheckSummary(
            name="text",
            status="ran",
            detail=f"scanned {len(self.strings)} text column(s): {found}",
            flagged_rows=len(self.hazard_rows),
            figures={"by_category": dict(sorted(self.hazards.items()))},
        )

    def _matrix_and_labels(self, check: str) -> tuple[Any, Any] | CheckSummary:
        np = self.numpy
        if self.missing_extra:
            return _not_run(check, f"{self.missing_extra} is not installed (ssdf-ai[data])")
        if not self.settings.label:
            return _skipped(check, "no label column (--label)")
        if not self.matrices and not self.features_dropped:
            return _skipped(check, "the dataset has no numeric features")
        if self.features_dropped:
            return _not_run(
                check,
                f"more than {self.settings.max_rows_in_memory} rows of features; "
                "raise --max-rows or check a sample",
            )
        x = np.concatenate(self.matrices)
        y = np.asarray([str(v) for v in self.label_values], dtype=object)
        known = np.asarray([v is not None for v in self.label_values], dtype=bool)
        keep = np.all(np.isfinite(x), axis=1) & known
        return x[keep], (y[keep], np.flatnonzero(keep))

    def labels(self, wanted: bool, result: DataCheck) -> CheckSummary:
        if not wanted:
            return _skipped("labels", "not requested")
        got = self._matrix_and_labels("labels")
        if isinstance(got, CheckSummary):
            return got
        x, (y, rows) = got
        from ssdf_ai.data.labels import find_label_issues
        from ssdf_ai.errors import InputError

        try:
            found = find_label_issues(x, y)
        except InputError as exc:
            return _not_run("labels", exc.message)
        np = self.numpy
        flagged = [int(rows[i]) for i in found.indices]
        classes = {c: k for k, c in enumerate(found.classes)}
        given = np.asarray([classes[v] for v in y])
        accuracy = float(np.mean(np.argmax(found.pred_probs, axis=1) == given)) if len(y) else 0
        # A model that cannot predict the labels well cannot tell a wrong label from a hard
        # row: the rows it flags are then leads, not findings (measured: 24% of a churn table).
        reliable = accuracy >= RELIABLE_ACCURACY
        for i in found.indices:
            row = int(rows[i])
            self.out.add(
                rules.LABEL_ISSUE,
                f"row {row} is labelled {y[i]!r} but looks like {found.suggested_labels[i]!r} "
                f"(margin {found.scores[i]:.2f})",
                address=f"row {row}",
                severity=None if reliable else Severity.LOW,
                confidence=Confidence.MEDIUM if reliable else Confidence.LOW,
                remediation="review the row's label; relabel or remove it",
            )
        result.flagged["labels"] = flagged[:10_000]
        detail = (
            f"{len(flagged)} suspected label issue(s) in {len(y)} labelled row(s) "
            f"(estimated {found.estimated_issues}; out-of-sample accuracy {accuracy:.2f})"
        )
        if not reliable:
            detail += (
                f": below {RELIABLE_ACCURACY}, the labels are hard to predict from these "
                "features, so flagged rows are leads (low) rather than findings"
            )
        return CheckSummary(
            name="labels",
            status="ran",
            detail=detail,
            flagged_rows=len(flagged),
            figures={
                "estimated_issues": found.estimated_issues,
                "rows": len(y),
                "accuracy": round(accuracy, 4),
            },
        )

    def backdoor(self, wanted: bool, result: DataCheck) -> CheckSummary:
        if not wanted:
            return _skipped("backdoor", "not requested")
        got = self._matrix_and_labels("backdoor")
        if isinstance(got, CheckSummary):
            return got
        x, (y, rows) = got
        if x.shape[1] < MIN_BACKDOOR_FEATURES:
            return _skipped(
                "backdoor",
                f"{x.shape[1]} feature(s): with fewer than {MIN_BACKDOOR_FEATURES}, a strong "
                "natural predictor cannot be told from a trigger",
            )
        from ssdf_ai.data.backdoor import find_backdoor
        from ssdf_ai.errors import InputError

        try:
            found = find_backdoor(x, y)
        except InputError as exc:
            return _not_run("backdoor", exc.message)
        flagged = [int(rows[i]) for i in found.flagged]
        if flagged:
            features = ", ".join(str(f) for f in found.trigger_features[:12])
            self.out.add(
                rules.BACKDOOR,
                f"{len(flagged)} row(s) share a rare pattern on feature(s) {features} and are "
                f"labelled {found.target_class!r}; a model without those features assigns "
                f"{found.disagreement:.0%} of them to another class",
                address=f"rows {_ranges(flagged)}",
                remediation="inspect the flagged rows; remove them (`ssdf data clean`) if the "
                "pattern is not a real property of the class",
            )
        result.flagged["backdoor"] = flagged[:10_000]
        detail = (
            f"{len(flagged)} row(s) carry a pattern tied to label {found.target_class!r}"
            if flagged
            else "no trigger pattern found"
        )
        return CheckSummary(
            name="backdoor",
            status="ran",
            detail=detail,
            flagged_rows=len(flagged),
            figures={
                "target_class": None if found.target_class is None else str(found.target_class),
                "trigger_features": list(found.trigger_features),
                "disagreement": found.disagreement,
            },
        )

    def triggers(self, wanted: bool, result: DataCheck) -> CheckSummary:
        if not wanted:
            return _skipped("triggers", "not requested")
        if self.missing_extra:
            return _not_run("triggers", f"{self.missing_extra} is not installed (ssdf-ai[data])")
        if self._triggers is None:
            return _skipped("triggers", "needs a text column and a label or response column")
        found = self._triggers.result()
        return _trigger_summary(found, self.out, result)

    def bias(self, wanted: bool, result: DataCheck) -> CheckSummary:
        if not wanted:
            return _skipped("bias", "not requested")
        if self.missing_extra:
            return _not_run("bias", f"{self.missing_extra} is not installed (ssdf-ai[data])")
        if not self.settings.label:
            return _skipped("bias", "no label column (--label)")
        if self._bias is None:
            return _skipped("bias", "no sensitive attribute declared (--sensitive)")
        return _bias_summary(self._bias.result(), self.out, result)

    def outliers(self, dataset: Dataset, wanted: bool, result: DataCheck) -> CheckSummary:
        if not wanted:
            return _skipped("outliers", "not requested")
        if self.missing_extra:
            return _not_run("outliers", f"{self.missing_extra} is not installed (ssdf-ai[data])")
        if self._outliers is None or not (self.matrices or self.features_dropped):
            return _skipped("outliers", "the dataset has no numeric features")
        return _outlier_summary(self, dataset, result)

    def plots(self, profile: dict[str, Any]) -> dict[str, Any]:
        return {"labels": profile.get("labels", {})}


def _ranges(rows: Sequence[int], limit: int = 12) -> str:
    """``3-7, 12, 40-41`` for sorted row ids (the first ``limit`` runs)."""
    ordered = sorted(set(rows))
    runs: list[str] = []
    start = prev = ordered[0] if ordered else 0
    for row in ordered[1:]:
        if row == prev + 1:
            prev = row
            continue
        runs.append(f"{start}-{prev}" if prev > start else str(start))
        start = prev = row
    if ordered:
        runs.append(f"{start}-{prev}" if prev > start else str(start))
    shown = ", ".join(runs[:limit])
    return shown + (f" and {len(runs) - limit} more runs" if len(runs) > limit else "")


def _duplicates(
    dataset: Dataset,
    settings: CheckSettings,
    texts: tuple[str, ...],
    profile: _Profile,
    out: _Findings,
    want: Callable[[str], bool],
    result: DataCheck,
) -> CheckSummary:
    if not want("duplicates"):
        return _skipped("duplicates", "not requested")
    if not texts:
        if profile.np is None:
            return _not_run("duplicates", "numpy is not installed (ssdf-ai[data])")
        pairs = profile.duplicates()
        for row, first in pairs:
            out.add(
                rules.DUPLICATES,
                f"row {row} repeats row {first} exactly",
                address=f"row {row}",
                remediation="remove repeated rows (`ssdf data clean`)",
            )
        result.flagged["duplicates"] = [row for row, _ in pairs][:10_000]
        return CheckSummary(
            name="duplicates",
            status="ran",
            detail=f"{len(pairs)} row(s) repeat an earlier row exactly",
            flagged_rows=len(pairs),
            figures={"exact_duplicate_rows": len(pairs), "rows": profile.rows},
        )
    try:
        from ssdf_ai.data.dedup import find_near_duplicates
    except ImportError:  # pragma: no cover - dedup itself imports nothing heavy at module level
        return _not_run("duplicates", "numpy is not installed (ssdf-ai[data])")

    def rows() -> Iterator[tuple[int, str]]:
        for chunk in dataset.chunks(columns=list(texts), chunk_rows=settings.chunk_rows):
            for i in range(len(chunk)):
                yield chunk.start + i, _row_text(chunk, texts, i)

    from ssdf_ai.errors import MissingExtraError

    try:
        found = find_near_duplicates(rows())
    except MissingExtraError as exc:
        return _not_run("duplicates", exc.message)
    flagged: list[int] = []
    for group in found.exact_groups:
        first, *rest = group
        for row in rest:
            flagged.append(int(row))
            out.add(
                rules.DUPLICATES,
                f"row {row} repeats the text of row {first}",
                address=f"row {row}",
                remediation="remove repeated rows (`ssdf data clean`)",
            )
    for cluster in found.clusters:
        ids = [int(r) for r in cluster.row_ids]
        flagged.extend(ids[1:])
        out.add(
            rules.DUPLICATES,
            f"{len(ids)} rows are near-duplicates of one another (similarity "
            f"{cluster.min_similarity:.2f}-{cluster.max_similarity:.2f}): rows {_ranges(ids)}",
            address=f"row {ids[0]}",
            confidence=Confidence.MEDIUM,
            remediation="keep one row of each cluster (`ssdf data clean`)",
        )
    stats = dataclasses.asdict(found.stats)
    stats["cluster_sizes"] = {str(k): v for k, v in stats["cluster_sizes"].items()}
    result.flagged["duplicates"] = sorted(set(flagged))[:10_000]
    return CheckSummary(
        name="duplicates",
        status="ran",
        detail=f"{found.stats.exact_duplicate_rows} exact duplicate row(s), "
        f"{len(found.clusters)} near-duplicate cluster(s); distinct ratio "
        f"{found.stats.distinct_ratio:.3f}",
        flagged_rows=len(set(flagged)),
        figures=stats,
    )


def _integrity(
    previous: Previous, profile: dict[str, Any], out: _Findings, wanted: bool
) -> CheckSummary:
    if not wanted:
        return _skipped("integrity", "not requested")
    notes: list[str] = []
    flagged = 0
    if previous.registered_digest and previous.current_digest:
        if previous.registered_digest != previous.current_digest:
            flagged += 1
            out.add(
                rules.TAMPERED,
                f"the dataset's digest is {previous.current_digest[:16]}…, not the registered "
                f"{previous.registered_digest[:16]}…: it changed after it was registered",
                remediation="find out what changed (`ssdf diff`); register the new version with "
                "`ssdf data register` once it is reviewed",
            )
            notes.append("differs from its registration")
        else:
            notes.append("matches its registration")
    else:
        notes.append("not registered (`ssdf data register`)")
    old = previous.profile
    if old:
        before = old.get("schema", {})
        now = profile["schema"]
        added = sorted(set(now) - set(before))
        removed = sorted(set(before) - set(now))
        changed = sorted(c for c in set(now) & set(before) if now[c] != before[c])
        if added or removed or changed:
            parts = []
            if added:
                parts.append("added " + ", ".join(added))
            if removed:
                parts.append("removed " + ", ".join(removed))
            if changed:
                parts.append(
                    "changed " + ", ".join(f"{c} ({before[c]} -> {now[c]})" for c in changed)
                )
            out.add(
                rules.DRIFT,
                "columns differ from the last check: " + "; ".join(parts),
                remediation="confirm the change is intended, then re-run the checks on the new "
                "schema",
            )
            notes.append("schema changed")
        old_rows = old.get("rows")
        prefix = profile.get("prefix_at_previous")
        if old.get("prefix_scheme") != profile["prefix_scheme"]:
            # Recorded by an older version with another digest: the rows cannot be compared.
            notes.append("the last check's row digest is of an older kind; compared from now on")
        elif isinstance(old_rows, int) and profile["rows"] > old_rows and prefix:
            if prefix == old.get("prefix_sha256"):
                out.add(
                    rules.APPENDED,
                    f"{profile['rows'] - old_rows} row(s) were appended after the "
                    f"{old_rows} rows the last check saw, which are unchanged",
                    address=f"rows {old_rows}-{profile['rows'] - 1}",
                    remediation="review the new rows; register the new version",
                )
                notes.append(f"{profile['rows'] - old_rows} row(s) appended")
            else:
                out.add(
                    rules.DRIFT,
                    f"rows among the first {old_rows} changed since the last check (and rows "
                    "were added)",
                    remediation="find out what changed before using the data",
                )
                notes.append("earlier rows changed")
        elif old.get("prefix_sha256") not in (None, profile["prefix_sha256"]):
            notes.append("content differs from the last check")
    else:
        notes.append("first recorded check of this dataset")
    return CheckSummary(
        name="integrity",
        status="ran",
        detail="; ".join(notes),
        flagged_rows=flagged,
    )


def _trigger_summary(found: Any, out: _Findings, result: DataCheck) -> CheckSummary:
    """Findings and figures from a :class:`ssdf_ai.data.triggers.TriggerResult`."""
    for trigger in found.triggers:
        target = trigger.target_preview or trigger.target
        more = " (and more)" if trigger.rows_truncated else ""
        out.add(
            rules.TEXT_TRIGGER,
            f"{trigger.ngram!r} appears in {trigger.count} row(s), {trigger.purity:.0%} of them "
            f"with target {target!r} (base rate {trigger.base_rate:.1%}, p={trigger.p_value:.1e})"
            f": rows {_ranges(trigger.rows)}{more}",
            address=f"row {trigger.rows[0]}" if trigger.rows else None,
            remediation="inspect the rows carrying it; remove them (`ssdf data clean`) unless "
            "the phrase is a genuine property of the target",
        )
    result.flagged["triggers"] = list(found.flagged_rows)[:10_000]
    names = ", ".join(repr(t.ngram) for t in found.triggers[:5])
    detail = (
        f"{len(found.triggers)} suspected trigger(s): {names}"
        if found.triggers
        else f"no trigger among {found.tested} tested n-gram(s)"
    )
    return CheckSummary(
        name="triggers",
        status="ran",
        detail=detail,
        flagged_rows=len(found.flagged_rows),
        figures={
            "tested": found.tested,
            "vocabulary": found.vocabulary,
            "triggers": [
                {"ngram": t.ngram, "target": str(t.target), "count": t.count, "lift": t.lift}
                for t in found.triggers[:50]
            ],
        },
    )


def _bias_summary(found: Any, out: _Findings, result: DataCheck) -> CheckSummary:
    """Findings and figures from a :class:`ssdf_ai.data.bias.BiasResult`."""
    rates: dict[str, dict[str, float]] = {}
    flagged_groups: list[str] = []
    for attribute in found.attributes:
        rates[attribute.attribute] = {str(g.group): g.favorable_rate for g in attribute.groups}
        for group in attribute.groups:
            disparity = {"disparate_impact", "parity_difference"} & set(group.flags)
            if disparity:
                flagged_groups.append(f"{attribute.attribute}={group.group}")
                out.add(
                    rules.BIAS,
                    f"{attribute.attribute}={group.group!s}: rate of label {group.outcome!r} is "
                    f"{group.favorable_rate:.2f} (parity difference "
                    f"{group.parity_difference:+.2f}, disparate impact "
                    f"{group.disparate_impact:.2f}) over {group.count} row(s)",
                    address=f"column {attribute.attribute}",
                    remediation="review how the data was collected and labelled for this "
                    "group; rebalance or reweight before training, and document the decision",
                )
            elif "under_represented" in group.flags:
                out.add(
                    rules.BIAS,
                    f"{attribute.attribute}={group.group!s} is under-represented: "
                    f"{group.share:.1%} of the rows",
                    address=f"column {attribute.attribute}",
                    severity=Severity.LOW,
                    remediation="collect more data for this group or document the gap",
                )
        if attribute.note:
            out.add(
                rules.BIAS,
                f"{attribute.attribute}: {attribute.note}",
                address=f"column {attribute.attribute}",
                severity=Severity.INFO,
            )
    balance = found.balance
    if balance.flagged:
        smallest = balance.classes[-1] if balance.classes else None
        out.add(
            rules.IMBALANCE,
            f"classes are imbalanced: the smallest ({smallest!r}, {balance.counts[-1]} rows) is "
            f"{balance.imbalance_ratio:.1%} of the largest",
            remediation="collect or augment data for the small classes, or reweight them",
        )
    detail = (
        "label rates differ across " + ", ".join(flagged_groups[:6])
        if flagged_groups
        else "no label-rate disparity across the sensitive attributes"
    )
    return CheckSummary(
        name="bias",
        status="ran",
        detail=detail,
        flagged_rows=0,
        figures={
            "favorable": None if found.favorable is None else str(found.favorable),
            "rates": rates,
            "imbalance_ratio": balance.imbalance_ratio,
            "entropy_balance": balance.entropy_balance,
            "class_counts": {
                str(c): n for c, n in zip(balance.classes, balance.counts, strict=True)
            },
        },
    )


def _missing_mask(np: Any, chunk: Chunk, columns: Sequence[str]) -> Any:
    """Rows x columns: True where a tabular cell is empty (not an outlier, just missing)."""
    if chunk.features is not None or not columns:
        return None
    return np.asarray([[v is None for v in chunk.columns[c]] for c in columns], dtype=bool).T


def _outlier_summary(passes: _Pass1, dataset: Dataset, result: DataCheck) -> CheckSummary:
    """Pass 2: score every row against the detector fitted on pass 1's sample."""
    np = passes.numpy
    detector = passes._outliers
    from ssdf_ai.errors import InputError

    try:
        detector.fit()
    except InputError as exc:
        return _not_run("outliers", exc.message)
    names = passes.numeric
    flagged: list[int] = []
    scores: list[float] = []
    non_finite_rows = 0
    rows = 0
    for chunk in dataset.chunks(columns=names or None, chunk_rows=passes.settings.chunk_rows):
        matrix = _numeric_matrix(np, chunk, names)
        if matrix is None or matrix.size == 0:
            continue
        rows += len(matrix)
        missing = _missing_mask(np, chunk, names)
        if len(scores) < _SCORE_SAMPLE:
            scores.extend(float(v) for v in detector.score(matrix)[: _SCORE_SAMPLE - len(scores)])
        for hit in detector.flag(matrix, offset=chunk.start):
            local = hit.row - chunk.start
            bad = [j for j in hit.non_finite if missing is None or not missing[local, j]]
            if hit.score <= detector.threshold and not bad:
                continue  # flagged only for empty cells: missing data, not an outlier
            flagged.append(hit.row)
            if bad:
                non_finite_rows += 1
                columns = ", ".join(_feature(names, j) for j in bad[:5])
                reason = f"non-finite value(s) in {columns}"
            else:
                reason = "far from the rest: " + ", ".join(
                    f"{_feature(names, d.feature)}={d.value:.4g} (robust z {d.z:+.1f})"
                    for d in hit.features
                )
            passes.out.add(
                rules.OUTLIER,
                f"row {hit.row} is an outlier (score {hit.score:.2f}): {reason}",
                address=f"row {hit.row}",
                confidence=Confidence.MEDIUM,
                remediation="check the row for entry errors or injected data; fix or remove it",
            )
    result.flagged["outliers"] = flagged[:10_000]
    return CheckSummary(
        name="outliers",
        status="ran",
        detail=f"{len(flagged)} outlier row(s) of {rows} ({non_finite_rows} with non-finite "
        f"values); fitted on {detector.sample_rows} sampled row(s)",
        flagged_rows=len(flagged),
        figures={
            "threshold": float(detector.threshold),
            "sample_rows": detector.sample_rows,
            "score_histogram": _histogram(np, scores, float(detector.threshold)),
        },
    )


_SCORE_SAMPLE = 50_000


def _histogram(np: Any, scores: list[float], threshold: float) -> list[tuple[str, int]]:
    """Twelve bins from the lowest score to the threshold, and one for the rows above it."""
    if not scores:
        return []
    values = np.asarray(scores)
    low = float(values.min())
    high = max(threshold, low + 1e-9)
    counts, edges = np.histogram(np.clip(values, low, high), bins=12, range=(low, high))
    bins = [(f"{edges[i]:.2g}", int(n)) for i, n in enumerate(counts)]
    above = int((values > threshold).sum())
    if above:
        bins[-1] = (bins[-1][0], bins[-1][1] - above)
        bins.append((f"> {threshold:.2g} (flagged)", above))
    return bins


def preview_rows(
    dataset: Dataset, rows: Iterable[int], settings: CheckSettings, *, limit: int = 600
) -> dict[int, str]:
    """A one-line preview of each of ``rows`` (at most ``limit``), read in one more pass.

    Text data shows its text; other data its column values (``name=value, ...``); array and
    image data the row's path or label where there is one. Detected secrets and personal data
    are masked.
    """
    wanted = set(sorted(set(rows))[:limit])
    if not wanted:
        return {}
    texts = text_columns(dataset.schema(), settings)
    found: dict[int, str] = {}
    for chunk in dataset.chunks(chunk_rows=settings.chunk_rows):
        for i in range(len(chunk)):
            row = chunk.start + i
            if row not in wanted:
                continue
            if texts:
                value = _row_text(chunk, texts, i)
            else:
                value = ", ".join(f"{k}={chunk.columns[k][i]}" for k in chunk.columns)
            found[row] = _preview(value[: _PREVIEW * 4])
        if len(found) == len(wanted) or chunk.start + len(chunk) > max(wanted):
            break
    return found


def _feature(names: Sequence[str], index: int) -> str:
    return names[index] if index < len(names) else f"feature {index}"


def numeric_features(
    dataset: Dataset, label: str, max_rows: int
) -> tuple[Any, list[Any], list[str]]:
    """The numeric features and labels of every row with finite features and a label.

    Array and image data give their feature matrix; tables their numeric columns other than
    the label (named in the third element).

    Raises:
        InputError: The label column is missing, there are no numeric features, or there are
            more than ``max_rows`` rows.
    """
    from ssdf_ai.errors import InputError

    np = _try_numpy()
    if np is None:
        from ssdf_ai.errors import MissingExtraError

        raise MissingExtraError("data", "numpy")
    schema = dataset.schema()
    if label not in schema:
        raise InputError(
            f"column {label} not in the dataset", hint="its columns are: " + ", ".join(schema)
        )
    names = [c for c, kind in schema.items() if _is_number(kind) and c != label]
    matrices: list[Any] = []
    labels: list[Any] = []
    for chunk in dataset.chunks():
        matrix = _numeric_matrix(np, chunk, names)
        if matrix is None:
            raise InputError("the dataset has no numeric features to perturb")
        values = chunk.columns[label]
        keep = np.all(np.isfinite(matrix), axis=1) & np.asarray([v is not None for v in values])
        matrices.append(matrix[keep])
        labels.extend(v for v, k in zip(values, keep, strict=True) if k)
        if len(labels) > max_rows:
            raise InputError(
                f"more than {max_rows} rows", hint="raise --max-rows or attack a sample"
            )
    if not labels:
        raise InputError("no row has finite numeric features and a label")
    width = matrices[0].shape[1]
    return np.concatenate(matrices), labels, names or [f"feature {i}" for i in range(width)]
