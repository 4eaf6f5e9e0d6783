"""Flow behaviour detectors: pure evaluation and baselines on canned aggregation results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exporter.detections.behaviour import DETECTORS
from exporter.detections.behaviour.catalogue.flow_fields import learned
from exporter.detections.behaviour.catalogue.flow_flood import is_flood, kind_of
from exporter.detections.behaviour.catalogue.flow_records import INSTANCE, Flow, documents
from exporter.detections.behaviour.catalogue.flow_scan import is_scanner
from exporter.detections.behaviour.model import Window

START = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=1))
ENI = INSTANCE[1]
MS = int(START.timestamp() * 1000)


def outbound(port: int = 6667, packets: int = 12) -> dict[str, Any]:
    return documents([Flow(START, "198.51.100.7", port, 50000, inbound=False, packets=packets)])[0]


def evidence(doc: dict[str, Any], key: Any, count: int, **metrics: float) -> dict[str, Any]:
    return {
        "key": key,
        "doc_count": count,
        "sample": {"hits": {"hits": [{"_source": doc}]}},
        "first_seen": {"value": MS},
        "last_seen": {"value": MS + 1000},
        **{name: {"value": number} for name, number in metrics.items()},
    }


def seen(days: float) -> dict[str, Any]:
    first = (START - timedelta(days=days)).timestamp() * 1000
    return {"seen": {"buckets": [{"key": ENI, "doc_count": 9, "first": {"value": first}}]}}


def test_learning_needs_history_before_the_window() -> None:
    params = {"learning_days": 3}
    early = {ENI: (START - timedelta(days=4)).timestamp() * 1000}
    late = {ENI: (START - timedelta(days=1)).timestamp() * 1000}
    assert learned(early, ENI, WINDOW, params)
    assert not learned(late, ENI, WINDOW, params)
    assert not learned({}, ENI, WINDOW, params)


@pytest.mark.parametrize(
    ("transport", "port", "kind"),
    [
        ("udp", 53, "Dns"),
        ("tcp", 53, "Dns"),
        ("tcp", 80, "Tcp"),
        ("udp", 443, "UdpOnTcpPorts"),
        ("udp", 3074, "Udp"),
        ("icmp", 0, "UnusualProtocol"),
        ("gre", None, "UnusualProtocol"),
    ],
)
def test_flood_kind_follows_protocol_and_port(transport: str, port: int | None, kind: str) -> None:
    params = DETECTORS.get("denial-of-service").params
    assert kind_of(transport, port, params) == kind


def test_flood_needs_many_small_packets() -> None:
    params = DETECTORS.get("denial-of-service").params
    assert is_flood({"packets": {"value": 300_000}, "bytes": {"value": 18_000_000}}, params)
    assert not is_flood({"packets": {"value": 300_000}, "bytes": {"value": 330_000_000}}, params)
    assert not is_flood({"packets": {"value": 9_000}, "bytes": {"value": 500_000}}, params)


def test_scanner_touches_many_targets_mostly_rejected() -> None:
    params = DETECTORS.get("port-probe-unprotected-port").params

    def scanner(ports: int, rejected: int, count: int = 20) -> dict[str, Any]:
        return {
            "doc_count": count,
            "ports": {"value": ports},
            "hosts": {"value": 1},
            "rejected": {"doc_count": rejected},
        }

    assert is_scanner(scanner(20, 18), params)
    assert not is_scanner(scanner(1, 20), params)
    assert not is_scanner(scanner(20, 2), params)


def test_port_probe_reports_each_open_port() -> None:
    detector = DETECTORS.get("port-probe-unprotected-port")
    doc = documents([Flow(START, "203.0.113.150", 61000, 9200)])[0]
    scanner = {
        "key": "203.0.113.150",
        "doc_count": 20,
        "ports": {"value": 20},
        "hosts": {"value": 1},
        "rejected": {"doc_count": 19},
        "accepted": {"doc_count": 1, "open": {"buckets": [evidence(doc, [ENI, 9200], 1)]}},
    }
    hits = detector.evaluate({"scanners": {"buckets": [scanner]}}, None, WINDOW, detector.params)
    assert [(h.spec.type, h.spec.key, h.spec.severity) for h in hits] == [
        ("Recon:EC2/PortProbeUnprotectedPort", ("9200",), 8.0)
    ]


@pytest.mark.parametrize(
    ("name", "spread", "expected"),
    [("portscan", 40, 1), ("portscan", 10, 0), ("port-sweep", 40, 1), ("port-sweep", 3, 0)],
)
def test_scan_and_sweep_thresholds(name: str, spread: int, expected: int) -> None:
    detector = DETECTORS.get(name)
    bucket = {"pairs": {"buckets": [evidence(outbound(), [ENI, "x"], spread, spread=spread)]}}
    hits = detector.evaluate(bucket, None, WINDOW, detector.params)
    assert len(hits) == expected
    assert all(h.spec.resource_role == "ACTOR" for h in hits)


def test_port_unusual_skips_ports_of_the_baseline() -> None:
    detector = DETECTORS.get("network-port-unusual")
    params = detector.params
    pairs = [evidence(outbound(port), [ENI, port], 3, packets=36) for port in (443, 6667)]
    bucket = {"pairs": {"buckets": pairs}}
    wanted = detector.baseline(bucket, params) if detector.baseline else None
    assert wanted is not None
    used = {"used": {"buckets": [{"key": [ENI, 443], "doc_count": 50}]}}
    hits = detector.evaluate(bucket, {**seen(5), "ports": used}, WINDOW, params)
    assert [h.spec.key for h in hits] == [("6667",)]
    assert detector.evaluate(bucket, {**seen(1), "ports": used}, WINDOW, params) == []


def test_port_unusual_asks_no_baseline_for_tiny_flows() -> None:
    detector = DETECTORS.get("network-port-unusual")
    bucket = {"pairs": {"buckets": [evidence(outbound(), [ENI, 6667], 1, packets=3)]}}
    assert detector.baseline is not None
    assert detector.baseline(bucket, detector.params) is None


def test_volume_compares_with_the_busiest_hour() -> None:
    detector = DETECTORS.get("traffic-volume-unusual")
    params = detector.params
    bucket = {"pairs": {"buckets": [evidence(outbound(443), [ENI, "203.0.113.157"], 4, sent=3e9)]}}

    def history(peak: float) -> dict[str, Any]:
        found = seen(5)
        found["seen"]["buckets"][0]["peak"] = {"value": peak}
        return found

    assert len(detector.evaluate(bucket, history(6e6), WINDOW, params)) == 1
    assert detector.evaluate(bucket, history(2.5e9), WINDOW, params) == []


def test_spambot_needs_no_port_25_history() -> None:
    detector = DETECTORS.get("spambot")
    params = detector.params
    sender = evidence(outbound(25), ENI, 40, hosts=40)
    bucket = {"senders": {"buckets": [sender]}}
    quiet = {**seen(5), "mail": {"doc_count": 0, "senders": {"buckets": []}}}
    relay = {**seen(5), "mail": {"doc_count": 9, "senders": {"buckets": [{"key": ENI}]}}}
    assert [h.spec.type for h in detector.evaluate(bucket, quiet, WINDOW, params)] == [
        "Backdoor:EC2/Spambot"
    ]
    assert detector.evaluate(bucket, relay, WINDOW, params) == []
