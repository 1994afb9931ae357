"""The cost table of `results.costs`: per run and task, quality beside bytes per document, index size and
milliseconds per query (rich for the terminal, markdown for reports)."""

from __future__ import annotations

from embedlab.report.markup import human_bytes, markdown_table
from embedlab.results.costs import CostRow

HEADER = ["model", "task", "score", "bytes / document", "search", "index", "ms / query"]
CAPTION = ("score ×100; bytes per document as stored (dense dim x 4, sparse nnz x 8, tokens x dim x 4); index and "
           "ms / query as measured in this run")


def cost_cells(rows: list[CostRow]) -> tuple[list[str], list[list[str]]]:
    cells = []
    for row in rows:
        storage = " + ".join(f"{human_bytes(b)} ({output})" for output, b in row.storage.items()) or "–"
        cells.append([row.model, row.task, f"{100 * row.score:.2f}", storage, row.search,
                      human_bytes(row.index_bytes), "–" if row.ms_per_query is None else f"{row.ms_per_query:.3f}"])
    return HEADER, cells


def rich_costs(rows: list[CostRow]):
    from rich.table import Table
    from rich.text import Text

    header, cells = cost_cells(rows)
    table = Table(title="what each kind costs", caption=CAPTION, title_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index in (0, 1, 4) else "right", overflow="fold")
    for line in cells:
        table.add_row(*(Text(cell) for cell in line))
    return table


def markdown_costs(rows: list[CostRow]) -> list[str]:
    return ["## What each kind costs", "", *markdown_table(*cost_cells(rows)), "", f"_{CAPTION}_", ""]
