"""Hashing model folders, side by side with OpenSSF model signing (``model-signing``).

Run with ``.venv/bin/python benchmarks/hashing.py [--size-gib 2] [--files 4] [--repeat 3]``
after installing the peer (``pip install 'ssdf-ai[bench]'``, or ``pip install model-signing``).

It builds a model folder of random bytes (``--files`` files, ``--size-gib`` in all) under
``--workdir`` (default: the system temporary directory), reads every file once so that all runs
are *warm* (served from the page cache: this measures hashing, not the disk), then measures in
the same run, each in a fresh interpreter whose imports are not timed, in ``--repeat`` rounds
(every case once per round, so a busy moment of the machine is spread over all cases); the
median and the best wall time of the hashing call are kept, with its CPU time:

1. the machine's single-core rate: ``hashlib.file_digest(f, "sha256")`` over the files one
   after the other; the *reference* is that rate times ``min(cores, files)``. The same calls
   in ``min(cores, files)`` threads show what the machine actually gave at that moment;
2. ssdf-ai ``iter_manifest``, files and shards (1 GB, and a smaller shard size) with SHA-256;
3. ``model-signing`` file and shard serialization with SHA-256 (same shard sizes);
4. BLAKE3 in both; BLAKE2b in both.

Every child reports its peak RSS (``VmHWM``, which counts the file pages it maps, so BLAKE3's
memory-mapped reads show up there) and its peak *anonymous* RSS (``RssAnon``, sampled every
5 ms: the memory it allocates itself). Then a memory check (a 0.5 GiB folder beside the full one:
the peak must not grow with the model) and a "many files" case (20,000 files of 4 KiB).

Each ssdf-ai manifest's root digest is compared with model-signing's for the same settings, so a
faster but wrong manifest would show. The workdir is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

GIB = 1 << 30
BLOCK = 64 << 20  # bytes written per call when building the folder
SHARD_LARGE = 1_000_000_000  # both tools' default shard size
SHARD_SMALL = 256 << 20
SMALL_FILES = 20_000
SMALL_FILE_SIZE = 4096

# -- the child: one measurement in a fresh interpreter ---------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class _AnonSampler(threading.Thread):
    """Samples ``RssAnon`` every few milliseconds and keeps the peak."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = _status_kib("RssAnon")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak = max(self.peak, _status_kib("RssAnon"))

    def stop(self) -> int:
        self.done.set()
        self.join()
        self.peak = max(self.peak, _status_kib("RssAnon"))
        return self.peak


def _digest_root(raw_digests: list[bytes]) -> str:
    import hashlib

    h = hashlib.sha256()
    for d in raw_digests:
        h.update(d)
    return h.hexdigest()


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement described by ``spec``; return its figures."""
    import hashlib

    root = Path(spec["root"])
    tool, method, algo = spec["tool"], spec.get("method", "files"), spec.get("hash", "sha256")
    shard = int(spec.get("shard_size", SHARD_LARGE))
    run: Any
    if tool in ("reference", "reference-threads"):
        from concurrent.futures import ThreadPoolExecutor

        files = sorted(p for p in root.rglob("*") if p.is_file())
        threads = 1 if tool == "reference" else min(os.cpu_count() or 1, len(files))

        def one(p: Path) -> bytes:
            with open(p, "rb") as f:
                return hashlib.file_digest(f, "sha256").digest()

        def run() -> list[bytes]:
            if threads == 1:
                return [one(p) for p in files]
            with ThreadPoolExecutor(threads) as pool:
                return list(pool.map(one, files))

    elif tool == "ssdf-ai":
        from ssdf_ai.integrity.manifest import Serialization, iter_manifest

        settings = Serialization(method=method, hash_type=algo, shard_size=shard)
        if algo == "blake3":
            import blake3  # noqa: F401  (imported before timing)

        def run() -> list[bytes]:
            return [bytes.fromhex(r.digest) for r in iter_manifest(root, settings)]

    elif tool == "model-signing":
        from model_signing import hashing

        ms_hashing: Any = hashing  # its Config is untyped, and takes literal algorithm names
        ms_algo = "blake2" if algo == "blake2b" else algo
        config = ms_hashing.Config()
        if method == "shards":
            config.use_shard_serialization(hashing_algorithm=ms_algo, shard_size=shard)
        else:
            config.use_file_serialization(hashing_algorithm=ms_algo)

        def run() -> list[bytes]:
            manifest = config.hash(root)
            return [r.digest.digest_value for r in manifest.resource_descriptors()]

    else:
        raise SystemExit(f"unknown tool {tool!r}")
    rss_before = _status_kib("VmRSS")
    sampler = _AnonSampler()
    sampler.start()
    cpu_start = time.process_time()
    start = time.perf_counter()
    digests = run()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    anon_peak = sampler.stop()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "resources": len(digests),
        "root_digest": _digest_root(digests),
        "rss_before_kib": rss_before,
        "peak_rss_kib": _status_kib("VmHWM"),
        "peak_anon_kib": anon_peak,
    }


# -- the parent ------------------------------------------------------------------------------


def build_folder(root: Path, total: int, files: int) -> int:
    """Write ``files`` files of random bytes, ``total`` bytes in all; return the byte count."""
    root.mkdir(parents=True)
    each = total // files
    for i in range(files):
        with open(root / f"model-{i:05d}-of-{files:05d}.safetensors", "wb") as f:
            left = each
            while left:
                n = min(BLOCK, left)
                f.write(os.urandom(n))
                left -= n
    return each * files


def build_small_files(root: Path, count: int, size: int) -> int:
    """Write ``count`` files of ``size`` random bytes, 1,000 to a directory."""
    for i in range(count):
        d = root / f"part-{i // 1000:03d}"
        if i % 1000 == 0:
            d.mkdir(parents=True)
        (d / f"tensor-{i:06d}.bin").write_bytes(os.urandom(size))
    return count * size


def warm_up(root: Path) -> None:
    """Read every file once so later runs hash from the page cache."""
    buf = bytearray(BLOCK)
    for p in sorted(root.rglob("*")):
        if p.is_file():
            with open(p, "rb", buffering=0) as f:
                while f.readinto(buf):
                    pass


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode:
        return {"error": " ".join((proc.stderr or proc.stdout).strip().splitlines()[-1:])}
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def measure(specs: dict[str, dict[str, Any]], repeat: int) -> dict[str, dict[str, Any]]:
    """Run every spec ``repeat`` times, each in a fresh interpreter, in interleaved rounds.

    Rounds (every spec once, then again) spread the machine's slow moments over all specs
    instead of one. Keeps the median and the best wall time, the median CPU time and the
    largest peaks.
    """
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in specs}
    for _ in range(repeat):
        for label, spec in specs.items():
            runs[label].append(_child(spec))
            print(f"  {label}: {runs[label][-1].get('seconds', runs[label][-1])}", file=sys.stderr)
    out: dict[str, dict[str, Any]] = {}
    for label, rs in runs.items():
        errors = [r["error"] for r in rs if "error" in r]
        if errors:
            out[label] = {"error": errors[0]}
            continue
        digests = {r["root_digest"] for r in rs}
        out[label] = {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "best_seconds": min(r["seconds"] for r in rs),
            "all_seconds": [r["seconds"] for r in rs],
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
            "resources": rs[0]["resources"],
            "root_digest": rs[0]["root_digest"] if len(digests) == 1 else "VARIES",
            "peak_rss_mib": max(r["peak_rss_kib"] for r in rs) / 1024,
            "peak_anon_mib": max(r["peak_anon_kib"] for r in rs) / 1024,
            "rss_before_mib": max(r["rss_before_kib"] for r in rs) / 1024,
        }
    return out


REFERENCE = "reference: file_digest sha256, 1 core"
THREADED = "file_digest sha256, a thread per core"


def cases(small_shard: int) -> dict[str, dict[str, Any]]:
    """The measurements on the model folder, by label."""
    out: dict[str, dict[str, Any]] = {
        REFERENCE: {"tool": "reference"},
        THREADED: {"tool": "reference-threads"},
    }
    for tool in ("ssdf-ai", "model-signing"):
        out[f"{tool} files sha256"] = {"tool": tool, "hash": "sha256"}
        for shard in (SHARD_LARGE, small_shard):
            out[f"{tool} shards sha256 ({shard:,})"] = {
                "tool": tool,
                "method": "shards",
                "hash": "sha256",
                "shard_size": shard,
            }
        out[f"{tool} files blake3"] = {"tool": tool, "hash": "blake3"}
        out[f"{tool} files blake2b"] = {"tool": tool, "hash": "blake2b"}
    return out


def gbps(nbytes: int, seconds: float) -> float:
    """Throughput in GB/s (10^9 bytes per second)."""
    return nbytes / seconds / 1e9 if seconds else float("nan")


def table(rows: dict[str, dict[str, Any]], nbytes: int) -> list[str]:
    """Markdown rows: wall time (median, best), GB/s, CPU time, peak RSS, resources."""
    lines = [
        "| run | median s | best s | GB/s (median) | CPU s | peak RSS | peak anon RSS "
        "| resources |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in rows.items():
        if "error" in r:
            lines.append(f"| {label} | error: {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {label} | {r['seconds']:.3f} | {r['best_seconds']:.3f} "
            f"| {gbps(nbytes, r['seconds']):.2f} | {r['cpu_seconds']:.2f} "
            f"| {r['peak_rss_mib']:.0f} MiB | {r['peak_anon_mib']:.0f} MiB | {r['resources']:,} |"
        )
    return lines


def _ratio(rows: dict[str, dict[str, Any]], fast: str, slow: str, key: str) -> float:
    """Throughput of ``fast`` over ``slow`` (``slow``'s time over ``fast``'s)."""
    a, b = rows.get(fast, {}), rows.get(slow, {})
    if key not in a or key not in b:
        return float("nan")
    return float(b[key]) / float(a[key])


def ratios(
    rows: dict[str, dict[str, Any]], cores: int, files: int, small_shard: int, key: str
) -> dict[str, float]:
    """The issue's ratios, from the median (``seconds``) or best (``best_seconds``) times."""
    scale = min(cores, files)  # the reference: the single-core rate times min(cores, files)
    large, small = f"shards sha256 ({SHARD_LARGE:,})", f"shards sha256 ({small_shard:,})"
    out = {
        "ssdf files sha256 / reference": _ratio(rows, "ssdf-ai files sha256", REFERENCE, key)
        / scale,
        f"ssdf {large} / reference": _ratio(rows, f"ssdf-ai {large}", REFERENCE, key) / scale,
        f"ssdf {small} / reference": _ratio(rows, f"ssdf-ai {small}", REFERENCE, key) / scale,
        "file_digest in threads / reference (what the machine gave)": _ratio(
            rows, THREADED, REFERENCE, key
        )
        / scale,
    }
    for what in ("files sha256", large, small, "files blake3", "files blake2b"):
        out[f"ssdf / model-signing, {what}"] = _ratio(
            rows, f"ssdf-ai {what}", f"model-signing {what}", key
        )
    out["ssdf blake3 / ssdf sha256"] = _ratio(
        rows, "ssdf-ai files blake3", "ssdf-ai files sha256", key
    )
    return out


def main() -> int:
    """Build the folders, measure, print a markdown report (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small-shard", type=int, default=SHARD_SMALL)
    parser.add_argument("--small-files", type=int, default=SMALL_FILES)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    import blake3
    import model_signing

    cores = os.cpu_count() or 1
    results: dict[str, Any] = {
        "machine": {
            "cores": cores,
            "python": sys.version.split()[0],
            "model_signing": getattr(model_signing, "__version__", "?"),
            "blake3": blake3.__version__,
            "loadavg_start": os.getloadavg(),
        },
        "size_gib": args.size_gib,
        "files": args.files,
        "repeat": args.repeat,
        "warm": True,
    }
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="ssdf-hash-bench-", dir=args.workdir))
    try:
        model = work / "model"
        nbytes = build_folder(model, int(args.size_gib * GIB), args.files)
        warm_up(model)
        print(f"built {nbytes:,} bytes in {args.files} files ({time.perf_counter() - t0:.1f} s);"
              " every run below is warm (all files read once first)", file=sys.stderr)  # fmt: skip
        specs = {
            label: {**spec, "root": str(model)} for label, spec in cases(args.small_shard).items()
        }
        rows = measure(specs, args.repeat)
        median = ratios(rows, cores, args.files, args.small_shard, "seconds")
        best = ratios(rows, cores, args.files, args.small_shard, "best_seconds")
        single = gbps(nbytes, rows[REFERENCE]["seconds"])
        agree = {
            label.removeprefix("ssdf-ai "): rows[label].get("root_digest")
            == rows.get("model-signing " + label.removeprefix("ssdf-ai "), {}).get("root_digest")
            for label in rows
            if label.startswith("ssdf-ai ")
        }
        results["model"] = {
            "bytes": nbytes,
            "runs": rows,
            "single_core_sha256_gbps": single,
            "reference_gbps": single * min(cores, args.files),
            "ratios_median": median,
            "ratios_best": best,
            "root_digests_agree": agree,
        }

        # Memory flat with size: the same layout, smaller (0.5 GiB, or a quarter of the model).
        small_model = work / "model-small"
        small_bytes = build_folder(small_model, min(GIB // 2, nbytes // 4), args.files)
        warm_up(small_model)
        memory_labels = [
            "ssdf-ai files sha256",
            f"ssdf-ai shards sha256 ({args.small_shard:,})",
            "ssdf-ai files blake3",
            "model-signing files sha256",
            "model-signing files blake3",
        ]
        small_rows = measure({k: {**specs[k], "root": str(small_model)} for k in memory_labels}, 1)
        memory = {
            label: {
                "small_peak_rss_mib": small_rows[label].get("peak_rss_mib"),
                "small_peak_anon_mib": small_rows[label].get("peak_anon_mib"),
                "full_peak_rss_mib": rows[label].get("peak_rss_mib"),
                "full_peak_anon_mib": rows[label].get("peak_anon_mib"),
            }
            for label in memory_labels
        }
        results["memory"] = {"small_bytes": small_bytes, "full_bytes": nbytes, "runs": memory}
        shutil.rmtree(small_model)

        # Many small files.
        many = work / "many"
        many_bytes = build_small_files(many, args.small_files, SMALL_FILE_SIZE)
        warm_up(many)
        many_rows = measure(
            {
                f"{tool} files sha256": {"tool": tool, "hash": "sha256", "root": str(many)}
                for tool in ("ssdf-ai", "model-signing")
            },
            args.repeat,
        )
        many_ratio = _ratio(
            many_rows, "ssdf-ai files sha256", "model-signing files sha256", "seconds"
        )
        results["many_files"] = {
            "files": args.small_files,
            "bytes": many_bytes,
            "runs": many_rows,
            "ssdf_vs_model_signing": many_ratio,
            "root_digests_agree": many_rows["ssdf-ai files sha256"].get("root_digest")
            == many_rows["model-signing files sha256"].get("root_digest"),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    flat = all(
        (m["full_peak_anon_mib"] or 0) <= (m["small_peak_anon_mib"] or 0) + 16
        for label, m in memory.items()
        if label.startswith("ssdf-ai")
    )
    targets = {
        "SHA-256 at least as fast as model-signing": median["ssdf / model-signing, files sha256"]
        >= 1.0,
        "SHA-256 within 10% of the reference": median["ssdf files sha256 / reference"] >= 0.9,
        "BLAKE3 at least 3x SHA-256": median["ssdf blake3 / ssdf sha256"] >= 3.0,
        "memory (anonymous) flat with model size": flat,
    }
    results["targets"] = targets
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["elapsed_s"] = time.perf_counter() - t0

    m = results["machine"]
    out = [
        f"{nbytes:,} bytes in {args.files} files, warm page cache, {args.repeat} rounds of fresh "
        f"interpreters; {cores} cores, Python {m['python']}, model-signing {m['model_signing']}, "
        f"blake3 {m['blake3']}; load average {m['loadavg_start'][0]:.2f} at the start, "
        f"{m['loadavg_end'][0]:.2f} at the end",
        "",
        *table(rows, nbytes),
        "",
        f"single-core SHA-256 (hashlib.file_digest): {single:.2f} GB/s; reference = that x "
        f"min({cores} cores, {args.files} files) = {single * min(cores, args.files):.2f} GB/s",
        "",
        "| ratio (throughput) | median | best |",
        "| --- | ---: | ---: |",
        *(f"| {k} | {v:.2f} | {best[k]:.2f} |" for k, v in median.items()),
        "",
        "root digests equal to model-signing's: "
        + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in agree.items()),
        "",
        f"| peak RSS / peak anon RSS | {small_bytes / GIB:g} GiB | {nbytes / GIB:g} GiB |",
        "| --- | ---: | ---: |",
        *(
            f"| {label} | {mm['small_peak_rss_mib']:.0f} / {mm['small_peak_anon_mib']:.0f} MiB "
            f"| {mm['full_peak_rss_mib']:.0f} / {mm['full_peak_anon_mib']:.0f} MiB |"
            for label, mm in memory.items()
        ),
        "",
        f"{args.small_files:,} files of {SMALL_FILE_SIZE:,} bytes:",
        "",
        *table(many_rows, many_bytes),
        "",
        f"ssdf-ai / model-signing throughput: {many_ratio:.2f}; root digests equal: "
        f"{'yes' if results['many_files']['root_digests_agree'] else 'NO'}",
        "",
        *(f"- {k}: {'met' if v else 'NOT met'}" for k, v in targets.items()),
        "",
        f"({results['elapsed_s']:.0f} s in all)",
    ]
    print("\n".join(out))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
