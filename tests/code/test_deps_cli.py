"""``ssdf advisories update`` and ``ssdf deps`` through the command line: real files, JSON and
SARIF validated against their schemas, exit codes, evidence, the download from a real local
HTTP server and a network failure."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_advisories import (
    osv_zip,
    requests_advisory,
    server,  # noqa: F401 - the fixture, used by name
    torch_advisory,
    transformers_advisory,
    write_records,
)
from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.code import dep_rules
from ssdf_ai.code.deps_report import DepsReport
from ssdf_ai.report.schema import schema_for
from ssdf_ai.store import EvidenceStore

SHA = "sha256:" + "b" * 64


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str, code: int) -> dict[str, Any]:
    exit_code, out, err = _run(*args, "--format", "json")
    assert exit_code == code, err + out
    return json.loads(out)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    return root


@pytest.fixture
def osv(tmp_path: Path) -> Path:
    write_records(tmp_path / "osv", torch_advisory(), transformers_advisory(), requests_advisory())
    return tmp_path / "osv"


def _update(project: Path, *args: str, code: int = 0) -> dict[str, Any]:
    return _json("advisories", "update", *args, "--project", str(project), code=code)


def _deps(project: Path, *args: str, code: int) -> dict[str, Any]:
    return _json("deps", str(project), *args, "--project", str(project), code=code)


def _by_rule(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["rule_id"], []).append(finding)
    return found


def test_update_then_deps_end_to_end(project: Path, osv: Path) -> None:
    update = _update(project, "--from", str(osv))
    assert (update["added"], update["total"], update["malformed"]) == (3, 3, 0)
    assert update["database"] == ".ssdf/advisories.sqlite"
    assert update["newest_modified"] == "2025-04-23T18:30:00Z"
    (project / "requirements.txt").write_text(
        f"torch==2.5.1 --hash={SHA}\n"
        f"transformers>=4.30 --hash={SHA}\n"
        f"requests==2.31.0 --hash={SHA}\n"
        f"numpy==1.26.4 --hash={SHA}\n"
    )
    report = _deps(project, code=1)
    rules = _by_rule(report)
    [torch] = [f for f in rules[dep_rules.VULNERABLE_ML] if "torch 2.5.1" in f["message"]]
    assert torch["severity"] == "critical"
    assert "GHSA-53q9-r3pm-6pq6 (CVE-2025-32434)" in torch["message"]
    assert "fixed in 2.6.0" in torch["message"]
    assert "RV.1.1.R3" in torch["task_ids"]
    assert torch["location"]["path"] == "requirements.txt"
    assert torch["location"]["line"] == 1
    # transformers is unpinned: flagged as such, and its range allows the advisory's versions.
    [allows] = [f for f in rules[dep_rules.VULNERABLE_ML] if "transformers" in f["message"]]
    assert "lowest allowed version without them is 4.48.0" in allows["message"]
    assert allows["severity"] == "high"  # CVSS 8.8 from the vector
    assert allows["confidence"] == "medium"
    assert any("transformers>=4.30" in f["message"] for f in rules[dep_rules.UNPINNED])
    [requests] = rules[dep_rules.VULNERABLE]
    assert requests["severity"] == "medium"
    assert "fixed in 2.32.0" in requests["message"]
    assert dep_rules.NO_HASHES not in rules
    assert dep_rules.NOT_CHECKED not in rules
    assert dep_rules.STALE_DATABASE not in rules
    matched = {(m["package"], m["id"], m["fixed"], m["pinned"]) for m in report["advisories"]}
    assert matched == {
        ("torch", "GHSA-53q9-r3pm-6pq6", "2.6.0", True),
        ("transformers", "PYSEC-2024-227", "4.48.0", False),
        ("requests", "GHSA-9wx4-h78v-vm56", "2.32.0", True),
    }
    packages = {p["name"]: p for p in report["packages"]}
    assert packages["torch"]["ml_framework"] is True
    assert packages["requests"]["ml_framework"] is False
    assert packages["numpy"]["hashed"] is True
    assert report["database"]["advisories"] == 3
    assert report["database"]["age_days"] < 1
    assert report["files"] == {"requirements.txt": "requirements"}

    with EvidenceStore.open(project, create=False) as store:
        runs = {r.command: r for r in store.runs()}
        assert set(runs) == {"advisories update", "deps"}
        assert runs["deps"].exit_code == 1
        [artifact] = store.artifacts("deps-report")
        recorded = json.loads(store.read_blob(artifact.digest))
        assert recorded["findings"] == report["findings"]
        assert len(store.findings(runs["deps"].id)) == len(report["findings"])
        [subject] = store.get_run(runs["deps"].id).subjects
        assert (subject.kind.value, subject.name) == ("repository", ".")
        [imported] = store.artifacts("advisories-update-report")
        record = json.loads(store.read_blob(imported.digest))
        assert (record["total"], record["source"]) == (3, str(osv))
        assert record["digest"] == update["digest"]


def test_json_and_sarif_validate_against_their_schemas(
    project: Path, osv: Path, shared_dir: Path
) -> None:
    _update(project, "--from", str(osv), "--no-record")
    (project / "requirements.txt").write_text("torch==2.5.1\nrequests\n-e ./local\n")
    report = _deps(project, "--no-record", code=1)
    schema = schema_for(DepsReport)
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    code, out, err = _run(
        "deps", str(project), "--project", str(project), "--no-record", "-f", "sarif"
    )
    assert code == 1, err
    sarif = json.loads(out)
    sarif_schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft7Validator(sarif_schema).iter_errors(sarif))
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {
        dep_rules.VULNERABLE_ML,
        dep_rules.UNPINNED,
        dep_rules.NO_HASHES,
        dep_rules.NOT_VERIFIABLE,
    } <= rule_ids
    assert not (project / ".ssdf" / "evidence.sqlite").exists()
    # The terminal view renders too.
    code, out, _ = _run("deps", str(project), "--project", str(project), "--no-record")
    assert code == 1
    assert "GHSA-53q9-r3pm-6pq6" in out


def test_a_missing_or_empty_database_is_never_silently_clean(project: Path, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text(f"torch==2.5.1 --hash={SHA}\n")
    report = _deps(project, "--no-record", code=1)
    [finding] = report["findings"]
    assert finding["rule_id"] == dep_rules.NOT_CHECKED
    assert "advisories not checked: run `ssdf advisories update`" in finding["message"]
    assert report["database"]["present"] is False
    # An existing database that holds nothing is the same.
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    report = _deps(project, "--no-record", "--db", str(empty), code=1)
    assert [f["rule_id"] for f in report["findings"]] == [dep_rules.NOT_CHECKED]
    assert "holds no advisory" in report["findings"][0]["message"]
    # It is high: only --fail-on critical lets it pass.
    _deps(project, "--no-record", "--fail-on", "critical", code=0)


def test_clean_project_exits_zero_and_stale_database_is_low(project: Path, osv: Path) -> None:
    _update(project, "--from", str(osv), "--no-record")
    (project / "requirements.txt").write_text(f"torch==2.6.0 --hash={SHA}\n")
    report = _deps(project, "--no-record", code=0)
    assert report["findings"] == []
    assert report["packages"][0]["version"] == "2.6.0"
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    with sqlite3.connect(project / ".ssdf" / "advisories.sqlite") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'updated_at'", (old,))
    report = _deps(project, "--no-record", code=1)
    [stale] = report["findings"]
    assert (stale["rule_id"], stale["severity"]) == (dep_rules.STALE_DATABASE, "low")
    assert "10 day(s) ago" in stale["message"]
    _deps(project, "--no-record", "--fail-on", "medium", code=0)


def test_installed_environment_is_checked(project: Path, osv: Path, tmp_path: Path) -> None:
    _update(project, "--from", str(osv), "--no-record")
    env = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120
    )
    [site] = list(env.glob("lib/python*/site-packages"))
    info = site / "Requests-2.31.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\n")
    (project / "src").mkdir()  # nothing declared: the environment alone is checked
    report = _json(
        "deps",
        str(project / "src"),
        "--python-env",
        str(env),
        "--project",
        str(project),
        "--no-record",
        code=1,
    )
    [finding] = report["findings"]
    assert finding["rule_id"] == dep_rules.VULNERABLE
    assert finding["location"]["path"].startswith("installed:")
    assert report["packages"][0]["kind"] == "installed"


def test_nothing_declared_is_a_finding(project: Path, osv: Path) -> None:
    _update(project, "--from", str(osv), "--no-record")
    report = _deps(project, "--no-record", code=1)
    assert [f["rule_id"] for f in report["findings"]] == [dep_rules.NOTHING_DECLARED]


def test_usage_errors_exit_two(project: Path, tmp_path: Path) -> None:
    code, _, err = _run("deps", str(tmp_path / "nope"), "--project", str(project))
    assert code == 2
    assert "does not exist" in err
    code, _, err = _run("deps", str(project), "--project", str(project), "--fail-on", "worst")
    assert code == 2
    assert "unknown severity" in err
    code, _, err = _run(
        "advisories", "update", "--from", str(tmp_path / "nope"), "--project", str(project)
    )
    assert code == 2
    assert "does not exist" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text("[]")
    code, _, err = _run(
        "advisories", "update", "--from", str(tmp_path / "bad"), "--project", str(project)
    )
    assert code == 2
    assert "no valid OSV record" in err
    assert not (project / ".ssdf" / "evidence.sqlite").exists()


def test_update_from_a_zip_and_upsert_through_the_cli(project: Path, tmp_path: Path) -> None:
    archive = osv_zip(tmp_path / "all.zip", torch_advisory(), transformers_advisory())
    first = _update(project, "--from", str(archive), "--no-record")
    assert (first["added"], first["total"]) == (2, 2)
    again = _update(project, "--from", str(archive), "--no-record")
    assert (again["added"], again["unchanged"], again["total"]) == (0, 2, 2)
    code, out, _ = _run(
        "advisories", "update", "--from", str(archive), "--project", str(project), "--no-record"
    )
    assert code == 0
    assert "2 unchanged" in out


def test_update_downloads_from_a_local_http_server(project: Path, server: str) -> None:  # noqa: F811
    url = f"{server}/PyPI/all.zip"
    report = _update(project, "--url", url)
    assert (report["source"], report["added"]) == (url, 2)
    assert sorted(p.name for p in (project / ".ssdf").glob(".advisories-*")) == []
    with EvidenceStore.open(project, create=False) as store:
        [run] = store.runs()
        assert run.command == "advisories update"
        [subject] = store.get_run(run.id).subjects
        assert subject.name == ".ssdf/advisories.sqlite"
        assert subject.digest == report["digest"]


def test_network_failure_exits_two_and_names_the_offline_alternative(project: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = _run(
        "advisories",
        "update",
        "--url",
        f"http://127.0.0.1:{port}/PyPI/all.zip",
        "--timeout",
        "5",
        "--project",
        str(project),
    )
    assert code == 2
    assert "cannot download the advisories" in err
    assert "--from FILE" in err
    assert not (project / ".ssdf" / "advisories.sqlite").exists()
