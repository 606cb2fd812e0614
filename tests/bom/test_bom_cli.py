"""``ssdf bom``: CycloneDX by default, SPDX with --spdx, both with --spdx-output; recorded."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from bom_helpers import cyclonedx_problems, make_sklearn, ok, spdx_problems, ssdf_cli

from ssdf_ai.store import EvidenceStore


def _bom_artifacts(root: Path) -> list[tuple[str, str, str | None, bytes]]:
    with EvidenceStore.open(root, create=False) as store:
        runs = [r for r in store.runs() if r.command == "bom"]
        out = []
        for run in runs:
            detail = store.get_run(run.id)
            subjects = {s.id: s for s in detail.subjects}
            for artifact in detail.artifacts:
                subject = subjects[artifact.subject_id] if artifact.subject_id else None
                out.append(
                    (
                        artifact.kind,
                        subject.name if subject else "",
                        subject.digest if subject else None,
                        store.read_blob(artifact.digest),
                    )
                )
        return out


def test_cyclonedx_to_a_file_and_recorded(
    bert_project: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    root, model = bert_project()
    target = tmp_path / "bom.cdx.json"
    code, out, err = ssdf_cli("bom", model, "--project", root, "--output", target)
    assert code == 0, err
    assert out == ""
    assert "recorded as run:" in err
    text = target.read_text()
    assert cyclonedx_problems(text) == []
    bom = json.loads(text)
    assert bom["metadata"]["component"]["name"] == "tiny-bert"
    ((kind, subject, digest, blob),) = _bom_artifacts(root)
    assert kind == "cyclonedx-bom"
    assert subject == "models/tiny-bert"
    assert digest == bom["metadata"]["component"]["hashes"][0]["content"]
    assert blob == text.encode("utf-8")


def test_spdx_to_stdout(bert_project: Callable[..., tuple[Path, Path]]) -> None:
    root, model = bert_project()
    code, out, err = ssdf_cli("bom", model, "--spdx", "--project", root)
    assert code == 0, err
    assert spdx_problems(out) == []
    assert json.loads(out)["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    ((kind, _, _, blob),) = _bom_artifacts(root)
    assert kind == "spdx-document"
    assert blob == out.encode("utf-8")


def test_both_documents(trained_project: Path, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(trained_project, root)
    spdx_file = tmp_path / "bom.spdx.json"
    code, out, err = ssdf_cli(
        "bom", root / "models" / "churn.joblib", "--project", root, "--spdx-output", spdx_file
    )
    assert code == 0, err
    assert cyclonedx_problems(out) == []
    assert spdx_problems(spdx_file.read_text()) == []
    kinds = sorted(a[0] for a in _bom_artifacts(root))
    assert kinds == ["cyclonedx-bom", "spdx-document"]
    bom = json.loads(out)
    data = {c["name"]: c for c in bom["components"] if c["type"] == "data"}
    assert data["data/customers.csv"]["data"][0]["sensitiveData"] == ["pii"]


def test_signed_folder_references_its_signature(
    bert_project: Callable[..., tuple[Path, Path]],
) -> None:
    root, model = bert_project()
    ok("sign", model, "--key", root / "keys" / "alice.key", "--project", root, "--quiet")
    code, out, err = ssdf_cli("bom", model, "--project", root, "--no-record")
    assert code == 0, err
    component = json.loads(out)["metadata"]["component"]
    (signature,) = [r for r in component["externalReferences"] if r["type"] == "digital-signature"]
    assert signature["url"] == "models/tiny-bert/model.sig"
    assert (
        signature["hashes"][0]["content"]
        == hashlib.sha256((model / "model.sig").read_bytes()).hexdigest()
    )
    assert "evidence store" in signature["comment"]
    # the BOM's model digest is the root the signature signs
    statement = json.loads(
        __import__("base64").b64decode(
            json.loads((model / "model.sig").read_text())["dsseEnvelope"]["payload"]
        )
    )
    assert component["hashes"][0]["content"] == statement["subject"][0]["digest"]["sha256"]


def test_without_a_project_configuration_or_store(tmp_path: Path) -> None:
    model = make_sklearn(tmp_path / "model.joblib")
    code, out, err = ssdf_cli("bom", model, "--project", tmp_path, "--no-record")
    assert code == 0, err
    assert cyclonedx_problems(out) == []
    assert not (tmp_path / ".ssdf").exists()


def test_usage_errors(tmp_path: Path) -> None:
    model = make_sklearn(tmp_path / "model.joblib")
    code, _, err = ssdf_cli(
        "bom", model, "--spdx", "--spdx-output", tmp_path / "x.json", "--project", tmp_path
    )
    assert code == 2
    assert "--spdx and --spdx-output" in err
    code, _, err = ssdf_cli("bom", tmp_path / "missing", "--project", tmp_path)
    assert code == 2
    assert "does not exist" in err
    assert not (tmp_path / ".ssdf").exists()


def test_help_lists_the_command() -> None:
    code, out, _ = ssdf_cli("--help")
    assert code == 0
    assert "bom" in out
    code, out, _ = ssdf_cli("bom", "--help")
    assert code == 0
    assert "--spdx-output" in out
