"""CycloneDX 1.6 ML-BOMs of real models, validated by cyclonedx-python-lib's strict validator."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bom_helpers import (
    cyclonedx_problems,
    make_sklearn,
    properties,
    safetensors_parameters,
)

from ssdf_ai.bom import cyclonedx_bom, dumps, gather_model_info
from ssdf_ai.bom._common import SPDX_LICENSES
from ssdf_ai.bom.model_info import parse_card
from ssdf_ai.integrity.manifest import DEFAULT_IGNORES, Serialization, iter_manifest, root_digest


def _valid(bom: dict[str, Any]) -> dict[str, Any]:
    assert cyclonedx_problems(dumps(bom)) == []
    return bom


def _refs(bom: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("bom-ref"), str):
                found.add(value["bom-ref"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(bom)
    return found


def _oms_root(folder: Path) -> str:
    return root_digest(iter_manifest(folder, Serialization(ignore_paths=DEFAULT_IGNORES)))


def test_hugging_face_model_with_card(bert_project: Callable[..., tuple[Path, Path]]) -> None:
    root, model = bert_project()
    bom = _valid(cyclonedx_bom(root, model))

    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.6"
    assert bom["serialNumber"].startswith("urn:uuid:")
    tools = bom["metadata"]["tools"]["components"]
    assert [t["name"] for t in tools] == ["ssdf-ai"]
    component = bom["metadata"]["component"]
    assert component["type"] == "machine-learning-model"
    assert component["name"] == "tiny-bert"
    assert component["bom-ref"] == "model:models/tiny-bert"
    assert component["hashes"] == [{"alg": "SHA-256", "content": _oms_root(model)}]
    assert component["purl"].startswith("pkg:generic/tiny-bert@")
    assert component["licenses"] == [{"license": {"id": "Apache-2.0"}}]

    # one file component per file, each with its SHA-256
    files = {f["name"]: f for f in component["components"]}
    assert set(files) == {"README.md", "config.json", "model.safetensors"}
    weights = model / "model.safetensors"
    assert files["model.safetensors"]["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(weights.read_bytes()).hexdigest()}
    ]
    assert properties(files["model.safetensors"])["ssdf:weights"] == ["true"]
    props = properties(component)
    assert props["ssdf:parameters"] == [str(safetensors_parameters(weights))]
    assert props["ssdf:digest-method"] == ["oms-root"]

    card = component["modelCard"]
    parameters = card["modelParameters"]
    assert parameters["task"] == "feature-extraction"
    assert parameters["architectureFamily"] == "bert"
    assert parameters["modelArchitecture"] == "BertModel"
    assert parameters["approach"] == {"type": "self-supervised"}
    assert parameters["inputs"] == [{"format": "text"}]
    assert parameters["datasets"] == [{"ref": "dataset:hf:imdb"}]
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "accuracy", "value": "0.91", "slice": "IMDB (test)"}
    ]
    considerations = card["considerations"]
    assert considerations["useCases"] == ["Testing BOM generation; nothing else."]
    assert "It has 32 hidden units and knows nothing." in considerations["technicalLimitations"]
    assert "Out of scope: Any decision about people." in considerations["technicalLimitations"]
    assert considerations["ethicalConsiderations"] == [
        {
            "name": "It may reproduce the biases of IMDB reviews.",
            "mitigationStrategy": "Do not deploy it.",
        }
    ]
    hyper = properties(card)
    assert hyper["ssdf:hyperparameter:hidden_size"] == ["32"]
    assert hyper["ssdf:hyperparameter:num_attention_heads"] == ["2"]
    assert component["description"] == "A tiny BERT encoder for testing bills of materials."

    # the dataset the card names, as a data component
    (dataset,) = [c for c in bom["components"] if c["type"] == "data"]
    assert dataset["bom-ref"] == "dataset:hf:imdb"
    data = dataset["data"][0]
    assert data["type"] == "dataset"
    assert data["contents"] == {"url": "https://huggingface.co/datasets/imdb"}
    assert data["classification"] == "public"
    assert properties(dataset)["ssdf:provenance"] == ["unregistered"]
    assert properties(dataset)["ssdf:use"] == ["training", "evaluation"]

    # base model from the card
    (ancestor,) = component["pedigree"]["ancestors"]
    assert ancestor["type"] == "machine-learning-model"
    assert ancestor["purl"] == "pkg:huggingface/google-bert/bert-base-uncased"

    # frameworks and libraries from the installed environment, limited to what the model needs
    packages = {c["name"]: c for c in bom["components"] if c["type"] in ("framework", "library")}
    assert {"transformers", "torch", "safetensors"} <= set(packages)
    import transformers

    assert packages["transformers"]["type"] == "framework"
    assert packages["transformers"]["purl"] == f"pkg:pypi/transformers@{transformers.__version__}"
    assert packages["safetensors"]["type"] == "library"
    assert "scikit-learn" not in packages
    (model_deps,) = [d for d in bom["dependencies"] if d["ref"] == component["bom-ref"]]
    assert set(model_deps["dependsOn"]) == {p["bom-ref"] for p in packages.values()}

    # the model card as an external reference
    refs = {r["type"]: r for r in component["externalReferences"]}
    assert refs["model-card"]["url"] == "models/tiny-bert/README.md"
    assert (
        refs["model-card"]["hashes"][0]["content"]
        == hashlib.sha256((model / "README.md").read_bytes()).hexdigest()
    )
    assert "digital-signature" not in refs

    # every {ref} points at a bom-ref of the document
    targets = _refs(bom)
    for item in parameters["datasets"]:
        assert item["ref"] in targets
    for dep in bom["dependencies"]:
        assert dep["ref"] in targets
        assert set(dep.get("dependsOn", [])) <= targets


def test_bare_folder_of_weights(tmp_path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    model = tmp_path / "weights"
    model.mkdir()
    save_file({"w": np.zeros((3, 4), dtype=np.float32)}, str(model / "model.safetensors"))
    bom = _valid(cyclonedx_bom(tmp_path, model))
    component = bom["metadata"]["component"]
    assert component["name"] == "weights"
    assert component["hashes"][0]["content"] == _oms_root(model)
    assert properties(component)["ssdf:parameters"] == ["12"]
    assert component["version"] == f"sha256:{_oms_root(model)[:12]}"
    assert "modelCard" in component
    assert "datasets" not in component["modelCard"].get("modelParameters", {})
    assert "formulation" not in bom
    assert [c["name"] for c in bom["components"]] == ["safetensors"]


def test_single_file_scikit_learn_model(tmp_path: Path) -> None:
    import sklearn

    model = make_sklearn(tmp_path / "model.joblib")
    bom = _valid(cyclonedx_bom(tmp_path, model))
    component = bom["metadata"]["component"]
    assert component["name"] == "model"
    assert component["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(model.read_bytes()).hexdigest()}
    ]
    parameters = component["modelCard"]["modelParameters"]
    assert parameters["modelArchitecture"] == "LogisticRegression"
    assert parameters["architectureFamily"] == "linear_model"
    assert parameters["approach"] == {"type": "supervised"}
    assert parameters["task"] == "tabular-classification"
    packages = {c["name"]: c for c in bom["components"]}
    assert packages["scikit-learn"]["type"] == "framework"
    assert packages["scikit-learn"]["version"] == sklearn.__version__
    assert {"joblib", "numpy"} <= set(packages)


def test_recorded_run_datasets_signature_and_provenance(trained_project: Path) -> None:
    root = trained_project
    model = root / "models" / "churn.joblib"
    bom = _valid(cyclonedx_bom(root, model))
    component = bom["metadata"]["component"]

    datasets = {c["name"]: c for c in bom["components"] if c["type"] == "data"}
    assert set(datasets) == {"data/customers.csv", "data/extra.csv"}
    registered, unregistered = datasets["data/customers.csv"], datasets["data/extra.csv"]
    for name, dataset in datasets.items():
        assert dataset["hashes"] == [
            {"alg": "SHA-256", "content": hashlib.sha256((root / name).read_bytes()).hexdigest()}
        ]
    assert properties(registered)["ssdf:provenance"] == ["known"]
    assert properties(registered)["ssdf:registered"] == ["true"]
    assert properties(registered)["ssdf:license"] == ["LicenseRef-acme-internal"]
    assert registered["licenses"] == [{"expression": "LicenseRef-acme-internal"}]
    assert registered["description"] == "Customer contracts and churn labels."
    data = registered["data"][0]
    assert data["sensitiveData"] == ["pii"]
    assert data["classification"] == "confidential"
    assert data["contents"] == {"url": "internal:crm/customers"}
    assert properties(unregistered)["ssdf:provenance"] == ["unregistered"]
    assert properties(unregistered)["ssdf:registered"] == ["false"]
    assert "sensitiveData" not in unregistered["data"][0]
    assert {d["ref"] for d in component["modelCard"]["modelParameters"]["datasets"]} == {
        "dataset:data/customers.csv",
        "dataset:data/extra.csv",
    }

    # the training run as formulation
    log_line = (root / ".intoto.jsonl").read_bytes().splitlines()[0]
    statement = json.loads(
        __import__("base64").b64decode(json.loads(log_line)["payload"]).decode("utf-8")
    )
    invocation = statement["predicate"]["runDetails"]["metadata"]["invocationId"]
    (formula,) = bom["formulation"]
    (workflow,) = formula["workflows"]
    assert workflow["uid"] == invocation
    assert workflow["name"] == "train"
    assert workflow["timeStart"]
    assert workflow["timeEnd"]
    command = workflow["tasks"][0]["steps"][0]["commands"][0]["executed"]
    assert command.endswith("train.py data/customers.csv models/churn.joblib")
    inputs = [i["resource"] for i in workflow["inputs"]]
    assert {"ref": "dataset:data/customers.csv"} in inputs
    assert {"ref": "dataset:data/extra.csv"} in inputs
    assert any(i.get("externalReference", {}).get("url") == "train.py" for i in inputs)
    assert workflow["outputs"] == [{"type": "artifact", "resource": {"ref": component["bom-ref"]}}]
    wprops = properties(workflow)
    assert wprops["ssdf:verified"] == ["true"]
    assert wprops["ssdf:signer"] == ["alice"]
    assert wprops["ssdf:matches-model"] == ["true"]

    # references: the signature (ssdf sign) and the provenance line
    refs = {r["type"]: r for r in component["externalReferences"]}
    signature = model.with_name("churn.joblib.sig")
    assert refs["digital-signature"]["url"] == "models/churn.joblib.sig"
    assert (
        refs["digital-signature"]["hashes"][0]["content"]
        == hashlib.sha256(signature.read_bytes()).hexdigest()
    )
    assert "the current model" in refs["digital-signature"]["comment"]
    assert refs["attestation"]["url"] == ".intoto.jsonl#L1"
    assert refs["attestation"]["hashes"][0]["content"] == hashlib.sha256(log_line).hexdigest()
    assert "verified" in refs["attestation"]["comment"]

    # packages from the run's environment, not from this one
    packages = {c["name"]: c for c in bom["components"] if c["type"] in ("framework", "library")}
    assert packages["scikit-learn"]["type"] == "framework"
    assert properties(packages["scikit-learn"])["ssdf:found-in"] == ["recorded run train (line 1)"]
    assert len(packages) > 10  # the whole recorded environment


def test_base_models_from_config_json_entry_and_recorded_run(
    bert_project: Callable[..., tuple[Path, Path]],
) -> None:
    entry = (
        '[[models]]\npath = "models/tiny-bert"\nname = "tiny"\n'
        'justification = "Small enough for tests."\nintended_use = "Unit tests."\n'
        'limitations = "Not a real model."\nbase_model = "hf://acme/base-bert"\n'
        'license = "MIT"\n'
    )
    root, model = bert_project(entry)
    config = json.loads((model / "config.json").read_text())
    config["_name_or_path"] = "prajjwal1/bert-tiny"
    (model / "config.json").write_text(json.dumps(config))
    bom = _valid(cyclonedx_bom(root, model))
    component = bom["metadata"]["component"]
    assert component["name"] == "tiny"
    names = {a["name"]: a for a in component["pedigree"]["ancestors"]}
    assert set(names) == {"acme/base-bert", "google-bert/bert-base-uncased", "prajjwal1/bert-tiny"}
    assert properties(names["prajjwal1/bert-tiny"])["ssdf:found-in"] == [
        "config.json _name_or_path"
    ]
    assert properties(names["acme/base-bert"])["ssdf:found-in"] == ["ssdf.toml [[models]]"]
    assert {"license": {"id": "MIT"}} in component["licenses"]
    card = component["modelCard"]
    assert card["considerations"]["useCases"][0] == "Unit tests."
    assert "Not a real model." in card["considerations"]["technicalLimitations"]
    assert properties(card)["ssdf:justification"] == ["Small enough for tests."]


def test_recorded_local_base_model_is_an_ancestor_with_its_digest(
    trained_project: Path, tmp_path: Path
) -> None:
    from bom_helpers import record_training

    root = tmp_path / "proj"
    shutil.copytree(trained_project, root)
    record_training(root, "--base-model", "models/churn.joblib", out="models/tuned.joblib")
    bom = _valid(cyclonedx_bom(root, root / "models" / "tuned.joblib"))
    (ancestor,) = bom["metadata"]["component"]["pedigree"]["ancestors"]
    assert ancestor["name"] == "models/churn.joblib"
    assert ancestor["hashes"] == [
        {
            "alg": "SHA-256",
            "content": hashlib.sha256((root / "models" / "churn.joblib").read_bytes()).hexdigest(),
        }
    ]
    (formula,) = bom["formulation"]
    inputs = [i["resource"] for i in formula["workflows"][0]["inputs"]]
    assert {"ref": ancestor["bom-ref"]} in inputs


def test_output_is_deterministic(trained_project: Path) -> None:
    model = trained_project / "models" / "churn.joblib"
    first = cyclonedx_bom(trained_project, model)
    second = cyclonedx_bom(trained_project, model)
    assert first["serialNumber"] != second["serialNumber"]
    for bom in (first, second):
        bom.pop("serialNumber")
        bom["metadata"].pop("timestamp")
    assert dumps(first) == dumps(second)
    serial, when = uuid.UUID(int=1), dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    fixed = cyclonedx_bom(trained_project, model, serial_number=serial, timestamp=when)
    again = cyclonedx_bom(trained_project, model, serial_number=serial, timestamp=when)
    assert dumps(fixed) == dumps(again)
    assert fixed["metadata"]["timestamp"] == "2025-01-02T00:00:00Z"
    assert fixed["serialNumber"] == f"urn:uuid:{serial}"


def test_source_date_epoch_sets_the_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_sklearn(tmp_path / "m.joblib")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert cyclonedx_bom(tmp_path, model)["metadata"]["timestamp"] == "1970-01-02T00:00:00Z"


def test_metrics_files_and_stale_signature(bert_project: Callable[..., tuple[Path, Path]]) -> None:
    from bom_helpers import ok

    root, model = bert_project()
    (model / "eval_results.json").write_text(
        json.dumps({"eval_f1": 0.75, "eval_runtime": 1.5, "epoch": 3.0, "eval_loss": 0.4})
    )
    ok("sign", model, "--key", root / "keys" / "alice.key", "--project", root, "--quiet")
    bom = _valid(cyclonedx_bom(root, model))
    component = bom["metadata"]["component"]
    metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert {"type": "eval_f1", "value": "0.75"} in metrics
    assert {"type": "eval_loss", "value": "0.4"} in metrics
    assert not any(m["type"] in ("eval_runtime", "epoch") for m in metrics)
    # the signature file is not part of the model's digest, as with `ssdf sign`
    assert "model.sig" not in {f["name"] for f in component["components"]}
    (signature,) = [r for r in component["externalReferences"] if r["type"] == "digital-signature"]
    assert signature["url"] == "models/tiny-bert/model.sig"
    assert "the current model" in signature["comment"]

    (model / "config.json").write_text("{}")  # the model changes after signing
    bom = _valid(cyclonedx_bom(root, model))
    (signature,) = [
        r
        for r in bom["metadata"]["component"]["externalReferences"]
        if r["type"] == "digital-signature"
    ]
    assert "an earlier version of the model" in signature["comment"]


def test_hostile_model_card_is_bounded(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"\x00" * 8)
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a]\n---\n"
    (model / "README.md").write_text(bomb)
    (model / "config.json").write_text('{"model_type": NaN}')
    bom = _valid(cyclonedx_bom(tmp_path, model))
    warnings = properties(bom["metadata"]["component"])["ssdf:warning"]
    assert any("aliases" in w for w in warnings)
    assert any("config.json" in w for w in warnings)
    meta, _ = parse_card("---\nlicense: mit\n---\n# x\n", [])
    assert meta == {"license": "mit"}


def test_strict_validator_catches_errors(tmp_path: Path) -> None:
    model = make_sklearn(tmp_path / "m.joblib")
    bom = cyclonedx_bom(tmp_path, model)
    assert cyclonedx_problems(bom) == []
    broken = json.loads(json.dumps(bom))
    broken["metadata"]["component"]["modelCard"]["modelParameters"]["approach"] = {
        "type": "guesswork"
    }
    assert cyclonedx_problems(broken)
    broken = json.loads(json.dumps(bom))
    broken["metadata"]["component"]["modelCard"]["datasets"] = []
    assert cyclonedx_problems(broken)


def test_licence_ids_are_on_the_spdx_list() -> None:
    from importlib.resources import files

    schema = json.loads(
        files("cyclonedx.schema._res").joinpath("spdx.SNAPSHOT.schema.json").read_text()
    )
    assert set(SPDX_LICENSES.values()) <= set(schema["enum"])


def test_gather_reports_no_warnings_for_a_clean_model(
    bert_project: Callable[..., tuple[Path, Path]],
) -> None:
    root, model = bert_project()
    info = gather_model_info(root, model)
    assert info.warnings == ()
    assert info.rel_path == "models/tiny-bert"
    assert info.oms_root == info.digest == _oms_root(model)


def test_example_third_party_model(repo_root: Path, tmp_path: Path) -> None:
    """The example project's acquired encoder: a real card with bullet lists and tables."""
    model = tmp_path / "third_party"
    shutil.copytree(repo_root / "examples" / "churn" / "third_party", model)
    bom = _valid(cyclonedx_bom(tmp_path, model))
    component = bom["metadata"]["component"]
    assert component["name"] == "customer-encoder-small"
    assert component["description"].startswith("A small encoder that turns a customer's")
    parameters = component["modelCard"]["modelParameters"]
    assert parameters["inputs"] == [{"format": "tabular features"}]
    assert parameters["modelArchitecture"] == "TabularCustomerEncoder"
    considerations = component["modelCard"]["considerations"]
    assert len(considerations["useCases"]) == 2
    assert all(not u.startswith("-") for u in considerations["useCases"])
    assert all("```" not in u for u in considerations["useCases"])
    assert len(considerations["ethicalConsiderations"]) >= 2
    assert properties(component)["ssdf:parameters"] == [
        str(safetensors_parameters(model / "model.safetensors"))
    ]
    assert "transformers" not in {c["name"] for c in bom["components"]}
