"""SPDX 3.0.1 documents of real models, validated with the official SPDX Python bindings."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bom_helpers import by_type, make_sklearn, relationships, spdx_problems

from ssdf_ai.bom import dumps, spdx_document


def _valid(document: dict[str, Any]) -> dict[str, Any]:
    assert spdx_problems(dumps(document)) == []
    return document


def _entries(items: list[dict[str, Any]]) -> dict[str, str]:
    return {e["key"]: e.get("value", "") for e in items}


def test_hugging_face_model_document(bert_project: Callable[..., tuple[Path, Path]]) -> None:
    root, model = bert_project()
    document = _valid(spdx_document(root, model))
    assert document["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    (creation,) = by_type(document, "CreationInfo")
    assert creation["specVersion"] == "3.0.1"
    (tool,) = by_type(document, "Tool")
    assert tool["name"].startswith("ssdf-ai ")
    assert creation["createdUsing"] == [tool["spdxId"]]
    (spdx_doc,) = by_type(document, "SpdxDocument")
    (ai,) = by_type(document, "ai_AIPackage")
    assert spdx_doc["rootElement"] == [ai["spdxId"]]
    # the card's dataset is on the hub only: nothing says when it was built, so the document
    # does not claim the Dataset profile's minimums
    assert spdx_doc["profileConformance"] == ["core", "software", "ai", "simpleLicensing"]

    assert ai["name"] == "tiny-bert"
    assert ai["software_primaryPurpose"] == "model"
    assert ai["software_downloadLocation"] == "models/tiny-bert"
    assert ai["software_packageVersion"].startswith("sha256:")
    assert ai["releaseTime"].endswith("Z")
    assert ai["suppliedBy"] == creation["createdBy"][0]
    assert ai["ai_typeOfModel"] == ["bert", "BertModel"]
    assert ai["ai_domain"] == ["natural language processing"]
    assert "32 hidden units" in ai["ai_limitation"]
    assert "Out of scope: Any decision about people." in ai["ai_limitation"]
    assert ai["ai_informationAboutTraining"] == "Random initialisation; no training at all."
    assert ai["ai_informationAboutApplication"] == "Testing BOM generation; nothing else."
    hyper = _entries(ai["ai_hyperparameter"])
    assert hyper["hidden_size"] == "32"
    assert hyper["num_hidden_layers"] == "1"
    assert hyper["vocab_size"] == "99"
    assert _entries(ai["ai_metric"]) == {"accuracy (IMDB (test))": "0.91"}
    assert ai["ai_useSensitivePersonalInformation"] == "noAssertion"
    (digest,) = ai["verifiedUsing"]
    assert digest["algorithm"] == "sha256"

    files = {f["name"]: f for f in by_type(document, "software_File")}
    weights = model / "model.safetensors"
    assert files["models/tiny-bert/model.safetensors"]["software_primaryPurpose"] == "model"
    assert files["models/tiny-bert/model.safetensors"]["verifiedUsing"][0]["hashValue"] == (
        hashlib.sha256(weights.read_bytes()).hexdigest()
    )
    assert files["models/tiny-bert/README.md"]["software_primaryPurpose"] == "documentation"
    (contains,) = relationships(document, "contains")
    assert set(contains["to"]) == {f["spdxId"] for f in files.values()}
    (docs,) = relationships(document, "hasDocumentation")
    assert docs["to"] == [files["models/tiny-bert/README.md"]["spdxId"]]

    (dataset,) = by_type(document, "dataset_DatasetPackage")
    assert dataset["name"] == "imdb"
    assert dataset["software_downloadLocation"] == "https://huggingface.co/datasets/imdb"
    assert dataset["dataset_datasetType"] == ["text"]
    assert dataset["dataset_confidentialityLevel"] == "clear"
    assert dataset["dataset_hasSensitivePersonalInformation"] == "noAssertion"
    assert "builtTime" not in dataset
    (trained,) = relationships(document, "trainedOn")
    (tested,) = relationships(document, "testedOn")
    assert trained["from"] == tested["from"] == ai["spdxId"]
    assert trained["to"] == tested["to"] == [dataset["spdxId"]]

    packages = {p["name"]: p for p in by_type(document, "software_Package")}
    base = packages["google-bert/bert-base-uncased"]
    assert base["software_packageUrl"] == "pkg:huggingface/google-bert/bert-base-uncased"
    assert base["software_primaryPurpose"] == "model"
    (ancestor,) = relationships(document, "ancestorOf")
    assert ancestor["from"] == base["spdxId"]
    assert ancestor["to"] == [ai["spdxId"]]
    assert packages["transformers"]["software_primaryPurpose"] == "framework"
    assert packages["transformers"]["software_packageUrl"].startswith("pkg:pypi/transformers@")
    (depends,) = relationships(document, "dependsOn")
    assert depends["type"] == "LifecycleScopedRelationship"
    assert depends["scope"] == "runtime"
    assert packages["torch"]["spdxId"] in depends["to"]
    (licence,) = by_type(document, "simplelicensing_LicenseExpression")
    assert licence["simplelicensing_licenseExpression"] == "Apache-2.0"
    (declared,) = relationships(document, "hasDeclaredLicense")
    assert declared["from"] == ai["spdxId"]


def test_recorded_run_document(trained_project: Path) -> None:
    root = trained_project
    document = _valid(spdx_document(root, root / "models" / "churn.joblib"))
    (spdx_doc,) = by_type(document, "SpdxDocument")
    assert spdx_doc["profileConformance"] == [
        "core",
        "software",
        "ai",
        "build",
        "dataset",
        "simpleLicensing",
    ]
    (ai,) = by_type(document, "ai_AIPackage")
    assert ai["ai_useSensitivePersonalInformation"] == "yes"
    assert ai["ai_typeOfModel"] == ["linear_model", "LogisticRegression"]
    assert "Recorded training run train" in ai["ai_informationAboutTraining"]
    assert "signed by alice" in ai["ai_informationAboutTraining"]
    (signature,) = [r for r in ai["externalRef"] if "model signature" in r.get("comment", "")]
    assert signature["locator"] == ["models/churn.joblib.sig"]

    datasets = {d["name"]: d for d in by_type(document, "dataset_DatasetPackage")}
    customers, extra = datasets["data/customers.csv"], datasets["data/extra.csv"]
    assert (
        customers["verifiedUsing"][0]["hashValue"]
        == hashlib.sha256((root / "data" / "customers.csv").read_bytes()).hexdigest()
    )
    assert customers["dataset_confidentialityLevel"] == "amber"
    assert customers["dataset_hasSensitivePersonalInformation"] == "yes"
    assert customers["dataset_datasetType"] == ["structured"]
    assert customers["software_downloadLocation"] == "internal:crm/customers"
    assert "provenance known" in customers["dataset_dataCollectionProcess"]
    assert "Customer contracts" in customers["description"]
    assert extra["dataset_hasSensitivePersonalInformation"] == "noAssertion"
    assert "not registered" in extra["comment"]
    assert "dataset_confidentialityLevel" not in extra
    expressions = {
        e["simplelicensing_licenseExpression"]
        for e in by_type(document, "simplelicensing_LicenseExpression")
    }
    assert "LicenseRef-acme-internal" in expressions

    (build,) = by_type(document, "build_Build")
    assert build["build_buildType"] == "https://ssdf-ai.dev/record/v1"
    assert build["name"] == "train"
    assert _entries(build["build_parameter"])["command"].endswith(
        "train.py data/customers.csv models/churn.joblib"
    )
    assert "python.version" in _entries(build["build_environment"])
    assert build["externalRef"][0]["locator"] == [".intoto.jsonl#L1"]
    (inputs,) = relationships(document, "hasInput")
    assert inputs["from"] == build["spdxId"]
    assert set(inputs["to"]) == {customers["spdxId"], extra["spdxId"]}
    (outputs,) = relationships(document, "hasOutput")
    assert outputs["to"] == [ai["spdxId"]]
    (tools,) = relationships(document, "usesTool")
    packages = {p["spdxId"]: p for p in by_type(document, "software_Package")}
    assert "scikit-learn" in {packages[t]["name"] for t in tools["to"]}
    (depends,) = relationships(document, "dependsOn")
    assert depends["scope"] == "build"


def test_bare_weights_document(tmp_path: Path) -> None:
    model = make_sklearn(tmp_path / "model.pkl")
    document = _valid(spdx_document(tmp_path, model))
    (ai,) = by_type(document, "ai_AIPackage")
    assert ai["software_downloadLocation"] == "model.pkl"
    assert by_type(document, "dataset_DatasetPackage") == []


def test_output_is_deterministic(trained_project: Path) -> None:
    model = trained_project / "models" / "churn.joblib"
    first = spdx_document(trained_project, model)
    second = spdx_document(trained_project, model)
    for document in (first, second):
        document["@graph"][0].pop("created")
    assert dumps(first) == dumps(second)
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    assert spdx_document(trained_project, model, timestamp=when)["@graph"][0]["created"] == (
        "2024-05-06T07:08:09Z"
    )


def _set(document: dict[str, Any], kind: str, key: str, value: Any) -> None:
    element = by_type(document, kind)[0]
    if value is None:
        del element[key]
    else:
        element[key] = value


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "dataset without datasetType": lambda d: _set(
        d, "dataset_DatasetPackage", "dataset_datasetType", None
    ),
    "misspelt property": lambda d: by_type(d, "ai_AIPackage")[0].update({"ai_modelType": ["x"]}),
    "property of another class": lambda d: by_type(d, "ai_AIPackage")[0].update(
        {"dataset_datasetType": ["text"]}
    ),
    "value outside the enumeration": lambda d: _set(
        d, "dataset_DatasetPackage", "dataset_confidentialityLevel", "purple"
    ),
    "time without a zone": lambda d: _set(d, "ai_AIPackage", "releaseTime", "2024-01-01T00:00:00"),
    "element without creationInfo": lambda d: _set(d, "ai_AIPackage", "creationInfo", None),
    "relationship to an unknown element": lambda d: relationships(d, "trainedOn")[0].update(
        {"to": ["https://example.org/nowhere"]}
    ),
    "unknown type": lambda d: d["@graph"].append(
        {"type": "ai_AIModel", "spdxId": "https://example.org/x", "creationInfo": "_:creationinfo"}
    ),
    "AI profile minimum missing": lambda d: _set(d, "ai_AIPackage", "releaseTime", None),
    "Dataset profile minimum missing": lambda d: _set(
        d, "dataset_DatasetPackage", "builtTime", None
    ),
    "wrong context": lambda d: d.update(
        {"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld"}
    ),
}


@pytest.fixture(scope="module")
def good_document(trained_project: Path) -> dict[str, Any]:
    document = spdx_document(trained_project, trained_project / "models" / "churn.joblib")
    assert spdx_problems(document) == []
    return document


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_validator_catches_errors(good_document: dict[str, Any], mutation: str) -> None:
    document = copy.deepcopy(good_document)
    MUTATIONS[mutation](document)
    problems = spdx_problems(json.dumps(document))
    assert problems, f"{mutation} was not caught"
