"""Export benchmark (run through ``bench/export``).

For every registered destination type that can be pointed at something on this machine
(a local file, local HTTP servers standing in for a webhook receiver and Splunk HEC, local
UDP/TCP syslog sinks, moto's standalone server for the AWS types when ``moto_server`` is
installed), on the same synthetic findings:
  (a) deliver-only findings/s: the destination's formatter + transport, batch by batch;
  (b) end-to-end findings/s through the outbox on the real node: due query, deliver, mark;
  (c) the baseline in the same run: the raw rate of the same payload bytes, pre-built, sent
      the plainest way (urllib3 POST, file append) to the same receiver.
Enqueue findings/s (outbox writes) is reported once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import urllib3

from exporter import config
from exporter.export.config import Configured
from exporter.export.destination import DESTINATION_TYPES, Delivery
from exporter.export.destinations import file as file_sink
from exporter.export.destinations import load_destination_types, splunk_hec, webhook
from exporter.export.outbox import ExportOutbox, Frequency, Route, event_id
from exporter.export.runner import RetryPolicy, Runner
from exporter.findings.build import build_finding, to_guardduty
from exporter.findings.spec import FindingSpec
from exporter.store.bootstrap import bootstrap
from exporter.store.client import connect

NOW = datetime(2025, 3, 2, 11, 0, tzinfo=UTC)
Options = dict[str, Any]


def findings(count: int) -> list[dict[str, Any]]:
    """``count`` distinct SSH brute-force findings (one instance each)."""
    spec = FindingSpec(
        type="UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0, title="t", description="d"
    )
    return [
        build_finding(
            spec,
            {
                "@timestamp": "2025-03-02T11:00:00.000Z",
                "cloud": {
                    "account": {"id": "111122223333"},
                    "region": "eu-west-1",
                    "instance": {"id": f"i-{n:017x}"},
                },
                "source": {"ip": "198.51.100.77", "port": 49822},
                "destination": {"ip": "10.0.3.25", "port": 22},
                "network": {"transport": "tcp", "direction": "inbound"},
                "aws": {"vpcflow": {"interface_id": "eni-0f1e2d3c4b5a69788"}},
            },
            log_type="vpcflow",
            now=NOW,
            detector_id="b" * 32,
        )  # fmt: skip
        for n in range(count)
    ]


class Http(BaseHTTPRequestHandler):
    """Accepts every POST: 200, with an ``ackId`` for HEC events and every ack confirmed."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/collector/ack"):
            reply = orjson.dumps({"acks": {str(a): True for a in orjson.loads(body)["acks"]}})
        else:
            reply = b'{"text":"Success","code":0,"ackId":1}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_args: Any) -> None:
        return


class TcpSink(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while self.rfile.read(65536):
            pass


@contextlib.contextmanager
def local_servers() -> Iterator[dict[str, int]]:
    """An HTTP server, a UDP socket and a TCP sink on loopback; their ports."""
    http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
    http.daemon_threads = True
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), TcpSink)
    tcp.daemon_threads = True
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    stop = threading.Event()

    def drain_udp() -> None:
        udp.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                udp.recv(65536)

    for target in (http.serve_forever, tcp.serve_forever, drain_udp):
        threading.Thread(target=target, daemon=True).start()
    try:
        yield {"http": http.server_address[1], "tcp": tcp.server_address[1],
               "udp": udp.getsockname()[1]}  # fmt: skip
    finally:
        stop.set()
        http.shutdown()
        tcp.shutdown()
        udp.close()


@contextlib.contextmanager
def moto() -> Iterator[str | None]:
    """moto's standalone server on a free port (None when moto_server is not installed)."""
    binary = shutil.which("moto_server")
    if binary is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(urllib3.exceptions.HTTPError):
                urllib3.request("GET", url + "/moto-api/", retries=False)
                break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def aws_options(endpoint: str | None, kind: str) -> Options | None:
    """Options of an AWS destination against moto (creating its topic or bucket)."""
    if endpoint is None:
        return None
    import boto3

    creds = {"region_name": "us-east-1", "endpoint_url": endpoint,
             "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # fmt: skip
    base = {"region": "us-east-1", "endpoint_url": endpoint,
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # fmt: skip
    if kind == "sns":
        topic = boto3.client("sns", **creds).create_topic(Name="duskwatch-bench")["TopicArn"]
        return {**base, "topic_arn": topic}
    if kind == "s3":
        boto3.client("s3", **creds).create_bucket(Bucket="duskwatch-bench")
        return {**base, "bucket": "duskwatch-bench"}
    return base


def targets(ports: dict[str, int], moto_url: str | None, tmp: Path) -> list[tuple[str, str, Any]]:
    """(label, type, options or None when not configurable here) per destination variant."""
    http = f"http://127.0.0.1:{ports['http']}"
    local: dict[str, list[tuple[str, Options | None]]] = {
        "file": [("file", {"path": str(tmp / "bench.jsonl")})],
        "webhook": [("webhook", {"url": f"{http}/hook", "secret": "s3cret"})],
        "splunk-hec": [
            ("splunk-hec", {"url": http, "token": "t"}),
            ("splunk-hec ack", {"url": http, "token": "t", "ack": True, "ack_poll_seconds": 0.01}),
        ],
        "syslog": [
            ("syslog udp", {"host": "127.0.0.1", "port": ports["udp"], "protocol": "udp"}),
            ("syslog tcp", {"host": "127.0.0.1", "port": ports["tcp"], "protocol": "tcp"}),
        ],
    }
    rows: list[tuple[str, str, Any]] = []
    for kind in DESTINATION_TYPES.names():
        if kind in local:
            rows += [(label, kind, options) for label, options in local[kind]]
        else:
            rows.append((kind, kind, lambda k=kind: aws_options(moto_url, k)))
    return rows


def baseline(kind: str, options: Options, batches: list[list[Delivery]]) -> float | None:
    """Seconds to send the same payload bytes (pre-built) the plainest way; None: no baseline."""
    if kind == "webhook":
        payloads = [webhook.body(b) for b in batches]
        return _post_all(options["url"], payloads)
    if kind == "splunk-hec" and not options.get("ack"):
        meta = {"sourcetype": "aws:cloudwatch:guardduty", "source": "duskwatch"}
        payloads = [splunk_hec.body(b, meta) for b in batches]
        return _post_all(options["url"] + splunk_hec.EVENT_PATH, payloads)
    if kind == "file":
        payloads = [file_sink.lines(b) for b in batches]
        began = time.perf_counter()
        with Path(options["path"] + ".raw").open("ab") as out:
            for data in payloads:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        return time.perf_counter() - began
    return None


def _post_all(url: str, payloads: Sequence[bytes]) -> float:
    pool = urllib3.PoolManager(retries=False)
    began = time.perf_counter()
    for data in payloads:
        pool.request("POST", url, body=data, headers={"Content-Type": "application/json"})
    return time.perf_counter() - began


def measure(
    client: Any, label: str, kind: str, options: Options, docs: list[dict[str, Any]]
) -> dict[str, float | None]:
    """Deliver-only, outbox end-to-end and baseline findings/s of one destination."""
    destination = DESTINATION_TYPES.get(kind).build(label, options)
    deliveries = [Delivery(event_id(d), to_guardduty(d)) for d in docs]
    size = destination.max_batch
    batches = [deliveries[i : i + size] for i in range(0, len(deliveries), size)]
    began = time.perf_counter()
    for batch in batches:
        destination.deliver(batch)
    deliver_s = time.perf_counter() - began

    index = f"duskwatch-outbox-bench-{uuid.uuid4().hex[:10]}"
    client.indices.create(index=index)
    try:
        route = Route(label, Frequency.IMMEDIATE)
        outbox = ExportOutbox(client, [route], index)
        began = time.perf_counter()
        for i in range(0, len(docs), 500):
            outbox.enqueue(docs[i : i + 500], created={str(d["id"]) for d in docs[i : i + 500]})
        enqueue_s = time.perf_counter() - began
        runner = Runner(outbox, [Configured(label, kind, route, destination)], RetryPolicy())
        began = time.perf_counter()
        tally = runner.drain(runner.destinations[0])
        outbox_s = time.perf_counter() - began
    finally:
        client.indices.delete(index=index)
    raw = baseline(kind, options, [list(b) for b in batches])
    n = len(docs)
    return {
        "deliver": n / deliver_s,
        "outbox": tally.delivered / outbox_s,
        "enqueue": n / enqueue_s,
        "baseline": n / raw if raw else None,
    }


def _rate(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=2000)
    args = parser.parse_args()
    settings = config.load()
    client = connect(settings.opensearch, timeout=120)
    bootstrap(client)
    load_destination_types()
    docs = findings(args.findings)
    print(f"findings: {len(docs):,}, batches of each type's default max_batch")
    print(
        f"{'destination':<16} {'deliver f/s':>12} {'outbox f/s':>11} {'baseline f/s':>13} "
        f"{'enqueue f/s':>12}  note"
    )
    with (
        tempfile.TemporaryDirectory(prefix="duskwatch-export-") as tmp,
        local_servers() as ports,
        moto() as moto_url,
    ):
        for label, kind, options in targets(ports, moto_url, Path(tmp)):
            try:
                resolved = options() if callable(options) else options
                if resolved is None:
                    print(f"{label:<16} {'-':>12} {'-':>11} {'-':>13} {'-':>12}  not configurable")
                    continue
                r = measure(client, label, kind, resolved, docs)
            except Exception as exc:  # noqa: BLE001 - report the type and go on with the others
                print(f"{label:<16} {'-':>12} {'-':>11} {'-':>13} {'-':>12}  failed: {exc}")
                continue
            print(
                f"{label:<16} {_rate(r['deliver']):>12} {_rate(r['outbox']):>11} "
                f"{_rate(r['baseline']):>13} {_rate(r['enqueue']):>12}"
            )


if __name__ == "__main__":
    main()
