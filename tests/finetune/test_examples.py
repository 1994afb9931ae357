import pytest

from embedlab.data.training import TrainingData, TrainRow
from embedlab.finetune.examples import build_examples, token_truncator


def data():
    return TrainingData([
        TrainRow(1, "q1", ("p1a", "p1b"), tuple(f"n1-{i}" for i in range(10))),
        TrainRow(2, "q2", ("p2",), ("n2-0",)),
        TrainRow(3, "q3", ("p3",), (), prompt="Instruct: "),
        TrainRow(4, "q4", ("p4",), tuple(f"n4-{i}" for i in range(5))),
    ], "mem")


def test_columns_one_example_per_positive_and_own_negatives_first():
    ex = build_examples(data(), group_size=4, seed=0)
    assert list(ex.columns) == ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    assert ex.columns["anchor"] == ["q1", "q1", "q2", "Instruct: q3", "q4"]
    assert ex.columns["positive"] == ["p1a", "p1b", "p2", "p3", "p4"]
    negatives = [[ex.columns[f"negative_{i}"][row] for i in (1, 2, 3)] for row in range(len(ex))]
    assert all(n.startswith("n1-") for n in negatives[0] + negatives[1])
    assert negatives[2][0] == "n2-0"  # its one own negative, then two filled
    assert ex.counts["filled_negatives"] == 2 + 3 and ex.counts["rows_filled"] == 2


def test_filled_negatives_never_repeat_the_rows_own_texts():
    own = {row.query: set(row.positives) for row in data().rows}
    own["Instruct: q3"] = own.pop("q3")
    for seed in range(20):
        ex = build_examples(data(), group_size=6, seed=seed)
        for row in range(len(ex)):
            negatives = [ex.columns[f"negative_{i}"][row] for i in range(1, 6)]
            assert len(set(negatives)) == 5
            assert not own[ex.columns["anchor"][row]] & set(negatives)


def test_instructions_and_group_size_one():
    ex = build_examples(data(), group_size=1, query_instruction="query: ", document_instruction="passage: ")
    assert list(ex.columns) == ["anchor", "positive"]
    assert ex.columns["anchor"][0] == "query: q1" and ex.columns["anchor"][3] == "Instruct: q3"
    assert ex.columns["positive"][0] == "passage: p1a"
    with pytest.raises(ValueError, match="group_size"):
        build_examples(data(), group_size=0)


def test_not_enough_passages_to_fill_is_a_clear_error():
    tiny = TrainingData([TrainRow(1, "q", ("p",), ())], "mem")
    with pytest.raises(ValueError, match="lower --group-size"):
        build_examples(tiny, group_size=3)


def test_query_truncation_by_tokens_keeps_max_length_with_special_tokens():
    from transformers import AutoTokenizer

    from embedlab.demo import default_model

    tokenizer = AutoTokenizer.from_pretrained(default_model())
    truncate = token_truncator(tokenizer, 8)
    texts, cut = truncate(["one two three four five six seven eight nine ten", "short one"])
    assert cut == 1 and texts[1] == "short one"
    assert texts[0] == "one two three four five six"
    assert len(tokenizer(texts[0])["input_ids"]) == 8
