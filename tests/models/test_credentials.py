from __future__ import annotations

import pytest

from embedlab.errors import ModelError
from embedlab.models.credentials import secret


def use_keys_file(tmp_path, monkeypatch, text: str, mode: int, unset: str) -> None:
    """A keys file with `text` and permissions `mode`, and `unset` absent from the environment."""
    keys = tmp_path / "keys.env"
    keys.write_text(text)
    keys.chmod(mode)
    monkeypatch.setenv("EMBEDLAB_KEYS_FILE", str(keys))
    monkeypatch.delenv(unset, raising=False)


def test_environment_first_then_the_keys_file(tmp_path, monkeypatch):
    use_keys_file(tmp_path, monkeypatch, "# my keys\nexport QIANFAN_AK='from-file'\nOTHER=x\n", 0o600,
                  "QIANFAN_AK")
    assert secret("QIANFAN_AK") == "from-file"
    assert secret("MISSING") is None
    monkeypatch.setenv("QIANFAN_AK", "from-env")
    assert secret("QIANFAN_AK") == "from-env"


def test_a_keys_file_others_can_read_is_refused(tmp_path, monkeypatch):
    use_keys_file(tmp_path, monkeypatch, "A=b\n", 0o644, "A")
    with pytest.raises(ModelError, match="chmod 600"):
        secret("A")
