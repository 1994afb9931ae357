from embedlab.report.chunks import chunk_rows, heading, markdown_chunks
from embedlab.results.chunks import chunk_summaries
from tests.results.test_chunks import results


def test_rows_and_markdown(fake_encoder):
    summary, = chunk_summaries(results(fake_encoder), resamples=200)
    header, rows = chunk_rows(summary)
    assert len(rows) == 3 and all(len(r) == len(header) for r in rows)
    assert any(r[-1].startswith("baseline") for r in rows) and any("frontier" in r[-1] for r in rows)
    text = "\n".join(markdown_chunks(summary))
    assert "units: chars" in text and "| tokens-32 |" in text and "Chroma's definitions, in chars" in text


def test_report_shows_chunking_results_as_chunks_does(fake_encoder):
    """Issue 26: `report` of a `chunks` results file has the chunking table (sorted by context tokens, the frontier
    marked) and the quality / context-tokens plot, not only the generic comparison."""
    from embedlab.report.page import build

    page, markdown = build([results(fake_encoder)])
    summary, = chunk_summaries(results(fake_encoder))
    assert f"## {heading(summary)}" in markdown and "| tokens-32 |" in markdown
    assert "sorted by context tokens" in page and "alt='quality against context tokens'" in page.replace('"', "'")
