"""Real model folders and projects for the BOM tests, and the two formats' validators.

- :func:`make_bert` saves a tiny ``transformers`` BERT (safetensors) with an optional Hugging
  Face model card; :func:`make_sklearn` fits and joblib's a logistic regression.
- :func:`make_project` runs ``ssdf init``, makes a signing key that ``[[signers]]`` trusts, and
  writes a CSV and a training script; :func:`record_training` runs ``ssdf record`` for real.
- :func:`cyclonedx_problems` validates with cyclonedx-python-lib's strict JSON validator
  (CycloneDX 1.6 schema); :func:`spdx_problems` loads a document with the official SPDX 3.0.1
  Python bindings (``spdx-python-model``), links it, serialises it again (which enforces every
  required property and cardinality) and checks the AI and Dataset profiles' extra minimums.
"""

from __future__ import annotations

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
EXTRA_CSV = "tenure,charges\n2,10.0\n"

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
joblib.dump(LogisticRegression().fit(X, y), out)
'''

CARD = """\
---
license: apache-2.0
datasets:
- imdb
base_model: google-bert/bert-base-uncased
pipeline_tag: feature-extraction
tags:
- bom-test
language:
- en
model-index:
- name: tiny-bert
  results:
  - task:
      type: text-classification
      name: Text Classification
    dataset:
      type: imdb
      name: IMDB
      split: test
    metrics:
    - type: accuracy
      value: 0.91
      name: Accuracy
---
# tiny-bert

A tiny BERT encoder for testing bills of materials.

## Intended uses

Testing BOM generation; nothing else.

## Out-of-scope use

Any decision about people.

## Limitations

It has 32 hidden units and knows nothing.

## Bias, Risks, and Limitations

It may reproduce the biases of IMDB reviews.

## Recommendations

Do not deploy it.

## Training data

Random initialisation; no training at all.
"""


# -- models ----------------------------------------------------------------------------------


def make_bert(folder: Path, *, card: str | None = CARD) -> Path:
    """Save a tiny BERT (config.json + model.safetensors) and, if given, a README.md card."""
    import transformers

    config = transformers.BertConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        vocab_size=99,
    )
    transformers.BertModel(config).save_pretrained(folder)
    if card is not None:
        (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


def make_sklearn(path: Path) -> Path:
    """Fit a logistic regression and joblib it to ``path``."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]), path)
    return path


def safetensors_parameters(path: Path) -> int:
    """Element count of a safetensors file, by the safetensors library itself."""
    import math

    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return sum(math.prod(handle.get_slice(k).get_shape()) for k in handle.keys())  # noqa: SIM118


# -- projects --------------------------------------------------------------------------------


def ssdf_cli(*args: str | Path) -> tuple[int, str, str]:
    """Run the CLI in-process: ``(exit code, stdout, stderr)``."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str | Path) -> str:
    """Run the CLI in-process and require exit code 0; return stdout."""
    code, out, err = ssdf_cli(*args)
    assert code == 0, out + err
    return out


def make_project(root: Path, *, extra_config: str = "") -> Path:
    """``ssdf init`` with data/, models/, a training script and key ``alice`` in [[signers]]."""
    (root / "data").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "data" / "customers.csv").write_text(CSV)
    (root / "data" / "extra.csv").write_text(EXTRA_CSV)
    (root / "train.py").write_text(TRAIN)
    ok("init", root, "--quiet")
    ok("keys", "generate", "alice", "--unsafe-no-passphrase", "--project", root, "--quiet")
    with (root / "ssdf.toml").open("a") as handle:
        handle.write('\n[[signers]]\nname = "alice"\npublic_key = "keys/alice.pub"\n')
        if extra_config:
            handle.write("\n" + extra_config)
    return root


def register(root: Path, path: str, *args: str) -> None:
    """``ssdf data register PATH ARGS --project ROOT``."""
    ok("data", "register", root / path, *args, "--project", root, "--quiet")


def record_training(
    root: Path, *extra: str | Path, out: str = "models/churn.joblib"
) -> subprocess.CompletedProcess[str]:
    """``ssdf record --key alice --dataset data/customers.csv ... -- python train.py`` for real."""
    argv = [
        str(SSDF),
        "record",
        "--project",
        str(root),
        "--key",
        str(root / "keys" / "alice.key"),
        "--name",
        "train",
        "--dataset",
        "data/customers.csv",
        "--input",
        "train.py",
        "--output",
        out,
        *(str(e) for e in extra),
        "--",
        PYTHON,
        "train.py",
        "data/customers.csv",
        out,
    ]
    done = subprocess.run(
        argv,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    return done


# -- validators ------------------------------------------------------------------------------


def cyclonedx_problems(document: dict[str, Any] | str) -> list[str]:
    """Problems the CycloneDX 1.6 strict JSON validator finds; empty when valid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = document if isinstance(document, str) else json.dumps(document)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is None:
        return []
    data = error.data
    where = "/".join(str(p) for p in getattr(data, "absolute_path", []))
    return [f"{where}: {getattr(data, 'message', data)}"]


# What the SPDX 3.0.1 AI and Dataset profiles require of their packages ("External properties
# restrictions", minCount 1): a document that declares the profile must meet them.
AI_REQUIRED = (
    "suppliedBy",
    "software_downloadLocation",
    "software_packageVersion",
    "software_primaryPurpose",
    "releaseTime",
)
DATASET_REQUIRED = (
    "originatedBy",
    "software_downloadLocation",
    "software_primaryPurpose",
    "releaseTime",
    "builtTime",
)


def spdx_problems(document: dict[str, Any] | str) -> list[str]:
    """Problems the SPDX 3.0.1 bindings find in a JSON-LD document; empty when valid.

    Deserialising rejects unknown types and properties and wrong values (enums, patterns,
    datatypes); linking finds references to elements that are not in the document;
    serialising again enforces required properties and cardinalities. On top, a declared AI or
    Dataset profile needs its packages' extra required properties.
    """
    from spdx_python_model.bindings.v3_0_1 import model

    data = json.loads(document) if isinstance(document, str) else document
    problems: list[str] = []
    if data.get("@context") != "https://spdx.org/rdf/3.0.1/spdx-context.jsonld":
        problems.append(f"@context is {data.get('@context')!r}")
    objects = model.SHACLObjectSet()
    try:
        model.JSONLDDeserializer().deserialize_data(data, objects)
    except (KeyError, TypeError, ValueError) as exc:
        return [*problems, f"deserialise: {type(exc).__name__}: {exc}"]
    missing = objects.link()
    problems += [f"reference to an element not in the document: {m}" for m in sorted(missing)]
    try:
        model.JSONLDSerializer().serialize_data(objects)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"serialise: {type(exc).__name__}: {exc}")
    graph = data.get("@graph", [])
    documents = [e for e in graph if e.get("type") == "SpdxDocument"]
    if len(documents) != 1:
        problems.append(f"{len(documents)} SpdxDocument elements, not 1")
        return problems
    profiles = set(documents[0].get("profileConformance", []))
    ids = {e.get("spdxId") for e in graph}
    listed = set(documents[0].get("element", [])) | set(documents[0].get("rootElement", []))
    problems += [
        f"element {i} is not listed in the SpdxDocument"
        for i in sorted(x for x in ids - listed if x and x != documents[0]["spdxId"])
    ]
    for kind, profile, required in (
        ("ai_AIPackage", "ai", AI_REQUIRED),
        ("dataset_DatasetPackage", "dataset", DATASET_REQUIRED),
    ):
        if profile not in profiles:
            continue
        for element in graph:
            if element.get("type") == kind:
                problems += [
                    f"{element['spdxId']}: profile {profile} requires {key}"
                    for key in required
                    if not element.get(key)
                ]
    return problems


def by_type(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The SPDX elements of one type."""
    return [e for e in document["@graph"] if e.get("type") == kind]


def relationships(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The SPDX relationships of one type."""
    return [
        e
        for e in document["@graph"]
        if e.get("type") in ("Relationship", "LifecycleScopedRelationship")
        and e.get("relationshipType") == kind
    ]


def properties(component: dict[str, Any]) -> dict[str, list[str]]:
    """A CycloneDX component's properties by name."""
    out: dict[str, list[str]] = {}
    for prop in component.get("properties", []):
        out.setdefault(prop["name"], []).append(prop.get("value", ""))
    return out
