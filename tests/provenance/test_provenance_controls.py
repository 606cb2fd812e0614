"""The provenance, BOM, card and release controls on evidence made by the real commands, in a
project under tmp_path: `ssdf init`, `ssdf keys generate`, `[[signers]]` and `[[models]]` in
ssdf.toml, a CSV trained into a scikit-learn model (joblib) under `ssdf record`, `ssdf data
register`, `ssdf sign`, `ssdf bom`, `ssdf card` and `ssdf release build`, then
`ssdf assess --format json`. Every command gets `--project`, and every file they write goes to
tmp_path: nothing lands in the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from provenance_fixtures import (
    PYTHON,
    Project,
    generate_key,
    make_project,
    ok,
    record,
    ssdf_cli,
    train_command,
)

from ssdf_ai.findings import Outcome
from ssdf_ai.profile import load_catalog
from ssdf_ai.provenance.controls import CONTROLS

IDS = (
    "training-provenance-recorded",
    "data-provenance-tracked",
    "sensitive-data-tracked",
    "bom-generated",
    "cards-generated",
    "release-archived",
)
MODEL = "models/churn.joblib"
DATA = "data/customers.csv"
MODELS = """
[[models]]
path = "models/churn.joblib"
name = "churn"
justification = "A logistic regression on two numeric features: interpretable, instant to train."
"""
# An underscore: cards escape it as Markdown (`ml\\_team`), the control must still find it.
PII_RESTRICTION = "restricted: ml_team only; no public release"
RESTRICTIONS = f'[data.restrictions]\npii = "{PII_RESTRICTION}"\n'
KNOWN = ("--source", "https://example.org/churn.csv", "--license", "CC-BY-4.0",
         "--provenance", "known")  # fmt: skip


def make(tmp_path: Path, *, restrictions: str = "", models: str = MODELS) -> Project:
    """`ssdf init`, key alice trusted by [[signers]], a CSV, train.py and the [[models]] entry."""
    project = make_project(tmp_path, restrictions=restrictions)
    with (project.root / "ssdf.toml").open("a") as handle:
        handle.write(models)
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make(tmp_path)


def assess(project: Project) -> dict[str, dict[str, Any]]:
    """`ssdf assess --format json`: the controls' results and the tasks, by id."""
    code, out, err = ssdf_cli("assess", project.root, "--format", "json", "--no-record")
    assert code == 0, err
    data = json.loads(out)
    return {
        **{c["meta"]["id"]: c["result"] for c in data["controls"]},
        **{t["task_id"]: t for t in data["tasks"]},
    }


def outcome(project: Project, control_id: str) -> tuple[str, str]:
    result = assess(project)[control_id]
    return result["outcome"], result["rationale"]


def register(project: Project, path: str = DATA, *args: str) -> None:
    ok("data", "register", project.root / path, "--project", project.root,
       *(args or KNOWN))  # fmt: skip


def train_on(project: Project, dataset: str = DATA, *extra: str | Path, key: object = True) -> None:
    """Record the training run: the dataset in, the model out."""
    done = record(
        project,
        "--name", "train", "--dataset", dataset, "--input", "train.py", "--output", MODEL,
        *extra, command=train_command(dataset), key=key,  # type: ignore[arg-type]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def sign(project: Project, key: Path | None = None) -> None:
    ok("sign", project.root / MODEL, "--key", key or project.key, "--signature",
       project.root.parent / "churn.sig", "--project", project.root)  # fmt: skip


def bom(project: Project, *, spdx: bool = True) -> None:
    out = project.root.parent / "out"
    extra = ("--spdx-output", out / "churn.spdx.json") if spdx else ()
    ok("bom", project.root / MODEL, "--output", out / "churn.cdx.json", *extra,
       "--project", project.root)  # fmt: skip


def card(project: Project) -> None:
    ok("card", project.root / MODEL, "--output", project.root.parent / "out" / "MODEL_CARD.md",
       "--project", project.root)  # fmt: skip


def data_card(project: Project, path: str = DATA) -> None:
    ok("card", project.root / path, "--data", "--output",
       project.root.parent / "out" / "DATA_CARD.md", "--project", project.root)  # fmt: skip


def release(project: Project, version: str = "1.0.0") -> None:
    ok("release", "build", project.root / MODEL, "--version", version, "--key", project.key,
       "--out", project.root.parent / "releases", "--project", project.root)  # fmt: skip


def everything(project: Project) -> None:
    """The whole flow: register, train, sign, BOMs, cards, release."""
    register(project)
    train_on(project)
    sign(project)
    bom(project)
    card(project)
    data_card(project)
    release(project)


@pytest.fixture(autouse=True)
def _outputs(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()


def test_controls_are_registered_with_metadata_from_the_catalog() -> None:
    code, out, _ = ssdf_cli("controls", "list", "--format", "json")
    assert code == 0
    listed = {c["id"]: c for c in json.loads(out)["controls"]}
    catalog = load_catalog()
    assert {c.id for c in CONTROLS} == set(IDS)
    for control in CONTROLS:
        meta = listed[control.id]
        assert meta["question"]
        assert meta["motivation"]
        assert "`ssdf " in meta["remediation"]
        for task in meta["task_ids"]:
            assert catalog.task(task).id == task
        for item in meta["item_ids"]:
            assert catalog.parent_of(item).id in meta["task_ids"], item
    mapped = {c.id: (set(c.meta.task_ids), set(c.meta.item_ids)) for c in CONTROLS}
    assert mapped["training-provenance-recorded"] == (
        {"PS.3.2", "PW.6.2", "PO.3.3"},
        {"PS.3.2.R1", "PW.6.2.C1", "PO.3.3.N1"},
    )
    assert mapped["data-provenance-tracked"] == ({"PW.3.2"}, {"PW.3.2.N1"})
    assert mapped["sensitive-data-tracked"] == ({"PS.3.2"}, {"PS.3.2.R2"})
    assert mapped["cards-generated"] == ({"PO.1.2"}, {"PO.1.2.N1"})
    assert mapped["release-archived"] == (
        {"PS.3.1"},
        {"PS.3.1.R1", "PS.3.1.R2", "PS.3.1.R3"},
    )


def test_not_satisfied_before_and_satisfied_after_the_whole_flow(project: Project) -> None:
    before = assess(project)
    for control_id in IDS:
        assert before[control_id]["outcome"] == Outcome.NOT_SATISFIED, before[control_id]
    assert "ssdf record" in before["training-provenance-recorded"]["rationale"]
    assert "ssdf bom" in before["bom-generated"]["rationale"]
    assert "ssdf card" in before["cards-generated"]["rationale"]
    assert "ssdf release build" in before["release-archived"]["rationale"]
    for task in ("PS.3.2", "PW.3.2", "PW.6.2"):
        assert before[task]["outcome"] == Outcome.NOT_SATISFIED, task

    everything(project)
    after = assess(project)
    for control_id in IDS:
        assert after[control_id]["outcome"] == Outcome.SATISFIED, after[control_id]
    for task in ("PS.3.2", "PW.3.2", "PW.6.2", "PS.3.1"):
        assert after[task]["outcome"] == Outcome.SATISFIED, after[task]
        assert after[task]["basis"] == "automated"
    provenance = after["training-provenance-recorded"]
    assert "churn (models/churn.joblib): run 'train' signed by alice" in provenance["rationale"]
    assert "Python 3." in provenance["rationale"]
    assert "scikit-learn" in provenance["rationale"]
    assert [link["ref"] for link in provenance["evidence"]] == [".intoto.jsonl#L1"]
    assert "no sensitive data was used" in after["sensitive-data-tracked"]["rationale"]
    assert "CycloneDX and SPDX" in after["bom-generated"]["rationale"]
    assert "churn (models/churn.joblib) 1.0.0" in after["release-archived"]["rationale"]
    # Provenance and documents do not go stale with time: their links carry no date.
    for control_id in IDS:
        assert all(link["observed_at"] is None for link in after[control_id]["evidence"])


# -- training-provenance-recorded ------------------------------------------------------------


def test_a_model_changed_after_its_run_is_not_satisfied(project: Project) -> None:
    train_on(project)
    assert outcome(project, "training-provenance-recorded")[0] == Outcome.SATISFIED
    with (project.root / MODEL).open("ab") as handle:
        handle.write(b"\0")
    got, why = outcome(project, "training-provenance-recorded")
    assert got == Outcome.NOT_SATISFIED
    assert "churn (models/churn.joblib) changed after its run" in why
    assert "models/churn.joblib changed since run 'train', line 1" in why
    # Recording the run that made this version settles it.
    train_on(project)
    assert outcome(project, "training-provenance-recorded")[0] == Outcome.SATISFIED


def test_provenance_signed_by_an_untrusted_key_or_unsigned_does_not_verify(
    project: Project,
) -> None:
    mallory, _ = generate_key(project.root, "mallory")  # not in [[signers]]
    train_on(project, key=mallory)
    got, why = outcome(project, "training-provenance-recorded")
    assert got == Outcome.NOT_SATISFIED
    assert "the provenance of churn (models/churn.joblib) does not verify" in why
    assert "[[signers]]" in why

    train_on(project, DATA, "--unsigned", key=None)
    got, why = outcome(project, "training-provenance-recorded")
    assert got == Outcome.NOT_SATISFIED
    assert "unsigned" in why


def test_a_declared_model_without_a_run_is_partial(tmp_path: Path) -> None:
    second = MODELS + '\n[[models]]\npath = "models/other.joblib"\nname = "other"\n' \
        'justification = "A second model."\n'  # fmt: skip
    project = make(tmp_path, models=second)
    train_on(project)
    got, why = outcome(project, "training-provenance-recorded")
    assert got == Outcome.PARTIAL
    assert "no recorded run produced other (models/other.joblib)" in why


def test_weight_files_no_run_produced_are_partial(tmp_path: Path) -> None:
    folder = MODELS.replace('path = "models/churn.joblib"', 'path = "models"')
    project = make(tmp_path, models=folder)
    train_on(project)
    assert outcome(project, "training-provenance-recorded")[0] == Outcome.SATISFIED
    (project.root / "models" / "extra.pkl").write_bytes(b"\x80\x04N.")
    got, why = outcome(project, "training-provenance-recorded")
    assert got == Outcome.PARTIAL
    assert (
        "weight files of churn (models) were not produced by a recorded run: models/extra.pkl"
        in why
    )


def test_a_failed_training_run_does_not_count(project: Project) -> None:
    (project.root / MODEL).write_bytes(b"\x80\x04K\x01.")  # left over by an earlier attempt
    done = record(
        project, "--name", "broken", "--dataset", DATA, "--output", MODEL,
        command=[PYTHON, "-c", "raise SystemExit(3)"],
    )  # fmt: skip
    assert done.returncode == 3
    got, why = outcome(project, "training-provenance-recorded")
    assert got == Outcome.NOT_SATISFIED
    assert "the only runs that produced churn (models/churn.joblib) failed" in why
    assert "(run 'broken' exited 3)" in why


# -- data-provenance-tracked -----------------------------------------------------------------


def test_unregistered_then_unknown_then_known_data(project: Project) -> None:
    train_on(project)
    got, why = outcome(project, "data-provenance-tracked")
    assert got == Outcome.NOT_SATISFIED
    assert f"1 of 1 dataset(s) used by recorded runs are not registered: {DATA}" in why
    assert "ssdf data register" in why

    register(project, DATA, "--source", "s3://vendor/dump.csv", "--license", "NOASSERTION",
             "--provenance", "unknown")  # fmt: skip
    got, why = outcome(project, "data-provenance-tracked")
    assert got == Outcome.PARTIAL
    assert f"unknown provenance (documented, PW.3.2 N1): {DATA} (source s3://vendor/dump.csv)" in (
        why
    )

    register(project)
    got, why = outcome(project, "data-provenance-tracked")
    assert got == Outcome.SATISFIED
    assert f"registered with known provenance: {DATA}" in why


def test_data_changed_since_its_registration_counts_as_unregistered(project: Project) -> None:
    register(project)
    with (project.root / DATA).open("a") as handle:
        handle.write("7,60.0,1\n")
    train_on(project)
    got, why = outcome(project, "data-provenance-tracked")
    assert got == Outcome.NOT_SATISFIED
    assert f"{DATA} (registered with other content)" in why


# -- sensitive-data-tracked ------------------------------------------------------------------


def test_sensitive_data_restriction_in_provenance_and_card(tmp_path: Path) -> None:
    project = make(tmp_path, restrictions=RESTRICTIONS)
    register(project, DATA, *KNOWN, "--sensitive", "pii")
    train_on(project)
    got, why = outcome(project, "sensitive-data-tracked")
    assert got == Outcome.SATISFIED
    assert f"churn (models/churn.joblib) (pii: {PII_RESTRICTION})" in why
    card(project)  # the card states the restriction (Markdown-escaped)
    assert "ml\\_team" in (tmp_path / "out" / "MODEL_CARD.md").read_text()
    assert outcome(project, "sensitive-data-tracked")[0] == Outcome.SATISFIED


def test_data_registered_as_sensitive_after_the_run_leaves_the_model_unrestricted(
    tmp_path: Path,
) -> None:
    project = make(tmp_path, restrictions=RESTRICTIONS)
    register(project)
    train_on(project)
    assert "no sensitive data was used" in outcome(project, "sensitive-data-tracked")[1]
    register(project, DATA, *KNOWN, "--sensitive", "pii")  # the same content, now sensitive
    got, why = outcome(project, "sensitive-data-tracked")
    assert got == Outcome.NOT_SATISFIED
    assert "trained on pii data from data/customers.csv" in why
    assert "carries no restriction" in why
    assert "ssdf record" in why
    train_on(project)  # recorded again: the provenance now carries the restriction
    assert outcome(project, "sensitive-data-tracked")[0] == Outcome.SATISFIED


def test_a_card_older_than_the_sensitive_training_lacks_the_restriction(tmp_path: Path) -> None:
    project = make(tmp_path, restrictions=RESTRICTIONS)
    (project.root / "data" / "people.csv").write_text((project.root / DATA).read_text())
    register(project)
    register(project, "data/people.csv", *KNOWN, "--sensitive", "pii")
    train_on(project)
    card(project)
    train_on(project, "data/people.csv")  # the model is now made from pii data
    got, why = outcome(project, "sensitive-data-tracked")
    assert got == Outcome.NOT_SATISFIED
    assert "its model card, run:" in why
    assert "does not state the restriction for pii" in why
    assert "ssdf card MODEL" in why
    card(project)
    assert outcome(project, "sensitive-data-tracked")[0] == Outcome.SATISFIED


def test_a_restriction_changed_in_the_configuration_is_partial(tmp_path: Path) -> None:
    project = make(tmp_path, restrictions=RESTRICTIONS)
    register(project, DATA, *KNOWN, "--sensitive", "pii")
    train_on(project)
    config = project.root / "ssdf.toml"
    config.write_text(config.read_text().replace(PII_RESTRICTION, "restricted: nobody"))
    got, why = outcome(project, "sensitive-data-tracked")
    assert got == Outcome.PARTIAL
    assert "[data] now says 'restricted: nobody'" in why


# -- bom-generated, cards-generated, release-archived ----------------------------------------


def test_a_bom_older_than_the_newest_signature_is_stale(project: Project) -> None:
    train_on(project)
    bom(project, spdx=False)
    got, why = outcome(project, "bom-generated")
    assert got == Outcome.SATISFIED
    assert "(CycloneDX, run:" in why
    sign(project)
    got, why = outcome(project, "bom-generated")
    assert got == Outcome.STALE
    assert "is older than its newest signature (run:" in why
    bom(project)
    assert outcome(project, "bom-generated")[0] == Outcome.SATISFIED


def test_a_bom_older_than_the_newest_training_run_is_stale(project: Project) -> None:
    train_on(project)
    bom(project)
    train_on(project)
    got, why = outcome(project, "bom-generated")
    assert got == Outcome.STALE
    assert "its newest training run ('train', .intoto.jsonl line 2)" in why


def test_cards_for_models_and_registered_datasets(project: Project) -> None:
    register(project)
    train_on(project)
    card(project)
    got, why = outcome(project, "cards-generated")
    assert got == Outcome.PARTIAL
    assert f"no card is recorded for 1 of 2 model(s) and registered dataset(s): dataset {DATA}" in (
        why
    )
    assert "ssdf card DATASET --data" in why
    data_card(project)
    assert outcome(project, "cards-generated")[0] == Outcome.SATISFIED
    register(project, DATA, "--source", "https://example.org/v2.csv", "--license", "CC0-1.0",
             "--provenance", "known")  # fmt: skip
    got, why = outcome(project, "cards-generated")
    assert got == Outcome.STALE
    assert f"dataset {DATA} (run:" in why
    assert "older than its newest registration" in why


def test_a_release_before_the_newest_signature_is_stale(project: Project) -> None:
    everything(project)
    assert outcome(project, "release-archived")[0] == Outcome.SATISFIED
    train_on(project)
    sign(project)
    got, why = outcome(project, "release-archived")
    assert got == Outcome.STALE
    assert "ssdf release build" in why
    release(project, "1.1.0")
    got, why = outcome(project, "release-archived")
    assert got == Outcome.SATISFIED
    assert "churn (models/churn.joblib) 1.1.0" in why


def test_a_release_without_provenance_or_justification_is_partial(tmp_path: Path) -> None:
    project = make(tmp_path, models="")  # no [[models]]: the model files found count
    (project.root / "models" / "churn.joblib").write_bytes(b"\x80\x04K\x01.")  # no recorded run
    sign(project)
    release(project)
    got, why = outcome(project, "release-archived")
    assert got == Outcome.PARTIAL
    assert "the release of models/churn.joblib 1.0.0 holds no training provenance" in why
    assert "no justification for choosing models/churn.joblib is documented" in why
    assert "[[models]]" in why


def test_no_model_at_all_is_not_applicable(tmp_path: Path) -> None:
    project = make(tmp_path, models="")
    got = assess(project)
    for control_id in ("training-provenance-recorded", "bom-generated", "release-archived"):
        assert got[control_id]["outcome"] == Outcome.NOT_APPLICABLE, got[control_id]
        assert "[[models]]" in got[control_id]["rationale"]
