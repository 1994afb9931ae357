"""The rich terminal table: the plain cells, the best score of each row in bold."""

import io

from rich.console import Console

from embedlab.report.table import rich_table
from embedlab.results.results import Results
from tests.results.test_table import results


def render(table) -> str:
    console = Console(file=io.StringIO(), width=160, force_terminal=True, color_system="standard")
    console.print(table)
    return console.file.getvalue()


def test_best_score_per_row_is_bold_and_the_task_is_not_repeated():
    text = render(rich_table(results()))
    assert "\x1b[1m75.00" in text and "\x1b[1m30.00" in text  # the better model in each row
    assert "\x1b[1m50.00" not in text and "\x1b[1m12.50" not in text  # alone in its row: no bold
    assert text.count("t2") == 1 and "best per row in bold" in text


def test_one_model_has_no_bold_and_a_plain_title():
    single = Results(results().runs[:1])
    text = render(rich_table(single))
    assert "\x1b[1m50.00" not in text and "scores ×100" in text and "bold" not in text


def test_no_bold_claimed_where_no_bold_is_rendered():
    """Issue 30, item 10: piped output said "(best per row in bold)" with no bold in it."""
    console = Console(file=io.StringIO(), width=160)  # a file: no terminal, no styles
    console.print(rich_table(results()))
    text = console.file.getvalue()
    assert "\x1b[" not in text and "bold" not in text and text.startswith("scores ×100")


NASTY = "[bold]x[/bold] :smile: [red]"  # rich markup and an emoji code in a model's name (openai:<anything>)


def test_names_are_shown_as_written_never_as_markup_or_emoji():
    """Issue 24, item 21: `openai:[bold]x` lost its brackets and `:smile:` became an emoji."""
    named = results()
    named.runs[1].model["name"] = NASTY
    named.runs[0].tasks[0].task = "t2 :smile:"
    text = render(rich_table(named))
    assert NASTY in text
    assert "t2 :smile:" in text and "😄" not in text


def test_results_are_printed_without_emoji_codes_replaced(monkeypatch):
    from embedlab.report.table import stdout

    monkeypatch.setenv("COLUMNS", "100")
    console = stdout()
    with console.capture() as captured:
        console.print("openai:x :smile:", markup=False)
    assert captured.get().strip() == "openai:x :smile:"
