"""Start-up time of the ``ssdf`` command: ``--version`` and ``--help`` must stay under 0.3 s.

Run with ``make bench`` or ``.venv/bin/python benchmarks/startup.py [--runs N]``. Each command is
run as a fresh process (what a user or CI script pays); the median and the worst of N runs are
reported, after one warm-up run that fills the OS file cache.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
SSDF = str(Path(sys.executable).with_name("ssdf"))
COMMANDS = {
    "ssdf --version": [SSDF, "--version"],
    "ssdf --help": [SSDF, "--help"],
    "ssdf profile --help": [SSDF, "profile", "--help"],
    "ssdf config --help": [SSDF, "config", "--help"],
    "ssdf evidence --help": [SSDF, "evidence", "--help"],
}


def measure(argv: list[str], runs: int) -> list[float]:
    """Run ``argv`` ``runs`` times (after one warm-up) and return wall times in seconds."""
    subprocess.run(argv, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    """Measure, print a table (or JSON), and exit 1 if a median misses the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    results = {}
    for name, argv in COMMANDS.items():
        times = measure(argv, args.runs)
        results[name] = {"median_s": statistics.median(times), "max_s": max(times)}
    ok = all(r["median_s"] < TARGET_S for r in results.values())
    if args.json:
        print(json.dumps({"target_s": TARGET_S, "runs": args.runs, "results": results}, indent=2))
    else:
        print(f"{'command':<24}{'median':>10}{'max':>10}   (target: median < {TARGET_S} s)")
        for name, r in results.items():
            print(f"{name:<24}{r['median_s']:>9.3f}s{r['max_s']:>9.3f}s")
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
