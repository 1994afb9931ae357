"""Where a vector directory lives: a local folder, or a folder of any filesystem pyarrow can write, named by a
URI (`s3://bucket/prefix`, `gs://`, `hdfs://`, `abfs://`; `file://` is a local folder).

A location does the few things a vector directory needs: list the committed shards, read and write the manifest,
write one file atomically, give a local path to load or memory-map, and count bytes on disk.
- A local folder writes each file under a temporary name and renames it (`os.replace`); shards are memory-mapped
  where they are.
- An object store (S3, GCS, Azure) makes an object visible only once its PUT completes, so each object is
  written once under its final name (the vectors first, the ids last: a shard exists once its ids object does);
  a rename there would be a copy. Other filesystems (HDFS) write a temporary name and move it.
- A remote shard's files are copied once into a local mirror folder (the store's scratch folder) and
  memory-mapped there; `mirrored` counts the bytes copied.

Where the endpoint and credentials come from (S3): pyarrow's URI parameters
(`s3://bucket/prefix?endpoint_override=host:9000&scheme=http&region=eu-west-1`), credentials in the URI
(`s3://KEY:SECRET@bucket/prefix`, or `?access_key=&secret_key=&session_token=`), else the standard AWS
environment (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
`~/.aws`) of each machine: the URI travels to the Ray workers, environment variables must be set on every node.
Credentials never appear in messages, logs, manifests or results: a location is shown without them (`shown`),
and every message is redacted as the API backends redact theirs (`models.credentials.redact`).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import numpy as np

from embedlab.errors import EmbedlabError, require
from embedlab.models.credentials import SECRET_PARAMS, redact

OBJECT_STORES = {"s3", "gs", "gcs", "abfs", "abfss"}  # a PUT is atomic: no temporary name, no rename
CREDENTIAL_PARAMS = ("access_key", "secret_key", "session_token")  # taken out of the URI, given to pyarrow apart
HIDDEN_PARAMS = SECRET_PARAMS | set(CREDENTIAL_PARAMS) | {"account_key", "sas_token"}
TEMPORARY = ".tmp-"  # files being written; never listed as committed
COPY_BLOCK = 1 << 22


class VectorDirError(EmbedlabError):
    """A vector directory that cannot be used as asked."""


def open_location(spec: str | Path, mirror: Path | None = None) -> Location:
    """The location of `spec`: a local folder, or a pyarrow filesystem URI (remote shards copied into `mirror`,
    a temporary folder when None)."""
    text = str(spec)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme == "file":
        return LocalFolder(Path(unquote(urlsplit(text).path)))
    if not scheme:
        return LocalFolder(Path(text).expanduser())
    return ArrowFolder(text, mirror)


def shown(spec: str | Path) -> str:
    """`spec` as it may be shown (in messages, results): a URI without its credentials (user:password, secret
    parameters); a path as given."""
    text = str(spec)
    if "://" not in text:
        return text
    parts = urlsplit(text)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), _query_without(parts.query, HIDDEN_PARAMS), ""))


def uri_secrets(uri: str) -> list[str]:
    """The credentials written in `uri` (user, password, secret parameters): what messages must never show."""
    parts = urlsplit(uri)
    userinfo = parts.netloc.rpartition("@")[0]
    found = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() in HIDDEN_PARAMS and v]
    return found + [s for u in (userinfo, *userinfo.split(":", 1)) if u for s in {u, unquote(u)}]


class Location:
    """What a vector directory reads and writes through. `spec` (picklable, may hold credentials) reopens it on a
    worker; `shown` names it in messages."""

    spec: str
    shown: str
    secrets: list[str]
    mirrored: int = 0  # bytes of remote shards copied into the local mirror

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.shown!r})"

    def redact(self, text: str) -> str:
        """The first line of `text`, without any credential of the location."""
        lines = str(text).strip().splitlines()
        return redact(lines[0] if lines else "", self.secrets)

    def check(self) -> None:
        """Refuse a location that cannot be a vector directory (a file, a missing bucket)."""

    def create(self) -> None:
        """Make the directory, and refuse it at once if nothing can be written there."""

    def names(self, suffix: str) -> list[str]:
        """Sorted names (without `suffix`) of the committed files ending with `suffix`."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def read_text(self, name: str) -> str:
        """A file's text; FileNotFoundError when there is none."""
        raise NotImplementedError

    def write(self, name: str, data: bytes) -> None:
        """Write `name` atomically: readers see the whole file or none."""
        raise NotImplementedError

    def write_npy(self, name: str, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, array)
        self.write(name, buffer.getvalue())

    def local_path(self, name: str) -> Path:
        """A path on this machine holding `name`, to memory-map."""
        raise NotImplementedError

    def bytes_on_disk(self) -> int:
        raise NotImplementedError


class LocalFolder(Location):
    """A folder on this machine (or on a filesystem every node mounts)."""

    def __init__(self, path: Path) -> None:
        self.path, self.spec, self.shown, self.secrets = path, str(path), str(path), []

    def check(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise VectorDirError(f"--vectors {self}: not a directory (give a folder for the vector shards)")

    def create(self) -> None:
        self.check()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VectorDirError(f"--vectors {self}: cannot create the folder ({exc.strerror or exc})") from None

    def names(self, suffix: str) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name[:-len(suffix)] for p in self.path.glob(f"*{suffix}") if not p.name.startswith(TEMPORARY))

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def read_text(self, name: str) -> str:
        return (self.path / name).read_text(encoding="utf-8")

    def write(self, name: str, data: bytes) -> None:
        self._replace(name, lambda file: file.write(data))

    def write_npy(self, name: str, array: np.ndarray) -> None:  # streamed: no second copy of a shard in memory
        self._replace(name, lambda file: np.save(file, array))

    def _replace(self, name: str, fill: Callable[[IO[bytes]], object]) -> None:
        handle, tmp = tempfile.mkstemp(prefix=TEMPORARY, dir=self.path)
        try:
            with os.fdopen(handle, "wb") as file:
                fill(file)
            os.replace(tmp, self.path / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def local_path(self, name: str) -> Path:
        return self.path / name

    def bytes_on_disk(self) -> int:
        return sum(p.stat().st_size for p in self.path.glob("*.npy"))


class ArrowFolder(Location):
    """A folder of a pyarrow filesystem (`pyarrow.fs.FileSystem.from_uri`)."""

    def __init__(self, uri: str, mirror: Path | None = None) -> None:
        parts = urlsplit(uri)
        self.spec, self.scheme, self.shown, self.secrets = uri, parts.scheme.lower(), shown(uri), uri_secrets(uri)
        given = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in CREDENTIAL_PARAMS}
        rest = _query_without(parts.query, set(CREDENTIAL_PARAMS))
        self.fs, root = self._open(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")), given)
        self.root = root.rstrip("/")
        self.mirror, self._own_mirror, self.mirrored = mirror, None, 0

    def _open(self, uri: str, credentials: dict[str, str]):
        pafs = require("pyarrow.fs", f"--vectors {self.scheme}://")
        try:
            filesystem, root = pafs.FileSystem.from_uri(uri)
        except (ImportError, NotImplementedError) as exc:  # a pyarrow built without this filesystem
            raise VectorDirError(f"--vectors {self}: this pyarrow cannot open {self.scheme}:// ({self.redact(exc)}); "
                                 "install pyarrow's wheel from PyPI (pip install -U pyarrow), which has S3, GCS "
                                 "and Azure support") from None
        except (ValueError, OSError) as exc:
            if "Unrecognized filesystem type" in str(exc):
                raise VectorDirError(f"--vectors {self}: unknown scheme '{self.scheme}://'; give a local folder or "
                                     "a URI pyarrow can write: s3://, gs://, hdfs://, abfs://, file://") from None
            raise VectorDirError(f"--vectors {self}: cannot open it ({self.redact(exc)})") from None
        if credentials:
            rebuild, (options,) = filesystem.__reduce__()  # the URI's options, with the credentials added
            try:
                filesystem = rebuild({**options, **credentials})
            except (TypeError, ValueError) as exc:
                raise VectorDirError(f"--vectors {self}: credentials not usable ({self.redact(exc)}); give both "
                                     "access_key and secret_key") from None
        return filesystem, root

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _fail(self, doing: str, exc: BaseException) -> VectorDirError:
        return VectorDirError(f"--vectors {self}: cannot {doing} ({self.redact(exc)})")

    def check(self) -> None:
        from pyarrow.fs import FileType

        bucket = self.root.split("/")[0]
        try:
            if self.scheme in OBJECT_STORES and self.fs.get_file_info(bucket).type == FileType.NotFound:
                raise VectorDirError(f"--vectors {self}: bucket '{bucket}' does not exist (create it first, or "
                                     "check the endpoint and region)")
            if self.fs.get_file_info(self.root).type == FileType.File:
                raise VectorDirError(f"--vectors {self}: not a directory (give a folder for the vector shards)")
        except OSError as exc:
            raise self._fail("reach it", exc) from None

    def create(self) -> None:
        self.check()
        probe = self._path(f"{TEMPORARY}write-check-{uuid.uuid4().hex}")
        try:
            if self.scheme not in OBJECT_STORES:  # object stores have no folders to make
                self.fs.create_dir(self.root, recursive=True)
            with self.fs.open_output_stream(probe) as out:
                out.write(b"")
            self.fs.delete_file(probe)
        except OSError as exc:
            raise VectorDirError(f"--vectors {self}: cannot write there ({self.redact(exc)}); check the "
                                 "credentials and the bucket's permissions") from None

    def _files(self) -> list:
        from pyarrow.fs import FileSelector, FileType

        try:
            infos = self.fs.get_file_info(FileSelector(self.root, allow_not_found=True))
        except OSError as exc:
            raise self._fail("list it", exc) from None
        return [i for i in infos if i.type == FileType.File and not i.base_name.startswith(TEMPORARY)]

    def names(self, suffix: str) -> list[str]:
        return sorted(i.base_name[:-len(suffix)] for i in self._files() if i.base_name.endswith(suffix))

    def exists(self, name: str) -> bool:
        from pyarrow.fs import FileType

        try:
            return self.fs.get_file_info(self._path(name)).type != FileType.NotFound
        except OSError as exc:
            raise self._fail(f"read {name}", exc) from None

    def _read(self, name: str) -> bytes:
        try:
            with self.fs.open_input_stream(self._path(name)) as file:
                return file.read()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._fail(f"read {name}", exc) from None

    def read_text(self, name: str) -> str:
        return self._read(name).decode("utf-8")

    def write(self, name: str, data: bytes) -> None:
        if self.scheme in OBJECT_STORES:
            with self.fs.open_output_stream(self._path(name)) as out:
                out.write(data)
            return
        tmp = self._path(f"{TEMPORARY}{uuid.uuid4().hex}-{name}")
        with self.fs.open_output_stream(tmp) as out:
            out.write(data)
        self.fs.move(tmp, self._path(name))

    def local_path(self, name: str) -> Path:
        folder = self._mirror_folder()
        path = folder / name
        if path.exists():
            return path
        tmp = folder / f"{TEMPORARY}{name}"
        try:
            with self.fs.open_input_stream(self._path(name)) as source, open(tmp, "wb") as target:
                shutil.copyfileobj(source, target, COPY_BLOCK)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise VectorDirError(f"no space left on the device of {folder} while copying a shard of {self} "
                                     "there: free space (or point TMPDIR at a larger disk) and run again") from None
            raise self._fail(f"copy {name} to {folder}", exc) from None
        self.mirrored += path.stat().st_size
        return path

    def _mirror_folder(self) -> Path:
        if self.mirror is None:
            self._own_mirror = tempfile.TemporaryDirectory(prefix="embedlab-mirror-")
            self.mirror = Path(self._own_mirror.name)
        self.mirror.mkdir(parents=True, exist_ok=True)
        return self.mirror

    def bytes_on_disk(self) -> int:
        return sum(i.size for i in self._files() if i.base_name.endswith(".npy"))


def _query_without(query: str, names: set[str]) -> str:
    """`query` as given (nothing re-encoded), without the parameters in `names`."""
    return "&".join(p for p in query.split("&") if p and unquote(p.partition("=")[0]).lower() not in names)
