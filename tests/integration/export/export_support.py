"""Export test support: a real local HTTP server that records requests and fails on demand,
a test clock, and findings."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from exporter.findings.build import build_finding
from exporter.findings.spec import FindingSpec

T0 = datetime(2025, 3, 2, 11, 0, tzinfo=UTC)
DETECTOR = "3c9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
SSH = "UnauthorizedAccess:EC2/SSHBruteForce"


@dataclass
class Recorded:
    """One request the server accepted."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """State of the test server: what it accepted, and how it answers now.

    ``status``: the answer to event posts (200, 503, 400, ...); ``ack``: whether HEC acks
    are confirmed; ``on_request``: called with each accepted request before answering.
    """

    port: int = 0
    status: int = 200
    ack: bool = True
    accepted: list[Recorded] = field(default_factory=list)
    refused: int = 0
    on_request: Callable[[Recorded], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _acks: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again, on the same port once it had one)."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if path.endswith("/services/collector/ack"):
            acks = orjson.loads(body)["acks"]
            return 200, orjson.dumps({"acks": {str(a): self.ack for a in acks}})
        if self.status >= 300:
            with self.lock:
                self.refused += 1
            return self.status, b'{"text":"failing on demand"}'
        record = Recorded(path, headers, body)
        with self.lock:
            self.accepted.append(record)
        if self.on_request is not None:
            self.on_request(record)
        reply: dict[str, Any] = {"text": "Success", "code": 0}
        if path.endswith("/services/collector/event"):
            reply["ackId"] = next(self._acks)
        return 200, orjson.dumps(reply)

    def webhook_events(self) -> list[dict[str, Any]]:
        """Every event of every accepted webhook body, in order."""
        return [e for r in self.accepted for e in orjson.loads(r.body)["events"]]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, reply = receiver.answer(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: Any) -> None:
            return

    return Handler


class FakeClock:
    """A clock the test moves."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_finding(n: int, at: datetime = T0) -> dict[str, Any]:
    """The SSH brute-force finding of instance ``n`` (one id per n), as of ``at``."""
    event = {
        "@timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "cloud": {
            "account": {"id": "111122223333"},
            "region": "eu-west-1",
            "instance": {"id": f"i-{n:017x}"},
        },
        "source": {"ip": "198.51.100.77", "port": 49822},
        "destination": {"ip": "10.0.3.25", "port": 22},
        "network": {"transport": "tcp", "direction": "inbound"},
        "aws": {"vpcflow": {"interface_id": "eni-0f1e2d3c4b5a69788", "action": "REJECT"}},
    }
    spec = FindingSpec(type=SSH, severity=2.0, title="SSH brute force", description="d")
    return build_finding(spec, event, log_type="vpcflow", now=at, detector_id=DETECTOR)
