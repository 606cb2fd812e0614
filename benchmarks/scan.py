"""Model scanning, side by side with picklescan, modelscan and ModelAudit.

Run with ``.venv/bin/python benchmarks/scan.py [--workdir DIR] [--size-gib 1]`` after installing
the peers (``pip install 'ssdf-ai[bench]'``). It builds every file it scans (torch is needed
for that), then measures:

1. a 1 GiB PyTorch checkpoint: median wall time of each tool's command (``--repeat`` rounds,
   the tools interleaved, run from the work folder, ssdf-ai's modules compiled to bytecode
   first as pip does for the peers); and, in a fresh interpreter,
   the warm library-level time of ssdf-ai and picklescan, the bytes ssdf-ai read
   (``/proc/self/io`` rchar) and its peak RSS (``VmHWM``);
2. a folder of 1,000 small pickles: throughput of each tool;
3. detection on a small corpus of benign and malicious files: what each tool flags.

Each tool runs as its own command, the way a user runs it. A tool that is not installed is
reported as missing, not skipped silently.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BIN = Path(sys.executable).parent


def tool_commands(target: Path) -> dict[str, list[str]]:
    """The command each tool runs to scan ``target``."""
    return {
        # --fail-on medium: a pickle-based model is a low finding (SSDF-SCAN-009), which the
        # default threshold (low) fails on; peers do not report the format itself.
        "ssdf-ai": [
            str(BIN / "ssdf"),
            "scan",
            str(target),
            "--no-record",
            "--quiet",
            "--fail-on",
            "medium",
        ],
        # The same scan with the findings table printed (the full command line: typer, rich).
        "ssdf-ai (table)": [str(BIN / "ssdf"), "scan", str(target), "--no-record"],
        "picklescan": [str(BIN / "picklescan"), "-p", str(target)],
        "modelscan": [str(BIN / "modelscan"), "-p", str(target)],
        "modelaudit": [str(BIN / "modelaudit"), "scan", str(target), "--no-cache"],
    }


def run(argv: list[str], timeout: float = 600, cwd: Path | None = None) -> tuple[float, int, str]:
    """Run a command; return (seconds, exit code, combined output)."""
    if not Path(argv[0]).exists():
        return float("nan"), -1, "not installed"
    start = time.perf_counter()
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
    )
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def median_walls(commands: dict[str, list[str]], repeat: int, cwd: Path) -> dict[str, float]:
    """Median wall time of each command over ``repeat`` rounds, the tools interleaved."""
    walls: dict[str, list[float]] = {tool: [] for tool in commands}
    for _ in range(repeat):
        for tool, argv in commands.items():
            walls[tool].append(run(argv, cwd=cwd)[0])
    return {tool: statistics.median(times) for tool, times in walls.items()}


def compile_bytecode() -> None:
    """Compile ssdf-ai's modules, as ``pip install`` does for every installed package.

    An editable install imports from the source tree, and with PYTHONDONTWRITEBYTECODE set
    (as on the development machine) it would compile every module on every run while the
    peers, installed by pip, load theirs compiled; this puts ssdf-ai on the same footing.
    """
    import compileall

    import ssdf_ai

    compileall.compile_dir(Path(ssdf_ai.__file__).parent, quiet=1)


class Payload:
    """Pickles to a call of os.system; never unpickled here."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


class Hidden:
    """A payload that reaches os.system through an innocent-looking module (tempfile._os)."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import tempfile as t

        return (t._os.system, ("echo pwned",))  # type: ignore[attr-defined]


def _str(text: str) -> bytes:
    data = text.encode()
    return b"X" + len(data).to_bytes(4, "little") + data  # BINUNICODE


def call(module: str, name: str, *args: str) -> bytes:
    """A protocol-2 pickle calling module.name(*args), assembled opcode by opcode."""
    head = b"\x80\x02c" + f"{module}\n{name}\n".encode()
    return head + b"(" + b"".join(_str(a) for a in args) + b"tR."


def build_corpus(work: Path) -> dict[str, tuple[Path, bool]]:
    """Benign and malicious files: name -> (path, is_malicious)."""
    import torch

    corpus = work / "corpus"
    corpus.mkdir()
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    torch.save(model.state_dict(), corpus / "benign_state_dict.pt")
    optimizer = torch.optim.Adam(model.parameters())
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3},
        corpus / "benign_checkpoint.pt",
    )
    (corpus / "malicious.pkl").write_bytes(pickle.dumps(Payload(), protocol=4))
    (corpus / "malicious_renamed.bin").write_bytes(pickle.dumps(Payload(), protocol=2))
    # A torch checkpoint whose data.pkl was replaced by a payload.
    source = corpus / "benign_state_dict.pt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(buffer, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("data.pkl"):
                data = pickle.dumps(Payload(), protocol=2)
            zout.writestr(info, data)
    (corpus / "malicious_checkpoint.pt").write_bytes(buffer.getvalue())
    # Payload via a module path picklescan's denylist does not name.
    hidden = pickle.dumps(Hidden(), protocol=4)
    (corpus / "malicious_dotted.pkl").write_bytes(hidden)
    bypasses = {
        "cProfile.run gadget": call("cProfile", "run", "__import__('os').system('id')"),
        "timeit.timeit gadget": call("timeit", "timeit", "__import__('os').system('id')"),
        # pkgutil.resolve_name('os.system') returns os.system, which the next REDUCE calls.
        "pkgutil.resolve_name then call": b"\x80\x02cpkgutil\nresolve_name\n("
        + _str("os.system")
        + b"tR("
        + _str("id")
        + b"tR.",
        "payload in a second pickle": pickle.dumps({"a": 1}, protocol=4)
        + pickle.dumps(Payload(), protocol=4),
    }
    extra: dict[str, tuple[Path, bool]] = {}
    for index, (label, data) in enumerate(bypasses.items()):
        path = corpus / f"bypass{index}.pkl"
        path.write_bytes(data)
        extra[label] = (path, True)
    # The payload inside a zip inside a gzipped tar.
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("model/weights.pkl", pickle.dumps(Payload(), protocol=4))
    import tarfile

    nested = corpus / "nested.tar.gz"
    with tarfile.open(nested, "w:gz") as tar:
        info = tarfile.TarInfo("bundle/model.zip")
        info.size = len(inner.getvalue())
        tar.addfile(info, io.BytesIO(inner.getvalue()))
    extra["payload in zip in tar.gz"] = (nested, True)
    return {
        "benign state dict (torch.save)": (corpus / "benign_state_dict.pt", False),
        "benign training checkpoint": (corpus / "benign_checkpoint.pt", False),
        "os.system pickle (.pkl)": (corpus / "malicious.pkl", True),
        "os.system pickle named .bin": (corpus / "malicious_renamed.bin", True),
        "payload in a torch checkpoint": (corpus / "malicious_checkpoint.pt", True),
        "tempfile._os.system (dotted name)": (corpus / "malicious_dotted.pkl", True),
        **extra,
    }


def detection(corpus: dict[str, tuple[Path, bool]]) -> dict[str, dict[str, str]]:
    """For each file and tool: 'flagged', 'clean' or 'error'."""
    table: dict[str, dict[str, str]] = {}
    for label, (path, _) in corpus.items():
        row = {}
        for tool, argv in tool_commands(path).items():
            if tool == "ssdf-ai (table)":
                continue
            _, code, output = run(argv, cwd=path.parent)
            if code < 0:
                row[tool] = "missing"
            elif code == 0:
                row[tool] = "clean"
            elif code == 1 or "dangerous" in output.lower() or "critical" in output.lower():
                row[tool] = "flagged"
            else:
                row[tool] = f"error ({code})"
        table[label] = row
    return table


MEASURE_IN_PROCESS = """
import json, sys, time
from pathlib import Path

def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key + ':'):
            return int(line.split()[1]) / 1024
    return 0.0

def rchar():
    for line in open('/proc/self/io'):
        if line.startswith('rchar:'):
            return int(line.split()[1])
    return 0

target = Path(sys.argv[1])
from ssdf_ai.scan.engine import scan_paths
scan_paths([target])  # first call: loads the policy and the parsers' modules
before, start = rchar(), time.perf_counter()
result = scan_paths([target])
seconds = time.perf_counter() - start
out = {"ssdf_seconds_warm": seconds, "ssdf_read_bytes": rchar() - before,
       "ssdf_peak_rss_mib": status('VmHWM'),
       "ssdf_findings": sorted({f.rule_id for f in result.findings})}
try:
    from picklescan.scanner import scan_file_path
except ImportError:
    out["picklescan_seconds_warm"] = None
else:
    scan_file_path(str(target))
    start = time.perf_counter()
    scan_file_path(str(target))
    out["picklescan_seconds_warm"] = time.perf_counter() - start
print(json.dumps(out))
"""


def big_checkpoint(work: Path, gib: float) -> Path:
    """A torch.save'd state dict of about ``gib`` GiB of float32 weights."""
    import torch

    path = work / "big.pt"
    numel = int(gib * (1 << 30) // 4)
    rows = 4096
    weights = {f"layer{i}.weight": torch.zeros(rows, numel // rows // 8) for i in range(8)}
    torch.save(weights, path)
    return path


def small_pickles(work: Path, count: int) -> Path:
    """A folder of ``count`` small benign pickles."""
    folder = work / "small"
    folder.mkdir()
    for i in range(count):
        value = {"id": i, "weights": [float(j) for j in range(64)], "name": f"item-{i}"}
        (folder / f"p{i:04d}.pkl").write_bytes(pickle.dumps(value, protocol=4))
    return folder


def main() -> int:
    """Build the files, measure every tool, print a report (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--size-gib", type=float, default=1.0)
    parser.add_argument("--pickles", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--repeat", type=int, default=7, help="rounds of each command timing")
    args = parser.parse_args()
    compile_bytecode()
    work = Path(tempfile.mkdtemp(prefix="ssdf-bench-", dir=args.workdir))
    try:
        results: dict[str, object] = {}
        big = big_checkpoint(work, args.size_gib)
        size = big.stat().st_size
        # A fresh interpreter (VmHWM is per process image), so torch's memory here is not counted.
        probe = subprocess.run(
            [sys.executable, "-c", MEASURE_IN_PROCESS, str(big)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        inner = json.loads(probe.stdout)
        inner["ssdf_fraction_read"] = inner["ssdf_read_bytes"] / size
        timings = median_walls(tool_commands(big), args.repeat, work)
        results["big_checkpoint"] = {"bytes": size, "in_process": inner, "wall_s": timings}
        folder = small_pickles(work, args.pickles)
        results["small_pickles"] = {
            "count": args.pickles,
            "wall_s": median_walls(tool_commands(folder), max(1, args.repeat // 2), work),
        }
        results["detection"] = detection(build_corpus(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
