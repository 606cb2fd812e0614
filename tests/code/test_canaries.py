"""Nothing the code and environment checks read is ever run: a project whose every file would
create a canary file if it were imported, executed, unpickled or built goes through all of
them (and the assessment that runs them), and the canaries stay absent."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app


class _Payload:
    """Unpickling this would run a shell command that creates the canary."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.canary}",))


def _hostile_project(root: Path, canaries: Path) -> list[Path]:
    """Files that each create their own canary when run; returns the canaries."""
    paths = {name: canaries / f"CANARY-{name}" for name in ("module", "setup", "cell", "pickle")}
    write = "open({!r}, 'w').write('ran')\n"
    (root / "evil.py").write_text("import os\n" + write.format(str(paths["module"])))
    (root / "setup.py").write_text(
        "from setuptools import setup\n" + write.format(str(paths["setup"])) + "setup()\n"
    )
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "evil"\nversion = "1"\ndependencies = ["torch==2.6.0"]\n'
    )
    cell = {
        "cell_type": "code",
        "metadata": {},
        "execution_count": 1,
        "outputs": [],
        "source": [write.format(str(paths["cell"]))],
    }
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "train.ipynb").write_text(json.dumps(notebook))
    models = root / "models"
    models.mkdir()
    (models / "model.pkl").write_bytes(pickle.dumps(_Payload(paths["pickle"]), protocol=4))
    (models / "model.pt").write_bytes(pickle.dumps(_Payload(paths["pickle"]), protocol=2))
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        f"    steps:\n      - run: touch {paths['module']}\n"
    )
    return list(paths.values())


@pytest.mark.parametrize(
    "args",
    [["code"], ["secrets"], ["deps"], ["env"], ["assess"]],
    ids=["code", "secrets", "deps", "env", "assess"],
)
def test_no_check_runs_what_it_reads(tmp_path: Path, args: list[str]) -> None:
    root = tmp_path / "project"
    root.mkdir()
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    made = _hostile_project(root, canaries)
    project = [] if args == ["assess"] else ["--project", str(root)]
    result = CliRunner().invoke(app, [*args, str(root), *project, "-q"])
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    assert not [p.name for p in made if p.exists()]
    if args == ["assess"]:
        from ssdf_ai.store import EvidenceStore

        with EvidenceStore.open(root, create=False) as store:
            commands = {run.command for run in store.runs()}
        assert {"code", "secrets", "deps", "env", "assess"} <= commands
    if args == ["code"]:
        # It did read them: the two modules and the notebook were analysed.
        recorded = CliRunner().invoke(
            app, ["code", str(root), "--project", str(root), "--no-record", "-f", "json"]
        )
        report = json.loads(recorded.stdout)
        assert (report["files"], report["notebooks"]) == (3, 1)
