import hashlib

import pytest

from embedlab.errors import DataError, UnknownNameError
from embedlab.synth.prompts import STYLES, builtin, choose, language_of, read_prompt
from tests.models.chat_server import stub_questions


def test_templates_hold_the_passage_the_count_and_ask_for_json():
    for language in ("zh", "en"):
        for style in STYLES:
            template = builtin(language, style)
            prompt = template.render("PASSAGE {with} braces", 3)
            assert "<passage>\nPASSAGE {with} braces\n</passage>" in prompt
            assert "{n}" not in prompt and "{passage}" not in prompt and '{"queries": ["..."]}' in prompt
            assert ("exactly 3" if language == "en" else "恰好 3 个") in prompt
            assert template.sha256 == hashlib.sha256(template.text.encode()).hexdigest()
    assert len({builtin("en", s).text for s in STYLES}) == 3


def test_the_passage_script_chooses_the_template():
    assert language_of("黑豹队的防守只丢了 308 分 (NFL)") == "zh"
    assert language_of("The Panthers defense gave up 308 points") == "en"
    assert choose("黑豹队的防守", "question").language == "zh"
    assert choose("黑豹队的防守", "question", language="en").language == "en"
    with pytest.raises(UnknownNameError, match="did you mean 'question'"):
        builtin("en", "questions")


def test_a_user_prompt_needs_the_placeholder(tmp_path):
    good = tmp_path / "p.txt"
    good.write_text('Passage: {passage}\nWrite exactly {n} questions as {"queries": [...]}', encoding="utf-8")
    template = read_prompt(good)
    assert template.language == "custom" and template.render("x", 2).startswith("Passage: x\nWrite exactly 2")
    bad = tmp_path / "bad.txt"
    bad.write_text("Write questions about {text}", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt: the prompt has no \{passage\} placeholder"):
        read_prompt(bad)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 {passage}".encode("latin-1"))
    with pytest.raises(DataError, match="not valid UTF-8"):
        read_prompt(latin1)


def test_the_stub_server_answers_what_the_templates_ask():
    prompt = builtin("en", "question").render("Tea is grown in hills. Green tea is brewed at 80 degrees.", 2)
    assert len(stub_questions(prompt)) == 2
    assert len(stub_questions(builtin("zh", "keywords").render("绿茶用八十度的水冲泡。红茶要用开水。", 3))) == 3
