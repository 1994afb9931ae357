"""Tables and pages: every text escaped, markdown cells that cannot break the table, a page that fetches nothing."""

from __future__ import annotations

import re

from embedlab.report.markup import html_page, html_table, markdown_table, png_img


def test_markdown_cells_cannot_break_the_table():
    lines = markdown_table(["model", "score"], [["a|b", "1\n2"], ["", "3"]])
    assert lines == ["| model | score |", "|---|---|", "| a\\|b | 1 2 |", "|   | 3 |"]
    assert all(line.count("|") - line.count("\\|") == 3 for line in lines)


def test_html_tables_escape_and_mark_cells():
    table = html_table(["<m>", "Δ"], [["<script>", "+1 better"]], "scores & more",
                       cell_class=lambda text: "better" if text.endswith("better") else "")
    assert "<script>" not in table and "&lt;script&gt;" in table and "&lt;m&gt;" in table
    assert "<caption>scores &amp; more</caption>" in table and "<td class='better'>+1 better</td>" in table
    assert "<caption>" not in html_table(["a"], [["b"]])


def test_a_page_is_self_contained_and_says_who_wrote_it():
    page = html_page("a <title>", "<p>body</p>" + png_img(b"\x89PNG"), "p{color:red}")
    assert page.startswith("<!doctype html>") and "<title>a &lt;title&gt;</title>" in page
    assert "<meta name='generator' content='embedlab'>" in page and "p{color:red}" in page
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing fetched from the network
    assert "src='data:image/png;base64,iVBORw==" in page
