"""``ssdf card``: model and data cards filled from recorded evidence, never invented.

Every test builds a real project under ``tmp_path`` with the ``ssdf`` command line itself
(``init``, ``keys generate``, ``data register``, ``record``, ``scan``, ``sign``, ``verify``) and a
small real model folder (safetensors weights, ``config.json``, a README with Hugging Face front
matter); every command gets ``--project``, so nothing is recorded in the repository. The project
builder here is shared with ``test_release.py``.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import Result
from safetensors.numpy import save_file
from typer.testing import CliRunner

from ssdf_ai.cli import app

README = """\
---
license: apache-2.0
library_name: safetensors
tags: [tabular, churn]
pipeline_tag: tabular-classification
language: [en]
datasets: [org/declared]
---

# churn-net

A tiny network for the tests.

## Intended use

Scoring churn risk in tests.

## Out-of-scope use

Decisions about real people.

## Limitations and risks

Trained on eight bytes of data; knows nothing.

## Training data

Said to be synthetic.
"""

TRAIN = """\
import json, pathlib, sys
import numpy as np
from safetensors.numpy import save_file

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
save_file({"w": np.arange(8, dtype=np.float32)}, str(out / "model.safetensors"))
config = {"architectures": ["ChurnNet"], "model_type": "churn-net"}
(out / "config.json").write_text(json.dumps(config))
(out / "metrics.json").write_text(json.dumps({"accuracy": 0.91, "eval": {"f1": 0.8}, "epoch": 3}))
"""

SECURITY = """\
# Security policy

This covers our AI models. Report vulnerabilities to security@example.org or through
https://example.org/security.
"""


def cli(*args: str | Path, code: int | None = 0) -> Result:
    """Run ``ssdf`` in-process; check the exit code unless ``code`` is None."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def write_model(folder: Path, *, readme: str | None = README, value: float = 1.0) -> Path:
    """A small real model folder: safetensors weights, config.json and a README."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.full(4, value, dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(
        json.dumps({"architectures": ["ChurnNet"], "model_type": "churn-net"})
    )
    if readme is not None:
        (folder / "README.md").write_text(readme)
    return folder


def init_project(root: Path) -> Path:
    """``ssdf init`` and a key pair ``alice`` named in ``[[signers]]``."""
    root.mkdir(parents=True, exist_ok=True)
    cli("init", root, "-q")
    cli("keys", "generate", "alice", "--unsafe-no-passphrase", "--project", root, "-q")
    with (root / "ssdf.toml").open("a") as config:
        config.write('\n[[signers]]\nname = "alice"\npublic_key = "keys/alice.pub"\n')
    return root


def add_models_entry(root: Path, **fields: str) -> None:
    """Append a ``[[models]]`` entry to the project's ssdf.toml."""
    lines = ["", "[[models]]", *(f"{k} = {json.dumps(v)}" for k, v in fields.items())]
    with (root / "ssdf.toml").open("a") as config:
        config.write("\n".join(lines) + "\n")


def full_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a registered dataset, a recorded training run, a scan, a signature and a
    verification of ``models/churn``, SECURITY.md and a ``[[models]]`` entry."""
    init_project(root)
    (root / "SECURITY.md").write_text(SECURITY)
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text("a,b\n1,2\n")
    (root / "train.py").write_text(TRAIN)
    add_models_entry(
        root,
        path="models/churn",
        name="churn-net",
        justification="A small network is enough for tabular churn and easy to audit.",
        base_model="hf://org/base-net",
        license="Apache-2.0",
    )
    key = root / "keys" / "alice.key"
    cli("data", "register", root / "data" / "train.csv", "--source", "hf://datasets/org/train",
        "--license", "CC-BY-4.0", "--provenance", "known", "--sensitive", "pii",
        "--project", root, "-q")  # fmt: skip
    monkeypatch.chdir(root)
    cli("record", "--name", "train", "--dataset", "data/train.csv", "--output", "models/churn",
        "--key", key, "--project", root, "-q", "--", sys.executable, "train.py",
        "models/churn")  # fmt: skip
    (root / "models" / "churn" / "README.md").write_text(README)
    model = root / "models" / "churn"
    cli("sign", model, "--key", key, "--project", root, "-q")
    cli("scan", model, "--project", root, "-q")
    cli("verify", model, "--key", root / "keys" / "alice.pub", "--project", root, "-q")
    return root


def split_card(text: str) -> tuple[dict[str, Any], str]:
    """The YAML header (parsed with yaml.safe_load) and the body of a card."""
    assert text.startswith("---\n"), text[:200]
    end = text.index("\n---\n", 4)
    header = yaml.safe_load(text[4:end])
    assert isinstance(header, dict)
    return header, text[end + 5 :].lstrip("\n")


def section(body: str, title: str) -> str:
    """The text of one ``## title`` section."""
    body = "\n" + body
    start = body.index(f"\n## {title}\n")
    rest = body[start + len(title) + 5 :]
    following = rest.find("\n## ")
    return rest if following == -1 else rest[:following]


SECTIONS = (
    "Model details",
    "Intended use",
    "Limitations",
    "Why this model",
    "Training data",
    "Training process",
    "Evaluation",
    "Security",
    "Reporting problems",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return full_project(tmp_path_factory.mktemp("card") / "proj", monkeypatch)


@pytest.fixture(scope="module")
def card_text(project: Path) -> str:
    return cli("card", project / "models" / "churn", "--project", project, "--no-record").stdout


# -- the model card from full evidence -----------------------------------------------------


def test_header_is_hugging_face_yaml_filled_from_evidence(card_text: str) -> None:
    header, _ = split_card(card_text)
    assert header["license"] == "apache-2.0"  # ssdf.toml [[models]] Apache-2.0, HF spelling
    assert header["base_model"] == "hf://org/base-net"
    assert header["pipeline_tag"] == "tabular-classification"
    assert header["language"] == ["en"]
    assert header["tags"] == ["tabular", "churn"]
    # Declared in the README, and the registered training dataset's hub id from the run.
    assert header["datasets"] == ["org/declared", "org/train"]
    index = header["model-index"]
    assert index[0]["name"] == "churn-net"
    result = index[0]["results"][0]
    assert result["task"] == {"type": "tabular-classification"}
    assert result["dataset"]["name"] == "org/train"
    values = {m["type"]: m["value"] for m in result["metrics"]}
    assert values == {"accuracy": 0.91, "eval.f1": 0.8}  # "epoch" is not a metric


def test_every_section_is_present_in_order(card_text: str) -> None:
    _, body = split_card(card_text)
    positions = [body.index(f"\n## {title}\n") for title in SECTIONS]
    assert len(set(positions)) == len(SECTIONS)
    assert positions == sorted(positions)
    assert body.startswith("# Model card: churn-net")


def test_model_details_name_the_signed_digest_and_sources(project: Path, card_text: str) -> None:
    _, body = split_card(card_text)
    details = section(body, "Model details")
    signature = json.loads((project / "models" / "churn" / "model.sig").read_text())
    import base64

    statement = json.loads(base64.b64decode(signature["dsseEnvelope"]["payload"]))
    root = statement["subject"][0]["digest"]["sha256"]
    assert f"- Model digest: `sha256:{root}`" in details
    assert "ChurnNet; model type churn-net (from `config.json`)" in details
    assert "safetensors (1)" in details
    assert "`hf://org/base-net` (from ssdf.toml [[models]])" in details
    assert "`Apache-2.0` (from ssdf.toml [[models]])" in details


def test_readme_sections_are_reused_when_config_has_none(card_text: str) -> None:
    _, body = split_card(card_text)
    intended = section(body, "Intended use")
    assert "> Scoring churn risk in tests." in intended
    assert "From `models/churn/README.md`" in intended
    assert "### Out-of-scope use" in intended
    assert "> Decisions about real people." in intended
    assert "> Trained on eight bytes of data; knows nothing." in section(body, "Limitations")
    justification = "A small network is enough for tabular churn and easy to audit."
    assert justification in section(body, "Why this model")


def test_sensitive_training_data_carries_its_restriction(card_text: str) -> None:
    intended = section(split_card(card_text)[1], "Intended use")
    assert "Access restriction (trained on pii data" in intended


def test_training_data_shows_the_registration(card_text: str) -> None:
    data = section(split_card(card_text)[1], "Training data")
    assert "`data/train.csv`" in data
    assert "source `hf://datasets/org/train`" in data
    assert "licence `CC-BY-4.0`" in data
    assert "provenance known" in data
    assert "sensitive data: pii" in data
    assert "Declared in `models/churn/README.md` (not verified" in data
    assert "> Said to be synthetic." in data


def test_training_process_names_command_times_environment(card_text: str) -> None:
    process = section(split_card(card_text)[1], "Training process")
    assert "Run `train` (`.intoto.jsonl` line 1; provenance signed by alice, verified)" in process
    assert "train.py models/churn`" in process
    assert "Started 20" in process
    assert "exit code 0" in process
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in process
    assert "safetensors" in process
    assert "GPU:" in process
    assert "git" in process


def test_evaluation_reads_metrics_the_run_wrote(card_text: str) -> None:
    evaluation = section(split_card(card_text)[1], "Evaluation")
    assert (
        "- accuracy: 0.91 (from `models/churn/metrics.json`, an output of run `train`)"
        in evaluation
    )
    assert "epoch" not in evaluation


def test_security_lists_scan_signature_and_verification(card_text: str) -> None:
    security = section(split_card(card_text)[1], "Security")
    assert "- Scan: **clean**" in security
    assert "- Signature: OpenSSF model signing, recorded by run" in security
    assert "- Verification: **verified**" in security
    assert "- Open findings: none" in security
    assert "Not recorded: an assessment against SP 800-218A — run `ssdf assess`" in security


def test_reporting_names_security_md_and_its_contacts(card_text: str) -> None:
    reporting = section(split_card(card_text)[1], "Reporting problems")
    assert "`SECURITY.md`" in reporting
    assert "security@example.org" in reporting
    assert "https://example.org/security" in reporting


def test_card_is_recorded_as_evidence(project: Path) -> None:
    from ssdf_ai.store import EvidenceStore

    out = project.parent / "card.md"
    cli("card", project / "models" / "churn", "--project", project, "--output", out, "-q")
    with EvidenceStore.open(project, create=False) as store:
        (artifact,) = store.artifacts("model-card", limit=1)
        detail = store.get_run(artifact.run_id)
        assert store.read_blob(artifact.digest).decode() == out.read_text()
    assert artifact.media_type == "text/markdown"
    assert detail.run.command == "card"
    (subject,) = detail.subjects
    assert (subject.kind.value, subject.name) == ("model", "models/churn")
    assert subject.digest is not None


def test_changed_files_are_flagged_against_the_signature(tmp_path: Path) -> None:
    root = init_project(tmp_path / "p")
    model = write_model(root / "models" / "m")
    cli("sign", model, "--key", root / "keys" / "alice.key", "--project", root, "-q")
    write_model(model, value=2.0)
    body = split_card(cli("card", model, "--project", root, "--no-record").stdout)[1]
    details = section(body, "Model details")
    assert "**The files differ from the newest signature**" in details
    assert "changed model.safetensors" in details
    assert "the model's files no longer match this signature" in section(body, "Security")


# -- missing evidence is said, never left out ----------------------------------------------

EXPECTED_GAPS = (
    ("Model details", "Not recorded: the base model"),
    ("Model details", "Not recorded: the model's licence"),
    ("Intended use", "Not recorded: the intended use"),
    ("Limitations", "Not recorded: the model's limitations"),
    ("Why this model", "Not recorded: why this model or architecture was chosen"),
    ("Training data", "Not recorded: the training data: no recorded run produced this model"),
    ("Training process", "Not recorded: a recorded training run that produced this model"),
    ("Evaluation", "Not recorded: evaluation metrics"),
    ("Security", "Not recorded: a scan of the model's files — run `ssdf scan models/bare`"),
    ("Security", "Not recorded: a signature of the model — run `ssdf sign models/bare --key KEY`"),
    ("Security", "Not recorded: a verification of the signature — run `ssdf verify"),
    ("Security", "Not recorded: an assessment against SP 800-218A — run `ssdf assess`"),
    ("Reporting problems", "Not recorded: how to report a vulnerability"),
)


@pytest.fixture(scope="module")
def bare_card(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("bare") / "p"
    root.mkdir()
    cli("init", root, "-q")
    write_model(root / "models" / "bare", readme=None)
    return cli("card", root / "models" / "bare", "--project", root, "--no-record").stdout


@pytest.mark.parametrize(("title", "line"), EXPECTED_GAPS, ids=[g[1][14:50] for g in EXPECTED_GAPS])
def test_missing_evidence_is_a_not_recorded_line(bare_card: str, title: str, line: str) -> None:
    assert not bare_card.startswith("---"), "no evidence, no header"
    assert f"- {line}" in section(bare_card, title)


def test_missing_evidence_lines_name_a_command(bare_card: str) -> None:
    gaps = [line for line in bare_card.splitlines() if "Not recorded:" in line]
    assert len(gaps) >= len(EXPECTED_GAPS)
    assert all(" — " in line for line in gaps), gaps


def test_security_md_without_contact_is_said(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    cli("init", root, "-q")
    (root / "SECURITY.md").write_text("# Security\n\nWe care about AI model security.\n")
    model = write_model(root / "m", readme=None)
    body = cli("card", model, "--project", root, "--no-record").stdout
    reporting = section(body, "Reporting problems")
    assert "`SECURITY.md`" in reporting
    assert "Not recorded: a contact to report to" in reporting


def test_unregistered_training_data_is_stated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_project(tmp_path / "p")
    (root / "train.py").write_text(TRAIN)
    (root / "data.csv").write_text("x\n1\n")
    monkeypatch.chdir(root)
    cli("record", "--dataset", "data.csv", "--output", "models/m", "--key",
        root / "keys" / "alice.key", "--project", root, "-q", "--", sys.executable, "train.py",
        "models/m")  # fmt: skip
    body = cli("card", root / "models" / "m", "--project", root, "--no-record").stdout
    data = section(body, "Training data")
    assert "`data.csv`" in data
    assert "**not registered**" in data
    assert "provenance unknown" in data
    assert "run `ssdf data register data.csv --source URI --license ID`" in data


def test_readme_model_index_is_carried_over(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    cli("init", root, "-q")
    readme = README.replace(
        "datasets: [org/declared]\n",
        textwrap.dedent(
            """\
            model-index:
            - name: churn-net
              results:
              - task: {type: tabular-classification}
                dataset: {name: churn-test, type: churn-test}
                metrics:
                - {type: accuracy, value: 0.77, name: Accuracy}
            """
        ),
    )
    model = write_model(root / "m", readme=readme)
    header, body = split_card(cli("card", model, "--project", root, "--no-record").stdout)
    assert header["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.77
    assert "- Accuracy: 0.77 on churn-test (from `m/README.md` model-index)" in body


def test_front_matter_is_parsed_safely(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    cli("init", root, "-q")
    hostile = "---\nlicense: !!python/object/apply:os.system ['touch pwned']\n---\n# x\n"
    model = write_model(root / "m", readme=hostile)
    result = cli("card", model, "--project", root, "--no-record")
    assert not (root / "pwned").exists()
    assert "Not recorded: the model's licence" in result.stdout
    assert "`m/README.md` is used without its front matter: it is not valid YAML" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{root}/missing"], "does not exist"),
        (["{outside}"], "outside the project"),
    ],
)
def test_unusable_paths_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    cli("init", root, "-q")
    outside = write_model(tmp_path / "elsewhere", readme=None)
    argv = [a.format(root=root, outside=outside) for a in args]
    result = cli("card", *argv, "--project", root, code=2)
    assert message in result.output


# -- data cards ----------------------------------------------------------------------------


def test_data_card_of_a_registered_dataset(project: Path) -> None:
    result = cli("card", project / "data" / "train.csv", "--data", "--project", project)
    header, body = split_card(result.stdout)
    assert header == {"license": "cc-by-4.0"}
    assert body.startswith("# Data card: data/train.csv")
    dataset = section(body, "Dataset")
    for line in (
        "- Source: `hf://datasets/org/train`",
        "- Licence: `CC-BY-4.0`",
        "- Provenance: known",
        "- Sensitive data: pii",
    ):
        assert line in dataset
    assert "**matches** the content now" in section(body, "Integrity")
    assert "- Files: 1" in section(body, "Size")
    assert "- Bytes: 8" in section(body, "Size")
    used = section(body, "Used by")
    assert "Run `train` (`.intoto.jsonl` line 1, verified)" in used
    assert "- Models it fed: `models/churn/model.safetensors`" in used
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(project, create=False) as store:
        (artifact,) = store.artifacts("data-card", limit=1)
        (subject,) = store.get_run(artifact.run_id).subjects
    assert artifact.media_type == "text/markdown"
    assert (subject.kind.value, subject.name) == ("dataset", "data/train.csv")


def test_data_card_flags_a_changed_dataset(tmp_path: Path) -> None:
    root = init_project(tmp_path / "p")
    data = root / "data"
    data.mkdir()
    (data / "a.csv").write_text("x\n1\n")
    (data / "b.csv").write_text("x\n2\n")
    cli("data", "register", data, "--source", "internal:crm", "--license", "NOASSERTION",
        "--provenance", "unknown", "--project", root, "-q")  # fmt: skip
    (data / "b.csv").write_text("x\n3\n")
    body = cli("card", data, "--data", "--project", root, "--no-record").stdout
    assert not body.startswith("---")  # NOASSERTION is no licence to put in a header
    assert "- Provenance: unknown" in body
    assert "**differs**: the dataset changed since it was registered" in body
    assert "- Files: 2" in body
    assert "Not recorded: a recorded run that used this dataset" in body


def test_data_card_of_an_unregistered_dataset(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    cli("init", root, "-q")
    (root / "d.csv").write_text("x\n")
    body = cli("card", root / "d.csv", "--data", "--project", root, "--no-record").stdout
    assert "Not recorded: a registration (source, licence, provenance, sensitivity)" in section(
        body, "Dataset"
    )
    assert "Not recorded: a registered digest to compare with" in section(body, "Integrity")
