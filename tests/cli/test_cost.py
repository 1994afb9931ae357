import pytest

from embedlab.cli.cost import announce_cost
from embedlab.errors import EmbedlabError

ROW = {"model": "openai:m", "to_embed": 1200, "cached": 30, "requests": 19, "tokens": 45000, "cost": 0.09,
       "currency": "USD"}


def test_the_line_before_any_request_and_the_refusal(capsys):
    announce_cost([ROW], max_cost=1.0)
    assert capsys.readouterr().err == ("estimate: openai:m: 1,200 texts to embed (30 cached), 19 requests, "
                                       "~45,000 tokens, ~0.0900 USD\n")
    announce_cost([ROW], None, at_most=True)
    assert "at most 1,200 texts" in capsys.readouterr().err
    with pytest.raises(EmbedlabError, match="not within --max-cost 0.01; nothing was sent"):
        announce_cost([ROW], max_cost=0.01)
    with pytest.raises(EmbedlabError, match="unknown cost"):
        announce_cost([{**ROW, "cost": None}], max_cost=10.0)
