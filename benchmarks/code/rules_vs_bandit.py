"""Precision, recall and speed of ``ssdf code`` against bandit on a labelled corpus.

Each file of ``benchmarks/code/corpus`` declares the rules it should trigger in a header
comment (``# expect: SSDF-CODE-001, SSDF-CODE-010`` or ``# expect: none``). Both tools run on
the whole corpus; bandit's test ids are mapped to our rule categories (the table below, also in
``docs/code-rules.md``), and every (file, rule) pair is scored: a true positive when the rule is
expected and reported, a false positive when reported and not expected, a false negative when
expected and not reported. Categories bandit has no test for count as misses for bandit.

Run::

    .venv/bin/python benchmarks/code/rules_vs_bandit.py [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPO = HERE.parent.parent
BIN = Path(sys.executable).parent
_EXPECT = re.compile(r"#\s*expect:\s*([A-Za-z0-9 ,-]+)")

# bandit test id -> the rule categories it stands for. A bandit result counts as a true
# positive when any of its categories is expected in the file, else as a false positive of
# the first one. Categories absent here (003 trust_remote_code, 007 system prompts, 012
# suppressions) have no bandit test.
BANDIT_MAP: dict[str, tuple[str, ...]] = {
    "B614": ("SSDF-CODE-001",),  # pytorch_load
    "B301": ("SSDF-CODE-002",),  # pickle, dill, shelve, pandas.read_pickle
    "B615": ("SSDF-CODE-004",),  # huggingface_unsafe_download
    "B506": ("SSDF-CODE-005",),  # yaml_load
    "B307": ("SSDF-CODE-006", "SSDF-CODE-008"),  # eval
    "B102": ("SSDF-CODE-006", "SSDF-CODE-008"),  # exec_used
    "B602": ("SSDF-CODE-006", "SSDF-CODE-008"),  # subprocess_popen_with_shell_equals_true
    "B604": ("SSDF-CODE-006", "SSDF-CODE-008"),  # any_other_function_with_shell_equals_true
    "B605": ("SSDF-CODE-006", "SSDF-CODE-008"),  # start_process_with_a_shell
    "B608": ("SSDF-CODE-006",),  # hardcoded_sql_expressions
    "B501": ("SSDF-CODE-009",),  # request_with_no_cert_validation
    "B323": ("SSDF-CODE-009",),  # unverified_context
    "B105": ("SSDF-CODE-010",),  # hardcoded_password_string
    "B106": ("SSDF-CODE-010",),  # hardcoded_password_funcarg
    "B107": ("SSDF-CODE-010",),  # hardcoded_password_default
    # A file bandit could not parse is reported under "errors": our SSDF-CODE-011.
    "error": ("SSDF-CODE-011",),
}


def expectations(corpus: Path = CORPUS) -> dict[str, set[str]]:
    """File name -> the rule ids its header says it should trigger."""
    expected: dict[str, set[str]] = {}
    for path in sorted(corpus.iterdir()):
        if path.suffix not in {".py", ".ipynb"}:
            continue
        match = _EXPECT.search(path.read_text(encoding="utf-8")[:4000])
        if match is None:
            raise SystemExit(f"{path.name}: no '# expect:' header")
        ids = {i.strip().upper() for i in match.group(1).split(",")}
        expected[path.name] = set() if ids == {"NONE"} else ids
    return expected


def run_ssdf(corpus: Path = CORPUS) -> tuple[dict[str, set[str]], float]:
    """Our findings per file (rule ids) and the wall time of one ``ssdf code`` run."""
    with tempfile.TemporaryDirectory() as project:
        started = time.perf_counter()
        proc = subprocess.run(
            [
                str(BIN / "ssdf"),
                "code",
                str(corpus),
                "--project",
                project,
                "--no-record",
                "-f",
                "json",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ssdf code failed ({proc.returncode}): {proc.stderr}")
    found: dict[str, set[str]] = defaultdict(set)
    for finding in json.loads(proc.stdout)["findings"]:
        found[Path(finding["location"]["path"]).name].add(finding["rule_id"])
    return found, elapsed


def run_bandit(corpus: Path, expected: dict[str, set[str]]) -> tuple[dict[str, set[str]], float]:
    """bandit's results per file, mapped to our categories, and its wall time."""
    bandit = BIN / "bandit"
    started = time.perf_counter()
    proc = subprocess.run(
        [str(bandit), "-f", "json", "-q", "-r", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    data = json.loads(proc.stdout)
    found: dict[str, set[str]] = defaultdict(set)
    results = [(r["filename"], r["test_id"]) for r in data["results"]]
    results += [(e["filename"], "error") for e in data.get("errors", [])]
    for filename, test_id in results:
        categories = BANDIT_MAP.get(test_id)
        if not categories:
            continue
        name = Path(filename).name
        wanted = [c for c in categories if c in expected.get(name, set())]
        found[name].add(wanted[0] if wanted else categories[0])
    return found, elapsed


def score(
    expected: dict[str, set[str]], found: dict[str, set[str]]
) -> dict[str, dict[str, float | None]]:
    """Per rule and overall: tp, fp, fn, precision (``None``: the tool reported nothing for the
    rule), recall."""
    counts: dict[str, dict[str, float | None]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    for name, wanted in expected.items():
        got = found.get(name, set())
        for rule in wanted | got:
            key = "tp" if rule in wanted and rule in got else ("fp" if rule in got else "fn")
            counts[rule][key] += 1
            counts["overall"][key] += 1
    for row in counts.values():
        tp, fp, fn = int(row["tp"] or 0), int(row["fp"] or 0), int(row["fn"] or 0)
        row["precision"] = tp / (tp + fp) if tp + fp else None
        row["recall"] = tp / (tp + fn) if tp + fn else 1.0
    return dict(sorted(counts.items()))


def main() -> int:
    """Run both tools on the corpus and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    expected = expectations(args.corpus)
    ours, our_time = run_ssdf(args.corpus)
    theirs, their_time = run_bandit(args.corpus, expected)
    files = len(expected)
    result = {
        "files": files,
        "ssdf": {"scores": score(expected, ours), "files_per_second": files / our_time},
        "bandit": {"scores": score(expected, theirs), "files_per_second": files / their_time},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"corpus: {files} files ({sum(1 for e in expected.values() if e)} with expected findings)"
    )
    rules = sorted(set(result["ssdf"]["scores"]) | set(result["bandit"]["scores"]))
    print(f"{'rule':<15} {'ssdf P':>7} {'ssdf R':>7} {'bandit P':>9} {'bandit R':>9}")

    def cell(value: float | None, width: int) -> str:
        return f"{'-':>{width}}" if value is None else f"{value:>{width}.2f}"

    for rule in rules:
        cells = []
        for tool in ("ssdf", "bandit"):
            row = result[tool]["scores"].get(rule, {"precision": None, "recall": 0.0})
            cells += [row["precision"], row["recall"]]
        print(
            f"{rule:<15} {cell(cells[0], 7)} {cell(cells[1], 7)} {cell(cells[2], 9)} "
            f"{cell(cells[3], 9)}"
        )
    for tool in ("ssdf", "bandit"):
        print(
            f"{tool}: {result[tool]['files_per_second']:.1f} files/s (one run, start-up included)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
