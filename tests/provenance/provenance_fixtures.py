"""A real tiny ML project for the provenance tests: ``ssdf init``, a signing key that
``[[signers]]`` trusts, a CSV, and a training script that fits a scikit-learn model and joblib's
it. ``ssdf record`` runs as a real subprocess (stdout and exit codes pass through for real)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ssdf_ai.cli import app

SSDF = Path(sys.executable).with_name("ssdf")
PYTHON = sys.executable

CSV = "tenure,charges,churn\n1,70.5,1\n24,50.0,0\n3,99.9,1\n60,20.0,0\n5,80.0,1\n48,30.0,0\n"

TRAIN = '''\
"""Fit a logistic regression on a CSV and joblib the model."""
import csv
import sys

import joblib
from sklearn.linear_model import LogisticRegression

data, out = sys.argv[1], sys.argv[2]
with open(data, newline="") as handle:
    rows = list(csv.DictReader(handle))
X = [[float(r["tenure"]), float(r["charges"])] for r in rows]
y = [int(r["churn"]) for r in rows]
model = LogisticRegression().fit(X, y)
joblib.dump(model, out)
print(f"trained on {len(rows)} rows")
'''


@dataclasses.dataclass(frozen=True)
class Project:
    """A project on disk: its root and the trusted signer's key pair."""

    root: Path
    key: Path
    pub: Path

    @property
    def log(self) -> Path:
        return self.root / ".intoto.jsonl"

    def lines(self) -> list[bytes]:
        return self.log.read_bytes().splitlines()


def ssdf_cli(*args: str | Path) -> tuple[int, str, str]:
    """Run the CLI in-process (for setup and reports that go to stdout)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str | Path) -> str:
    code, out, err = ssdf_cli(*args)
    assert code == 0, out + err
    return out


def make_project(tmp_path: Path, *, restrictions: str = "") -> Project:
    """``ssdf init`` with data/ and models/, key ``alice`` trusted by ``[[signers]]``."""
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "data" / "customers.csv").write_text(CSV)
    (root / "train.py").write_text(TRAIN)
    ok("init", root, "--quiet")
    key, pub = generate_key(root, "alice")
    with (root / "ssdf.toml").open("a") as handle:
        handle.write('\n[[signers]]\nname = "alice"\npublic_key = "keys/alice.pub"\n')
        if restrictions:
            handle.write("\n" + restrictions)
    return Project(root, key, pub)


def generate_key(root: Path, name: str) -> tuple[Path, Path]:
    ok("keys", "generate", name, "--unsafe-no-passphrase", "--project", root, "--quiet")
    return root / "keys" / f"{name}.key", root / "keys" / f"{name}.pub"


def record(
    project: Project,
    *args: str | Path,
    command: list[str] | None = None,
    key: Path | None | bool = True,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``ssdf record --project ROOT [--key alice] ARGS -- COMMAND`` as a real subprocess."""
    argv: list[str] = [str(SSDF), "record", "--project", str(project.root)]
    if key is True:
        argv += ["--key", str(project.key)]
    elif isinstance(key, Path):
        argv += ["--key", str(key)]
    argv += [str(a) for a in args]
    argv += ["--", *(command or train_command())]
    return subprocess.run(
        argv,
        cwd=cwd or project.root,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )


def train_command(data: str = "data/customers.csv", out: str = "models/churn.joblib") -> list[str]:
    return [PYTHON, "train.py", data, out]


def train(project: Project, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    """Record the training run: the CSV and train.py in, the model out."""
    done = record(
        project,
        "--name",
        "train",
        "--input",
        "data/customers.csv",
        "--input",
        "train.py",
        "--output",
        "models/churn.joblib",
        *extra,
    )
    assert done.returncode == 0, done.stderr
    return done


def envelope(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


def statement_of(line: bytes) -> dict[str, Any]:
    value = json.loads(base64.b64decode(envelope(line)["payload"]))
    assert isinstance(value, dict)
    return value


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dependency(statement: dict[str, Any], name: str) -> dict[str, Any]:
    found = [
        d
        for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]
        if d.get("name") == name
    ]
    assert len(found) == 1, statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    return found[0]


def byproduct(statement: dict[str, Any], name: str) -> dict[str, Any]:
    for item in statement["predicate"]["runDetails"]["byproducts"]:
        if item["name"] == name:
            return dict(item["annotations"])
    raise AssertionError(f"no byproduct {name}")


def reencode(line: bytes, statement: dict[str, Any]) -> bytes:
    """The same envelope (same signatures) around another payload: a tampered line."""
    value = envelope(line)
    value["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(value, separators=(",", ":")).encode()
