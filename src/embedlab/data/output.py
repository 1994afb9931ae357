"""Every file and folder embedlab writes goes through here.

The rule, for every command: never write over an input (data, a cache, a vector folder, a saved run); an output
that exists is replaced only when embedlab wrote it (`regenerable`: results, reports, carrying embedlab's mark) or
with `overwrite`; check the output path before the work starts; write to a temporary sibling and rename it into
place, so a killed command leaves nothing under the final name that looks valid (and the next write of that output
removes what it left: `remove_stale`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from embedlab.errors import DataError

SAVED_DATASET_FILES = ("dataset_info.json", "state.json", "dataset_dict.json")


def is_saved_dataset(path: Path) -> bool:
    """A folder written by `datasets`' `save_to_disk` (a Dataset or a DatasetDict)."""
    return path.is_dir() and any((path / name).exists() for name in SAVED_DATASET_FILES)


MARK = "written by embedlab"  # the last line of a markdown report (a page carries it as its generator tag)


def regenerable(path: Path) -> bool:
    """Whether `path` is an output embedlab wrote and a command may write again without --overwrite: a JSON
    object whose schema is embedlab's (results files), a page embedlab generated, a markdown report ending with
    embedlab's mark."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace")
            handle.seek(max(0, path.stat().st_size - 256))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return False
    if head.lstrip().startswith("{"):
        try:
            schema = json.loads(path.read_text(encoding="utf-8")).get("schema", "")
        except (OSError, ValueError, AttributeError, RecursionError):
            return False
        return isinstance(schema, str) and schema.startswith("embedlab.")
    return "<meta name='generator' content='embedlab'>" in head or tail.rstrip().endswith(f"<!-- {MARK} -->")


def check_output(target: str | Path, *, inputs: Iterable[str | Path] = (), overwrite: bool = False,
                 folder: bool = False, option: str = "--overwrite", role: str = "output",
                 regenerate: bool = False) -> Path:
    """Refuse an output that is (inside) an input or holds one, or that exists without `overwrite` (with
    `regenerate`, an existing output embedlab wrote itself is replaced: `regenerable`).

    `folder`: the output is a folder (a file of that name is refused, and vice versa); `role` names the
    output in the messages ("output", "log", ...). Returns the path.
    """
    target = Path(target)
    resolved = target.resolve()
    for source in map(Path, inputs):
        src = source.resolve()
        if src == resolved or (source.is_dir() and resolved.is_relative_to(src)) or src.is_relative_to(resolved):
            raise DataError(f"the {role} would overwrite or change the input {source}", path=target,
                            hint=f"write the {role} somewhere else; the input is never modified")
    if target.exists() or target.is_symlink():
        if target.is_dir() != folder:
            raise DataError(f"exists as a {'folder' if target.is_dir() else 'file'}; expected a "
                            f"{'folder' if folder else 'file'}", path=target, hint="give another output path")
        if not overwrite and not (regenerate and not folder and regenerable(target)):
            raise DataError("already exists", path=target, hint=f"pass {option} to replace it")
    parent = _existing_parent(resolved)
    if not parent.is_dir():
        raise DataError(f"cannot be created: {parent} is a file", path=target, hint="give another output path")
    if not os.access(parent, os.W_OK):
        raise DataError(f"cannot be written: {parent} is read-only", path=target,
                        hint="give a writable output path")
    return target


def _existing_parent(path: Path) -> Path:
    return next(parent for parent in path.parents if parent.exists())


def _partial(target: Path) -> Path:
    """The temporary sibling of `target` this process writes (named by host and process: see `remove_stale`)."""
    remove_stale(target)
    return target.with_name(f".{target.name}.partial-{_HOST}-{os.getpid()}")


_HOST = re.sub(r"[^\w.]", "_", socket.gethostname()) or "host"
_LEFT = re.compile(r"\.(?:partial|old)-(?:(?P<host>.+)-)?(?P<pid>\d+)")  # `-host` absent: written before hosts were


def remove_stale(target: Path) -> list[Path]:
    """Remove what killed writers of `target` left (`.<name>.partial-<host>-<pid>` files or folders, and the
    `.old-` folder a replaced folder is moved to): only of this host, only of processes that are gone."""
    if os.name != "posix" or not target.parent.is_dir():
        return []
    removed = []
    prefix = f".{target.name}"
    for sibling in target.parent.iterdir():
        found = _LEFT.fullmatch(sibling.name[len(prefix):]) if sibling.name.startswith(prefix) else None
        if found is None or found["host"] not in (None, _HOST) or _alive(int(found["pid"])):
            continue
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing sent, only whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or a number no process can have: left alone)
    return True


@contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """A temporary sibling path to write; renamed to `target` when the block ends without error."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    try:
        yield partial
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """A temporary sibling folder to fill; it replaces `target` (if any) when the block ends without error."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        yield partial
        if target.is_dir():
            old = target.with_name(f".{target.name}.old-{_HOST}-{os.getpid()}")
            os.replace(target, old)
            os.replace(partial, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


@contextmanager
def atomic_files(targets: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary siblings of several files written as one: renamed into place in the given order when the
    block ends without error, none of them otherwise.

    The last target (a manifest, say) marks a complete set: an existing one is removed before the others are
    replaced, so a set interrupted while being renamed never shows an old manifest over new files.
    """
    targets = [Path(target) for target in targets]
    partials = [_partial(target) for target in targets]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield partials
        if targets[-1].exists():
            targets[-1].unlink()
        for partial, target in zip(partials, targets):
            os.replace(partial, target)
    finally:
        for partial in partials:
            if partial.exists():
                partial.unlink()


def write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_file(target) as partial:
        partial.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    with atomic_file(target) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | Path, payload: Any, *, indent: int | None = 1) -> Path:
    return write_text(target, json.dumps(payload, ensure_ascii=False, indent=indent, default=_plain) + "\n")


def write_jsonl(target: str | Path, records: Iterable[dict[str, Any]], *,
                default: Callable[[Any], Any] | None = None) -> int:
    """One JSON object per line, atomically; returns the number of lines written."""
    with atomic_file(target) as partial:
        return dump_jsonl(partial, records, default=default)


def dump_jsonl(path: str | Path, records: Iterable[dict[str, Any]], *,
               default: Callable[[Any], Any] | None = None) -> int:
    """One JSON object per line into `path` as it is: the partial file of an `atomic_file` / `atomic_files`
    block, or a file inside an `atomic_folder`. `default` turns what JSON cannot hold into what it can
    (numpy values become plain ones without it). Returns the number of lines written."""
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=default or _plain) + "\n")
            count += 1
    return count


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (from parquet / arrow rows) as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
