"""``ssdf secrets``: plaintext secrets in a project's files, notebooks, model metadata and history.

:func:`scan_secrets` walks the working tree (never following a symbolic link), reads every text
file, each notebook cell's source and saved output separately, and the metadata of model files
by content (safetensors ``__metadata__``, GGUF string key-values, ONNX ``metadata_props`` and
``doc_string``, a ``.keras`` archive's ``config.json`` and ``metadata.json``), and, at the top of a
git work tree, every line every commit added on every ref. All text goes through the one
detector engine (:mod:`ssdf_ai.detect`, secrets only).

A secret seen in many commits is one finding with a count and the first commit that added it; a
secret removed from the tree but still in history is a finding of its own (it must be rotated).
A baseline (:mod:`ssdf_ai.code._secrets_baseline`) names accepted findings by a salted hash.
Values are held in memory only while the scan runs: reports, messages, the baseline and the
evidence carry the redacted preview and hashes, never a secret.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ssdf_ai.code import secret_rules as rules
from ssdf_ai.code._files import MAX_TEXT_BYTES, iter_files, read_text
from ssdf_ai.code._model_meta import MODEL_SUFFIXES, MetadataError, read_metadata
from ssdf_ai.code._secrets_baseline import FILE_NAME, Baseline, Entry, load_baseline
from ssdf_ai.code._secrets_baseline import write_baseline as _write_baseline
from ssdf_ai.code.secrets_report import (
    Origin,
    SecretDetail,
    SecretsReport,
    SkippedFile,
    SuppressedSecret,
)
from ssdf_ai.errors import InputError
from ssdf_ai.findings import Confidence, Finding, Location, Severity

__all__ = ["BASELINE_FILE", "SOURCE_SUFFIXES", "scan_secrets"]

BASELINE_FILE = FILE_NAME
# Files whose secrets are hard-coded credentials in source (PW.5.1), not only stored secrets.
SOURCE_SUFFIXES = frozenset(
    {
        ".py", ".pyi", ".pyx", ".ipynb", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java",
        ".kt", ".scala", ".go", ".rs", ".rb", ".php", ".cs", ".c", ".cc", ".cpp", ".h", ".hpp",
        ".swift", ".m", ".r", ".jl", ".lua", ".pl", ".sh", ".bash", ".zsh", ".ps1", ".sql",
    }
)  # fmt: skip
MODEL_CONFIG_NAMES = frozenset({"config.json", "generation_config.json"})
MAX_SKIPPED_LISTED = 1000


@dataclass(slots=True)
class _Secret:
    """One secret found (the value stays in memory, for hashing only)."""

    rule_id: str
    kind: str
    confidence: str
    preview: str
    path: str
    line: int | None
    column: int | None
    address: str | None
    origin: Origin
    value: str
    source: bool
    first_commit: str | None = None
    first_date: str | None = None
    commits: int = 0
    in_tree: bool = True
    owner_only: bool = False  # a key file that only its owner can read


class _Scanner:
    def __init__(self, root: Path, base: str, path: Path) -> None:
        from ssdf_ai.detect import Detector

        self.detector = Detector(kinds={"secret"})
        self.root = root
        self.base = base
        self.path = path
        self.single = path.is_file()
        self.found: list[_Secret] = []
        self.skipped: list[SkippedFile] = []
        self.skipped_total = 0
        self.not_scanned: list[Finding] = []
        self.files = self.bytes = self.notebooks = self.models = 0

    def rel(self, entry_rel: str) -> str:
        if self.single:
            return self.base
        return entry_rel if self.base in (".", "") else f"{self.base}/{entry_rel}"

    def skip(self, rel: str, reason: str, *, finding: bool) -> None:
        self.skipped_total += 1
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append(SkippedFile(path=rel, reason=reason))
        if finding:
            self.not_scanned.append(
                Finding(
                    rule_id=rules.NOT_SCANNED,
                    severity=rules.RULES[rules.NOT_SCANNED].severity,
                    confidence=Confidence.HIGH,
                    message=f"Not scanned for secrets: {reason}.",
                    location=Location(path=rel),
                    cwe=rules.RULES[rules.NOT_SCANNED].cwe,
                    task_ids=rules.RULES[rules.NOT_SCANNED].task_ids,
                    remediation=rules.REMEDIATIONS[rules.NOT_SCANNED],
                )
            )

    def hits(
        self,
        text: str,
        *,
        rel: str,
        origin: Origin,
        rule_id: str,
        line: int | None = 1,
        address: str | None = None,
        source: bool = False,
        mode: int | None = None,
    ) -> None:
        for hit in self.detector.scan(text):
            rule = rule_id
            owner_only = False
            if hit.kind == "private-key" and rule_id == rules.IN_TREE:
                rule = rules.PRIVATE_KEY_FILE
                owner_only = mode is not None and not mode & 0o077
            self.found.append(
                _Secret(
                    rule_id=rule,
                    kind=hit.kind,
                    confidence=hit.confidence,
                    preview=hit.preview,
                    path=rel,
                    line=None if line is None else line + hit.line - 1,
                    column=hit.column if line is not None else None,
                    address=address,
                    origin=origin,
                    value=text[hit.start : hit.end],
                    source=source,
                    owner_only=owner_only,
                )
            )

    def tree(self, skip: Path | None) -> None:
        for entry in iter_files(self.path):
            if skip is not None and entry.path.name == skip.name and entry.path.resolve() == skip:
                continue
            rel = self.rel(entry.rel)
            suffix = entry.path.suffix.lower()
            if suffix == ".ipynb" and self.notebook(entry.path, rel):
                self.files += 1
                self.bytes += entry.size
                continue
            if suffix in MODEL_SUFFIXES:
                self.model(entry.path, rel)
                continue
            text = read_text(entry.path)
            if text is None:
                if entry.size > MAX_TEXT_BYTES:
                    self.skip(
                        rel,
                        f"{entry.size:,} bytes, over the {MAX_TEXT_BYTES:,}-byte limit for text",
                        finding=True,
                    )
                else:
                    self.skip(rel, "binary (a NUL byte in its first 8 KiB)", finding=False)
                continue
            self.files += 1
            self.bytes += entry.size
            if entry.path.name.lower() in MODEL_CONFIG_NAMES:
                self.hits(text, rel=rel, origin="model-metadata", rule_id=rules.IN_MODEL_METADATA)
            else:
                self.hits(
                    text,
                    rel=rel,
                    origin="tree",
                    rule_id=rules.IN_TREE,
                    source=suffix in SOURCE_SUFFIXES,
                    mode=entry.mode,
                )

    def notebook(self, path: Path, rel: str) -> bool:
        from ssdf_ai.code.notebook import read_notebook

        try:
            cells = read_notebook(path)
        except InputError as error:
            # Still read as text below (secrets in a broken notebook are still secrets).
            self.skip(
                rel, f"not read as a notebook ({error.message}); scanned as text", finding=False
            )
            return False
        self.notebooks += 1
        for cell in cells:
            name = f"cell {cell.index + 1}"
            if cell.source:
                self.hits(
                    cell.source,
                    rel=rel,
                    origin="notebook-source",
                    rule_id=rules.IN_TREE,
                    line=cell.line,
                    address=name,
                    source=True,
                )
            if cell.outputs:
                before = len(self.found)
                self.hits(
                    cell.outputs,
                    rel=rel,
                    origin="notebook-output",
                    rule_id=rules.IN_NOTEBOOK_OUTPUT,
                    line=None,
                    address=f"{name}, output",
                )
                # An output has no line of its own in the file: point at the cell's start and
                # say which output line it was.
                for i in range(before, len(self.found)):
                    s = self.found[i]
                    out_line = _line_of(cell.outputs, s.value)
                    s.line = cell.line
                    s.address = f"{name}, output line {out_line}"
        return True

    def model(self, path: Path, rel: str) -> None:
        try:
            meta = read_metadata(path)
        except MetadataError as error:
            self.skip(rel, f"model metadata not read: {error}", finding=True)
            return
        except OSError as error:
            self.skip(rel, f"cannot be read: {error.strerror}", finding=True)
            return
        self.models += 1
        self.files += 1
        for address, text in meta:
            self.bytes += len(text)
            self.hits(
                text,
                rel=rel,
                origin="model-metadata",
                rule_id=rules.IN_MODEL_METADATA,
                line=None,
                address=address,
            )

    def history(self, since: str | None) -> tuple[int, int, list[_Secret]]:
        """Scan the history; return the commits, the bytes read and one secret per value."""
        from ssdf_ai.code._secrets_history import read_history, resolve_since

        since_commit = resolve_since(self.path, since) if since else None
        log = read_history(self.path, since=since_commit)
        first: dict[str, _Secret] = {}
        seen_in: dict[str, set[str]] = {}
        for added in log.added():
            text = "\n".join(added.lines)
            rel = self.rel(added.path)
            if added.truncated:
                self.skip(
                    rel,
                    f"commit {added.commit[:12]} added over {len(text):,} characters; the rest "
                    "of it was not scanned",
                    finding=True,
                )
            for hit in self.detector.scan(text):
                value = text[hit.start : hit.end]
                key = _value_key(value)
                commits = seen_in.setdefault(key, set())
                commits.add(added.commit)
                if key in first:
                    continue
                first[key] = _Secret(
                    rule_id=rules.ONLY_IN_HISTORY,
                    kind=hit.kind,
                    confidence=hit.confidence,
                    preview=hit.preview,
                    path=rel,
                    line=added.numbers[hit.line - 1],
                    column=hit.column,
                    address=f"commit {added.commit[:12]} ({added.date})",
                    origin="history",
                    value=value,
                    source=Path(added.path).suffix.lower() in SOURCE_SUFFIXES,
                    first_commit=added.commit,
                    first_date=added.date,
                )
        for key, secret in first.items():
            secret.commits = len(seen_in[key])
        return log.commits, len(log.data), list(first.values())


def _line_of(text: str, value: str) -> int:
    at = text.find(value)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _value_key(value: str) -> str:
    # In-memory only (unsalted): never written anywhere.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _severity(secret: _Secret) -> Severity:
    if secret.owner_only and secret.first_commit is None:
        # A signing key kept where it is used, readable by its owner alone and never
        # committed (ssdf keys generate writes them so): noted, not a leak.
        return Severity.INFO
    severity = rules.RULES[secret.rule_id].severity
    if secret.confidence != "high" and severity > Severity.MEDIUM:
        return Severity.MEDIUM  # a keyed high-entropy value: likely, not certain, a secret
    return severity


_WHERE: dict[str, str] = {
    "tree": "is written in the working tree",
    "notebook-source": "is written in a notebook cell's source",
    "notebook-output": "appears in a notebook cell's saved output",
    "model-metadata": "appears in model metadata",
}


def _finding(secret: _Secret) -> Finding:
    rule = rules.RULES[secret.rule_id]
    what = f"A {secret.kind} ({secret.preview})"
    if secret.origin == "history":
        message = (
            f"{what} was added in commit {(secret.first_commit or '')[:12]} "
            f"({secret.first_date}) and is no longer in the working tree, but git history "
            f"still holds it ({secret.commits} commit(s) added it)."
        )
        remediation = rules.REMEDIATIONS[rules.ONLY_IN_HISTORY]
    else:
        message = f"{what} {_WHERE[secret.origin]}."
        if secret.owner_only and secret.first_commit is None:
            message += (
                " Only its owner can read the file and git history does not hold it; keep it "
                "out of version control (`ssdf env` checks that)."
            )
        if secret.first_commit:
            message += (
                f" Git history holds it too, since commit {secret.first_commit[:12]} "
                f"({secret.first_date})."
            )
        remediation = rules.REMEDIATIONS[secret.rule_id]
    tasks = tuple(t for t in rule.task_ids if t != rules.HARD_CODED)
    if secret.source:
        tasks += (rules.HARD_CODED,)
    return Finding(
        rule_id=secret.rule_id,
        severity=_severity(secret),
        confidence=Confidence(secret.confidence),
        message=message,
        location=Location(
            path=secret.path, line=secret.line, column=secret.column, address=secret.address
        ),
        cwe=rule.cwe,
        task_ids=tasks,
        remediation=remediation,
    )


def _detail(secret: _Secret, fingerprint: str | None) -> SecretDetail:
    return SecretDetail(
        rule_id=secret.rule_id,
        kind=secret.kind,
        confidence=secret.confidence,
        preview=secret.preview,
        path=secret.path,
        line=secret.line,
        origin=secret.origin,
        in_working_tree=secret.in_tree,
        first_commit=secret.first_commit,
        first_date=secret.first_date,
        commits=secret.commits,
        fingerprint=fingerprint,
    )


def _merge_history(tree: list[_Secret], history: list[_Secret]) -> list[_Secret]:
    """Annotate tree secrets with their history; keep the history-only ones."""
    by_value: dict[str, _Secret] = {_value_key(s.value): s for s in history}
    in_tree: set[str] = set()
    for secret in tree:
        key = _value_key(secret.value)
        past = by_value.get(key)
        if past is not None:
            in_tree.add(key)
            secret.first_commit, secret.first_date = past.first_commit, past.first_date
            secret.commits = past.commits
    only = [s for s in history if _value_key(s.value) not in in_tree]
    for secret in only:
        secret.in_tree = False
    return only


def scan_secrets(
    path: Path,
    *,
    root: Path,
    history: bool | None = None,
    since: str | None = None,
    baseline: Path | None = None,
    update_baseline: bool = False,
    fail_on: Severity = Severity.LOW,
) -> SecretsReport:
    """Scan ``path`` for plaintext secrets.

    Args:
        path: A folder (or one file) to scan.
        root: The project root: paths are reported relative to it, and the default baseline is
            ``root/.ssdf-secrets-baseline.json``.
        history: Scan git history too; ``None``: when ``path`` is the top of a git work tree.
        since: Leave out commits reachable from this ref.
        baseline: The baseline file; ``None``: the default one, when it exists.
        update_baseline: Write the current findings to the baseline as accepted (keeping the
            reasons of entries already there); they are then reported as suppressed.
        fail_on: The report's failure threshold.

    Returns:
        The report: findings not in the baseline, the suppressed ones, and what was scanned.

    Raises:
        InputError: ``path`` does not exist, ``--history`` on a folder that is not the top of a
            git work tree, a bad ``since``, git failing, or a missing or malformed baseline.
    """
    from ssdf_ai.code._git import is_repository
    from ssdf_ai.provenance.registry import project_path

    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path} does not exist", where=path, hint="give a folder or a file")
    repository = path.is_dir() and is_repository(path)
    if history is None:
        history = repository
    elif history and not repository:
        raise InputError(
            f"{path} is not the top of a git work tree, so it has no history to scan",
            where=path,
            hint="give the repository's top folder, or pass --no-history",
        )
    if since and not history:
        raise InputError("--since needs the history scan", hint="drop --since or scan a repository")
    explicit = baseline is not None
    baseline_path = (baseline if baseline is not None else root / BASELINE_FILE).resolve()
    accepted: Baseline | None = None
    if baseline_path.exists():
        accepted = load_baseline(baseline_path)
    elif explicit and not update_baseline:
        raise InputError(
            f"the secrets baseline {baseline_path} does not exist",
            where=baseline_path,
            hint="write one with --update-baseline, or leave --baseline out",
        )

    scanner = _Scanner(root, project_path(root, path), path)
    scanner.tree(baseline_path)
    found = scanner.found
    commits = history_bytes = 0
    if history:
        commits, history_bytes, past = scanner.history(since)
        found = found + _merge_history(found, past)

    written = False
    if update_baseline:
        new = Baseline(salt=accepted.salt) if accepted is not None else Baseline()
        for secret in found:
            fp = new.fingerprint(secret.kind, secret.path, secret.value)
            old = accepted.entries.get(fp) if accepted is not None else None
            new.entries[fp] = Entry(
                rule_id=secret.rule_id,
                kind=secret.kind,
                path=secret.path,
                preview=secret.preview,
                fingerprint=fp,
                reason=old.reason if old is not None else None,
            )
        _write_baseline(baseline_path, new)
        accepted, written = new, True

    reported: list[tuple[Finding, SecretDetail]] = []
    suppressed: list[SuppressedSecret] = []
    for secret in found:
        mark = accepted.fingerprint(secret.kind, secret.path, secret.value) if accepted else None
        entry = accepted.entries.get(mark) if accepted is not None and mark else None
        if entry is not None and mark is not None:
            suppressed.append(
                SuppressedSecret(
                    rule_id=secret.rule_id,
                    kind=secret.kind,
                    path=secret.path,
                    line=secret.line,
                    preview=secret.preview,
                    fingerprint=mark,
                    reason=entry.reason,
                )
            )
            continue
        reported.append((_finding(secret), _detail(secret, mark)))
    reported.sort(key=lambda p: (p[0].location.path or "", p[0].location.line or 0, p[0].rule_id))
    findings = [f for f, _ in reported] + scanner.not_scanned
    return SecretsReport(
        findings=findings,
        fail_on=fail_on,
        path=project_path(root, path),
        files_scanned=scanner.files,
        bytes_scanned=scanner.bytes,
        notebooks=scanner.notebooks,
        model_files=scanner.models,
        history_scanned=history,
        since=since,
        commits_scanned=commits,
        history_bytes=history_bytes,
        baseline=project_path(root, baseline_path) if accepted is not None else None,
        baseline_written=written,
        suppressed_count=len(suppressed),
        suppressed=suppressed,
        kinds=dict(sorted(Counter(d.kind for _, d in reported).items())),
        secrets=[d for _, d in reported],
        skipped=scanner.skipped,
    )
