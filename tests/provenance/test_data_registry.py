"""``ssdf data register|list``: datasets with their source, licence and sensitivity, what runs
used without known provenance (PW.3.2 N1), and sensitive data propagated to the models trained
on it with the configured access restriction (PS.3.2 R2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from provenance_fixtures import (
    PYTHON,
    Project,
    dependency,
    make_project,
    ok,
    record,
    sha256,
    ssdf_cli,
    statement_of,
    train,
)

from ssdf_ai.provenance.registry import REGISTRATION_KIND, load_registry
from ssdf_ai.provenance.runs import load_runs
from ssdf_ai.store import EvidenceStore

PII_RESTRICTION = "restricted: ML team only; no public release"
RESTRICTIONS = f'[data.restrictions]\npii = "{PII_RESTRICTION}"\n'


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path, restrictions=RESTRICTIONS)


def register(project: Project, path: str, *args: str) -> dict[str, Any]:
    out = ok("data", "register", project.root / path, "--project", project.root, "-f", "json",
             *args)  # fmt: skip
    report = json.loads(out)
    assert isinstance(report, dict)
    return report


def data_list(project: Project) -> dict[str, Any]:
    report = json.loads(ok("data", "list", "--project", project.root, "-f", "json"))
    assert isinstance(report, dict)
    return report


KNOWN = ("--source", "https://example.org/churn.csv", "--license", "CC-BY-4.0",
         "--provenance", "known")  # fmt: skip


def test_register_records_the_dataset_as_evidence(project: Project) -> None:
    report = register(project, "data/customers.csv", *KNOWN, "--sensitive", "pii",
                      "--description", "CRM export")  # fmt: skip
    entry = report["entry"]
    assert entry["path"] == "data/customers.csv"
    assert entry["digest"] == sha256(project.root / "data" / "customers.csv")
    assert entry["digest_method"] == "sha256"
    assert entry["sensitive"] == ["pii"]
    assert any(PII_RESTRICTION in w for w in report["warnings"])
    with EvidenceStore.open(project.root, create=False) as store:
        registry = load_registry(store)
        run = store.get_run(report["run_id"])
        assert run.run.command == "data register"
        assert [a.kind for a in run.artifacts] == [REGISTRATION_KIND]
        assert [(s.kind.value, s.name) for s in run.subjects] == [("dataset", "data/customers.csv")]
    assert registry["data/customers.csv"].license == "CC-BY-4.0"
    assert registry["data/customers.csv"].provenance.value == "known"


def test_a_folder_is_registered_by_its_oms_root(project: Project) -> None:
    entry = register(project, "data", *KNOWN)["entry"]
    assert entry["path"] == "data"
    assert entry["digest_method"] == "oms-root"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--source", "", "--license", "MIT", "--provenance", "known"), "not a URI"),
        (("--source", "not a uri", "--license", "MIT", "--provenance", "known"), "not a URI"),
        (
            ("--source", "https://u:pw@example.org/x", "--license", "MIT", "--provenance", "known"),
            "credentials",
        ),
        (("--source", "s3://b/k", "--license", "MIT license", "--provenance", "known"), "SPDX"),
        (("--source", "s3://b/k", "--license", "MIT", "--provenance", "maybe"), "known nor"),
        (
            ("--source", "s3://b/k", "--license", "MIT", "--provenance", "known",
             "--sensitive", "secret"),
            "not a sensitive-data category",
        ),
    ],
)  # fmt: skip
def test_register_validates_its_options(
    project: Project, args: tuple[str, ...], message: str
) -> None:
    code, _, err = ssdf_cli(
        "data", "register", project.root / "data" / "customers.csv", "--project", project.root,
        *args,
    )  # fmt: skip
    assert code == 2
    assert message in err
    assert not EvidenceStore.exists(project.root)


def test_register_accepts_expressions_refs_and_other_categories(project: Project) -> None:
    entry = register(
        project, "data/customers.csv", "--source", "internal:crm/exports", "--license",
        "(MIT OR Apache-2.0) AND LicenseRef-acme", "--provenance", "unknown", "--sensitive",
        "PII,other:salaries",
    )["entry"]  # fmt: skip
    assert entry["sensitive"] == ["pii", "other:salaries"]
    assert entry["provenance"] == "unknown"


def test_register_refuses_paths_outside_the_project(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("a\n1\n")
    code, _, err = ssdf_cli("data", "register", outside, "--project", project.root, *KNOWN)
    assert code == 2
    assert "outside the project" in err
    code, _, err = ssdf_cli("data", "register", project.root / "nope.csv",
                            "--project", project.root, *KNOWN)  # fmt: skip
    assert code == 2
    assert "does not exist" in err


def test_list_flags_datasets_changed_or_missing_since_registration(project: Project) -> None:
    (project.root / "data" / "extra.csv").write_text("a\n1\n")
    register(project, "data/customers.csv", *KNOWN)
    register(project, "data/extra.csv", *KNOWN)
    with (project.root / "data" / "customers.csv").open("a") as handle:
        handle.write("2,1.0,0\n")
    (project.root / "data" / "extra.csv").unlink()
    rows = {d["path"]: d for d in data_list(project)["datasets"]}
    assert rows["data/customers.csv"]["status"] == "changed"
    assert rows["data/customers.csv"]["current_digest"] == sha256(
        project.root / "data" / "customers.csv"
    )
    assert rows["data/extra.csv"]["status"] == "missing"
    text = ok("data", "list", "--project", project.root)
    assert "CHANGED" in text
    assert "MISSING" in text


def test_registered_dataset_is_recorded_as_such(project: Project) -> None:
    register(project, "data/customers.csv", *KNOWN)
    done = train(project)
    assert "not registered" not in done.stderr
    statement = statement_of(project.lines()[0])
    annotations = dependency(statement, "data/customers.csv")["annotations"]
    assert annotations == {
        "kind": "dataset",
        "digestMethod": "sha256",
        "registered": True,
        "provenance": "known",
        "sensitive": [],
        "license": "CC-BY-4.0",
        "source": "https://example.org/churn.csv",
    }
    assert data_list(project)["unknown_provenance"] == []


def test_unregistered_and_unknown_provenance_data_are_listed(project: Project) -> None:
    (project.root / "data" / "scraped.csv").write_text("tenure,charges,churn\n1,2.0,0\n")
    register(project, "data/scraped.csv", "--source", "https://forum.example.org/dump",
             "--license", "NOASSERTION", "--provenance", "unknown")  # fmt: skip
    done = record(
        project,
        "--input", "data/customers.csv", "--input", "data/scraped.csv",
        "--output", "models/churn.joblib",
        command=[PYTHON, "train.py", "data/customers.csv", "models/churn.joblib"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dataset data/customers.csv is not registered" in done.stderr
    assert "dataset data/scraped.csv has unknown provenance" in done.stderr
    rows = {r["name"]: r for r in data_list(project)["unknown_provenance"]}
    assert rows["data/customers.csv"]["provenance"] == "unregistered"
    assert rows["data/scraped.csv"]["provenance"] == "unknown"
    assert rows["data/scraped.csv"]["runs"] == ["train.py (line 1)"]
    # Registering the data afterwards (same content, known origin) settles it.
    register(project, "data/customers.csv", *KNOWN)
    names = [r["name"] for r in data_list(project)["unknown_provenance"]]
    assert names == ["data/scraped.csv"]


def test_sensitive_data_propagates_to_the_model(project: Project) -> None:
    register(project, "data/customers.csv", *KNOWN, "--sensitive", "pii")
    (project.root / "data" / "notes.csv").write_text("tenure,charges,churn\n1,2.0,0\n")
    register(project, "data/notes.csv", *KNOWN, "--sensitive", "phi")
    done = train(project, "--input", "data/notes.csv")
    assert f"pii: {PII_RESTRICTION}" in done.stderr
    (subject,) = statement_of(project.lines()[0])["subject"]
    default = "restricted: trained on sensitive data; no release or sharing without review"
    assert subject["annotations"]["kind"] == "model"
    assert subject["annotations"]["sensitive"] == ["pii", "phi"]
    assert subject["annotations"]["restrictions"]["pii"] == PII_RESTRICTION
    assert subject["annotations"]["restrictions"]["phi"].startswith(default)
    (row,) = data_list(project)["sensitive_models"]
    assert row["name"] == "models/churn.joblib"
    assert row["kind"] == "model"
    assert row["categories"] == ["pii", "phi"]
    assert row["restrictions"]["pii"] == PII_RESTRICTION
    assert row["datasets"] == ["data/customers.csv", "data/notes.csv"]
    assert PII_RESTRICTION in ok("data", "list", "--project", project.root)


def test_data_registered_sensitive_after_the_run_still_flags_the_model(project: Project) -> None:
    train(project)
    assert data_list(project)["sensitive_models"] == []
    register(project, "data/customers.csv", *KNOWN, "--sensitive", "pii")
    (row,) = data_list(project)["sensitive_models"]
    assert row["restrictions"] == {"pii": PII_RESTRICTION}


def test_data_changed_since_registration_is_not_the_registered_data(project: Project) -> None:
    register(project, "data/customers.csv", *KNOWN, "--sensitive", "pii")
    with (project.root / "data" / "customers.csv").open("a") as handle:
        handle.write("7,7.0,1\n")
    done = train(project)
    assert "changed since it was registered" in done.stderr
    (run,) = load_runs(project.root)
    (data,) = run.datasets
    assert data.annotations["registered"] is False
    assert data.annotations["changedSinceRegistration"] is True
    assert data.annotations["provenance"] == "unregistered"


def test_data_group_help_is_generic() -> None:
    code, out, _ = ssdf_cli("data", "--help")
    assert code == 0
    assert "register" in out
    assert "list" in out
