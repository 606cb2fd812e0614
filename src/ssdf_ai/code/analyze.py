"""AST rules for unsafe AI code in Python sources and Jupyter notebooks.

:func:`analyze_path` walks a file or folder (``.py`` and ``.ipynb``; symbolic links are never
followed), parses each file with :mod:`ast` and runs the rules of
:mod:`ssdf_ai.code.code_rules` over it; nothing scanned is imported or run. :func:`analyze_source`
does the same for one string. Notebooks are analysed as the concatenation of their code cells
(IPython magics and ``!shell`` lines are neutralised so that line numbers stay aligned), and
their saved outputs are scanned for secrets.

A finding can be suppressed by a comment on its line or the line before it that names the rule
and says why: ``# ssdf: ignore[SSDF-CODE-001] weights come from our signed registry``. A
suppression without a justification does not suppress and is itself a finding
(``SSDF-CODE-012``). Suppressed findings are kept in :attr:`CodeResult.suppressed`.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ssdf_ai.code import code_rules as rules_
from ssdf_ai.code._analyze_rules import ModuleAnalyzer, RawHit
from ssdf_ai.errors import InputError
from ssdf_ai.findings import Confidence, Finding, Location, Severity

# Sources larger than this are not parsed: the syntax tree of a generated file this big costs
# far more memory than the file, and no hand-written module is this large.
MAX_SOURCE_BYTES = 2 * 1024 * 1024
# Deepest nesting of the syntax tree the rules walk (they recurse over it).
MAX_DEPTH = 200
SUFFIXES = frozenset({".py", ".ipynb"})
_SUPPRESSION = re.compile(r"#\s*ssdf:\s*ignore\[([A-Za-z0-9_,\s-]*)\]([^#\n]*)")
# Cell magics after which the rest of the cell is still Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_LINE_MAGIC = re.compile(r"^(\s*)(?:[!%?]|\w+\?$)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*[\w.,\s\[\]]+=\s*)[!%]")


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding suppressed by an ``# ssdf: ignore[...]`` comment with a justification.

    Attributes:
        rule_id: The rule of the suppressed finding.
        path: Its file.
        line: Its line.
        justification: The reason given in the comment.
        message: The suppressed finding's message.
    """

    rule_id: str
    path: str
    line: int
    justification: str
    message: str


@dataclass(slots=True)
class CodeResult:
    """What :func:`analyze_path` found.

    Attributes:
        findings: Every finding not suppressed, in file and line order.
        suppressed: Findings suppressed with a justification.
        files: Python files analysed (notebooks included).
        notebooks: Notebooks among them.
        lines: Source lines read (code cells for notebooks).
        not_analysed: Files that could not be parsed (each is also a finding).
        seconds: Wall time of the analysis.
    """

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    files: int = 0
    notebooks: int = 0
    lines: int = 0
    not_analysed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Comment:
    rules: tuple[str, ...]
    justification: str
    line: int


def _finding(
    rule_id: str,
    message: str,
    path: str,
    line: int | None,
    column: int | None = None,
    *,
    address: str | None = None,
    confidence: Confidence = Confidence.HIGH,
    severity: Severity | None = None,
) -> Finding:
    rule = rules_.RULES[rule_id]
    return Finding(
        rule_id=rule_id,
        severity=severity or rule.severity,
        confidence=confidence,
        message=message,
        location=Location(path=path, line=line, column=column, address=address),
        cwe=rule.cwe,
        task_ids=rule.task_ids,
        remediation=rules_.REMEDIATION[rule_id],
    )


def _secret_scanner() -> Callable[[str], list[tuple[int, str, str, str]]]:
    """``text -> [(line offset, kind, redacted preview, confidence)]`` with the secret detector."""
    from ssdf_ai.detect import Detector

    detector = Detector(kinds={"secret"})

    def scan(text: str) -> list[tuple[int, str, str, str]]:
        return [(h.line - 1, h.kind, h.preview, h.confidence) for h in detector.scan(text)]

    return scan


def _comment_lines(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every comment: real comments only, not ``#`` inside strings."""
    import io
    import tokenize

    try:
        return [
            (token.start[0], token.string)
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError):
        # A file that does not tokenise: fall back to reading lines, strings and all.
        return list(enumerate(source.splitlines(), start=1))


def _comments(source: str) -> dict[int, _Comment]:
    found: dict[int, _Comment] = {}
    if "ssdf:" not in source:
        return found
    for number, text in _comment_lines(source):
        if "ssdf:" not in text:
            continue
        match = _SUPPRESSION.search(text)
        if match:
            rules = tuple(r.strip().upper() for r in match.group(1).split(",") if r.strip())
            reason = match.group(2).strip(" \t-:—")
            found[number] = _Comment(rules, reason, number)
    return found


def _depth_ok(tree: ast.AST) -> bool:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return True


def _root_parts(root: Path | None) -> tuple[str, ...]:
    if root is None:
        return ()
    return Path(root).resolve().parts[1:]


def analyze_source(
    source: str,
    path: str,
    *,
    root: Path | None = None,
    rules: Iterable[str] | None = None,
    line_map: list[int] | None = None,
) -> tuple[list[Finding], list[Suppressed]]:
    """Analyse one module's source text.

    Args:
        source: The Python source.
        path: The path to put in findings.
        root: The project root (constant paths inside it are trusted by rule 002).
        rules: Only these rule ids (default: all).
        line_map: For notebooks: the file line of each source line (index = line - 1).

    Returns:
        The findings (suppressed ones removed) and the suppressed findings.
    """
    wanted = frozenset(rules) if rules is not None else None

    def where(line: int) -> int:
        if line_map and 1 <= line <= len(line_map):
            return line_map[line - 1]
        return line

    hits: list[RawHit] = []
    try:
        tree = ast.parse(source, filename=path)
        if not _depth_ok(tree):
            raise RecursionError
        from ssdf_ai.detect import looks_random
        from ssdf_ai.detect._hit import redact

        analyzer = ModuleAnalyzer(
            tree,
            root_parts=_root_parts(root),
            secret_scan=_secret_scanner(),
            looks_random=looks_random,
            redact=redact,
        )
        hits = analyzer.run()
    except SyntaxError as error:
        line = error.lineno if error.lineno and error.lineno >= 1 else None
        hits = [
            RawHit(
                rules_.NOT_ANALYSED,
                line or 1,
                1,
                f"not analysed: syntax error ({error.msg})",
                Confidence.HIGH,
                Severity.LOW,
            )
        ]
    except (RecursionError, MemoryError, ValueError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]
        hits = [RawHit(rules_.NOT_ANALYSED, 1, 1, f"not analysed: {reason}")]
    comments = _comments(source)
    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    for comment in comments.values():
        if not comment.justification:
            hits.append(
                RawHit(
                    rules_.BARE_SUPPRESSION,
                    comment.line,
                    1,
                    "suppression of "
                    f"{', '.join(comment.rules) or 'nothing'} gives no justification, "
                    "so it does not suppress",
                )
            )
    for hit in hits:
        if wanted is not None and hit.rule_id not in wanted:
            continue
        justified = next(
            (
                c
                for c in (comments.get(hit.line), comments.get(hit.line - 1))
                if c is not None and c.justification and hit.rule_id in c.rules
            ),
            None,
        )
        line = where(hit.line)
        if justified is not None and hit.rule_id != rules_.BARE_SUPPRESSION:
            suppressed.append(
                Suppressed(hit.rule_id, path, line, justified.justification, hit.message)
            )
            continue
        findings.append(
            _finding(
                hit.rule_id,
                hit.message,
                path,
                line,
                None if line_map else hit.column,
                confidence=hit.confidence,
                severity=hit.severity,
            )
        )
    return findings, suppressed


def neutralise_cell(source: str) -> str:
    """A code cell's source with IPython syntax replaced so that it parses, lines aligned.

    Line magics and shell escapes (``%pip``, ``!ls``, ``x = !ls``, ``obj?``) become ``pass``
    (or ``None`` on the right of an assignment); a cell magic other than timing ones
    (``%%bash``, ``%%html``) turns the whole cell into comments.
    """
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(" ", 1)[0]
        if magic not in _PYTHON_CELL_MAGICS:
            return "\n".join("#" for _ in lines)
        lines[0] = "#"
    out = []
    for line in lines:
        assigned = _ASSIGNED_MAGIC.match(line)
        if assigned:
            out.append(assigned.group(1) + "None")
            continue
        shell = _LINE_MAGIC.match(line)
        out.append(f"{shell.group(1)}pass" if shell else line)
    return "\n".join(out)


def analyze_notebook(
    path: Path, rel: str, *, root: Path | None = None, rules: Iterable[str] | None = None
) -> tuple[list[Finding], list[Suppressed], int]:
    """Analyse a notebook's code cells as one module, and scan its saved outputs for secrets.

    Cells that do not parse are each reported as not analysed and left out of the module.

    Returns:
        The findings, the suppressed findings and the number of code lines.

    Raises:
        InputError: The file is not a notebook (see :func:`ssdf_ai.code.notebook.read_notebook`).
    """
    from ssdf_ai.code.notebook import read_notebook
    from ssdf_ai.detect import Detector

    wanted = frozenset(rules) if rules is not None else None
    cells = read_notebook(path)
    parts: list[str] = []
    line_map: list[int] = []
    findings: list[Finding] = []
    for cell in cells:
        if cell.kind != "code":
            continue
        text = neutralise_cell(cell.source)
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if wanted is None or rules_.NOT_ANALYSED in wanted:
                findings.append(
                    _finding(
                        rules_.NOT_ANALYSED,
                        f"cell {cell.index + 1} not analysed: {error}"[:300],
                        rel,
                        cell.line,
                        address=f"cell {cell.index + 1}",
                        severity=Severity.LOW,
                    )
                )
            continue
        cell_lines = text.split("\n")
        parts.extend(cell_lines)
        line_map.extend(cell.line + i for i in range(len(cell_lines)))
    more, suppressed = analyze_source(
        "\n".join(parts), rel, root=root, rules=rules, line_map=line_map
    )
    findings.extend(more)
    if wanted is None or rules_.HARDCODED_SECRET in wanted:
        detector = Detector(kinds={"secret"})
        for cell in cells:
            if not cell.outputs:
                continue
            for hit in detector.scan(cell.outputs):
                if hit.confidence == "low":
                    continue
                findings.append(
                    _finding(
                        rules_.HARDCODED_SECRET,
                        f"{hit.kind} in a saved output ({hit.preview})",
                        rel,
                        cell.line,
                        address=f"cell {cell.index + 1}, output",
                        confidence=Confidence(hit.confidence),
                    )
                )
    return findings, suppressed, len(parts)


def _too_big(rel: str, size: int) -> Finding:
    return _finding(
        rules_.NOT_ANALYSED,
        f"not analysed: {size:,} bytes, over the {MAX_SOURCE_BYTES:,}-byte limit",
        rel,
        None,
    )


def analyze_path(
    root: Path,
    path: Path,
    rules: Iterable[str] | None = None,
    *,
    max_source_bytes: int = MAX_SOURCE_BYTES,
) -> CodeResult:
    """Analyse every ``.py`` and ``.ipynb`` file under ``path`` (or ``path`` itself).

    Args:
        root: The project root; finding paths are relative to it when ``path`` is inside it.
        path: A file or folder.
        rules: Only these rule ids (default: all).
        max_source_bytes: Larger files are reported as not analysed.

    Returns:
        The findings, the suppressed findings and the figures of the run.

    Raises:
        InputError: ``path`` does not exist, a rule id is unknown, or the tree holds too many
            files.
    """
    from ssdf_ai.code._files import iter_files, read_text

    started = time.perf_counter()
    if rules is not None:
        rules = frozenset(r.upper() for r in rules)
        unknown = sorted(rules - set(rules_.RULES))
        if unknown:
            raise InputError(
                f"unknown rule id(s): {', '.join(unknown)}",
                hint="rules: " + ", ".join(rules_.RULES),
            )
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path} does not exist", where=path, hint="give a file or a folder")
    try:
        base = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        base = path.as_posix()
    single = path.is_file()
    result = CodeResult()
    for entry in iter_files(path, suffixes=SUFFIXES):
        rel = base if single else (entry.rel if base in {"", "."} else f"{base}/{entry.rel}")
        result.files += 1
        notebook = entry.path.suffix.lower() == ".ipynb"
        result.notebooks += notebook
        if entry.size > (max_source_bytes * (8 if notebook else 1)):
            result.findings.append(_too_big(rel, entry.size))
            result.not_analysed += 1
            continue
        try:
            if notebook:
                found, suppressed, lines = analyze_notebook(entry.path, rel, root=root, rules=rules)
            else:
                text = read_text(entry.path, limit=max_source_bytes)
                if text is None:
                    found = [
                        _finding(
                            rules_.NOT_ANALYSED, "not analysed: binary or too large", rel, None
                        )
                    ]
                    suppressed, lines = [], 0
                else:
                    found, suppressed = analyze_source(text, rel, root=root, rules=rules)
                    lines = len(text.splitlines())
        except (InputError, OSError) as error:
            found = [_finding(rules_.NOT_ANALYSED, f"not analysed: {error}"[:300], rel, None)]
            suppressed, lines = [], 0
        if any(f.rule_id == rules_.NOT_ANALYSED and f.location.address is None for f in found):
            result.not_analysed += 1
        if rules is not None:
            found = [f for f in found if f.rule_id in rules]
        result.findings.extend(found)
        result.suppressed.extend(suppressed)
        result.lines += lines
    result.findings.sort(key=lambda f: (f.location.path or "", f.location.line or 0, f.rule_id))
    result.seconds = time.perf_counter() - started
    return result
