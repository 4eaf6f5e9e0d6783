"""Throttled items are retried alone: a proxy in front of the real node refuses some items once.

The proxy forwards every request to the node, except that on the first ``_bulk`` it removes
every other item before forwarding and answers 429 for the removed ones, as a node under
pressure does per item. The writer must resend exactly those items and create each document
once.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import count
from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.bulk import Action, BulkWriter
from exporter.store.client import connect

INDEX = "duskwatch-events-vpcflow-2001.02.03"


class ThrottlingProxy(BaseHTTPRequestHandler):
    upstream = ""
    bulk_bodies: list[int] = []  # items per _bulk request seen

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if "_bulk" in self.path:
            self._bulk(body)
        else:
            self._forward("POST", body)

    def do_GET(self) -> None:  # noqa: N802
        self._forward("GET", b"")

    def _bulk(self, body: bytes) -> None:
        lines = body.decode().strip().split("\n")
        pairs = list(zip(lines[0::2], lines[1::2], strict=True))
        type(self).bulk_bodies.append(len(pairs))
        first = len(type(self).bulk_bodies) == 1
        kept = [p for n, p in enumerate(pairs) if not (first and n % 2)]
        forwarded = "\n".join(line for pair in kept for line in pair) + "\n"
        upstream = self._call("POST", forwarded.encode())
        answers = iter(upstream["items"])
        items = [
            next(answers)
            if not (first and n % 2)
            else {"create": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}}
            for n in range(len(pairs))
        ]
        self._reply({"took": 1, "errors": True, "items": items})

    def _forward(self, method: str, body: bytes) -> None:
        self._reply(self._call(method, body))

    def _call(self, method: str, body: bytes) -> dict[str, object]:
        request = urllib.request.Request(
            self.upstream + self.path,
            data=body or None,
            method=method,
            headers={"Content-Type": "application/x-ndjson"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())  # type: ignore[no-any-return]

    def _reply(self, data: object) -> None:
        payload = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def proxy(client: OpenSearch, opensearch_url: str) -> Iterator[str]:
    ThrottlingProxy.upstream = opensearch_url
    ThrottlingProxy.bulk_bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ThrottlingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client.indices.delete(index=INDEX, ignore_unavailable=True)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    client.indices.delete(index=INDEX, ignore_unavailable=True)


def test_only_refused_items_are_retried(
    proxy: str, client: OpenSearch, settings: config.Settings
) -> None:
    through_proxy = connect(settings.opensearch, hosts=[proxy])
    writer = BulkWriter(through_proxy, concurrency=1, max_retries=3, max_wait=0.2)
    actions = [
        Action(
            INDEX, f"doc-{n}", json.dumps({"@timestamp": "2001-02-03T00:00:00Z", "n": n}).encode()
        )
        for n in range(10)
    ]
    outcome = writer.write(actions)
    writer.close()
    through_proxy.close()
    assert ThrottlingProxy.bulk_bodies == [10, 5]
    assert sorted(a.doc_id for a in outcome.created) == sorted(a.doc_id for a in actions)
    assert not outcome.duplicates
    assert not outcome.rejected
    client.indices.refresh(index=INDEX)
    assert count(client, INDEX) == 10


class SlowProxy(ThrottlingProxy):
    """Applies the first ``_bulk`` on the node, then answers too late; forwards the rest."""

    def _bulk(self, body: bytes) -> None:
        type(self).bulk_bodies.append(body.count(b"\n") // 2)
        upstream = self._call("POST", body)
        if len(type(self).bulk_bodies) == 1:
            time.sleep(2)  # the writer has given up by now
        self._reply(upstream)


def test_a_timed_out_batch_resent_counts_its_own_documents_as_created(
    client: OpenSearch, settings: config.Settings, opensearch_url: str
) -> None:
    SlowProxy.upstream = opensearch_url
    SlowProxy.bulk_bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client.indices.delete(index=INDEX, ignore_unavailable=True)
    through_proxy = connect(
        settings.opensearch, hosts=[f"http://127.0.0.1:{server.server_address[1]}"]
    )
    try:
        writer = BulkWriter(through_proxy, concurrency=1, max_wait=0.2, request_timeout=0.5)
        actions = [
            Action(INDEX, f"doc-{n}", json.dumps({"@timestamp": "2001-02-03T00:00:00Z"}).encode())
            for n in range(10)
        ]
        outcome = writer.write(actions)
        writer.close()
        assert SlowProxy.bulk_bodies == [10, 10]
        assert sorted(a.doc_id for a in outcome.created) == sorted(a.doc_id for a in actions)
        assert not outcome.duplicates
        client.indices.refresh(index=INDEX)
        assert count(client, INDEX) == 10
    finally:
        through_proxy.close()
        server.shutdown()
        server.server_close()
        client.indices.delete(index=INDEX, ignore_unavailable=True)
