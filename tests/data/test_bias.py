"""Label-rate disparity and class imbalance (ssdf_ai.data.bias)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssdf_ai.data.bias import MISSING, OTHER, BiasAccumulator, measure_bias
from ssdf_ai.errors import InputError


def _groups(result, attribute="g"):  # type: ignore[no-untyped-def]
    (attr,) = [a for a in result.attributes if a.attribute == attribute]
    return {g.group: g for g in attr.groups}


def test_hand_computed_spd_and_di() -> None:
    # group a: 40 rows, 30 favourable (0.75); group b: 60 rows, 30 favourable (0.5)
    labels = [1] * 30 + [0] * 10 + [1] * 30 + [0] * 30
    groups = {"g": ["a"] * 40 + ["b"] * 60}
    result = measure_bias(labels, groups)
    g = _groups(result)
    assert result.favorable == 1
    assert g["a"].favorable_rate == pytest.approx(0.75)
    assert g["b"].favorable_rate == pytest.approx(0.5)
    assert g["a"].parity_difference == pytest.approx(0.25)
    assert g["b"].parity_difference == pytest.approx(-0.25)
    assert g["a"].disparate_impact == pytest.approx(1.0)
    assert g["b"].disparate_impact == pytest.approx(0.5 / 0.75)
    assert g["b"].flags == ["disparate_impact", "parity_difference"]
    assert g["a"].flags == ["parity_difference"]
    assert g["a"].share == pytest.approx(0.4)
    assert result.flagged


def test_three_groups_spd_against_rest() -> None:
    # a: 50 rows rate 0.6, b: 50 rows rate 0.5, c: 100 rows rate 0.55
    labels = [1] * 30 + [0] * 20 + [1] * 25 + [0] * 25 + [1] * 55 + [0] * 45
    groups = {"g": ["a"] * 50 + ["b"] * 50 + ["c"] * 100}
    g = _groups(measure_bias(labels, groups))
    assert g["a"].parity_difference == pytest.approx(0.6 - 80 / 150)
    assert g["c"].parity_difference == pytest.approx(0.55 - 55 / 100)
    assert g["b"].disparate_impact == pytest.approx(0.5 / 0.6)
    assert not any(x.flags for x in g.values())


def test_small_groups_not_judged_and_under_represented() -> None:
    labels = [1] * 300 + [0] * 300 + [0] * 10
    groups = {"g": ["a"] * 600 + ["tiny"] * 10}
    g = _groups(measure_bias(labels, groups))
    assert not g["tiny"].judged
    assert g["tiny"].flags == ["under_represented"]
    assert g["tiny"].disparate_impact == 0.0
    assert g["a"].judged


def test_missing_values_and_favourable_choice() -> None:
    labels = ["no", "yes", "yes", "no"] * 10
    groups = {"g": [None, "", float("nan"), "x"] * 10}
    result = measure_bias(labels, groups, min_group=1)
    assert result.favorable == "yes"
    g = _groups(result)
    assert set(g) == {MISSING, "x"}
    assert g[MISSING].count == 30
    # binary labels without a conventional positive: the larger by str order
    assert measure_bias(["a", "b", "b"], {"g": [1, 1, 2]}).favorable == "b"
    # an explicit favourable label wins
    assert measure_bias(["yes", "no"], {"g": [1, 2]}, favorable="no").favorable == "no"


def test_multiclass_reports_worst_class() -> None:
    # class "c" is given to group b only
    labels = ["a"] * 50 + ["b"] * 50 + ["a"] * 30 + ["b"] * 30 + ["c"] * 40
    groups = {"g": ["x"] * 100 + ["y"] * 100}
    result = measure_bias(labels, groups)
    assert result.favorable is None
    g = _groups(result)
    assert g["x"].outcome == "c"
    assert g["x"].disparate_impact == pytest.approx(0.0)
    assert g["x"].parity_difference == pytest.approx(-0.4)


def test_class_imbalance() -> None:
    result = measure_bias([0] * 95 + [1] * 5, {"g": ["a"] * 100})
    assert result.balance.classes == [0, 1]
    assert result.balance.imbalance_ratio == pytest.approx(5 / 95)
    h = -(0.95 * math.log(0.95) + 0.05 * math.log(0.05))
    assert result.balance.entropy_balance == pytest.approx(h / math.log(2))
    assert result.balance.flagged
    assert not measure_bias([0, 1], {"g": ["a", "a"]}).balance.flagged


def test_identifier_like_attribute_is_capped() -> None:
    n = 50
    result = measure_bias([i % 2 for i in range(n)], {"id": list(range(n))}, max_groups=10)
    (attr,) = result.attributes
    assert attr.capped
    assert attr.note is not None
    assert "identifier" in attr.note
    g = {x.group: x for x in attr.groups}
    assert len(g) == 11
    assert g[OTHER].count == 40


def test_chunked_equals_one_shot() -> None:
    rng = random.Random(1)
    labels = [rng.random() < 0.4 for _ in range(3000)]
    sex = [rng.choice(["f", "m", None]) for _ in range(3000)]
    region = [rng.choice("nsew") for _ in range(3000)]
    one = measure_bias(labels, {"sex": sex, "region": region})
    acc = BiasAccumulator()
    for i in range(0, 3000, 317):
        acc.update(labels[i : i + 317], {"sex": sex[i : i + 317], "region": region[i : i + 317]})
    assert acc.result() == one


def test_bad_input() -> None:
    with pytest.raises(InputError):
        measure_bias([1, 0], {"g": ["a"]})
    acc = BiasAccumulator()
    acc.update([1], {"g": ["a"]})
    with pytest.raises(InputError):
        acc.update([1], {"h": ["a"]})
    with pytest.raises(InputError):
        BiasAccumulator(min_group=0)


_rows = st.lists(st.tuples(st.integers(0, 2), st.sampled_from("abcd")), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(_rows, st.integers(1, 5))
def test_properties(rows: list[tuple[int, str]], min_group: int) -> None:
    labels = [r[0] for r in rows]
    groups = [r[1] for r in rows]
    result = measure_bias(labels, {"g": groups}, min_group=min_group)
    for attr in result.attributes:
        for g in attr.groups:
            assert 0.0 <= g.disparate_impact <= 1.0
    # a single group has SPD 0
    single = measure_bias(labels, {"g": ["only"] * len(labels)})
    assert single.attributes[0].groups[0].parity_difference == 0.0
    # permutation invariance
    perm = list(range(len(rows)))
    random.Random(len(rows)).shuffle(perm)
    shuffled = measure_bias(
        [labels[i] for i in perm], {"g": [groups[i] for i in perm]}, min_group=min_group
    )
    for a, b in zip(result.attributes[0].groups, shuffled.attributes[0].groups, strict=True):
        assert a.group == b.group
        assert a.count == b.count
        assert a.parity_difference == pytest.approx(b.parity_difference)
        assert a.disparate_impact == pytest.approx(b.disparate_impact)


def test_numpy_values_become_plain_python() -> None:
    np = pytest.importorskip("numpy")
    labels = np.array([1, 0, 1, 0] * 20)
    groups = np.array([3, 3, 4, 4] * 20)
    result = measure_bias(labels, {"g": groups})
    assert type(result.favorable) is int
    assert {type(g.group) for g in result.attributes[0].groups} == {int}
    assert all(type(c) is int for c in result.balance.classes)


def test_result_serialises_to_json() -> None:
    import dataclasses
    import json

    result = measure_bias([1, 0, 1], {"g": ["a", None, "b"]}, min_group=1)
    back = json.loads(json.dumps(dataclasses.asdict(result)))
    assert back["attributes"][0]["groups"][0]["group"] in {"a", "b", MISSING}


def test_multiclass_with_a_one_is_not_binary() -> None:
    # labels 0/1/2: 1 is not taken as "the" favourable label of three classes
    labels = [0, 1, 2] * 40
    result = measure_bias(labels, {"g": ["a", "b", "a"] * 40})
    assert result.favorable is None
    assert measure_bias(labels, {"g": ["a"] * 120}, favorable=2).favorable == 2
