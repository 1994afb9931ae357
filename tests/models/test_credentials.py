from __future__ import annotations

import pytest

from embedlab.errors import ModelError
from embedlab.models.credentials import secret


def test_environment_first_then_the_keys_file(tmp_path, monkeypatch):
    keys = tmp_path / "keys.env"
    keys.write_text("# my keys\nexport QIANFAN_AK='from-file'\nOTHER=x\n")
    keys.chmod(0o600)
    monkeypatch.setenv("EMBEDLAB_KEYS_FILE", str(keys))
    monkeypatch.delenv("QIANFAN_AK", raising=False)
    assert secret("QIANFAN_AK") == "from-file"
    assert secret("MISSING") is None
    monkeypatch.setenv("QIANFAN_AK", "from-env")
    assert secret("QIANFAN_AK") == "from-env"


def test_a_keys_file_others_can_read_is_refused(tmp_path, monkeypatch):
    keys = tmp_path / "keys.env"
    keys.write_text("A=b\n")
    keys.chmod(0o644)
    monkeypatch.setenv("EMBEDLAB_KEYS_FILE", str(keys))
    monkeypatch.delenv("A", raising=False)
    with pytest.raises(ModelError, match="chmod 600"):
        secret("A")
