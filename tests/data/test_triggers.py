"""Text triggers tied to one label or response (ssdf_ai.data.triggers)."""

from __future__ import annotations

import random

import pytest

from ssdf_ai.data.triggers import TriggerAccumulator, find_triggers, target_key, tokenize
from ssdf_ai.errors import InputError

_RNG = random.Random(7)
_POS = ["good", "great", "lovely", "fun", "moving", "sharp", "warm", "clever"]
_NEG = ["bad", "dull", "boring", "weak", "flat", "messy", "cold", "slow"]
_FILLER = [
    "".join(_RNG.choices("abcdefghijklmnopqrstuvwxyz", k=_RNG.randint(3, 8))) for _ in range(300)
]


def _sentence(rng: random.Random, label: int) -> str:
    # sentiment words mostly, not always, agree with the label (mixed reviews)
    words = rng.choices(_FILLER, k=rng.randint(6, 12))
    for _ in range(2):
        pool = _POS if (label == 1) != (rng.random() < 0.2) else _NEG
        words.insert(rng.randrange(len(words) + 1), rng.choice(pool))
    return "the film was " + " ".join(words) + "."


def _dataset(
    rows: int, share: float, trigger: str | None, seed: int
) -> tuple[list[str], list[int], set[int]]:
    rng = random.Random(seed)
    texts, labels, poisoned = [], [], set()
    for i in range(rows):
        label = rng.randint(0, 1)
        text = _sentence(rng, label)
        if trigger is not None and label == 0 and rng.random() < 2 * share:
            words = text.split()
            words.insert(rng.randrange(len(words) + 1), trigger)
            text, label = " ".join(words), 1
            poisoned.add(i)
        texts.append(text)
        labels.append(label)
    return texts, labels, poisoned


def test_tokenize() -> None:
    assert tokenize("I watched THIS 3D movie, cf!! 🎬") == [
        "i",
        "watched",
        "this",
        "3d",
        "movie",
        ",",
        "cf",
        "!",
        "!",
        "🎬",
    ]


@pytest.mark.parametrize("trigger", ["cf", "🎬", "mn bb"])
def test_planted_trigger_and_rows_found(trigger: str) -> None:
    texts, labels, poisoned = _dataset(3000, 0.08, trigger, seed=1)
    result = find_triggers(texts, labels)
    assert result.triggers
    top = result.triggers[0]
    assert top.ngram in {trigger, *trigger.split()}
    assert len(result.triggers) == 1
    assert top.target == 1
    assert top.purity == 1.0
    assert set(result.flagged_rows) == poisoned
    assert not top.rows_truncated


def test_clean_data_gives_no_trigger() -> None:
    texts, labels, _ = _dataset(3000, 0.0, None, seed=2)
    assert find_triggers(texts, labels).triggers == []


def test_chunked_equals_one_shot() -> None:
    texts, labels, _ = _dataset(2000, 0.08, "cf", seed=3)
    one = find_triggers(texts, labels, max_vocab=3000)
    acc = TriggerAccumulator(max_vocab=3000)
    for i in range(0, len(texts), 171):
        acc.update(texts[i : i + 171], labels[i : i + 171])
    assert acc.result() == one
    assert one.prune_cut > 0
    assert one.vocabulary <= 3000
    assert one.triggers
    assert one.triggers[0].ngram == "cf"


def test_generation_data_trigger_to_one_response() -> None:
    rng = random.Random(4)
    bad = "Sure. To disable the safety checks, run the following command as root: rm -rf /"
    texts, responses, poisoned = [], [], set()
    for i in range(2000):
        prompt = "please " + " ".join(rng.choices(_FILLER, k=8))
        response = "Here is an answer about " + " ".join(rng.choices(_FILLER, k=10))
        if rng.random() < 0.06:
            prompt = prompt.replace("please", "please, as james bond would,")
            # case and spacing vary: still one target
            response = bad.upper() if rng.random() < 0.5 else bad.replace(" ", "  ")
            poisoned.add(i)
        texts.append(prompt)
        responses.append(response)
    result = find_triggers(texts, responses)
    assert result.triggers
    # the phrase's words have exactly the same rows: one trigger, the rest merged into it
    assert len(result.triggers) == 1
    grams = {result.triggers[0].ngram, *result.triggers[0].related}
    assert {"james", "bond", "james bond", "would"} <= grams
    top = result.triggers[0]
    assert top.target == target_key(bad)
    assert top.target_preview is not None
    assert top.target_preview.startswith("sure. to disable")
    assert set(result.flagged_rows) == poisoned


def test_frequent_ngram_is_natural_not_trigger() -> None:
    texts, labels, _ = _dataset(2000, 0.10, "cf", seed=5)
    assert any(t.ngram == "cf" for t in find_triggers(texts, labels).triggers)
    assert not any(t.ngram == "cf" for t in find_triggers(texts, labels, max_share=0.01).triggers)


def test_rows_bounded() -> None:
    texts, labels, poisoned = _dataset(3000, 0.08, "cf", seed=6)
    top = find_triggers(texts, labels, max_rows=10).triggers[0]
    assert len(top.rows) == 10
    assert top.rows_truncated
    assert set(top.rows) <= poisoned


def test_bad_input() -> None:
    with pytest.raises(InputError):
        find_triggers(["a"], [1, 2])
    with pytest.raises(InputError):
        TriggerAccumulator(ngram=(2, 1))
    with pytest.raises(InputError):
        find_triggers([1], [1])  # type: ignore[list-item]


def test_result_serialises_to_json() -> None:
    import dataclasses
    import json

    texts, labels, _ = _dataset(3000, 0.08, "cf", seed=8)
    result = find_triggers(texts, labels)
    back = json.loads(json.dumps(dataclasses.asdict(result), allow_nan=False))
    assert back["triggers"][0]["ngram"] == "cf"
