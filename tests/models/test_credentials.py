from __future__ import annotations

import pytest

from embedlab.errors import ModelError
from embedlab.models.credentials import parse_endpoint, secret


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


def test_an_ipv6_host_keeps_its_brackets():
    """Issue 24 item 17: `--base-url http://[::1]:8811/v1` was a traceback (the URL lost its brackets)."""
    endpoint = parse_endpoint("http://[::1]:8811/v1?code=SECRET-1")
    assert endpoint.url == "http://[::1]:8811/v1" and endpoint.local and endpoint.shown == "http://[::1]:8811/v1"
    assert parse_endpoint("https://u:p@[2001:db8::7]/v1/").url == "https://[2001:db8::7]/v1"
    assert not parse_endpoint("https://[2001:db8::7]/v1").local
