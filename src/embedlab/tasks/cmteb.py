"""C-MTEB reranking and retrieval tasks by name, and where their snapshots are (`data.resolve` loads them).

Tasks are data: a name, a type, the Hugging Face dataset(s) C-MTEB publishes them in, and the split
the leaderboard scores. A snapshot is found, in this order, under `data_dir` (or $EMBEDLAB_DATA_DIR)
as `<dir>/<Name>`, `<dir>/C-MTEB/<Name>` or a hub-cache `<dir>/datasets--C-MTEB--<Name>/snapshots/*`;
then in the local Hugging Face cache; then downloaded, unless HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from embedlab.errors import DataError, UnknownNameError


@dataclass(frozen=True)
class CMTEBTask:
    name: str
    type: str  # "reranking" | "retrieval"
    split: str

    @property
    def repo(self) -> str:
        return f"C-MTEB/{self.name}"

    @property
    def qrels_repo(self) -> str | None:
        return f"C-MTEB/{self.name}-qrels" if self.type == "retrieval" else None


TASKS = {t.name: t for t in [
    CMTEBTask("T2Reranking", "reranking", "dev"),
    CMTEBTask("MMarcoReranking", "reranking", "dev"),
    CMTEBTask("CMedQAv1-reranking", "reranking", "test"),
    CMTEBTask("CMedQAv2-reranking", "reranking", "test"),
    *(CMTEBTask(name, "retrieval", "dev") for name in (
        "T2Retrieval", "MMarcoRetrieval", "DuRetrieval", "CovidRetrieval", "CmedqaRetrieval",
        "EcomRetrieval", "MedicalRetrieval", "VideoRetrieval")),
]}


def lookup(name: str) -> CMTEBTask:
    exact = TASKS.get(name) or next((t for t in TASKS.values() if t.name.lower() == name.lower()), None)
    if exact is None:
        raise UnknownNameError("C-MTEB task", name, TASKS)
    return exact


def locate(repo: str, data_dir: str | Path | None = None) -> Path:
    """A local snapshot folder of the dataset `repo` ("C-MTEB/T2Reranking"), or download it."""
    owner, name = repo.split("/")
    roots = [Path(d) for d in (data_dir, os.environ.get("EMBEDLAB_DATA_DIR")) if d]
    for root in roots:
        for candidate in (root / name, root / owner / name, *_cached(root, owner, name)):
            if candidate.is_dir():
                return candidate
    hub_cache = _hub_cache()
    if hub_cache is not None:
        for candidate in _cached(hub_cache, owner, name):
            return candidate
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        where = ", ".join(str(r) for r in roots) or "no --data-dir / EMBEDLAB_DATA_DIR given"
        raise DataError(f"no local copy of {repo} ({where}; Hugging Face cache: {hub_cache})",
                        hint=f"download it (hf download {repo} --repo-type dataset "
                             f"--local-dir DIR/{name}) and pass --data-dir DIR, or unset HF_HUB_OFFLINE")
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo, repo_type="dataset"))


def _cached(root: Path, owner: str, name: str) -> list[Path]:
    """Snapshot folders of a hub-cache layout, newest first."""
    snapshots = root / f"datasets--{owner}--{name}" / "snapshots"
    if not snapshots.is_dir():
        return []
    return sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)


def _hub_cache() -> Path | None:
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    return Path(constants.HF_HUB_CACHE)
