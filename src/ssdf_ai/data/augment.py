"""``ssdf data augment --adversarial``: adversarial samples for training and testing (PW.3.3).

:func:`adversarial_samples` perturbs a sample of a dataset's rows against a classifier with the
fast gradient sign method (FGSM) or projected gradient descent (PGD, L-infinity, random start)
and returns them apart from the data, each with the row it came from, its true label, and the
attack's parameters, so that they can be added to training (adversarial training) or kept as a
robustness test set, and the run repeated.

Models are loaded only from formats that cannot run code on load, and only after
:func:`ssdf_ai.scan.scan_paths` finds nothing at or above medium in them:

- scikit-learn models saved with skops (``.skops``), loaded with skops' default trusted types
  and other types of scikit-learn, NumPy and SciPy's sparse matrices; a file that needs any
  other type (a function, a class of another package) is refused, naming it. Pipelines of scalers
  (``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``, ``RobustScaler``) and a linear
  classifier (``LogisticRegression``, ``SGDClassifier``, ``LinearSVC``, ``RidgeClassifier``)
  are attacked with their exact gradient; any other classifier through a surrogate (logistic
  regression fitted to the model's own predictions: a transfer attack, reported as such);
- PyTorch classifiers saved as TorchScript (``torch.jit.save``), attacked with autograd; the
  ``torch`` extra is needed.

Pickled models (``.pkl``, ``.joblib``, ``torch.save`` checkpoints) are never loaded.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Any

from ssdf_ai.errors import InputError, MissingExtraError

ATTACKS = ("fgsm", "pgd")
_SCALERS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler")
_LINEAR = ("LogisticRegression", "SGDClassifier", "LinearSVC", "RidgeClassifier")
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.")


@dataclasses.dataclass(frozen=True)
class AttackSettings:
    """The attack and its parameters (recorded with the samples).

    Attributes:
        attack: ``fgsm`` or ``pgd``.
        eps: L-infinity radius, in the units of the features.
        steps: PGD iterations.
        step_size: PGD step; default ``2.5 * eps / steps``.
        fraction: Share of the rows to attack (a seeded sample).
        seed: Seed of the sample and of PGD's random start.
    """

    attack: str = "pgd"
    eps: float = 0.1
    steps: int = 10
    step_size: float | None = None
    fraction: float = 0.1
    seed: int = 0

    def check(self) -> None:
        """Raise InputError on an unknown attack or an out-of-range parameter."""
        if self.attack not in ATTACKS:
            raise InputError(f"unknown attack {self.attack!r}", hint="use fgsm or pgd")
        if not self.eps > 0:
            raise InputError(f"eps must be positive, not {self.eps}")
        if self.steps < 1:
            raise InputError(f"steps must be at least 1, not {self.steps}")
        if not 0 < self.fraction <= 1:
            raise InputError(f"fraction must be in (0, 1], not {self.fraction}")


@dataclasses.dataclass(frozen=True)
class AdversarialSet:
    """Adversarial samples and how they were made.

    Attributes:
        features: The perturbed rows, shape ``(n, features)``.
        labels: Their true labels (the originals').
        source_rows: The row each came from.
        clean_accuracy: The model's accuracy on the original rows.
        adversarial_accuracy: Its accuracy on the perturbed rows.
        method: ``gradient`` (exact) or ``surrogate`` (transfer attack) or ``autograd``.
        model_kind: ``sklearn`` or ``torchscript``.
        settings: The attack's parameters.
        bounds: The per-feature clip range used (min, max over the dataset).
    """

    features: Any
    labels: Any
    source_rows: Any
    clean_accuracy: float
    adversarial_accuracy: float
    method: str
    model_kind: str
    settings: AttackSettings
    bounds: tuple[float, float]


class _Model(abc.ABC):
    """A classifier's predictions and the gradient of its loss with respect to the input."""

    method = "gradient"

    @abc.abstractmethod
    def predict(self, x: Any) -> Any:
        """The predicted label of each row."""

    @abc.abstractmethod
    def gradient(self, x: Any, y: Any) -> Any:
        """d(cross-entropy of the true labels)/d(input), per row."""


class _Linear(_Model):
    """Scalers then a linear classifier: softmax cross-entropy's gradient, chained by hand."""

    def __init__(self, np: Any, steps: list[Any], classifier: Any, predict: Any) -> None:
        self.np = np
        self.steps = steps
        self.classifier = classifier
        self.classes = list(classifier.classes_)
        self._predict = predict

    def _transform(self, x: Any) -> tuple[Any, Any]:
        scale = self.np.ones(x.shape[1])
        for step in self.steps:
            x = step.transform(x)
            scale = scale * _scale_of(self.np, step)
        return x, scale

    def predict(self, x: Any) -> Any:
        return self._predict(x)

    def gradient(self, x: Any, y: Any) -> Any:
        np = self.np
        z, scale = self._transform(x)
        w = np.atleast_2d(self.classifier.coef_)
        b = np.atleast_1d(self.classifier.intercept_)
        logits = z @ w.T + b
        if w.shape[0] == 1:  # binary: one logit for class 1
            logits = np.hstack([np.zeros_like(logits), logits])
            w = np.vstack([np.zeros_like(w), w])
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        index = {c: i for i, c in enumerate(self.classes)}
        onehot = np.zeros_like(p)
        onehot[np.arange(len(y)), [index[v] for v in y]] = 1.0
        return ((p - onehot) @ w) * scale


class _Torch(_Model):
    method = "autograd"

    def __init__(self, torch: Any, module: Any, classes: list[Any]) -> None:
        self.torch = torch
        self.module = module
        self.classes = classes

    def predict(self, x: Any) -> Any:
        torch = self.torch
        with torch.no_grad():
            out = self.module(torch.as_tensor(x, dtype=torch.float32))
        index = out.argmax(dim=1).numpy()
        return [self.classes[i] for i in index]

    def gradient(self, x: Any, y: Any) -> Any:
        torch = self.torch
        inputs = torch.as_tensor(x, dtype=torch.float32).requires_grad_(True)
        index = {c: i for i, c in enumerate(self.classes)}
        target = torch.as_tensor([index[v] for v in y])
        loss = torch.nn.functional.cross_entropy(self.module(inputs), target, reduction="sum")
        loss.backward()
        return inputs.grad.detach().numpy().astype("float64")


def _scale_of(np: Any, step: Any) -> Any:
    """d(output)/d(input) of an affine scaler, per feature."""
    scale = getattr(step, "scale_", None)
    if scale is None:
        return np.ones(1)
    return 1.0 / np.where(np.asarray(scale) == 0, 1.0, np.asarray(scale))


def _sklearn_model(np: Any, path: Path, x: Any, classes: list[Any]) -> _Model:
    try:
        import skops.io as sio  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise MissingExtraError("examples", "skops") from exc
    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if foreign:
        raise InputError(
            f"{path} needs types outside scikit-learn and NumPy: {', '.join(foreign[:5])}",
            where=path,
            hint="only scikit-learn, NumPy and SciPy types are loaded; re-save the model with them",
        )
    # skops trusts a list of types by default; other classes of scikit-learn itself (the
    # predictors of gradient boosting) are data holders from the same trusted package.
    model = sio.load(path, trusted=untrusted)
    steps = list(getattr(model, "steps", [("model", model)]))
    *prefix, (_, last) = steps
    scalers = [s for _, s in prefix]
    if type(last).__name__ in _LINEAR and all(type(s).__name__ in _SCALERS for s in scalers):
        return _Linear(np, scalers, last, model.predict)
    return _surrogate(np, model, x)


def _surrogate(np: Any, model: Any, x: Any) -> _Model:
    """A logistic regression fitted to the model's predictions: gradients for a transfer attack."""
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped,unused-ignore]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped,unused-ignore]

    predicted = model.predict(x)
    scaler = StandardScaler().fit(x)
    fitted = LogisticRegression(max_iter=500).fit(scaler.transform(x), predicted)
    surrogate = _Linear(np, [scaler], fitted, model.predict)
    surrogate.method = "surrogate"
    return surrogate


def _torch_model(path: Path, classes: list[Any]) -> _Model:
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("torch", "torch") from exc
    try:
        module = torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call,unused-ignore]
    except (RuntimeError, ValueError) as exc:
        raise InputError(
            f"{path} is not a TorchScript archive: {exc}".splitlines()[0],
            where=path,
            hint="save the classifier with torch.jit.save(torch.jit.script(model), PATH)",
        ) from None
    module.eval()
    return _Torch(torch, module, classes)


def load_classifier(path: Path, x: Any, classes: list[Any]) -> tuple[_Model, str]:
    """The classifier at ``path`` (after a scan that finds nothing at or above medium).

    Raises:
        InputError: The format is not one that is loaded, or the scan found something.
    """
    import numpy as np

    from ssdf_ai.findings import Severity
    from ssdf_ai.scan import scan_paths

    if not path.is_file():
        raise InputError(f"{path} is not a file", where=path, hint="give the model file")
    found = scan_paths([path])
    bad = [f for f in found.findings if f.severity >= Severity.MEDIUM]
    if bad:
        raise InputError(
            f"the scan of {path} found {bad[0].rule_id}: {bad[0].message}",
            where=path,
            hint="only models that scan clean are loaded (`ssdf scan`)",
        )
    fmt = found.scanned[0].format if found.scanned else "unknown"
    if path.suffix == ".skops" and fmt == "zip":
        return _sklearn_model(np, path, x, classes), "sklearn"
    if fmt == "torchscript":
        return _torch_model(path, classes), "torchscript"
    raise InputError(
        f"{path} is {fmt}: only skops files and TorchScript archives are loaded",
        where=path,
        hint="pickled models are never loaded; save scikit-learn models with skops and "
        "PyTorch models with torch.jit.save",
    )


def adversarial_samples(
    x: Any,
    y: Any,
    model_path: Path,
    settings: AttackSettings = AttackSettings(),  # noqa: B008
) -> AdversarialSet:
    """Attack a sample of the rows ``x`` (labels ``y``) against the model at ``model_path``.

    Args:
        x: Features, shape ``(rows, features)``.
        y: True labels.
        model_path: A skops file or a TorchScript archive.
        settings: The attack.

    Returns:
        The adversarial rows, kept apart from ``x``, with their provenance.
    """
    import numpy as np

    settings.check()
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=object)
    if x.ndim != 2 or len(x) != len(y) or not len(x):
        raise InputError("the features and labels are empty or of different lengths")
    classes = _sorted_classes(y.tolist())
    model, kind = load_classifier(model_path, x, classes)
    labels = [_as_class(v, model) for v in y]
    rng = np.random.default_rng(settings.seed)
    count = max(1, round(settings.fraction * len(x)))
    rows = np.sort(rng.choice(len(x), count, replace=False))
    original = x[rows]
    truth = [labels[i] for i in rows]
    low, high = x.min(axis=0), x.max(axis=0)
    adv = _perturb(np, model, original, truth, settings, low, high, rng)
    clean = float(np.mean(_equal(model.predict(original), truth)))
    attacked = float(np.mean(_equal(model.predict(adv), truth)))
    return AdversarialSet(
        features=adv,
        labels=np.asarray(truth, dtype=object),
        source_rows=rows,
        clean_accuracy=clean,
        adversarial_accuracy=attacked,
        method=model.method,
        model_kind=kind,
        settings=settings,
        bounds=(float(low.min()), float(high.max())),
    )


def _sorted_classes(values: list[Any]) -> list[Any]:
    """Distinct labels in the order a network's outputs follow: numbers by value, then text."""
    distinct = set(values)
    numbers = sorted(v for v in distinct if isinstance(v, int | float) and not isinstance(v, bool))
    return numbers + sorted((v for v in distinct if v not in numbers), key=str)


def _as_class(value: Any, model: Any) -> Any:
    """A label as the model's classes spell it (CSV labels are numbers or strings)."""
    classes = getattr(model, "classes", [])
    for candidate in classes:
        if str(candidate) == str(value):
            return candidate
    return value


def _equal(predicted: Any, truth: list[Any]) -> list[bool]:
    return [str(p) == str(t) for p, t in zip(predicted, truth, strict=True)]


def _perturb(
    np: Any,
    model: _Model,
    x: Any,
    y: list[Any],
    settings: AttackSettings,
    low: Any,
    high: Any,
    rng: Any,
) -> Any:
    eps = settings.eps
    if settings.attack == "fgsm":
        return np.clip(x + eps * np.sign(model.gradient(x, y)), low, high)
    step = settings.step_size or 2.5 * eps / settings.steps
    adv = np.clip(x + rng.uniform(-eps, eps, size=x.shape), low, high)
    for _ in range(settings.steps):
        adv = adv + step * np.sign(model.gradient(adv, y))
        adv = np.clip(np.clip(adv, x - eps, x + eps), low, high)
    return adv
