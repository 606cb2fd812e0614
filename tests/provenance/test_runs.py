"""Reading recorded runs back (``runs.py``), and ``ssdf provenance verify|list`` catching every
way a line or its outputs can go wrong."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest
from provenance_fixtures import (
    PYTHON,
    Project,
    generate_key,
    make_project,
    ok,
    record,
    reencode,
    sha256,
    ssdf_cli,
    statement_of,
    train,
)

from ssdf_ai.integrity.keys import load_public_key
from ssdf_ai.provenance.runs import (
    datasets_consumed,
    load_runs,
    output_changes,
    runs_producing,
    scan_log,
    sensitive_outputs,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One project with a recorded training run, shared by read-only tests."""
    project = make_project(tmp_path_factory.mktemp("runs"))
    train(project)
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    train(project)
    return project


def verify(project: Project, *args: str | Path) -> tuple[int, dict[str, object]]:
    code, out, err = ssdf_cli(
        "provenance", "verify", "--project", project.root, "-f", "json", *args
    )
    assert code in (0, 1), out + err
    report = json.loads(out)
    assert isinstance(report, dict)
    return code, report


def problems(report: dict[str, object]) -> list[str]:
    runs = report["runs"]
    assert isinstance(runs, list)
    found = [p for r in runs for p in r["problems"]]
    extra = report["problems"]
    assert isinstance(extra, list)
    return found + extra


def test_load_runs_reads_the_contract(trained: Project) -> None:
    (run,) = load_runs(trained.root)
    assert run.line == 1
    assert run.name == "train"
    assert run.command == (PYTHON, "train.py", "data/customers.csv", "models/churn.joblib")
    assert run.exit_code == 0
    assert run.verified is True
    assert run.signer == "alice"
    assert run.problems == ()
    assert run.started_on <= run.finished_on
    assert [(r.name, r.kind) for r in run.inputs[:2]] == [
        ("data/customers.csv", "dataset"),
        ("train.py", "code"),
    ]
    data = run.inputs[0]
    assert data.digest == sha256(trained.root / "data" / "customers.csv")
    assert data.annotations["provenance"] == "unregistered"
    code = run.inputs[-1]
    assert code.kind == "code"
    assert code.name.startswith("file:")
    assert run.git is None
    (output,) = run.outputs
    assert (output.name, output.kind) == ("models/churn.joblib", "output")
    assert output.annotations["kind"] == "model"
    assert output.digest == sha256(trained.root / "models" / "churn.joblib")
    assert ("scikit-learn", importlib.metadata.version("scikit-learn")) in run.packages
    assert run.environment["ssdf-ai"]
    assert run.environment["cpu"]["count"] >= 1
    assert run.datasets == (data,)
    assert not run.unsigned
    assert run.statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert run.envelope["signatures"]


def test_runs_producing_a_file_or_folder(trained: Project) -> None:
    runs = load_runs(trained.root)
    assert runs_producing(runs, "models/churn.joblib") == runs
    assert runs_producing(runs, "models") == runs
    assert runs_producing(runs, "./models/") == runs
    assert runs_producing(runs, ".") == runs
    assert runs_producing(runs, "model") == []
    assert runs_producing(runs, "data/customers.csv") == []


def test_datasets_consumed_and_no_sensitive_outputs(trained: Project) -> None:
    runs = load_runs(trained.root)
    (consumed,) = datasets_consumed(runs)
    assert consumed.name == "data/customers.csv"
    assert consumed.provenance == "unregistered"
    assert consumed.registered is False
    assert consumed.runs == ("train (line 1)",)
    assert sensitive_outputs(runs) == []


def test_git_state_is_read_back(tmp_path: Path) -> None:
    import subprocess

    project = make_project(tmp_path)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q", "-b", "dev"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(project.root), *args], check=True, env=env)
    train(project)
    (run,) = load_runs(project.root)
    assert run.git is not None
    assert run.git["branch"] == "dev"
    assert run.git["dirty"] is False
    assert len(run.git["commit"]) == 40


def test_clean_log_verifies(trained: Project) -> None:
    code, report = verify(trained)
    assert code == 0
    assert report["verified"] is True
    assert problems(report) == []


def test_tampered_payload_is_caught(project: Project) -> None:
    line = project.lines()[0]
    statement = statement_of(line)
    statement["predicate"]["runDetails"]["byproducts"][0]["annotations"]["exitCode"] = 1
    project.log.write_bytes(reencode(line, statement) + b"\n")
    code, report = verify(project)
    assert code == 1
    assert any("signature" in p and "does not verify" in p for p in problems(report))
    (run,) = load_runs(project.root)
    assert run.verified is False
    assert run.signer is None


def test_signature_by_an_untrusted_key_is_caught(project: Project) -> None:
    mallory, _ = generate_key(project.root, "mallory")
    done = record(project, key=mallory, command=[PYTHON, "-c", "pass"])
    assert done.returncode == 0
    code, report = verify(project)
    assert code == 1
    runs = report["runs"]
    assert isinstance(runs, list)
    assert runs[0]["problems"] == []
    assert any("no trusted key" in p for p in runs[1]["problems"])


def test_an_explicit_key_replaces_the_signers(project: Project) -> None:
    _, mallory_pub = generate_key(project.root, "mallory")
    assert verify(project, "--key", project.pub)[0] == 0
    assert verify(project, "--key", mallory_pub)[0] == 1
    trusted = {"alice": load_public_key(project.pub)}
    assert load_runs(project.root, trusted=trusted)[0].verified is True


def test_changed_output_is_caught(project: Project) -> None:
    model = project.root / "models" / "churn.joblib"
    model.write_bytes(model.read_bytes() + b"\0")
    code, report = verify(project)
    assert code == 1
    assert problems(report) == ["output models/churn.joblib changed since the run"]
    (run,) = load_runs(project.root)
    assert output_changes(project.root, run) == [("models/churn.joblib", "changed")]


def test_deleted_output_is_caught(project: Project) -> None:
    (project.root / "models" / "churn.joblib").unlink()
    code, report = verify(project)
    assert code == 1
    assert problems(report) == ["output models/churn.joblib is missing"]


def test_unsigned_line_is_a_problem(project: Project) -> None:
    done = record(project, "--unsigned", key=False, command=[PYTHON, "-c", "pass"])
    assert done.returncode == 0
    code, report = verify(project)
    assert code == 1
    assert any(p.startswith("unsigned") for p in problems(report))
    runs = load_runs(project.root)
    assert [r.unsigned for r in runs] == [False, True]
    assert runs[1].verified is False


def test_malformed_and_replayed_lines_are_problems(project: Project) -> None:
    line = project.lines()[0]
    with project.log.open("ab") as handle:
        handle.write(b"not json\n")
        handle.write(b'{"payloadType":"x","payload":"e30=","signatures":[{"sig":"AA=="}]}\n')
        handle.write(line + b"\n")
    runs, found = scan_log(project.root)
    assert [r.line for r in runs] == [1, 4]
    assert found[0].startswith("line 2: ")
    assert found[1].startswith("line 3: ")
    code, report = verify(project)
    assert code == 1
    assert any("replayed" in p for p in problems(report))


def test_no_log_is_not_verified(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    code, report = verify(project)
    assert code == 1
    assert any("no runs recorded" in p for p in problems(report))
    assert load_runs(project.root) == []


def test_provenance_list(trained: Project) -> None:
    out = ok("provenance", "list", "--project", trained.root, "-f", "json")
    report = json.loads(out)
    assert report["report"] == "provenance-list"
    (run,) = report["runs"]
    assert run["name"] == "train"
    assert run["exit_code"] == 0
    assert run["verified"] is True
    assert run["inputs"][0]["provenance"] == "unregistered"
    assert [o["name"] for o in run["outputs"]] == ["models/churn.joblib"]
    text = ok("provenance", "list", "--project", trained.root)
    assert "train" in text
    assert "models/churn.joblib" in text
