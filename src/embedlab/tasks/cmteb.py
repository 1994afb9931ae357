"""C-MTEB reranking and retrieval tasks by name: every one mteb lists (`tasks.cmteb_table`), in both layouts.

Tasks are data: a name, a type, the split and main score mteb scores, and the two places the data is published:
mteb 2.x's re-upload `mteb/<Name>` (configs `corpus`, `queries`, `default` = qrels, `top_ranked` for reranking)
and the original C-MTEB dataset (`C-MTEB/<Name>`: reranking rows; retrieval corpus and queries, qrels in
`C-MTEB/<Name>-qrels`) that mteb 1.x read. `data.resolve` finds and loads a local copy of either.
"""

from __future__ import annotations

from dataclasses import dataclass

from embedlab.errors import UnknownNameError
from embedlab.tasks.cmteb_table import ROWS

MTEB = "mteb"  # mteb 2.x's re-uploaded datasets
CMTEB = "C-MTEB"  # the original C-MTEB datasets (mteb 1.x)
LAYOUTS = (MTEB, CMTEB)  # the order a task's local copies are tried in


@dataclass(frozen=True)
class CMTEBTask:
    name: str
    type: str  # "reranking" | "retrieval"
    split: str
    main_score: str  # mteb's name of the task's main score ("map_at_1000", "ndcg_at_10")
    language: str  # ISO 639-3 and script, as mteb writes it ("cmn-Hans")
    mteb_repo: str
    mteb_revision: str
    cmteb_repo: str | None
    cmteb_revision: str | None
    cmteb_qrels_revision: str | None  # retrieval: of `<cmteb_repo>-qrels`
    aliases: tuple[str, ...] = ()  # names the task had in older mteb results

    @property
    def layouts(self) -> tuple[str, ...]:
        return LAYOUTS if self.cmteb_repo else (MTEB,)

    def repo(self, layout: str) -> str:
        return self.mteb_repo if layout == MTEB else self.cmteb_repo or ""

    def revision(self, layout: str) -> str | None:
        return self.mteb_revision if layout == MTEB else self.cmteb_revision

    @property
    def qrels_repo(self) -> str | None:
        """The C-MTEB layout's separate qrels dataset of a retrieval task."""
        return f"{self.cmteb_repo}-qrels" if self.type == "retrieval" and self.cmteb_repo else None

    def layout_of(self, revision: str | None) -> str | None:
        """Which published dataset a revision is of (None: neither, or not known)."""
        return MTEB if revision == self.mteb_revision else CMTEB if revision and revision == self.cmteb_revision \
            else None


TASKS = {row[0]: CMTEBTask(*row) for row in ROWS}


def lookup(name: str) -> CMTEBTask:
    """A task by its name (any case), a name it had before, or its dataset's name ("Mmarco-reranking")."""
    wanted = name.lower()
    for task in TASKS.values():
        names = (task.name, *task.aliases, *(task.repo(layout).split("/")[1] for layout in task.layouts))
        if wanted in (n.lower() for n in names):
            return task
    raise UnknownNameError("C-MTEB task", name, TASKS)


def parse_name(text: str) -> tuple[CMTEBTask, str | None]:
    """(task, layout) of `T2Reranking` (either layout) or `mteb/T2Reranking`, `C-MTEB/Mmarco-reranking` (that one)."""
    owner, sep, rest = text.partition("/")
    if sep and owner.lower() in (layout.lower() for layout in LAYOUTS):
        layout = next(layout for layout in LAYOUTS if layout.lower() == owner.lower())
        task = lookup(rest)
        if layout not in task.layouts:
            raise UnknownNameError(f"{layout} dataset", text, [task.repo(lay) for lay in task.layouts])
        return task, layout
    return lookup(text), None


def is_layout_name(text: str) -> bool:
    """`mteb/<task>` or `C-MTEB/<task>`: a task named with the layout to load it from."""
    owner, sep, rest = text.partition("/")
    return bool(sep and rest and "/" not in rest and owner.lower() in (layout.lower() for layout in LAYOUTS))
