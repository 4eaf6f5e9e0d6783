"""DNS behaviour detectors: scoring, evaluation of canned aggregation results, baselines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exporter.detections.behaviour import DETECTORS
from exporter.detections.behaviour.catalogue import dns
from exporter.detections.behaviour.catalogue.dns_records import encoded_label, random_label
from exporter.detections.behaviour.model import Window

START = datetime(2026, 1, 14, 12, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=1))
MS = int(START.timestamp() * 1000)
EXFIL = DETECTORS.get("dns-data-exfiltration")
DGA = DETECTORS.get("dns-dga-domains")
RESOLVER = DETECTORS.get("unusual-dns-resolver")
EVENT = {"cloud": {"instance": {"id": "i-0abc"}}, "source": {"ip": "10.0.1.5"}}


def evidence(key: Any, doc_count: int, **aggs: Any) -> dict[str, Any]:
    """A bucket built with ``with_evidence``: sample, first/last seen, plus ``aggs``."""
    return {
        "key": key,
        "doc_count": doc_count,
        "sample": {"hits": {"hits": [{"_source": EVENT}]}},
        "first_seen": {"value": MS + 60_000},
        "last_seen": {"value": MS + 600_000},
        **aggs,
    }


def terms(keys: list[str]) -> dict[str, Any]:
    return {"buckets": [{"key": key, "doc_count": 1} for key in keys]}


def test_entropy_and_shares() -> None:
    assert dns.entropy("aaaa") == 0
    assert dns.entropy("abcd") == pytest.approx(2.0)
    assert dns.share("ab12", "0123456789") == 0.5
    assert dns.share("", "abc") == 0.0
    assert dns.subdomain("x1.chunk.evil.top", "evil.top") == "x1chunk"


def test_encoded_names_are_long_and_random_or_digit_dense() -> None:
    rng = random.Random(3)
    params = EXFIL.params
    assert dns.encoded(encoded_label(rng, 52), params)
    assert dns.encoded(rng.randbytes(16).hex(), params)
    assert not dns.encoded("tenant-billing-reports-production", params)
    assert not dns.encoded("a" * 60, params)
    assert not dns.encoded(f"d{rng.getrandbits(52):013x}", params)  # CloudFront: too short


def test_generated_labels_are_long_varied_and_consonant_heavy() -> None:
    rng = random.Random(4)
    params = DGA.params
    generated = [dns.generated(random_label(rng, 14), params) for _ in range(200)]
    assert sum(generated) / len(generated) > 0.65
    for word in ("github", "pythonhosted", "billing-orders-docs", "analytics-frontend-docs"):
        assert not dns.generated(word, params), word
    assert dns.consonant_run("xkqjvbtrwpzmh") == 13


def exfiltration_bucket(names: list[str], distinct: int, domain: str) -> dict[str, Any]:
    pair = evidence(
        ["vpc-1", "10.0.1.5", domain],
        len(names),
        names={"value": distinct},
        sample_names=terms(names),
    )
    return {"pairs": {"buckets": [pair]}}


def test_exfiltration_reports_many_encoded_names_under_one_domain() -> None:
    rng = random.Random(5)
    names = [f"{n}.{encoded_label(rng, 50)}.qz7.top" for n in range(40)]
    hits = EXFIL.evaluate(exfiltration_bucket(names, 40, "qz7.top"), None, WINDOW, EXFIL.params)
    assert [hit.spec.type for hit in hits] == ["Trojan:EC2/DNSDataExfiltration"]
    spec = hits[0].spec
    assert spec.severity == 8.0
    assert spec.key == ("qz7.top",)
    assert spec.additional_info["distinctNames"] == 40
    assert hits[0].first_seen == START + timedelta(minutes=1)


def test_exfiltration_ignores_few_names_and_readable_names() -> None:
    rng = random.Random(6)
    few = [f"{encoded_label(rng, 50)}.qz7.top" for _ in range(10)]
    readable = [f"tenant-{n}-billing-reports-production.status.io" for n in range(40)]
    params = EXFIL.params
    assert not EXFIL.evaluate(exfiltration_bucket(few, 10, "qz7.top"), None, WINDOW, params)
    assert not EXFIL.evaluate(exfiltration_bucket(readable, 40, "status.io"), None, WINDOW, params)


def test_exfiltration_query_leaves_out_allowed_domains() -> None:
    query = EXFIL.query(EXFIL.params).to_dict()
    assert "cloudfront.net" in str(query)
    assert "amazonaws.com" in str(query)


def dga_bucket(domains: list[str], nxdomain: int, total: int) -> dict[str, Any]:
    source = {
        "key": ["vpc-1", "10.0.1.5"],
        "doc_count": total,
        "domains": {"value": len(domains)},
        "sample_domains": terms(domains),
        "nxdomain": evidence(None, nxdomain),
    }
    return {"sources": {"buckets": [source]}}


def test_dga_reports_random_failing_domains() -> None:
    rng = random.Random(7)
    domains = [f"{random_label(rng, 14)}.com" for _ in range(30)]
    hits = DGA.evaluate(dga_bucket(domains, 28, 30), None, WINDOW, DGA.params)
    assert [hit.spec.type for hit in hits] == ["Trojan:EC2/DGADomainRequest.B"]
    assert hits[0].spec.additional_info["nxdomainShare"] == pytest.approx(0.93)


def test_dga_ignores_resolving_or_readable_or_few_domains() -> None:
    rng = random.Random(8)
    domains = [f"{random_label(rng, 14)}.com" for _ in range(30)]
    readable = [f"status-{word}-docs.org" for word in ("billing", "orders", "search") * 10]
    params = DGA.params
    assert not DGA.evaluate(dga_bucket(domains, 2, 30), None, WINDOW, params)
    assert not DGA.evaluate(dga_bucket(readable, 30, 30), None, WINDOW, params)
    assert not DGA.evaluate(dga_bucket(domains[:5], 5, 5), None, WINDOW, params)


def resolver_window(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"pairs": {"buckets": [evidence(list(pair), 3) for pair in pairs]}}


def resolver_history(since: datetime, resolvers: list[str]) -> dict[str, Any]:
    interface = {
        "key": "eni-1",
        "doc_count": 500,
        "since": {"value": since.timestamp() * 1000},
        "used": {"doc_count": len(resolvers), "resolvers": terms(resolvers)},
    }
    return {"interfaces": {"buckets": [interface]}}


def test_resolver_baseline_asks_only_about_the_window_interfaces() -> None:
    params = RESOLVER.params
    assert RESOLVER.baseline is not None
    assert RESOLVER.baseline({"pairs": {"buckets": []}}, params) is None
    wanted = RESOLVER.baseline(resolver_window(("eni-1", "8.8.8.8")), params)
    assert wanted is not None
    assert wanted.query.to_dict() == {"terms": {"aws.vpcflow.interface_id": ["eni-1"]}}
    assert set(wanted.aggs) == {"interfaces"}


def test_resolver_reports_a_new_resolver_of_a_known_interface() -> None:
    params = RESOLVER.params
    window = resolver_window(("eni-1", "8.8.8.8"), ("eni-1", "1.1.1.1"))
    history = resolver_history(START - timedelta(days=6), ["1.1.1.1"])
    hits = RESOLVER.evaluate(window, history, WINDOW, params)
    assert [hit.spec.key for hit in hits] == [("8.8.8.8",)]
    assert hits[0].spec.type == "DefenseEvasion:EC2/UnusualDNSResolver"
    assert hits[0].spec.severity == 5.0


def test_resolver_learns_new_interfaces_first() -> None:
    window = resolver_window(("eni-1", "8.8.8.8"))
    recent = resolver_history(START - timedelta(days=1), [])
    assert not RESOLVER.evaluate(window, recent, WINDOW, RESOLVER.params)
    assert not RESOLVER.evaluate(window, {}, WINDOW, RESOLVER.params)


def test_every_dns_detector_has_positive_and_negative_cases() -> None:
    for detector in (EXFIL, DGA, RESOLVER):
        assert detector.cases is not None
        cases = detector.cases(WINDOW)
        assert any(case.expect for case in cases), detector.name
        assert any(not case.expect for case in cases), detector.name
