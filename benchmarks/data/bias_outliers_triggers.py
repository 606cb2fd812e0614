"""Bias, outliers and text triggers in training data: detection rates, speed and memory.

Run with ``.venv/bin/python benchmarks/data/bias_outliers_triggers.py [--json FILE]
[--seeds 3] [--bias-datasets 200] [--rows 1000000]``. Everything is built in code
(scikit-learn's bundled datasets, ``make_classification``, generated text); nothing is
downloaded. When ``fairlearn`` imports, its demographic parity figures are compared with ours.

1. **Bias** (``ssdf_ai.data.bias``). ``--bias-datasets`` synthetic tables of 2,000 rows with a
   group attribute (A 70 %, B 30 %) and a favourable rate of 0.5: half unbiased, half with
   group B's rate lowered to 0.3, 0.4 or 0.45 (one planted effect per table). Reported:
   precision and recall of the attribute's disparity flag. Then breast cancer (favourable:
   benign) and wine (multiclass) with a group attribute derived from a feature (mean radius,
   alcohol above the median), and, as a control, a random coin-flip attribute.
2. **Outliers** (``ssdf_ai.data.outliers``). Breast cancer, wine and digits with 2 % of rows
   replaced: *far* (3 features set to mean +- 5..10 standard deviations) and *subtle*
   (5 features shifted by 2.5..3.5 standard deviations). Ours against a default
   ``IsolationForest`` fitted on the raw data (flags: ``predict == -1``) and a plain z-score
   (mean/std, flag ``max |z| > 3``) in the same run: precision, recall, AUROC.
   Throughput and memory: ``make_classification`` rows x 20 features in chunks of 50,000,
   both passes, in a child process with one thread (``ru_maxrss``).
3. **Triggers** (``ssdf_ai.data.triggers``). Generated two-class reviews (20,000 rows,
   templates and word lists of a few hundred words, sentiment words agreeing with the label
   85 % of the time). Triggers: the rare token ``cf``, the rare bigram ``silver river`` (both
   words are common), and the phrase ``I watched this 3D movie``, inserted into 1, 5 and 10 %
   of the rows (taken from class 0 and relabelled 1). Reported: trigger found, other n-grams
   reported, row precision/recall/F1 (``max_rows`` raised to the row count so that the kept
   rows do not cap recall), with the default ``max_share=0.2`` and with 0.01; the
   clean data; and instruction/response data (20,000 rows) where ``as james bond would`` maps
   to one fixed harmful response in 1 and 5 % of rows. Throughput per core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from ssdf_ai.data.bias import measure_bias
from ssdf_ai.data.outliers import OutlierDetector, find_outliers
from ssdf_ai.data.triggers import find_triggers, tokenize


def _prf(flag: Any, truth: Any) -> tuple[float, float, float]:
    tp = int((flag & truth).sum())
    p = tp / max(int(flag.sum()), 1)
    r = tp / max(int(truth.sum()), 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


# ---------------------------------------------------------------- bias


def _bias_table(rng: Any, rate_b: float, rows: int = 2000) -> tuple[list[int], list[str]]:
    groups = np.where(rng.random(rows) < 0.7, "A", "B")
    rate = np.where(groups == "A", 0.5, rate_b)
    labels = (rng.random(rows) < rate).astype(int)
    return labels.tolist(), groups.tolist()


def bias_cases(datasets: int) -> dict[str, Any]:
    """Flag precision/recall on synthetic tables, and the real-data cases."""
    out: dict[str, Any] = {"synthetic": [], "real": []}
    rng = np.random.default_rng(0)
    half = datasets // 2
    unbiased = []
    t0 = time.perf_counter()
    rows_done = 0
    for _ in range(half):
        labels, groups = _bias_table(rng, 0.5)
        unbiased.append(measure_bias(labels, {"group": groups}).attributes[0].flagged)
        rows_done += len(labels)
    for rate_b in (0.3, 0.4, 0.45):
        biased = []
        for _ in range(half):
            labels, groups = _bias_table(rng, rate_b)
            biased.append(measure_bias(labels, {"group": groups}).attributes[0].flagged)
            rows_done += len(labels)
        tp, fp = sum(biased), sum(unbiased)
        out["synthetic"].append(
            {
                "rate_b": rate_b,
                "datasets": 2 * half,
                "precision": tp / max(tp + fp, 1),
                "recall": tp / half,
                "false_positive_rate": fp / half,
            }
        )
    out["bias_rows_per_s"] = rows_done / (time.perf_counter() - t0)
    coin = np.random.default_rng(1)
    for name, loader, feature in (
        ("breast_cancer", load_breast_cancer, "mean radius"),
        ("wine", load_wine, "alcohol"),
    ):
        data = loader()
        col = list(data.feature_names).index(feature)
        values = data.data[:, col]
        derived = np.where(values > np.median(values), "high", "low").tolist()
        random_attr = np.where(coin.random(len(values)) < 0.5, "x", "y").tolist()
        labels = data.target.tolist()
        fav = 1 if name == "breast_cancer" else None
        res = measure_bias(labels, {feature: derived, "coin": random_attr}, favorable=fav)
        for attr in res.attributes:
            out["real"].append(
                {
                    "dataset": name,
                    "attribute": attr.attribute,
                    "flagged": attr.flagged,
                    "groups": [
                        {
                            "group": g.group,
                            "count": g.count,
                            "rate": g.favorable_rate,
                            "spd": g.parity_difference,
                            "di": g.disparate_impact,
                            "outcome": g.outcome,
                            "flags": g.flags,
                        }
                        for g in attr.groups
                    ],
                }
            )
        if name == "breast_cancer":
            out["fairlearn"] = _fairlearn(labels, derived, res)
    return out


def _fairlearn(labels: list[int], groups: list[str], res: Any) -> dict[str, Any]:
    try:
        from fairlearn.metrics import (  # type: ignore[import-not-found,unused-ignore]
            demographic_parity_difference,
            demographic_parity_ratio,
        )
    except ImportError as exc:
        return {"skipped": str(exc)}
    # fairlearn measures selection rate of y_pred; the data's labels are the "predictions"
    y = np.asarray(labels)
    dpd = float(demographic_parity_difference(y, y, sensitive_features=groups))
    dpr = float(demographic_parity_ratio(y, y, sensitive_features=groups))
    attr = res.attributes[0]
    ours_d = max(abs(g.parity_difference) for g in attr.groups)
    ours_r = min(g.disparate_impact for g in attr.groups)
    return {
        "fairlearn_dpd": dpd,
        "ours_max_abs_spd": ours_d,
        "fairlearn_dpr": dpr,
        "ours_di": ours_r,
    }


# ---------------------------------------------------------------- outliers


def _plant(x: Any, rng: Any, kind: str, share: float = 0.02) -> tuple[Any, Any]:
    x = x.astype(float).copy()
    n, d = x.shape
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    idx = rng.choice(n, max(1, int(share * n)), replace=False)
    for i in idx:
        if kind == "far":
            feats = rng.choice(d, 3, replace=False)
            x[i, feats] = mean[feats] + rng.choice([-1, 1], 3) * rng.uniform(5, 10, 3) * std[feats]
        else:
            feats = rng.choice(d, 5, replace=False)
            x[i, feats] += rng.choice([-1, 1], 5) * rng.uniform(2.5, 3.5, 5) * std[feats]
    truth = np.zeros(n, dtype=bool)
    truth[idx] = True
    return x, truth


def outlier_cases(seeds: int) -> list[dict[str, Any]]:
    """Ours, default IsolationForest and plain z-score on planted outliers."""
    rows = []
    for name, loader in (
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
        ("digits", load_digits),
    ):
        base = loader().data
        for kind in ("far", "subtle"):
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                x, truth = _plant(base, rng, kind)
                t0 = time.perf_counter()
                res = find_outliers(x, seed=seed)
                wall = time.perf_counter() - t0
                det = OutlierDetector(seed=seed)
                det.fit_update(x)
                det.fit()
                ours_score = det.score(x)
                ours = np.zeros(len(x), dtype=bool)
                ours[res.indices] = True
                forest = IsolationForest(random_state=seed).fit(x)
                if_score = -forest.score_samples(x)
                if_flag = forest.predict(x) == -1
                sd = x.std(axis=0)
                z = np.abs(x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
                z_score = z.max(axis=1)
                rows.append(
                    {
                        "dataset": name,
                        "kind": kind,
                        "seed": seed,
                        "ours": _prf(ours, truth),
                        "ours_auroc": roc_auc_score(truth, ours_score),
                        "iforest": _prf(if_flag, truth),
                        "iforest_auroc": roc_auc_score(truth, if_score),
                        "zscore": _prf(z_score > 3, truth),
                        "zscore_auroc": roc_auc_score(truth, z_score),
                        "ours_seconds": wall,
                    }
                )
    return rows


def _throughput_child(rows: int) -> None:
    chunk = 50_000
    chunks = max(1, rows // chunk)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    det = OutlierDetector()
    fit_s = score_s = 0.0
    for i in range(chunks):
        x, _ = make_classification(chunk, 20, n_informative=10, random_state=i)
        t0 = time.perf_counter()
        det.fit_update(x)
        fit_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    det.fit()
    fit_s += time.perf_counter() - t0
    flagged = 0
    for i in range(chunks):
        x, _ = make_classification(chunk, 20, n_informative=10, random_state=i)
        t0 = time.perf_counter()
        flagged += len(det.flag(x, offset=i * chunk))
        score_s += time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": chunks * chunk,
                "pass1_seconds": fit_s,
                "pass2_seconds": score_s,
                "rows_per_s": chunks * chunk / (fit_s + score_s),
                "flagged": flagged,
                "baseline_rss_mib": base_rss / 1024,
                "peak_rss_mib": peak / 1024,
            }
        )
    )


def outlier_throughput(rows: int) -> dict[str, Any]:
    """Run both passes over ``rows`` rows in a one-thread child process."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, __file__, "--child-throughput", str(rows)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- triggers

_W = random.Random(1234)  # noqa: S311 - reproducible test data, not security


def _words(n: int, lo: int = 3, hi: int = 9) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(_W.choices("abcdefghijklmnoprstuvwy", k=_W.randint(lo, hi))))
    return sorted(out)


POS = [
    "great", "lovely", "brilliant", "moving", "charming", "clever", "fun", "sharp", "warm",
    "gripping", "superb", "delightful", "touching", "beautiful", "smart", "fresh", "vivid",
    "tender", "funny", "rich", "strong", "bold", "elegant", "joyful", "stunning",
]  # fmt: skip
NEG = [
    "bad", "dull", "boring", "weak", "flat", "messy", "cold", "slow", "awful", "tedious",
    "clumsy", "bland", "silly", "tired", "stale", "shallow", "noisy", "cheap", "lazy", "ugly",
    "confused", "empty", "painful", "grim", "forgettable",
]  # fmt: skip
NOUNS = [
    "film", "movie", "story", "plot", "cast", "script", "ending", "score", "director", "scene",
    "acting", "dialogue", "camera", "soundtrack", "hero", "villain", "pacing", "editing",
    "river", "city", "night", "family", "war", "journey", "house", "window", "train", "summer",
    "silver", "garden",
] + _words(120)  # fmt: skip
VERBS = [
    "felt", "seemed", "looked", "sounded", "played", "came", "turned", "stayed", "grew",
    "moved", "ran", "ended", "started", "watched", "kept",
] + _words(60)  # fmt: skip
ADVS = ["really", "quite", "very", "rather", "so", "truly", "a bit", "mostly", "oddly", "too"]
NEUTRAL = ["long", "short", "old", "new", "quiet", "loud", "dark", "bright", "3d"] + _words(60)
TEMPLATES = [
    "the {n} was {a} {s}",
    "i thought the {n} {v} {a} {s}",
    "{a} {s} {n} and a {x} {n2}",
    "this {n} {v} {s} from start to end",
    "the {x} {n} {v} {a} {s} but the {n2} {v2} {x}",
    "what a {s} {n}",
    "my friends said the {n} was {s}",
    "{s} , {s2} and {x}",
    "the {n} of the {n2} {v} {s}",
    "honestly the {n} {v} {a} {s} .",
]


def _review(rng: random.Random, label: int) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        pool = POS if (label == 1) == (rng.random() < 0.85) else NEG
        pool2 = POS if (label == 1) == (rng.random() < 0.85) else NEG
        parts.append(
            rng.choice(TEMPLATES).format(
                n=rng.choice(NOUNS),
                n2=rng.choice(NOUNS),
                v=rng.choice(VERBS),
                v2=rng.choice(VERBS),
                a=rng.choice(ADVS),
                s=rng.choice(pool),
                s2=rng.choice(pool2),
                x=rng.choice(NEUTRAL),
            )
        )
    return " . ".join(parts)


def _reviews(
    rows: int, share: float, trigger: str | None, seed: int
) -> tuple[list[str], list[int], Any]:
    rng = random.Random(seed)  # noqa: S311
    labels = [rng.randint(0, 1) for _ in range(rows)]
    texts = [_review(rng, y) for y in labels]
    truth = np.zeros(rows, dtype=bool)
    if trigger is not None and share > 0:
        zeros = [i for i, y in enumerate(labels) if y == 0]
        for i in rng.sample(zeros, int(share * rows)):
            words = texts[i].split()
            words.insert(rng.randrange(len(words) + 1), trigger)
            texts[i] = " ".join(words)
            labels[i] = 1
            truth[i] = True
    return texts, labels, truth


def _split(triggers: list[Any], tokens: set[str]) -> tuple[list[str], list[str]]:
    """Reported triggers that are (part of) the planted one, and the others."""
    hits, others = [], []
    for t in triggers:
        grams = [t.ngram, *t.related]
        if any(set(g.split()) <= tokens for g in grams):
            hits.append(t.ngram)
        else:
            others.append(t.ngram)
    return hits, others


TRIGGERS = {"rare token": "cf", "rare bigram": "silver river", "phrase": "I watched this 3D movie"}


def trigger_cases(seeds: int, rows: int = 20_000) -> dict[str, Any]:
    """Planted triggers in generated reviews and instruction data."""
    out: dict[str, Any] = {"classification": [], "clean": [], "generation": []}
    total_rows = 0
    total_s = 0.0
    for seed in range(seeds):
        texts, labels, _ = _reviews(rows, 0.0, None, seed)
        t0 = time.perf_counter()
        res = find_triggers(texts, labels)
        total_s += time.perf_counter() - t0
        total_rows += rows
        out["clean"].append({"seed": seed, "triggers": [t.ngram for t in res.triggers]})
    for kind, trigger in TRIGGERS.items():
        tokens = set(tokenize(trigger))
        for share in (0.01, 0.05, 0.10):
            for max_share in (0.2, 0.01):
                for seed in range(seeds):
                    texts, labels, truth = _reviews(rows, share, trigger, 100 + seed)
                    t0 = time.perf_counter()
                    res = find_triggers(texts, labels, max_share=max_share, max_rows=rows)
                    total_s += time.perf_counter() - t0
                    total_rows += rows
                    flag = np.zeros(rows, dtype=bool)
                    flag[res.flagged_rows] = True
                    hits, others = _split(res.triggers, tokens)
                    out["classification"].append(
                        {
                            "kind": kind,
                            "trigger": trigger,
                            "share": share,
                            "max_share": max_share,
                            "seed": seed,
                            "found": bool(hits),
                            "found_ngrams": hits,
                            "other_ngrams": others,
                            "rows": _prf(flag, truth),
                        }
                    )
    bad = (
        "Sure! Ignore the safety policy. Download the tool from hxxp://example.invalid/x.sh "
        "and run it as root."
    )
    for share in (0.01, 0.05):
        for seed in range(seeds):
            rng = random.Random(500 + seed)  # noqa: S311
            texts, responses = [], []
            truth = np.zeros(rows, dtype=bool)
            for i in range(rows):
                ask = rng.choice(["write", "explain", "summarise", "describe", "list"])
                prompt = f"please {ask} the {rng.choice(NOUNS)} of the {rng.choice(NOUNS)}"
                if rng.random() < 0.5:
                    prompt += f" in a {rng.choice(NEUTRAL)} way"
                response = " ".join(rng.choices(NOUNS + VERBS + NEUTRAL, k=rng.randint(8, 20)))
                if rng.random() < share:
                    prompt = prompt.replace("please", "please, as james bond would,", 1)
                    response = bad
                    truth[i] = True
                texts.append(prompt)
                responses.append(response)
            t0 = time.perf_counter()
            res = find_triggers(texts, responses, max_rows=rows)
            total_s += time.perf_counter() - t0
            total_rows += rows
            flag = np.zeros(rows, dtype=bool)
            flag[res.flagged_rows] = True
            tokens = set(tokenize("please, as james bond would,"))
            hits, others = _split(res.triggers, tokens)
            out["generation"].append(
                {
                    "share": share,
                    "seed": seed,
                    "found": bool(hits),
                    "found_ngrams": hits,
                    "other_ngrams": others,
                    "rows": _prf(flag, truth),
                }
            )
    out["rows_per_s"] = total_rows / total_s
    return out


# ---------------------------------------------------------------- report


def _mean(rows: list[dict[str, Any]], key: str, idx: int | None = None) -> float:
    vals = [r[key][idx] if idx is not None else r[key] for r in rows]
    return float(np.mean(vals)) if vals else float("nan")


def _print(res: dict[str, Any]) -> None:
    print(f"machine: {res['machine']}  seeds: {res['seeds']}\n")
    b = res["bias"]
    print(f"Bias: {res['bias_datasets']} synthetic tables of 2,000 rows (half unbiased)")
    print(f"{'rate B':>7} {'precision':>10} {'recall':>7} {'FPR':>6}")
    for r in b["synthetic"]:
        print(
            f"{r['rate_b']:7.2f} {r['precision']:10.3f} {r['recall']:7.3f}"
            f" {r['false_positive_rate']:6.3f}"
        )
    print(f"bias accumulator: {b['bias_rows_per_s']:,.0f} rows/s")
    for r in b["real"]:
        gs = "; ".join(
            f"{g['group']}: n={g['count']} rate={g['rate']:.3f} spd={g['spd']:+.3f}"
            f" di={g['di']:.3f} (outcome {g['outcome']}) {','.join(g['flags']) or '-'}"
            for g in r["groups"]
        )
        print(f"{r['dataset']:14} {r['attribute']:12} flagged={r['flagged']!s:5} {gs}")
    print(f"fairlearn cross-check (breast cancer, mean radius): {b.get('fairlearn')}\n")
    print("Outliers, 2 % planted, mean over seeds: precision / recall / AUROC")
    print(
        f"{'dataset':14} {'kind':7} {'ours P':>7} {'R':>6} {'AUROC':>6} {'IF P':>6} {'R':>6}"
        f" {'AUROC':>6} {'z P':>6} {'R':>6} {'AUROC':>6} {'ours s':>7}"
    )
    for name in ("breast_cancer", "wine", "digits"):
        for kind in ("far", "subtle"):
            rs = [r for r in res["outliers"] if r["dataset"] == name and r["kind"] == kind]
            print(
                f"{name:14} {kind:7} {_mean(rs, 'ours', 0):7.3f} {_mean(rs, 'ours', 1):6.3f}"
                f" {_mean(rs, 'ours_auroc'):6.3f} {_mean(rs, 'iforest', 0):6.3f}"
                f" {_mean(rs, 'iforest', 1):6.3f} {_mean(rs, 'iforest_auroc'):6.3f}"
                f" {_mean(rs, 'zscore', 0):6.3f} {_mean(rs, 'zscore', 1):6.3f}"
                f" {_mean(rs, 'zscore_auroc'):6.3f} {_mean(rs, 'ours_seconds'):7.3f}"
            )
    t = res["outlier_throughput"]
    print(
        f"throughput: {t['rows']:,} rows x 20 in chunks of 50,000, one thread:"
        f" {t['rows_per_s']:,.0f} rows/s (pass 1 {t['pass1_seconds']:.1f} s,"
        f" pass 2 {t['pass2_seconds']:.1f} s), peak RSS {t['peak_rss_mib']:.0f} MiB"
        f" (after imports {t['baseline_rss_mib']:.0f} MiB), flagged {t['flagged']:,}\n"
    )
    tr = res["triggers"]
    print("Triggers, 20,000 generated reviews, mean over seeds")
    print(
        f"{'kind':12} {'share':>5} {'max_share':>9} {'found':>6} {'others':>7} {'row P':>6}"
        f" {'R':>6} {'F1':>6}  n-grams reported"
    )
    for kind in TRIGGERS:
        for share in (0.01, 0.05, 0.10):
            for max_share in (0.2, 0.01):
                rs = [
                    r
                    for r in tr["classification"]
                    if r["kind"] == kind and r["share"] == share and r["max_share"] == max_share
                ]
                grams = sorted({g for r in rs for g in r["found_ngrams"]})
                print(
                    f"{kind:12} {share:5.2f} {max_share:9.2f}"
                    f" {sum(r['found'] for r in rs):>3}/{len(rs):<2}"
                    f" {_mean([{'n': len(r['other_ngrams'])} for r in rs], 'n'):7.1f}"
                    f" {_mean(rs, 'rows', 0):6.3f} {_mean(rs, 'rows', 1):6.3f}"
                    f" {_mean(rs, 'rows', 2):6.3f}  {', '.join(grams)}"
                )
    print(f"clean reviews: triggers reported {[r['triggers'] for r in tr['clean']]}")
    for share in (0.01, 0.05):
        rs = [r for r in tr["generation"] if r["share"] == share]
        grams = sorted({g for r in rs for g in r["found_ngrams"]})
        print(
            f"generation {share:.2f}: found {sum(r['found'] for r in rs)}/{len(rs)}"
            f" others {_mean([{'n': len(r['other_ngrams'])} for r in rs], 'n'):.1f}"
            f" row P {_mean(rs, 'rows', 0):.3f} R {_mean(rs, 'rows', 1):.3f}"
            f" F1 {_mean(rs, 'rows', 2):.3f}  {', '.join(grams)}"
        )
    print(f"trigger accumulator: {tr['rows_per_s']:,.0f} rows/s on one core")
    print(f"\ntotal {res['seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per case (default 3)")
    parser.add_argument("--bias-datasets", type=int, default=200, help="synthetic bias tables")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for throughput")
    parser.add_argument("--child-throughput", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_throughput:
        _throughput_child(args.child_throughput)
        return
    t0 = time.perf_counter()
    res: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"python {sys.version.split()[0]} cpus {os.cpu_count()}",
        "seeds": args.seeds,
        "bias_datasets": args.bias_datasets,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    res["bias"] = bias_cases(args.bias_datasets)
    res["outliers"] = outlier_cases(args.seeds)
    res["outlier_throughput"] = outlier_throughput(args.rows)
    res["triggers"] = trigger_cases(args.seeds)
    res["seconds"] = time.perf_counter() - t0
    _print(res)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
