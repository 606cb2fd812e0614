"""``ssdf data augment --adversarial``: FGSM and PGD against real scikit-learn (skops) and
PyTorch (TorchScript) classifiers; samples kept apart with their parameters; pickles and models
that do not scan clean are never loaded; evidence and the PW.3.3 control."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app

EPS = 0.1


def _ssdf(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def digits() -> tuple[Any, Any]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype(np.float32), y


@pytest.fixture
def project(tmp_path: Path, digits: tuple[Any, Any]) -> Path:
    (tmp_path / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    x, y = digits
    np.savez(tmp_path / "digits.npz", X=x, y=y)
    return tmp_path


def _skops(path: Path, model: Any, digits: tuple[Any, Any]) -> Path:
    import skops.io as sio

    model.fit(*digits)
    sio.dump(model, path)
    return path


def _augment(project: Path, model: Path, *extra: str) -> dict[str, Any]:
    code, out, err = _ssdf(
        "data", "augment", project / "digits.npz", "--adversarial", "--model", model,
        "--label", "label", "--to", project / "adv.npz", "--project", project, "-f", "json",
        *extra,
    )  # fmt: skip
    assert code == 0, out + err
    return dict(json.loads(out))


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_linear_pipeline_is_attacked_with_its_exact_gradient(
    project: Path, digits: tuple[Any, Any], attack: str
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    model = _skops(
        project / "lr.skops",
        Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=500))]),
        digits,
    )
    report = _augment(project, model, "--attack", attack, "--eps", str(EPS), "--no-record")
    assert report["method"] == "gradient"
    assert report["clean_accuracy"] > 0.95
    assert report["adversarial_accuracy"] < report["clean_accuracy"] - 0.4
    x, y = digits
    with np.load(project / "adv.npz", allow_pickle=False) as samples:
        adv, rows, labels = samples["X"], samples["source_row"], samples["y"]
    assert len(adv) == report["rows"] == round(0.1 * len(x))
    assert np.all(np.abs(adv - x[rows]) <= EPS + 1e-6)  # inside the eps ball
    assert adv.min() >= 0.0
    assert adv.max() <= 1.0
    assert [int(v) for v in labels] == [int(v) for v in y[rows]]
    parameters = json.loads((project / "adv.npz.json").read_text())
    assert parameters["adversarial"] is True
    assert parameters["attack"]["attack"] == attack
    assert parameters["attack"]["eps"] == EPS
    assert parameters["model"]["path"] == "lr.skops"


def test_other_classifiers_are_attacked_through_a_surrogate(
    project: Path, digits: tuple[Any, Any]
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = _skops(project / "hgb.skops", HistGradientBoostingClassifier(max_iter=30), digits)
    report = _augment(project, model, "--eps", "0.2", "--no-record")
    assert report["method"] == "surrogate"
    assert report["adversarial_accuracy"] < report["clean_accuracy"]


def test_torchscript_classifier_is_attacked_with_autograd(
    project: Path, digits: tuple[Any, Any]
) -> None:
    torch = pytest.importorskip("torch", reason="the torch extra is needed for TorchScript")
    torch.manual_seed(0)
    x, y = digits
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    inputs, targets = torch.as_tensor(x), torch.as_tensor(y)
    for _ in range(150):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(inputs), targets).backward()
        optimiser.step()
    path = project / "net.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    report = _augment(project, path, "--attack", "fgsm", "--eps", "0.15", "--no-record")
    assert report["method"] == "autograd"
    assert report["clean_accuracy"] > 0.9
    assert report["adversarial_accuracy"] < report["clean_accuracy"] - 0.3


class _Canary:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.target}",))


def test_pickles_and_models_that_do_not_scan_clean_are_never_loaded(project: Path) -> None:
    canary = project / "CANARY"
    (project / "model.skops").write_bytes(pickle.dumps(_Canary(canary)))
    (project / "model.pkl").write_bytes(pickle.dumps({"weights": [1.0]}))
    for name, expected in (("model.skops", "SSDF-SCAN-001"), ("model.pkl", "never loaded")):
        code, _, err = _ssdf(
            "data", "augment", project / "digits.npz", "--adversarial", "--model",
            project / name, "--label", "label", "--to", project / "adv.npz", "--project",
            project,
        )  # fmt: skip
        assert code == 2, err
        assert expected in err
    assert not canary.exists()
    assert not (project / "adv.npz").exists()
    assert not (project / ".ssdf").exists()


def test_usage_errors_exit_2(project: Path, digits: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    model = _skops(project / "lr.skops", LogisticRegression(max_iter=300), digits)
    base = ["data", "augment", project / "digits.npz", "--model", model, "--label", "label",
            "--project", project]  # fmt: skip
    code, _, err = _ssdf(*base, "--to", project / "a.npz")
    assert code == 2
    assert "--adversarial" in err
    (project / "exists.npz").write_bytes(b"keep")
    code, _, err = _ssdf(*base, "--adversarial", "--to", project / "exists.npz")
    assert code == 2
    assert (project / "exists.npz").read_bytes() == b"keep"
    code, _, err = _ssdf(*base, "--adversarial", "--to", project / "b.npz", "--attack", "cw")
    assert code == 2
    assert "cw" in err


def _controls(project: Path) -> dict[str, dict[str, Any]]:
    code, out, err = _ssdf("assess", project, "-f", "json", "--no-record")
    assert code == 0, err
    return {c["meta"]["id"]: c["result"] for c in json.loads(out)["controls"]}


def test_recorded_samples_satisfy_the_pw_3_3_control(
    project: Path, digits: tuple[Any, Any]
) -> None:
    from sklearn.linear_model import LogisticRegression

    assert _controls(project)["adversarial-samples"]["outcome"] == "not-satisfied"
    model = _skops(project / "lr.skops", LogisticRegression(max_iter=300), digits)
    report = _augment(project, model)
    result = _controls(project)["adversarial-samples"]
    assert result["outcome"] == "satisfied"
    assert "lr.skops" in result["rationale"]
    assert f"{report['adversarial_accuracy']:.2f}" in result["rationale"]
