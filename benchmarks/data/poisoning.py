"""Poisoned training data: label issues beside cleanlab, BadNets backdoors beside IBM ART.

Run with ``.venv/bin/python benchmarks/data/poisoning.py [--json] [--seeds 3] [--no-art]``
after ``pip install scikit-learn cleanlab`` (and, optionally, ``pip install
adversarial-robustness-toolbox torch`` for ART's defences).

1. **Label issues.** scikit-learn's digits, breast cancer and wine, with 10 % of the labels
   flipped uniformly to another class (``--seeds`` seeds each). One set of out-of-sample
   probabilities per case (5-fold ``cross_val_predict``, standardised logistic regression,
   ``C=0.1``, exactly what ``find_label_issues`` computes) is given to cleanlab
   (``cleanlab.filter.find_label_issues(labels, pred_probs)``, its defaults). Reported: both
   tools' flags (precision, recall), and the precision of *our ranking* at the recall cleanlab
   reached (``ours@cl``), which is the "equal recall" comparison. cleanlab is also run on the
   probabilities of a plain logistic regression (``C=1``, ``cl C=1``) to show how much the
   model matters.
2. **Backdoors.** BadNets on digits: a bright 3x3 square (value 16) in the bottom-right corner
   stamped on 5, 10, 15 and 20 % of the rows (taken from non-target classes) and relabelled to
   class 0. Reported: ``find_backdoor``'s precision, recall and F1; the spectral signature
   alone (top 1.5 x eps of the scores in the suspected class, on raw features); and, when ART
   and torch import, ART's ``ActivationDefence`` (2-means per class on the hidden layer of a
   64-32-10 MLP trained on the poisoned data, PCA to 10 dims) and ``SpectralSignatureDefense``
   (``expected_pp_poison=eps``) on the same MLP.

Time and peak traced memory (``tracemalloc``, Python and numpy allocations) of our calls are
reported per case.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tracemalloc
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ssdf_ai.data.backdoor import find_backdoor
from ssdf_ai.data.labels import find_label_issues


def _measure(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
    tracemalloc.stop()
    return out, wall, peak


def _pr(flag: Any, truth: Any) -> tuple[float, float, float]:
    tp = int((flag & truth).sum())
    p = tp / max(int(flag.sum()), 1)
    r = tp / max(int(truth.sum()), 1)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def _flip(y: Any, share: float, seed: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    idx = rng.choice(len(y), int(share * len(y)), replace=False)
    noisy = y.copy()
    noisy[idx] = (y[idx] + rng.integers(1, k, len(idx))) % k
    truth = np.zeros(len(y), dtype=bool)
    truth[idx] = True
    return noisy, truth


def _precision_at_recall(scores: Any, truth: Any, recall: float) -> float:
    order = np.argsort(scores, kind="stable")
    hits = np.cumsum(truth[order])
    need = max(1, int(np.ceil(recall * truth.sum() - 1e-9)))
    top = int(np.searchsorted(hits, need)) + 1
    return float(hits[top - 1] / top)


def label_cases(seeds: int) -> list[dict[str, Any]]:
    import cleanlab.filter

    rows: list[dict[str, Any]] = []
    for name, loader in (
        ("digits", load_digits),
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
    ):
        x, y = loader(return_X_y=True)
        for seed in range(seeds):
            noisy, truth = _flip(y, 0.10, seed)
            res, wall, peak = _measure(find_label_issues, x, noisy, seed=seed)
            ours = np.zeros(len(y), dtype=bool)
            ours[res.indices] = True
            t0 = time.perf_counter()
            cl = cleanlab.filter.find_label_issues(noisy, res.pred_probs)
            cl_wall = time.perf_counter() - t0
            cv = StratifiedKFold(5, shuffle=True, random_state=seed)
            plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            probs1 = cross_val_predict(plain, x, noisy, cv=cv, method="predict_proba")
            cl1 = cleanlab.filter.find_label_issues(noisy, probs1)
            p, r, _ = _pr(ours, truth)
            cp, cr, _ = _pr(cl, truth)
            c1p, c1r, _ = _pr(cl1, truth)
            rows.append(
                {
                    "dataset": name,
                    "seed": seed,
                    "rows": len(y),
                    "ours_precision": p,
                    "ours_recall": r,
                    "cleanlab_precision": cp,
                    "cleanlab_recall": cr,
                    "ours_precision_at_cleanlab_recall": _precision_at_recall(
                        np.asarray(res.scores), truth, cr
                    ),
                    "cleanlab_c1_precision": c1p,
                    "cleanlab_c1_recall": c1r,
                    "ours_c1_precision_at_cleanlab_c1_recall": _precision_at_recall(
                        _margin(probs1, noisy), truth, c1r
                    ),
                    "ours_seconds": wall,
                    "ours_peak_mib": peak,
                    "cleanlab_seconds": cl_wall,
                }
            )
    return rows


def _margin(probs: Any, labels: Any) -> Any:
    n = len(labels)
    others = probs.copy()
    others[np.arange(n), labels] = -1.0
    return probs[np.arange(n), labels] - others.max(axis=1)


def _badnets(share: float, seed: int, target: int = 0, size: int = 3) -> tuple[Any, Any, Any]:
    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.choice(np.flatnonzero(y != target), int(share * len(y)), replace=False)
    x = x.copy()
    x.reshape(-1, 8, 8)[idx, 8 - size :, 8 - size :] = 16.0
    y = y.copy()
    y[idx] = target
    truth = np.zeros(len(y), dtype=bool)
    truth[idx] = True
    return x, y, truth


def _art(x: Any, y: Any, share: float, seed: int) -> dict[str, Any]:
    """ART's activation clustering and spectral signature defences on a small torch MLP."""
    import torch
    from art.defences.detector.poison import ActivationDefence, SpectralSignatureDefense
    from art.estimators.classification import PyTorchClassifier

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    clf = PyTorchClassifier(
        model=model,
        loss=torch.nn.CrossEntropyLoss(),
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
        input_shape=(64,),
        nb_classes=10,
    )
    xs = (x / 16.0).astype(np.float32)
    onehot = np.eye(10, dtype=np.float32)[y]
    t0 = time.perf_counter()
    clf.fit(xs, onehot, nb_epochs=30, batch_size=64, verbose=False)
    out: dict[str, Any] = {"train_seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    ac = ActivationDefence(clf, xs, onehot)
    _, clean = ac.detect_poison(nb_clusters=2, nb_dims=10, reduce="PCA")
    out["ac_flag"] = np.asarray(clean) == 0
    out["ac_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ss = SpectralSignatureDefense(
        clf, xs, onehot, batch_size=128, eps_multiplier=1.5, expected_pp_poison=share
    )
    _, clean = ss.detect_poison()
    out["ss_flag"] = np.asarray(clean) == 0
    out["ss_seconds"] = time.perf_counter() - t0
    return out


def backdoor_cases(seeds: int, use_art: bool) -> tuple[list[dict[str, Any]], str]:
    art_note = "not run (--no-art)"
    if use_art:
        try:
            import art.defences.detector.poison  # noqa: F401
            import torch  # noqa: F401

            art_note = "ran"
        except ImportError as exc:
            art_note = f"skipped: {exc}"
            use_art = False
    rows: list[dict[str, Any]] = []
    for share in (0.05, 0.10, 0.15, 0.20):
        for seed in range(seeds):
            x, y, truth = _badnets(share, seed)
            res, wall, peak = _measure(find_backdoor, x, y)
            ours = np.zeros(len(y), dtype=bool)
            ours[res.flagged] = True
            # spectral signature alone: top 1.5 x eps in the class ART would be told about
            spec = np.asarray(res.scores["spectral"])
            in_target = np.flatnonzero(y == 0)
            top = in_target[np.argsort(-spec[in_target])[: int(1.5 * share * len(y))]]
            spec_flag = np.zeros(len(y), dtype=bool)
            spec_flag[top] = True
            row: dict[str, Any] = {
                "poison_share": share,
                "seed": seed,
                "target_found": res.target_class == 0,
                "trigger_features": res.trigger_features,
                "ours": _pr(ours, truth),
                "spectral_raw": _pr(spec_flag, truth),
                "ours_seconds": wall,
                "ours_peak_mib": peak,
            }
            if use_art:
                art = _art(x, y, share, seed)
                row["art_activation"] = _pr(art["ac_flag"], truth)
                row["art_spectral"] = _pr(art["ss_flag"], truth)
                row["art_seconds"] = art["train_seconds"] + art["ac_seconds"] + art["ss_seconds"]
            rows.append(row)
    return rows, art_note


def _mean(rows: list[dict[str, Any]], key: str, idx: int | None = None) -> float:
    vals = [r[key][idx] if idx is not None else r[key] for r in rows if key in r]
    return float(np.mean(vals)) if vals else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per case (default 3)")
    parser.add_argument("--no-art", action="store_true", help="do not run IBM ART")
    args = parser.parse_args()
    t0 = time.perf_counter()
    labels = label_cases(args.seeds)
    backdoors, art_note = backdoor_cases(args.seeds, not args.no_art)
    machine = f"{platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}"
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine,
                    "labels": labels,
                    "backdoors": backdoors,
                    "art": art_note,
                    "seconds": time.perf_counter() - t0,
                },
                indent=2,
                default=str,
            )
        )
        return
    print(f"machine: {machine}\n")
    print("Label issues, 10 % flipped, mean over seeds (P = precision, R = recall)")
    print(
        f"{'dataset':14} {'ours P':>7} {'ours R':>7} {'cl P':>7} {'cl R':>7} {'ours@cl':>8}"
        f" {'cl C=1 P':>9} {'cl C=1 R':>9} {'ours@clC=1':>11} {'ours s':>7} {'MiB':>6}"
    )
    for name in ("digits", "breast_cancer", "wine"):
        rs = [r for r in labels if r["dataset"] == name]
        print(
            f"{name:14} {_mean(rs, 'ours_precision'):7.3f} {_mean(rs, 'ours_recall'):7.3f}"
            f" {_mean(rs, 'cleanlab_precision'):7.3f} {_mean(rs, 'cleanlab_recall'):7.3f}"
            f" {_mean(rs, 'ours_precision_at_cleanlab_recall'):8.3f}"
            f" {_mean(rs, 'cleanlab_c1_precision'):9.3f} {_mean(rs, 'cleanlab_c1_recall'):9.3f}"
            f" {_mean(rs, 'ours_c1_precision_at_cleanlab_c1_recall'):11.3f}"
            f" {_mean(rs, 'ours_seconds'):7.2f} {_mean(rs, 'ours_peak_mib'):6.1f}"
        )
    print(f"\nBadNets on digits (3x3 corner, target 0), mean over seeds; ART: {art_note}")
    print(
        f"{'poison':>6} {'ours P':>7} {'ours R':>7} {'ours F1':>8} {'spec F1':>8}"
        f" {'ART AC F1':>10} {'ART SS F1':>10} {'ours s':>7} {'MiB':>6} {'ART s':>6}"
    )
    for share in (0.05, 0.10, 0.15, 0.20):
        rs = [r for r in backdoors if r["poison_share"] == share]
        print(
            f"{share:6.2f} {_mean(rs, 'ours', 0):7.3f} {_mean(rs, 'ours', 1):7.3f}"
            f" {_mean(rs, 'ours', 2):8.3f} {_mean(rs, 'spectral_raw', 2):8.3f}"
            f" {_mean(rs, 'art_activation', 2):10.3f} {_mean(rs, 'art_spectral', 2):10.3f}"
            f" {_mean(rs, 'ours_seconds'):7.2f} {_mean(rs, 'ours_peak_mib'):6.1f}"
            f" {_mean(rs, 'art_seconds'):6.1f}"
        )
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
