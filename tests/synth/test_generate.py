import pytest

from embedlab.models import ModelOptions
from embedlab.models.registry import load_chat
from embedlab.run.options import RunOptions
from embedlab.synth.generate import no_llm, titles, written
from embedlab.synth.passages import Passage
from embedlab.synth.prompts import read_prompt
from tests.models.chat_server import ChatServer, stub_questions

CORPUS = [Passage("a", "Green tea is brewed at eighty degrees. It steeps two minutes.", "Tea"),
          Passage("b", "Black tea needs boiling water. It steeps four minutes.", "Tea"),
          Passage("c", "绿茶用八十度的水冲泡。泡两分钟就好。", "茶"),
          Passage("d", "Coffee beans are roasted. Then they are ground.")]


def test_a_title_finds_every_passage_it_heads_and_titles_leave_the_corpus():
    made = titles(CORPUS, CORPUS)
    assert [(d.text, d.positives) for d in made.drafts] == [("Tea", ("a", "b")), ("茶", ("c",))]
    assert made.skipped == {"no title": 1} and all(p.title == "" for p in made.corpus.values())
    assert titles(CORPUS, CORPUS[1:2]).drafts[0].positives == ("a", "b")  # the whole corpus, whatever the sample


def test_the_no_llm_generators_by_name():
    assert [d.style for d in no_llm("ict", CORPUS, CORPUS, 1, 0).drafts] == ["ict"] * 4
    assert no_llm("title", CORPUS, CORPUS, 1, 0).drafts[0].style == "title"
    assert no_llm("keywords", CORPUS, CORPUS[:1], 1, 0).drafts[0].style == "keywords"


@pytest.fixture
def server():
    server = ChatServer()
    yield server
    server.close()


def test_a_chat_model_writes_queries_from_the_template_of_each_passage(server, tmp_path):
    model = load_chat("openai-chat:stub", ModelOptions(base_url=server.url, api_key_env="none", concurrency=1),
                      temperature=0.7)
    # one request at a time: the first passage's answer, then its second one after the three others, are unusable
    server.faults = [("text", "not json"), ("ok",), ("ok",), ("ok",), ("text", "still not json")]
    made = written(model, CORPUS, CORPUS, per_passage=2, styles=("question", "paraphrase"), language="auto",
                   custom=None, run=RunOptions(cache=tmp_path / "c.sqlite", seed=3))
    asked = {r["messages"][0]["content"] for r in server.requests}
    assert any("恰好 2 个" in p for p in asked) and any("exactly 2" in p for p in asked)
    assert {d.style for d in made.drafts} <= {"question", "paraphrase"} and len(made.drafts) == 6
    assert made.skipped == {"unusable answer (not JSON)": 1}
    assert {p["language"] for p in made.info["prompts"]} == {"zh", "en"}
    assert made.info["asking"]["asked_again"] == 1 and made.info["model"]["name"] == "openai-chat:stub"
    for draft in made.drafts:
        passage = next(p for p in CORPUS if p.id == draft.passage)
        written_for = stub_questions(f"<passage>\n{passage.content}\n</passage> exactly 2")
        assert draft.text in [" ".join(q.split()) for q in written_for]  # spaces joined by the strict reading


def test_a_custom_prompt_is_used_for_every_passage(server, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text('Make exactly {n} search queries for <passage>{passage}</passage> as {"queries": []}',
                      encoding="utf-8")
    model = load_chat("openai-chat:stub", ModelOptions(base_url=server.url, api_key_env="none"), temperature=0.7)
    made = written(model, CORPUS, CORPUS[:2], per_passage=1, styles=("question",), language="auto",
                   custom=read_prompt(prompt), run=RunOptions(cache=False))
    assert server.requests[0]["messages"][0]["content"].startswith("Make exactly 1 search queries for <passage>")
    assert [p["language"] for p in made.info["prompts"]] == ["custom"] and len(made.drafts) == 2
