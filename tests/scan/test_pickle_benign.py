"""Real pickles made by the real libraries give no finding above LOW.

Each artifact is made here by the library that makes it in practice (torch.save, pickle.dumps
of NumPy and scikit-learn objects) and analysed, never loaded.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import io
import pickle
import random
import zipfile
from typing import Any

import pytest
from pickle_payloads import findings_for

from ssdf_ai.findings import Severity
from ssdf_ai.scan.pickle import analyze

np = pytest.importorskip("numpy")


def _assert_clean(data: bytes) -> None:
    analysis = analyze(data)
    assert analysis.error is None, analysis.error
    found = findings_for(data)
    assert all(f.severity <= Severity.LOW for f in found), [f.message for f in found]


def _torch_member(payload: bytes, suffix: str = "data.pkl") -> bytes:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name)


@pytest.fixture(scope="module")
def torch_model() -> Any:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 10),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    return torch, model, optimizer


def _torch_save(torch: Any, obj: object, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def test_torch_state_dict(torch_model: Any) -> None:
    torch, model, _ = torch_model
    _assert_clean(_torch_member(_torch_save(torch, model.state_dict())))


def test_torch_training_checkpoint(torch_model: Any) -> None:
    torch, model, optimizer = torch_model
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": 7,
        "loss": 0.25,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
        "python_rng": random.getstate(),
        "args": argparse.Namespace(lr=1e-3, batch_size=32),
    }
    _assert_clean(_torch_member(_torch_save(torch, checkpoint)))


def test_torch_whole_model(torch_model: Any) -> None:
    torch, model, _ = torch_model
    _assert_clean(_torch_member(_torch_save(torch, model)))


def test_torch_legacy_format(torch_model: Any) -> None:
    torch, model, _ = torch_model
    data = _torch_save(torch, model.state_dict(), _use_new_zipfile_serialization=False)
    analysis = analyze(data)
    # magic number, protocol version, system info, the state dict, the storage keys
    assert analysis.streams == 5
    _assert_clean(data)


@pytest.mark.parametrize("protocol", range(6))
def test_numpy_arrays(protocol: int) -> None:
    arrays = {
        "float": np.arange(12, dtype=np.float32).reshape(3, 4),
        "int": np.array([1, 2, 3], dtype=np.int64),
        "fortran": np.asfortranarray(np.ones((2, 3))),
        "scalar": np.float64(1.5),
        "bool": np.bool_(True),
        "strings": np.array(["a", "bc"]),
        "structured": np.zeros(2, dtype=[("x", "<i4"), ("y", "<f8")]),
    }
    _assert_clean(pickle.dumps(arrays, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy_random_state(protocol: int) -> None:
    states = [
        np.random.default_rng(42).bit_generator.state,
        np.random.default_rng(42),
        np.random.RandomState(42),
        np.random.get_state(),
        np.random.Generator(np.random.PCG64(1)),
        np.random.Generator(np.random.Philox(1)),
        np.random.Generator(np.random.SFC64(1)),
        np.random.Generator(np.random.MT19937(1)),
    ]
    _assert_clean(pickle.dumps(states, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_sklearn_pipeline(protocol: int) -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] > 0).astype(int)
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
    _assert_clean(pickle.dumps(pipeline, protocol=protocol))


def test_sklearn_tree_ensemble() -> None:
    pytest.importorskip("sklearn")
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = (x[:, 1] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    _assert_clean(pickle.dumps(forest, protocol=4))


@pytest.mark.parametrize("protocol", range(6))
def test_plain_python_values(protocol: int) -> None:
    shared = [1, 2, 3]
    value = {
        "ordered": collections.OrderedDict(a=1, b=[shared, shared]),
        "counter": collections.Counter("hello"),
        "list": [None, True, False, 1, -1, 2**40, 2**100, 1.5, "text", "ü", b"bytes"],
        "tuple": (1, (2, (3,))),
        "set": {1, 2},
        "frozenset": frozenset({"a"}),
        "bytearray": bytearray(b"xyz"),
        "complex": 1 + 2j,
        "range": range(3),
        "slice": slice(1, 5, 2),
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "date": datetime.date(2024, 1, 2),
        "delta": datetime.timedelta(days=1),
        "decimal": decimal.Decimal("1.10"),
        "namespace": argparse.Namespace(a=1),
        "empty": [[], {}, (), ""],
    }
    _assert_clean(pickle.dumps(value, protocol=protocol))


def test_several_pickles_in_a_row() -> None:
    data = b"".join(pickle.dumps({"i": i}, protocol=i) for i in range(6))
    analysis = analyze(data)
    assert analysis.streams == 6
    _assert_clean(data)


def test_plain_pickle_of_tensors(torch_model: Any) -> None:
    # pickle.dumps of a tensor embeds a legacy torch.save of its storage, loaded by
    # torch.storage._load_from_bytes: analysed as a nested pickle.
    torch, model, _ = torch_model
    data = pickle.dumps({"w": torch.ones(3), "state": model.state_dict()}, protocol=2)
    analysis = analyze(data)
    assert analysis.nested
    assert all(nested.error is None for _, nested in analysis.nested)
    _assert_clean(data)
