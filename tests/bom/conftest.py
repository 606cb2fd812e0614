"""Fixtures for the BOM tests (helpers live in bom_helpers.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bom_helpers import make_bert, make_project, ok, record_training, register


@pytest.fixture(scope="session")
def bert_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT with a model card, saved once per session (copy it before changing it)."""
    return make_bert(tmp_path_factory.mktemp("bert") / "tiny-bert")


@pytest.fixture
def bert_project(tmp_path: Path, bert_template: Path) -> Callable[..., tuple[Path, Path]]:
    """Make a project holding a copy of the tiny BERT: ``(root, model folder)``."""

    def make(extra_config: str = "", *, init: bool = True) -> tuple[Path, Path]:
        root = tmp_path / "proj"
        if init:
            make_project(root, extra_config=extra_config)
        else:
            (root / "models").mkdir(parents=True)
        model = root / "models" / "tiny-bert"
        shutil.copytree(bert_template, model)
        return root, model

    return make


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose model was trained by a recorded run and signed (do not change it).

    ``data/customers.csv`` is registered (internal source, a LicenseRef licence, known
    provenance, sensitive: pii); ``data/extra.csv`` is consumed too but not registered. The
    run (``ssdf record``, signed by alice) writes ``models/churn.joblib``, which ``ssdf sign``
    then signs (``models/churn.joblib.sig``, recorded in the evidence store).
    """
    root = make_project(tmp_path_factory.mktemp("trained") / "proj")
    register(
        root,
        "data/customers.csv",
        "--source",
        "internal:crm/customers",
        "--license",
        "LicenseRef-acme-internal",
        "--provenance",
        "known",
        "--sensitive",
        "pii",
        "--description",
        "Customer contracts and churn labels.",
    )
    record_training(root, "--dataset", "data/extra.csv")
    ok(
        "sign",
        root / "models" / "churn.joblib",
        "--key",
        root / "keys" / "alice.key",
        "--project",
        root,
        "--quiet",
    )
    return root
