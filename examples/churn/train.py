"""Train the churn model: read data and hyperparameters, fit, evaluate, and save.

Reads ``config/train.toml`` and the CSV it names (paths are relative to this directory),
trains a scikit-learn pipeline, and writes the model in the skops format (which, unlike pickle
or joblib, is loaded without running code) together with a metrics file that records the
data's SHA-256 and the hyperparameters.

Usage:
    python train.py [--config config/train.toml]

Needs scikit-learn and skops (``pip install scikit-learn skops``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import platform
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NUMERIC = {
    "senior_citizen",
    "tenure_months",
    "paperless_billing",
    "monthly_charges",
    "total_charges",
    "support_tickets",
}


def load_rows(path: Path, label: str, drop: list[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """Read the CSV into feature dicts (numbers as floats, categories as strings) and labels."""
    features: list[dict[str, Any]] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            labels.append(int(row.pop(label)))
            for column in drop:
                row.pop(column, None)
            features.append({k: float(v) if k in NUMERIC else v for k, v in row.items()})
    return features, labels


def build_model(params: dict[str, Any]) -> Any:
    """A pipeline that one-hot encodes categories and fits the configured classifier."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    settings = dict(params)
    kind = settings.pop("kind")
    if kind == "gradient-boosting":
        return Pipeline(
            [
                ("encode", DictVectorizer(sparse=False)),
                ("classify", HistGradientBoostingClassifier(**settings)),
            ]
        )
    if kind == "logistic-regression":
        return Pipeline(
            [
                ("encode", DictVectorizer(sparse=False)),
                ("scale", StandardScaler()),
                ("classify", LogisticRegression(**settings)),
            ]
        )
    raise SystemExit(f"unknown model kind {kind!r}: use gradient-boosting or logistic-regression")


def sha256(path: Path) -> str:
    """The SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train(config_path: Path) -> dict[str, Any]:
    """Train and evaluate the model that ``config_path`` describes; write model and metrics.

    Args:
        config_path: The hyperparameter file.

    Returns:
        The metrics written.
    """
    import sklearn
    import skops.io
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )
    from sklearn.model_selection import train_test_split

    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    root = HERE  # paths in the configuration are relative to the project
    data_path = root / config["data"]["path"]
    features, labels = load_rows(data_path, config["data"]["label"], config["data"]["drop"])
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        labels,
        test_size=config["split"]["test_size"],
        random_state=config["split"]["seed"],
        stratify=labels,
    )
    model = build_model(config["model"])
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    scores = model.predict_proba(x_test)[:, 1]

    metrics = {
        "model": config["model"]["kind"],
        "rows": {"train": len(x_train), "test": len(x_test)},
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "precision": round(float(precision_score(y_test, predicted)), 4),
        "recall": round(float(recall_score(y_test, predicted)), 4),
        "f1": round(float(f1_score(y_test, predicted)), 4),
        "roc_auc": round(float(roc_auc_score(y_test, scores)), 4),
        "data": {"path": config["data"]["path"], "sha256": sha256(data_path)},
        "hyperparameters": config["model"],
        "environment": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
    }
    model_path = root / config["output"]["model"]
    metrics_path = root / config["output"]["metrics"]
    model_path.parent.mkdir(parents=True, exist_ok=True)
    skops.io.dump(model, model_path)
    metrics["model_file"] = {"path": config["output"]["model"], "sha256": sha256(model_path)}
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def main() -> None:
    """Parse the command line and train."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=HERE / "config" / "train.toml")
    args = parser.parse_args()
    metrics = train(args.config)
    print(
        f"trained {metrics['model']}: accuracy {metrics['accuracy']}, "
        f"ROC AUC {metrics['roc_auc']}, F1 {metrics['f1']}"
    )


if __name__ == "__main__":
    main()
