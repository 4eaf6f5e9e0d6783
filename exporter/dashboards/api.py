"""The Dashboards saved objects API: import (multipart, ``osd-xsrf``) and export.

Import is idempotent: with ``overwrite`` every object is replaced by the shipped one; without
it, objects that already exist are left alone (reported as conflicts) and the rest created.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exporter.dashboards.objects import TYPE_ORDER, SavedObject, group_of, parse_lines, to_ndjson
from exporter.errors import DuskwatchError

TIMEOUT = 60.0


class DashboardsError(DuskwatchError):
    """The Dashboards server refused a request or could not be reached."""


@dataclass(frozen=True)
class Auth:
    """Basic-auth credentials (both None: no auth)."""

    username: str | None = None
    password: str | None = None

    def headers(self) -> dict[str, str]:
        """The Authorization header, when credentials are given."""
        if self.username is None:
            return {}
        token = f"{self.username}:{self.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(token).decode()}


@dataclass(frozen=True)
class ImportResult:
    """What an import did: objects written, objects left alone (conflicts), other errors."""

    written: int
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def multipart(filename: str, content: bytes, boundary: str) -> bytes:
    """A multipart/form-data body with one ``file`` part."""
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode()


def _request(url: str, body: bytes, headers: Mapping[str, str], auth: Auth) -> bytes:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"osd-xsrf": "true", **auth.headers(), **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            payload: bytes = response.read()
            return payload
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise DashboardsError(f"{url}: HTTP {exc.code}: {detail}") from exc
    except urllib.error.URLError as exc:
        raise DashboardsError(
            f"cannot reach Dashboards at {url}: {exc.reason}",
            hint="pass the Dashboards URL (e.g. http://localhost:5601) with --url",
        ) from exc


def _error_text(error: Mapping[str, Any]) -> str:
    return f"{error.get('type')} {error.get('id')}: {error.get('error', {}).get('type', error)}"


def parse_import(response: Mapping[str, Any]) -> ImportResult:
    """An import response as a result; conflicts are existing objects left alone."""
    errors = response.get("errors", [])
    conflicts = [e for e in errors if e.get("error", {}).get("type") == "conflict"]
    others = [e for e in errors if e not in conflicts]
    return ImportResult(
        int(response.get("successCount", 0)),
        [f"{e.get('type')} {e.get('id')}" for e in conflicts],
        [_error_text(e) for e in others],
    )


def install(
    url: str, objects: Iterable[SavedObject], auth: Auth = Auth(), *, overwrite: bool = True
) -> ImportResult:
    """Import ``objects`` into the Dashboards at ``url``."""
    boundary = uuid.uuid4().hex
    content = to_ndjson(obj.raw for obj in objects).encode()
    endpoint = f"{url.rstrip('/')}/api/saved_objects/_import?overwrite={str(overwrite).lower()}"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    body = multipart("duskwatch.ndjson", content, boundary)
    return parse_import(json.loads(_request(endpoint, body, headers, auth)))


def export(url: str, auth: Auth = Auth()) -> list[SavedObject]:
    """Duskwatch's saved objects (ids of a known group) as exported from ``url``."""
    endpoint = f"{url.rstrip('/')}/api/saved_objects/_export"
    body = json.dumps({"type": list(TYPE_ORDER), "excludeExportDetails": True}).encode()
    text = _request(endpoint, body, {"Content-Type": "application/json"}, auth).decode()
    return [obj for obj in parse_lines(text, endpoint) if group_of(obj.id) is not None]
