"""``ssdf data check`` at scale: wall time and peak memory on up to 1e6 rows.

Run with ``.venv/bin/python benchmarks/data/check_scale.py [--rows 1000000] [--json FILE]``.
It writes scikit-learn ``make_classification`` data (20 features, 2 classes, a sensitive
attribute) as CSV and as Parquet, then runs the real command (``ssdf data check ... --no-record
--format json``) on each in a fresh process, measuring its wall time and peak RSS
(``ru_maxrss`` of that one child, through a fresh wrapper process), and reports rows per
second. The checks run as a user would run
them: every check the data allows; with the default ``--max-rows`` (200,000), the label and
backdoor checks report that they did not run on 1e6 rows (their findings are counted), and a
second run raises ``--max-rows`` to hold every row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def write_data(folder: Path, rows: int) -> dict[str, Path]:
    """The same table as CSV and as Parquet."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=rows, n_features=20, n_informative=8, random_state=0, shuffle=True
    )
    rng = np.random.default_rng(0)
    group = np.where(rng.random(rows) < 0.5, "a", "b")
    columns: dict[str, Any] = {f"f{i}": x[:, i].astype(np.float32) for i in range(20)}
    columns["group"] = group
    columns["label"] = y
    table = pa.table(columns)
    parquet = folder / "data.parquet"
    pq.write_table(table, parquet, row_group_size=50_000)
    csv_path = folder / "data.csv"
    import pyarrow.csv as pcsv

    pcsv.write_csv(table, csv_path)
    return {"csv": csv_path, "parquet": parquet}


# A fresh wrapper per command: its RUSAGE_CHILDREN peak is that one command's peak RSS.
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\nPEAK_RSS_KIB={peak}\\n')\n"
    "sys.exit(done.returncode)\n"
)


def run(argv: list[str], cwd: Path) -> dict[str, Any]:
    """Run a command in a child; its wall time, peak RSS and exit code."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv], cwd=cwd, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    peak = int(proc.stderr.rsplit("PEAK_RSS_KIB=", 1)[1].split()[0])
    report = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    checks = {c["name"]: c["status"] for c in report.get("checks", [])}
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(peak / 1024, 1),
        "exit_code": proc.returncode,
        "checks": checks,
        "stderr": proc.stderr[-500:] if proc.returncode not in (0, 1) else "",
    }


def main() -> int:
    """Write the data, run the checks, print the figures (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, Any] = {"rows": args.rows, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp)
        files = write_data(folder, args.rows)
        results["bytes"] = {k: p.stat().st_size for k, p in files.items()}
        base = [str(BIN / "ssdf"), "data", "check"]
        common = ["--label", "label", "--sensitive", "group", "--no-record", "-f", "json", "-q"]
        for name, path in files.items():
            measured = run([*base, str(path), *common], folder)
            measured["rows_per_s"] = round(args.rows / measured["wall_s"])
            results[name] = measured
            print(name, json.dumps(measured), flush=True)
        held = run([*base, str(files["parquet"]), *common, "--max-rows", str(args.rows)], folder)
        held["rows_per_s"] = round(args.rows / held["wall_s"])
        results["parquet, every row in memory"] = held
        print("parquet --max-rows", json.dumps(held), flush=True)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
