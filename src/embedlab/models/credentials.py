"""API keys: from the environment, else from a keys file (`NAME=value` lines), never from arguments.

The file is `$EMBEDLAB_KEYS_FILE`, else `~/.config/embedlab/keys.env`. It should be readable by its
owner only; a file others can read is refused, as ssh refuses such keys.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from embedlab.errors import ModelError

DEFAULT_FILE = Path.home() / ".config" / "embedlab" / "keys.env"


def secret(name: str) -> str | None:
    value = os.environ.get(name)
    if value:
        return value
    path = Path(os.environ.get("EMBEDLAB_KEYS_FILE") or DEFAULT_FILE)
    if not path.is_file():
        return None
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ModelError(f"{path} can be read by other users; run: chmod 600 {path}")
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip().removeprefix("export ").strip() == name:
            return value.strip().strip("'\"") or None
    return None
