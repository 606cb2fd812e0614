"""``ssdf secrets`` beside Yelp's ``detect-secrets`` on a synthetic project with known secrets.

Run with ``.venv/bin/python benchmarks/code/secrets_vs_detect_secrets.py [--scale 40]``
(``detect-secrets`` must be installed: ``pip install detect-secrets``).

It builds a project in a temporary folder: source files, configs (``.env``, YAML, TOML, INI,
JSON, a Dockerfile, a shell script), notebooks with saved outputs, a private key file, a
safetensors file whose ``__metadata__`` holds a token, and a git repository in which a file with
secrets was committed and then removed. One secret of every provider kind the detector knows is
planted on a line of its own, among realistic non-secrets: SHA-256 and git hashes, UUIDs,
integrity strings, a base64 PNG in a notebook output, placeholders (``${VAR}``, ``your-api-key``),
AWS's documented example key, environment look-ups. ``--scale`` adds that many filler modules of
ordinary code (with more non-secrets) so that throughput can be measured.

Both tools scan the same tree, each in a fresh process; scores:

* a planted secret in a text file counts as found when a finding is on its line; in a notebook
  or a model file, when a finding is in that file (the tools number lines differently there:
  we point at the cell, detect-secrets at the raw JSON line);
* precision: reported places (file and line, or file) that hold a planted secret, over all
  reported places;
* recall of the working tree for both; recall with history for ``ssdf secrets`` (detect-secrets
  reads only the working tree: a secret removed from the files is beyond its reach);
* MB/s per core: bytes of the tree over the CPU seconds (user + system) of the process.

``build_project`` and ``score`` are imported by ``tests/code/test_secrets_accuracy.py``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import shutil
import string
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"
B64 = string.ascii_letters + string.digits + "+/"


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def planted_lines(rng: random.Random) -> list[tuple[str, str]]:
    """``(kind, line of source)`` for one secret of each kind (values built at random)."""
    jwt = ".".join(
        [
            _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
            _b64url(json.dumps({"sub": _r(rng, ALNUM, 12), "exp": 1900000000}).encode()),
            _b64url(rng.randbytes(32)),
        ]
    )
    azure = _r(rng, B64, 86) + "=="
    return [
        ("aws-access-key-id", f'AWS_ACCESS_KEY_ID = "AKIA{_r(rng, B32, 16)}"'),
        ("aws-secret-access-key", f'aws_secret_access_key = "{_r(rng, ALNUM + "/+", 40)}"'),
        ("github-token", f'GITHUB_TOKEN = "ghp_{_r(rng, ALNUM, 36)}"'),
        ("huggingface-token", f'login(token="hf_{_r(rng, ALNUM, 34)}")'),
        ("openai-api-key", f'client = OpenAI(api_key="sk-proj-{_r(rng, ALNUM, 48)}")'),
        ("anthropic-api-key", f'ANTHROPIC = "sk-ant-api03-{_r(rng, ALNUM, 80)}"'),
        ("slack-token", f'SLACK = "xoxb-{rng.randint(10**11, 10**12)}-{_r(rng, ALNUM, 24)}"'),
        (
            "slack-webhook",
            f'HOOK = "https://hooks.slack.com/services/T{_r(rng, B32, 8)}/B{_r(rng, B32, 8)}/'
            f'{_r(rng, ALNUM, 24)}"',
        ),
        ("stripe-live-key", f'stripe.api_key = "sk_live_{_r(rng, ALNUM, 24)}"'),
        ("gcp-api-key", f'MAPS = "AIza{_r(rng, ALNUM + "_-", 35)}"'),
        ("jwt", f'HEADERS = {{"Authorization": "Bearer {jwt}"}}'),
        (
            "database-url-password",
            f'DB = "postgresql://app:{_r(rng, ALNUM, 14)}@db.internal:5432/prod"',
        ),
        ("generic-secret", f'client_secret = "{_r(rng, ALNUM, 32)}"'),
        (
            "azure-storage-key",
            f'CONN = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={azure};'
            'EndpointSuffix=core.windows.net"',
        ),
    ]


def decoy_lines(rng: random.Random) -> list[str]:
    """Realistic lines that hold no secret."""
    sha = _r(rng, "0123456789abcdef", 64)
    return [
        f'checksum = "{sha}"',
        f'commit = "{_r(rng, "0123456789abcdef", 40)}"',
        f'request_id = "{uuid.UUID(int=rng.getrandbits(128))}"',
        f'integrity = "sha512-{base64.b64encode(rng.randbytes(64)).decode()}"',
        'API_KEY = os.environ["API_KEY"]',
        'token = os.environ.get("GITHUB_TOKEN", "")',
        'password = getpass.getpass("password: ")',
        'api_key = "your-api-key-here"',
        'DB_URL = "postgresql://app:${DB_PASSWORD}@db.internal:5432/prod"',
        'EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"',
        "key = hashlib.sha256(data).hexdigest()",
        'URL = "https://huggingface.co/meta-llama/Llama-3.1-8B/resolve/main/config.json"',
        f"# see https://github.com/org/repo/commit/{_r(rng, '0123456789abcdef', 40)}",
        'secret_name = "projects/demo/secrets/api-key/versions/latest"',
    ]


FILLER = '''"""Module {n}: data loading and evaluation helpers."""

import hashlib
import os


def load(path, *, limit=1000):
    """Read at most ``limit`` records from ``path``."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            if i >= limit:
                break
            rows.append(line.rstrip("\\n").split(","))
    return rows


def digest(data):
    return hashlib.sha256(data).hexdigest()


class Evaluator:
    def __init__(self, model, batch_size=32):
        self.model = model
        self.batch_size = batch_size
        self.cache_dir = os.environ.get("CACHE_DIR", "/tmp/cache")

    def run(self, rows):
        scores = []
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            scores.extend(self.model(batch))
        return sum(scores) / max(len(scores), 1)
'''


@dataclass
class Truth:
    """Where the secrets are: text lines, whole files (notebooks, models), history lines."""

    lines: set[tuple[str, int]] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    history: set[tuple[str, int]] = field(default_factory=set)
    kinds: dict[tuple[str, int | None], str] = field(default_factory=dict)

    def file_level(self, path: str) -> bool:
        return path.endswith((".ipynb", ".safetensors"))


def _write_lines(root: Path, rel: str, lines: list[str]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _plant(truth: Truth, rel: str, lines: list[str], kind: str, line: str) -> None:
    lines.append(line)
    truth.lines.add((rel, len(lines)))
    truth.kinds[(rel, len(lines))] = kind


def _notebook(cells: list[tuple[str, list[dict[str, object]]]]) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": i + 1,
                    "id": f"c{i}",
                    "metadata": {},
                    "source": source.splitlines(keepends=True),
                    "outputs": outputs,
                }
                for i, (source, outputs) in enumerate(cells)
            ],
        },
        indent=1,
    )


def _safetensors(path: Path, metadata: dict[str, str]) -> None:
    header = {"__metadata__": metadata, "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\x00" * 8)


def _git(root: Path, *args: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)  # noqa: S603, S607


def build_project(root: Path, *, scale: int = 0, seed: int = 0, git: bool = True) -> Truth:
    """Write the synthetic project under ``root``; return where its secrets are."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not keys
    truth = Truth()
    planted = planted_lines(rng)
    # Source: every kind once, each between decoys.
    lines = ['"""Service settings."""', "import getpass", "import hashlib", "import os", ""]
    for kind, line in planted:
        lines.extend(decoy_lines(rng)[: rng.randint(1, 3)])
        _plant(truth, "src/settings.py", lines, kind, line)
    lines.extend(decoy_lines(rng))
    _write_lines(root, "src/settings.py", lines)
    # Configs, one secret each, with decoys.
    again = planted_lines(rng)
    by_kind = dict(again)
    configs = {
        ".env": ("huggingface-token", "HF_TOKEN=" + by_kind["huggingface-token"].split('"')[1]),
        "config/app.yaml": (
            "generic-secret",
            "database:\n  host: db.internal\n  password: " + _r(rng, ALNUM, 24),
        ),
        "config/settings.toml": ("stripe-live-key", by_kind["stripe-live-key"].replace(".", "_")),
        "config/app.ini": (
            "database-url-password",
            "[db]\nurl = " + by_kind["database-url-password"].split('"')[1],
        ),
        "Dockerfile": (
            "openai-api-key",
            "FROM python:3.12-slim\nENV OPENAI_API_KEY=" + by_kind["openai-api-key"].split('"')[1],
        ),
        "scripts/deploy.sh": (
            "github-token",
            "#!/bin/sh\nset -eu\nexport GITHUB_TOKEN=" + by_kind["github-token"].split('"')[1],
        ),
        "config/service.json": (
            "jwt",
            json.dumps({"name": "svc", "auth": by_kind["jwt"].split("Bearer ")[1].rstrip('"}')}),
        ),
    }
    for rel, (kind, text) in configs.items():
        cfg = ["# settings", f"# build {uuid.UUID(int=rng.getrandbits(128))}"]
        body = text.split("\n")
        cfg.extend(body[:-1])
        _plant(truth, rel, cfg, kind, body[-1])
        cfg.append(f"# sha256 {_r(rng, '0123456789abcdef', 64)}")
        _write_lines(root, rel, cfg)
    # A private key file.
    key_body = [base64.b64encode(rng.randbytes(48)).decode() for _ in range(6)]
    key_lines: list[str] = []
    _plant(truth, "deploy/id_rsa", key_lines, "private-key", "-----BEGIN RSA " + "PRIVATE KEY-----")
    key_lines.extend([*key_body, "-----END RSA PRIVATE KEY-----"])
    _write_lines(root, "deploy/id_rsa", key_lines)
    # Notebooks: a token printed in an output; a clean one with an image and ids.
    hf = f"hf_{_r(rng, ALNUM, 34)}"
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "notebooks/train.ipynb").write_text(
        _notebook(
            [
                (
                    "import os\nprint(os.environ)",
                    [
                        {
                            "output_type": "stream",
                            "name": "stdout",
                            "text": [f"environ({{'HOME': '/root', 'HF_TOKEN': '{hf}'}})\n"],
                        },
                    ],
                ),
                (
                    "model.fit(x, y)",
                    [{"output_type": "stream", "name": "stdout", "text": ["epoch 1 loss 0.53\n"]}],
                ),
            ]
        )  # fmt: skip
    )
    truth.files.add("notebooks/train.ipynb")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(3000)).decode()
    (root / "notebooks/plots.ipynb").write_text(
        _notebook(
            [
                (
                    "plot(losses)",
                    [
                        {
                            "output_type": "display_data",
                            "metadata": {},
                            "data": {"image/png": png, "text/plain": ["<Figure>"]},
                        }
                    ],
                ),
                (
                    "run_id",
                    [
                        {
                            "output_type": "execute_result",
                            "execution_count": 2,
                            "metadata": {},
                            "data": {"text/plain": [f"'{uuid.UUID(int=rng.getrandbits(128))}'"]},
                        }
                    ],
                ),
            ]
        )  # fmt: skip
    )
    # Model files: a token in safetensors metadata; a clean one.
    (root / "models").mkdir(parents=True, exist_ok=True)
    _safetensors(
        root / "models/model.safetensors",
        {"format": "pt", "hub_token": f"hf_{_r(rng, ALNUM, 34)}"},
    )
    truth.files.add("models/model.safetensors")
    _safetensors(root / "models/clean.safetensors", {"format": "pt", "license": "apache-2.0"})
    # Filler code with non-secrets.
    for n in range(scale):
        filler = FILLER.format(n=n).splitlines()
        for _ in range(20):
            filler.extend(decoy_lines(rng))
            filler.extend(FILLER.format(n=n).splitlines()[18:])
        _write_lines(root, f"src/pkg/module_{n}.py", filler)
    if git:
        _git(root, "init", "-q", "-b", "main")
        old: list[str] = ['"""Old credentials, removed in the next commit."""']
        _plant(
            truth, "old_credentials.py", old, "github-token", f'TOKEN = "ghp_{_r(rng, ALNUM, 36)}"'
        )
        _plant(
            truth, "old_credentials.py", old, "aws-access-key-id", f'KEY = "AKIA{_r(rng, B32, 16)}"'
        )
        _write_lines(root, "old_credentials.py", old)
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "initial")
        (root / "old_credentials.py").unlink()
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "remove credentials")
        moved = {k for k in truth.lines if k[0] == "old_credentials.py"}
        truth.lines -= moved
        truth.history |= moved
    return truth


@dataclass
class Score:
    """Recall and precision of one tool."""

    found: int
    planted: int
    reported: int
    true_positives: int

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.true_positives / self.reported if self.reported else 1.0


def score(truth: Truth, places: set[tuple[str, int | None]], *, history: bool) -> Score:
    """Score reported ``(path, line)`` places (line ignored in notebooks and model files)."""
    normal = {(p, None) if truth.file_level(p) else (p, line) for p, line in places}
    wanted: set[tuple[str, int | None]] = set(truth.lines) | {(f, None) for f in truth.files}
    if history:
        wanted |= truth.history
    hits = normal & wanted
    return Score(len(hits), len(wanted), len(normal), len(hits))


def ours_places(report: dict[str, object]) -> set[tuple[str, int | None]]:
    """The places an ``ssdf secrets --format json`` report names."""
    findings = report["findings"]
    assert isinstance(findings, list)
    return {
        (f["location"]["path"], f["location"]["line"])
        for f in findings
        if f["rule_id"] != "SSDF-SECRET-006"
    }


def _timed(command: list[str], cwd: Path) -> tuple[bytes, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)  # noqa: S603
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode(errors="replace"))
        raise SystemExit(f"{command[0]} failed with exit code {done.returncode}")
    return done.stdout, wall, cpu


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


def main() -> None:
    """Build the project, run both tools, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=40, help="filler modules (about 60 KB each)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    detect = shutil.which("detect-secrets") or str(Path(sys.executable).parent / "detect-secrets")
    with tempfile.TemporaryDirectory(prefix="secrets-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        truth = build_project(root, scale=args.scale, seed=args.seed)
        size = _tree_bytes(root)
        ssdf = [sys.executable, "-m", "ssdf_ai", "secrets", str(root), "--project", str(root),
                "--no-record", "--format", "json"]  # fmt: skip
        out, wall_tree, cpu_tree = _timed([*ssdf, "--no-history"], root)
        tree_report = json.loads(out)
        out, wall_all, cpu_all = _timed(ssdf, root)
        full_report = json.loads(out)
        out, wall_ds, cpu_ds = _timed([detect, "scan", "--all-files", "."], root)
        ds = json.loads(out)
        ds_places: set[tuple[str, int | None]] = {
            (path, int(item["line_number"])) for path, items in ds["results"].items()
            for item in items
        }  # fmt: skip
    rows = [
        ("ssdf secrets (tree)", score(truth, ours_places(tree_report), history=False),
         wall_tree, cpu_tree),
        ("ssdf secrets (tree + history)", score(truth, ours_places(full_report), history=True),
         wall_all, cpu_all),
        ("detect-secrets 1.5 (tree)", score(truth, ds_places, history=False), wall_ds, cpu_ds),
        ("detect-secrets 1.5 (vs tree + history)", score(truth, ds_places, history=True),
         wall_ds, cpu_ds),
    ]  # fmt: skip
    print(f"tree: {size / 1e6:.2f} MB, {len(truth.lines)} planted lines, "
          f"{len(truth.files)} planted files, {len(truth.history)} in history only")  # fmt: skip
    print(f"{'tool':40} {'recall':>7} {'precision':>9} {'found':>7} {'reported':>8} "
          f"{'wall s':>7} {'cpu s':>6} {'MB/s/core':>9}")  # fmt: skip
    for name, s, wall, cpu in rows:
        print(f"{name:40} {s.recall:7.3f} {s.precision:9.3f} {s.found:>3}/{s.planted:<3} "
              f"{s.reported:>8} {wall:7.2f} {cpu:6.2f} {size / 1e6 / cpu:9.2f}")  # fmt: skip
    ours = {(p, None) if truth.file_level(p) else (p, n) for p, n in ours_places(tree_report)}
    planted = set(truth.lines) | {(f, None) for f in truth.files}
    missed = sorted((truth.kinds.get(k, "file"), k[0]) for k in planted - ours)
    print("ssdf secrets missed in the tree:", missed or "nothing")
    extra = sorted(ours - planted, key=str)
    print("ssdf secrets false positives:", extra or "none")
    theirs = {(p, None) if truth.file_level(p) else (p, n) for p, n in ds_places}
    ds_missed = sorted((truth.kinds.get(k, "file"), k[0]) for k in planted - theirs)
    print("detect-secrets missed in the tree:", ds_missed or "nothing")


if __name__ == "__main__":
    main()
