"""Read a list's bytes from where it lives: a local file, ``s3://``, ``http(s)://``, built-in.

I/O edge. Every failure is a :class:`ThreatListError` naming the location, never a traceback;
files larger than the size limit are refused (GuardDuty's is 35 MB); gzip is unpacked.
"""

from __future__ import annotations

import gzip
import http.client
import io
import urllib.error
import urllib.request
import zlib
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from exporter.detections.threatintel.model import ListLimitError, ThreatListError

BUILTIN_SCHEME = "builtin:"
BUILTIN_PACKAGE = "exporter.detections.threatintel.builtin"
USER_AGENT = "duskwatch-threatintel/1"
TIMEOUT_S = 30.0


def canonical(location: str) -> str:
    """``location`` as stored: URLs as given, local paths made absolute."""
    if _scheme(location) in ("s3", "http", "https", "builtin"):
        return location
    return str(Path(location).expanduser().resolve())


def read(location: str, *, max_bytes: int, s3: Any = None, timeout: float = TIMEOUT_S) -> bytes:
    """The (unpacked) bytes at ``location``; ``s3`` is a boto3 S3 client (default: a new one)."""
    scheme = _scheme(location)
    if scheme == "s3":
        data = _read_s3(location, max_bytes, s3)
    elif scheme in ("http", "https"):
        data = _read_http(location, max_bytes, timeout)
    elif scheme == "builtin":
        data = _read_builtin(location)
    else:
        data = _read_file(location, max_bytes)
    _check_size(location, data, max_bytes)
    return _gunzip(location, data, max_bytes)


def _scheme(location: str) -> str:
    if location.startswith(BUILTIN_SCHEME):
        return "builtin"
    scheme = urlparse(location).scheme.lower()
    return scheme if scheme in ("s3", "http", "https") else "file"


def _check_size(location: str, data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ListLimitError(
            f"{location}: larger than the {max_bytes:,}-byte limit of a list file",
            hint="split the list, or raise the limit",
        )


def _gunzip(location: str, data: bytes, max_bytes: int) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
            text = unpacked.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ThreatListError(f"{location}: not a readable gzip file ({exc})") from None
    _check_size(location, text, max_bytes)
    return text


def _read_file(location: str, max_bytes: int) -> bytes:
    path = Path(location).expanduser()
    try:
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except OSError as exc:
        raise ThreatListError(f"cannot read {location}: {exc.strerror or exc}") from None


def _read_http(url: str, max_bytes: int, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(max_bytes + 1)
            return body
    except urllib.error.HTTPError as exc:
        raise ThreatListError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ThreatListError(f"cannot fetch {url}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise ThreatListError(f"cannot fetch {url}: {exc or type(exc).__name__}") from None


def _read_s3(url: str, max_bytes: int, s3: Any) -> bytes:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    parsed = urlparse(url)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if not bucket or not key:
        raise ThreatListError(f"{url!r} is not an s3://bucket/key URL")
    try:
        client = s3 or boto3.client("s3")
        body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read(max_bytes + 1)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
        raise ThreatListError(f"cannot read {url}: {reason}") from None
    except BotoCoreError as exc:
        raise ThreatListError(f"cannot read {url}: {exc}") from None
    return body


def _read_builtin(location: str) -> bytes:
    name = location.removeprefix(BUILTIN_SCHEME)
    resource = resources.files(BUILTIN_PACKAGE).joinpath(name)
    if "/" in name or not resource.is_file():
        raise ThreatListError(f"no built-in list file {name!r}")
    return resource.read_bytes()
