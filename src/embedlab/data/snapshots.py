"""Local copies of Hugging Face dataset repositories, and which revision of the repository each one is.

A copy of `owner/name` is found, in this order, under each root (`--data-dir`, then $EMBEDLAB_DATA_DIR) as
`<root>/<name>`, `<root>/<owner>/<name>` or a hub-cache `<root>/datasets--<owner>--<name>/snapshots/*`; then in
the local Hugging Face cache. Its revision is the commit a hub-cache snapshot is named after, or the one
`hf download --local-dir` records under `.cache/huggingface/download/`; None when nothing says.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from embedlab.errors import DataError

_COMMIT = re.compile(r"[0-9a-f]{40}")


def roots(data_dir: str | Path | None = None) -> list[Path]:
    """Where copies are looked for: the given folder, $EMBEDLAB_DATA_DIR, and the Hugging Face cache."""
    found = [Path(d) for d in (data_dir, os.environ.get("EMBEDLAB_DATA_DIR")) if d]
    cache = hub_cache()
    return found + ([cache] if cache is not None else [])


def copies(repo: str, root: Path) -> list[Path]:
    """The folders under `root` that may hold a copy of `repo` ("mteb/T2Reranking"), in the order they are tried."""
    owner, name = repo.split("/")
    return [p for p in (root / name, root / owner / name, *cached(root, owner, name)) if p.is_dir()]


def cached(root: Path, owner: str, name: str) -> list[Path]:
    """Snapshot folders of a hub-cache layout, newest first."""
    snapshots = root / f"datasets--{owner}--{name}" / "snapshots"
    if not snapshots.is_dir():
        return []
    return sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)


def locate(repo: str, data_dir: str | Path | None = None) -> Path:
    """A local copy of the dataset `repo`, or a download of it (refused when HF_HUB_OFFLINE=1)."""
    for root in roots(data_dir):
        for candidate in copies(repo, root):
            return candidate
    return download([repo], data_dir)


def download(repos: list[str], data_dir: str | Path | None = None, revision: str | None = None) -> Path:
    """The first of `repos` from the hub (at `revision`), or an error naming where copies were looked for."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        given = [r for r in roots(data_dir) if r != hub_cache()]
        where = ", ".join(str(r) for r in given) or "no --data-dir / EMBEDLAB_DATA_DIR given"
        at = f" --revision {revision}" if revision else ""
        raise DataError(f"no local copy of {' or '.join(repos)} ({where}; Hugging Face cache: {hub_cache()})",
                        hint=f"download it (hf download {repos[0]} --repo-type dataset{at} "
                             f"--local-dir DIR/{repos[0]}) and pass --data-dir DIR, or unset HF_HUB_OFFLINE")
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repos[0], repo_type="dataset", revision=revision))


def revision_of(copy: Path) -> str | None:
    """The commit of the repository this copy holds, when the copy says (see the module docstring)."""
    if copy.parent.name == "snapshots" and _COMMIT.fullmatch(copy.name):
        return copy.name
    records = copy / ".cache" / "huggingface" / "download"
    for metadata in sorted(records.rglob("*.metadata")) if records.is_dir() else []:
        first = metadata.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].strip()
        if _COMMIT.fullmatch(first):
            return first
    return None


def hub_cache() -> Path | None:
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    return Path(constants.HF_HUB_CACHE)
