"""Credentials: API keys from the environment or a keys file (never from arguments), credentials in base
URLs, and their redaction.

Keys come from `$NAME`, else from the keys file `$EMBEDLAB_KEYS_FILE` or `~/.config/embedlab/keys.env`
(`NAME=value` lines; a file others can read is refused, as ssh refuses such keys); surrounding whitespace
is stripped. A secret never appears in results, caches, logs or messages, in any representation: raw,
escaped, URL-encoded or base64 (`redact`).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

from embedlab.errors import ModelError

DEFAULT_FILE = Path.home() / ".config" / "embedlab" / "keys.env"


def secret(name: str) -> str | None:
    value = (os.environ.get(name) or "").strip()
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


# query parameters known to be harmless: kept in what is stored and shown (results, cache keys, messages).
# Every other one may be a credential (Azure API Management's subscription-key, Azure Functions' code, signed
# URLs, access tokens...): it is sent, never stored or shown, and its value is redacted wherever it appears.
PUBLIC_PARAMS = {"api-version", "api_version", "version", "v"}
# parameters known to carry credentials, for URIs whose other parameters are settings (storage URIs:
# engines/location.py hides these and keeps endpoint_override, region...)
SECRET_PARAMS = {"api-key", "api_key", "apikey", "key", "access_token", "token", "sig", "signature", "secret",
                 "client_secret", "password"}
_LOCAL_HOSTS = ("localhost", "127.", "::1", "[::1]", "0.0.0.0", "10.", "192.168.", "host.docker.internal")


@dataclass
class Endpoint:
    """A base URL split into what may be shown (`url`) and what is only sent (credentials)."""

    url: str  # scheme://host[:port]/path: no user:password, no query string
    params: dict[str, str]  # the query string, sent with every request
    auth: tuple[str, str] | None  # user:password of the URL, sent as HTTP Basic
    secrets: list[str]  # credential values to redact wherever they might appear

    @property
    def local(self) -> bool:
        """A server on this machine or a private network (such servers often need no key)."""
        host = urlsplit(self.url).hostname or ""
        return host.startswith(_LOCAL_HOSTS) or host.endswith(".local")

    @property
    def shown(self) -> str:
        """The URL with its known-harmless query parameters, for results, cache keys and messages."""
        return self.shown_at("")

    def shown_at(self, path: str) -> str:
        """The URL of `path` below it (`/rerank`), with the known-harmless query parameters after the path."""
        public = {k: v for k, v in self.params.items() if k.lower() in PUBLIC_PARAMS}
        return self.url + path + (f"?{urlencode(public)}" if public else "")


def parse_endpoint(base_url: str) -> Endpoint:
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    if parts.port:
        netloc += f":{parts.port}"
    auth = (unquote(parts.username or ""), unquote(parts.password or "")) if parts.username else None
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    secrets = [v for k, v in params.items() if k.lower() not in PUBLIC_PARAMS and v]
    if auth:
        secrets += [s for s in auth if s] + [f"{auth[0]}:{auth[1]}"]
    return Endpoint(urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")), params, auth, secrets)


def check_header_value(name: str, value: str) -> str:
    """A key as it can be sent in an HTTP header (printable ASCII), or a ModelError that never shows it."""
    for position, char in enumerate(value):
        if not 32 < ord(char) < 127:
            raise ModelError(f"the value of {name} has a character that cannot be sent in an HTTP header at "
                             f"position {position + 1} of {len(value)} ({unicodedata.name(char, 'a control character')}); "
                             "copy the key again, whole and alone")
    return value


def representations(secret_value: str) -> set[str]:
    """Every form in which a secret may appear in a message: raw, escaped as repr / JSON / a URL does,
    base64 (HTTP Basic), and the bytes repr of its header."""
    forms = {secret_value, repr(secret_value)[1:-1], json.dumps(secret_value)[1:-1], quote(secret_value, safe=""),
             quote_plus(secret_value), base64.b64encode(secret_value.encode()).decode(),
             str(secret_value.encode("utf-8", "backslashreplace"))[2:-1]}
    return {form for form in forms if len(form) >= 4}


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every representation of every secret replaced by ***."""
    for form in sorted({f for s in secrets if s for f in representations(s)}, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


class RedactingFilter(logging.Filter):
    """Redacts secrets in log records of the HTTP libraries (httpx logs each request's URL at INFO)."""

    def __init__(self, secrets: Callable[[], list[str]]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.secrets()), ()
        return True


def redact_logs(secrets: Callable[[], list[str]]) -> RedactingFilter:
    """Install a redacting filter on the HTTP libraries' loggers; returns it (for removal)."""
    log_filter = RedactingFilter(secrets)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(log_filter)
    return log_filter


def stop_redacting(log_filter: RedactingFilter) -> None:
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).removeFilter(log_filter)
