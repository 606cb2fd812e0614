"""``ssdf record``: a real training run under ssdf, its signed SLSA provenance, and the command's
stdin, stdout, stderr and exit code passed through untouched."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from provenance_fixtures import (
    PYTHON,
    SSDF,
    Project,
    byproduct,
    dependency,
    envelope,
    generate_key,
    make_project,
    record,
    sha256,
    statement_of,
    train,
)

from ssdf_ai import __version__
from ssdf_ai.integrity.keys import load_public_key
from ssdf_ai.provenance.dsse import ENVELOPE_MEDIA_TYPE, verify_envelope
from ssdf_ai.provenance.environment import normalize_name, purl, redact_remote
from ssdf_ai.provenance.record import append_line, classify, default_name
from ssdf_ai.store import EvidenceStore

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


def test_training_run_is_recorded_as_signed_slsa_provenance(project: Project) -> None:
    (project.root / "params.json").write_text('{"C": 1.0}')
    done = train(project, "--config", "params.json")
    # stdout is the command's alone; the report goes to stderr.
    assert done.stdout == "trained on 6 rows\n"
    assert "recorded run 'train'" in done.stderr
    assert "line 1" in done.stderr
    lines = project.lines()
    assert len(lines) == 1
    env = envelope(lines[0])
    assert env["payloadType"] == "application/vnd.in-toto+json"
    verified = verify_envelope(env, {"alice": load_public_key(project.pub)})
    assert verified.signers == ("alice",)

    statement = statement_of(lines[0])
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    model = project.root / "models" / "churn.joblib"
    assert statement["subject"] == [
        {
            "name": "models/churn.joblib",
            "digest": {"sha256": sha256(model)},
            "annotations": {"kind": "model"},
        }
    ]
    build = statement["predicate"]["buildDefinition"]
    assert build["buildType"] == "https://ssdf-ai.dev/record/v1"
    assert build["externalParameters"] == {
        "name": "train",
        "command": [PYTHON, "train.py", "data/customers.csv", "models/churn.joblib"],
        "workingDirectory": ".",
        "configs": [{"path": "params.json", "sha256": sha256(project.root / "params.json")}],
    }
    assert build["internalParameters"] == {"ssdfAi": __version__}
    data = dependency(statement, "data/customers.csv")
    assert data["digest"] == {"sha256": sha256(project.root / "data" / "customers.csv")}
    assert data["annotations"] == {
        "kind": "dataset",
        "digestMethod": "sha256",
        "registered": False,
        "provenance": "unregistered",
        "sensitive": [],
    }
    assert dependency(statement, "train.py")["annotations"]["kind"] == "code"
    assert dependency(statement, "params.json")["annotations"]["kind"] == "config"
    code = build["resolvedDependencies"][-1]
    assert code["annotations"]["kind"] == "code"
    assert code["uri"].startswith("file:")  # the tmp project is no git work tree

    details = statement["predicate"]["runDetails"]
    builder = details["builder"]
    assert builder["id"] == "https://ssdf-ai.dev/record"
    assert builder["version"]["ssdf-ai"] == __version__
    assert builder["version"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert builder["version"]["os"].startswith(os.uname().sysname)
    sklearn = importlib.metadata.version("scikit-learn")
    assert {
        "name": "scikit-learn",
        "uri": f"pkg:pypi/scikit-learn@{sklearn}",
        "annotations": {"version": sklearn},
    } in builder["builderDependencies"]
    assert len(builder["builderDependencies"]) == len(
        {normalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    )
    metadata = details["metadata"]
    uuid.UUID(metadata["invocationId"])
    assert RFC3339.match(metadata["startedOn"])
    assert RFC3339.match(metadata["finishedOn"])
    assert metadata["startedOn"] <= metadata["finishedOn"]
    assert byproduct(statement, "exit-status") == {"exitCode": 0}
    environment = byproduct(statement, "environment")
    assert environment["cpu"]["count"] == os.cpu_count()
    assert environment["memory"]["totalBytes"] > 0
    assert isinstance(environment["gpu"], list)
    assert environment["python"]["executable"] == PYTHON
    assert not [b for b in details["byproducts"] if b["name"] == "missing-outputs"]


def test_evidence_run_holds_the_envelope(project: Project) -> None:
    train(project)
    line = project.lines()[0]
    with EvidenceStore.open(project.root, create=False) as store:
        (run,) = [r for r in store.runs() if r.command == "record"]
        assert run.exit_code == 0
        detail = store.get_run(run.id)
        (artifact,) = detail.artifacts
        assert artifact.kind == "provenance"
        assert artifact.media_type == ENVELOPE_MEDIA_TYPE
        assert store.read_blob(artifact.digest) == line
        subjects = {(s.kind.value, s.name) for s in detail.subjects}
    assert ("model", "models/churn.joblib") in subjects
    assert ("dataset", "data/customers.csv") in subjects


def test_inputs_digested_before_the_run_outputs_after(project: Project) -> None:
    data = project.root / "data" / "customers.csv"
    before = sha256(data)
    script = (
        "open('data/customers.csv', 'a').write('9,9.0,1\\n');"
        "open('models/out.txt', 'w').write('made during the run')"
    )
    done = record(
        project,
        "--input",
        "data/customers.csv",
        "--output",
        "models/out.txt",
        command=[PYTHON, "-c", script],
    )
    assert done.returncode == 0, done.stderr
    statement = statement_of(project.lines()[0])
    assert dependency(statement, "data/customers.csv")["digest"]["sha256"] == before
    assert sha256(data) != before
    (subject,) = statement["subject"]
    assert subject["digest"]["sha256"] == sha256(project.root / "models" / "out.txt")
    assert subject["annotations"]["kind"] == "file"


def test_exit_code_stdout_and_stdin_pass_through(project: Project) -> None:
    done = record(project, "--unsigned", key=False, command=[PYTHON, "-c", "print(1)"])
    assert (done.returncode, done.stdout) == (0, "1\n")
    done = record(
        project, "--unsigned", key=False, command=[PYTHON, "-c", "import sys; sys.exit(3)"]
    )
    assert done.returncode == 3
    assert done.stdout == ""
    assert byproduct(statement_of(project.lines()[-1]), "exit-status") == {"exitCode": 3}
    echo = "import sys; print(sys.stdin.read().upper(), end=''); print('err', file=sys.stderr)"
    done = record(project, "--unsigned", key=False, command=[PYTHON, "-c", echo], stdin="hi\n")
    assert done.stdout == "HI\n"
    assert done.stderr.startswith("err\n")


def test_killed_by_a_signal_exits_like_a_shell(project: Project) -> None:
    kill = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    done = record(project, command=[PYTHON, "-c", kill])
    assert done.returncode == 128 + signal.SIGKILL
    status = byproduct(statement_of(project.lines()[-1]), "exit-status")
    assert status == {"exitCode": 137, "signal": 9}


def test_sigterm_is_forwarded_to_the_command(project: Project, tmp_path: Path) -> None:
    ready, got = tmp_path / "ready", tmp_path / "got"
    script = (
        "import pathlib, signal, sys, time\n"
        "def stop(n, f):\n"
        f"    pathlib.Path({str(got)!r}).write_text(str(n))\n"
        "    sys.exit(5)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"pathlib.Path({str(ready)!r}).write_text('1')\n"
        "time.sleep(60)\n"
    )
    argv = [str(SSDF), "record", "--project", str(project.root), "--key", str(project.key)]
    process = subprocess.Popen(
        [*argv, "--", PYTHON, "-c", script],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), process.communicate(timeout=5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 5, stderr
    assert got.read_text() == str(int(signal.SIGTERM))
    assert byproduct(statement_of(project.lines()[-1]), "exit-status") == {"exitCode": 5}


def test_command_not_found_is_exit_2_and_appends_nothing(project: Project) -> None:
    done = record(project, command=["no-such-command-ssdf-test"])
    assert done.returncode == 2
    assert "command not found" in done.stderr
    assert not project.log.exists()


def test_without_key_refuses_unless_unsigned(project: Project) -> None:
    done = record(project, key=False, command=[PYTHON, "-c", "print('never')"])
    assert done.returncode == 2
    assert "no signing key" in done.stderr
    assert done.stdout == ""  # the command never ran
    assert not project.log.exists()
    done = record(project, "--unsigned", key=False, command=[PYTHON, "-c", "pass"])
    assert done.returncode == 0
    assert "UNSIGNED" in done.stderr
    assert envelope(project.lines()[0])["signatures"] == []


def test_missing_input_is_exit_2_before_the_run(project: Project) -> None:
    done = record(project, "--input", "data/nope.csv", command=[PYTHON, "-c", "print('ran')"])
    assert done.returncode == 2
    assert done.stdout == ""
    assert not project.log.exists()


def test_output_outside_the_project_is_refused(project: Project, tmp_path: Path) -> None:
    done = record(project, "--output", tmp_path / "elsewhere.bin", command=[PYTHON, "-c", "1"])
    assert done.returncode == 2
    assert "outside the project" in done.stderr


def test_missing_output_is_listed_not_an_error(project: Project) -> None:
    done = record(project, "--output", "models/never.bin", command=[PYTHON, "-c", "1"])
    assert done.returncode == 0
    assert "missing output models/never.bin" in done.stderr
    statement = statement_of(project.lines()[0])
    assert byproduct(statement, "missing-outputs") == {"paths": ["models/never.bin"]}
    # in-toto needs a subject: with no output, it is the invocation itself.
    (subject,) = statement["subject"]
    assert subject["name"].startswith("invocation:")
    assert subject["annotations"] == {"kind": "invocation"}


def test_output_folder_gives_one_subject_per_file(project: Project) -> None:
    script = (
        "import pathlib; d = pathlib.Path('models/ckpt'); (d / 'sub').mkdir(parents=True);"
        "(d / 'config.json').write_text('{}'); (d / 'sub' / 'w.safetensors').write_bytes(b'x')"
    )
    done = record(project, "--output", "models/ckpt", command=[PYTHON, "-c", script])
    assert done.returncode == 0, done.stderr
    subjects = {s["name"]: s for s in statement_of(project.lines()[0])["subject"]}
    assert set(subjects) == {"models/ckpt/config.json", "models/ckpt/sub/w.safetensors"}
    assert subjects["models/ckpt/sub/w.safetensors"]["annotations"]["kind"] == "model"
    ckpt = project.root / "models" / "ckpt"
    assert subjects["models/ckpt/config.json"]["digest"]["sha256"] == sha256(ckpt / "config.json")


def test_log_is_append_only(project: Project) -> None:
    train(project)
    first = project.log.read_bytes()
    done = record(project, "--name", "second", command=[PYTHON, "-c", "pass"])
    assert "line 2" in done.stderr
    after = project.log.read_bytes()
    assert after.startswith(first)
    assert len(after.splitlines()) == 2
    assert (
        statement_of(after.splitlines()[1])["predicate"]["buildDefinition"]["externalParameters"][
            "name"
        ]
        == "second"
    )


def test_append_line_ends_a_torn_last_line(tmp_path: Path) -> None:
    log = tmp_path / ".intoto.jsonl"
    assert append_line(log, b'{"a":1}') == 1
    with log.open("ab") as handle:
        handle.write(b'{"torn"')
    assert append_line(log, b'{"b":2}') == 3
    assert log.read_bytes() == b'{"a":1}\n{"torn"\n{"b":2}\n'


def test_forced_kinds_and_base_model(project: Project) -> None:
    (project.root / "models" / "base").mkdir()
    (project.root / "models" / "base" / "config.json").write_text("{}")
    (project.root / "notes.txt").write_text("hyperparameters in prose")
    done = record(
        project,
        "--base-model",
        "models/base",
        "--dataset",
        "notes.txt",
        command=[PYTHON, "-c", "pass"],
    )
    assert done.returncode == 0, done.stderr
    statement = statement_of(project.lines()[0])
    base = dependency(statement, "models/base")
    assert base["annotations"]["kind"] == "model"
    assert base["annotations"]["role"] == "base-model"
    assert base["annotations"]["digestMethod"] == "oms-root"
    assert dependency(statement, "notes.txt")["annotations"]["kind"] == "dataset"


def test_json_report_goes_to_stderr(project: Project) -> None:
    done = record(project, "--format", "json", command=[PYTHON, "-c", "print('out')"])
    assert done.stdout == "out\n"
    report = json.loads(done.stderr)
    assert report["report"] == "record"
    assert report["exit_status"] == 0
    assert report["signed"] is True


def test_untrusted_key_is_warned_about(project: Project) -> None:
    other, _ = generate_key(project.root, "mallory")
    done = record(project, key=other, command=[PYTHON, "-c", "pass"])
    assert done.returncode == 0
    assert "not the key of any [[signers]] entry" in done.stderr


def test_git_state_is_recorded_without_credentials(project: Project) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(project.root), *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("remote", "add", "origin", "https://user:s3cret@example.org/acme/churn.git")
    git("add", "-A")
    git("commit", "-q", "-m", "initial")
    commit = git("rev-parse", "HEAD")
    train(project)
    code = statement_of(project.lines()[0])["predicate"]["buildDefinition"]["resolvedDependencies"][
        -1
    ]
    assert code["uri"] == f"git+https://example.org/acme/churn.git@{commit}"
    assert code["digest"] == {"gitCommit": commit}
    # The model and the log are written by the run, after the code state was taken.
    assert code["annotations"] == {
        "kind": "code",
        "vcs": "git",
        "dirty": False,
        "branch": "main",
        "remote": "https://example.org/acme/churn.git",
    }
    assert "s3cret" not in project.log.read_text()

    (project.root / "train.py").write_text((project.root / "train.py").read_text() + "# x\n")
    train(project)
    first = statement_of(project.lines()[1])["predicate"]["buildDefinition"][
        "resolvedDependencies"
    ][-1]["annotations"]
    assert first["dirty"] is True
    assert re.fullmatch(r"[0-9a-f]{64}", first["uncommittedSha256"])
    (project.root / "scratch.py").write_text("print('untracked')\n")
    train(project)
    second = statement_of(project.lines()[2])["predicate"]["buildDefinition"][
        "resolvedDependencies"
    ][-1]["annotations"]
    assert second["uncommittedSha256"] != first["uncommittedSha256"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_abc@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://github.com/org/repo.git?token=x#frag", "https://github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("oauth2:glpat-x@gitlab.com:group/repo.git", "gitlab.com:group/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, expected: str) -> None:
    assert redact_remote(url) == expected


def test_purls_use_normalized_names() -> None:
    assert purl("Scikit_Learn", "1.5.0") == "pkg:pypi/scikit-learn@1.5.0"
    assert purl("torch", "2.3.0+cu121") == "pkg:pypi/torch@2.3.0%2Bcu121"


def test_environment_capture_imports_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import sys, pathlib\n"
        "from ssdf_ai.provenance.environment import capture\n"
        "env = capture(pathlib.Path('.'))\n"
        "assert env.python['version'] and env.packages and env.cpu\n"
        "heavy = ('torch', 'tensorflow', 'numpy', 'sklearn')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_another_interpreter_is_asked_for_its_packages(tmp_path: Path) -> None:
    from ssdf_ai.provenance.environment import capture

    venv = tmp_path / "venv"
    subprocess.run(
        [PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True
    )
    env = capture(tmp_path, argv=[str(venv / "bin" / "python"), "train.py"])
    assert env.python["executable"].startswith(str(venv))
    assert "scikit-learn" not in {p.name for p in env.packages}


def test_default_names() -> None:
    assert default_name(["python", "train.py", "--epochs", "3"]) == "train.py"
    assert default_name(["python3", "-u", "-m", "pkg.train"]) == "pkg.train"
    assert default_name(["/usr/bin/torchrun", "x.py"]) == "torchrun"


def test_kinds_are_detected(tmp_path: Path) -> None:
    files = {
        "w.safetensors": "model",
        "m.joblib": "model",
        "c.yaml": "config",
        "train.py": "code",
        "data/x.csv": "dataset",
        "other.csv": "input",
    }
    for name, kind in files.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("x")
        assert classify(path, name, registered=False, dataset_paths=("data",)) == kind, name
    assert classify(tmp_path / "other.csv", "other.csv", registered=True, dataset_paths=()) == (
        "dataset"
    )
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "config.json").write_text("{}")
    assert classify(hub, "hub", registered=False, dataset_paths=(".",)) == "model"
    assert classify(tmp_path / "data", "data", registered=False, dataset_paths=("da*",)) == (
        "dataset"
    )


def test_gpus_driver_and_cuda_come_from_nvidia_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No GPU here: stand-ins print what the real tools print.
    from ssdf_ai.provenance.environment import capture

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools = {
        "nvidia-smi": "printf 'NVIDIA H200, 550.54.15\\nNVIDIA H200, 550.54.15\\n'",
        "nvcc": "printf 'Cuda compilation tools, release 12.4, V12.4.131\\nBuild cuda_12.4\\n'",
    }
    for name, body in tools.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CUDNN_VERSION", "9.1.0")
    env = capture(tmp_path)
    assert env.gpus == ({"name": "NVIDIA H200", "driverVersion": "550.54.15"},) * 2
    assert env.cuda == "12.4.131"
    versions = env.versions()
    assert versions["gpu-driver"] == "550.54.15"
    assert versions["cuda"] == "12.4.131"
    assert versions["cudnn"] == "9.1.0"
    assert env.hardware()["gpu"][0]["name"] == "NVIDIA H200"


def test_a_hanging_tool_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssdf_ai.provenance import environment

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "nvidia-smi"
    tool.write_text("#!/bin/sh\nsleep 30\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(environment, "TOOL_TIMEOUT", 0.5)
    started = time.monotonic()
    assert environment._gpus() == ()
    assert time.monotonic() - started < 10
