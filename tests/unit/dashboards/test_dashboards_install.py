"""install/export against a stub of the saved objects API: multipart body, osd-xsrf header,
overwrite flag, basic auth, idempotence (conflicts left alone), canonical re-export."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from exporter.dashboards import Auth, DashboardsError, export, install, load
from exporter.dashboards.objects import parse_lines, to_ndjson

SHIPPED = load()


class Stub(BaseHTTPRequestHandler):
    """Keeps imported objects; without overwrite an existing object is a conflict."""

    stored: dict[tuple[str, str], dict[str, Any]] = {}
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.headers.get("osd-xsrf") != "true":
            return self._reply(400, {"message": "Request must contain a osd-xsrf header."})
        if self.path.startswith("/api/saved_objects/_import"):
            return self._import(body)
        lines = [json.dumps(dict(o, updated_at="2025-01-01")) for o in self.stored.values()]
        return self._reply(200, "\n".join(lines), "application/ndjson")

    def _import(self, body: bytes) -> None:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        part = next(iter(message.iter_parts()))
        objects = parse_lines(part.get_payload(decode=True).decode(), "upload")
        overwrite = "overwrite=true" in self.path
        errors, written = [], 0
        for obj in objects:
            key = (obj.type, obj.id)
            if key in self.stored and not overwrite:
                errors.append({"type": obj.type, "id": obj.id, "error": {"type": "conflict"}})
                continue
            self.stored[key] = dict(obj.raw)
            written += 1
        self._reply(200, {"success": not errors, "successCount": written, "errors": errors})

    def _reply(self, status: int, payload: Any, kind: str = "application/json") -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    Stub.stored, Stub.requests = {}, []
    httpd = HTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_install_is_idempotent_and_export_is_canonical(server: str) -> None:
    first = install(server, SHIPPED, Auth("admin", "secret"))
    assert first.written == len(SHIPPED)
    assert not first.errors
    again = install(server, SHIPPED, overwrite=False)
    assert again.written == 0
    assert len(again.conflicts) == len(SHIPPED)
    assert install(server, SHIPPED).written == len(SHIPPED)
    assert Stub.requests[0]["headers"]["Authorization"] == "Basic YWRtaW46c2VjcmV0"
    assert "overwrite=false" in Stub.requests[1]["path"]
    exported = export(server)
    assert to_ndjson(o.raw for o in exported) == to_ndjson(o.raw for o in SHIPPED)


def test_unreachable_dashboards_is_a_user_error() -> None:
    with pytest.raises(DashboardsError, match="cannot reach Dashboards"):
        install("http://127.0.0.1:9", SHIPPED[:1])
