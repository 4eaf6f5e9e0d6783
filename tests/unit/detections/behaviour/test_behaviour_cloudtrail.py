"""CloudTrail behaviour detectors: pure baseline/evaluate logic on canned aggregation results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from exporter.detections.behaviour.catalogue.api_tactics import TACTICS
from exporter.detections.behaviour.catalogue.cloudtrail_instance import external
from exporter.detections.behaviour.catalogue.cloudtrail_logins import distant_pairs
from exporter.detections.behaviour.model import DETECTORS, Window

START = datetime(2026, 1, 14, 12, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=1))
ALICE = {"@timestamp": "2026-01-14T12:30:00.000Z", "user": {"id": "AIDAALICE", "name": "alice"}}


def ms(moment: datetime) -> dict[str, float]:
    return {"value": moment.timestamp() * 1000}


def evidence(key: str, count: int, event: dict[str, Any], at: datetime = START) -> dict[str, Any]:
    """A terms bucket built with ``with_evidence``."""
    return {
        "key": key,
        "doc_count": count,
        "sample": {"hits": {"hits": [{"_source": event}]}},
        "first_seen": ms(at),
        "last_seen": ms(at + timedelta(minutes=1)),
    }


def calls(*names: str) -> dict[str, Any]:
    return {"buckets": [evidence(name, 1, ALICE) for name in names]}


def history(since: datetime, known: dict[str, datetime]) -> dict[str, Any]:
    seen = [{"key": k, "doc_count": 3, "first": ms(at)} for k, at in known.items()]
    bucket = {"key": "AIDAALICE", "doc_count": 9, "since": ms(since), "calls": {"buckets": seen}}
    return {"principals": {"buckets": [bucket]}}


def discovery(window_calls: dict[str, Any], past: dict[str, Any]) -> list[str]:
    detector = DETECTORS.get("iam-anomalous-discovery")
    window = {
        "principals": {"buckets": [{"key": "AIDAALICE", "doc_count": 3, "calls": window_calls}]}
    }
    assert detector.baseline is not None
    assert detector.baseline(window, detector.params) is not None
    hits = detector.evaluate(window, past, WINDOW, detector.params)
    return [hit.spec.type for hit in hits]


def test_every_tactic_has_a_detector_and_apis_are_unique() -> None:
    names = [api for weights in TACTICS.values() for api in weights]
    assert len(names) == len(set(names))
    for tactic in TACTICS:
        assert (
            f"{tactic}:IAMUser/AnomalousBehavior"
            in DETECTORS.get(f"iam-anomalous-{tactic.lower()}").finding_types
        )


def test_first_seen_discovery_calls_add_up() -> None:
    past = history(START - timedelta(days=6), {"GetCallerIdentity": START - timedelta(days=6)})
    assert discovery(calls("ListUsers", "ListRoles", "ListPolicies"), past) == [
        "Discovery:IAMUser/AnomalousBehavior"
    ]
    assert discovery(calls("ListUsers", "ListRoles"), past) == []


def test_known_calls_and_learning_principals_are_silent() -> None:
    old = START - timedelta(days=5)
    known = history(old, dict.fromkeys(("ListUsers", "ListRoles", "ListPolicies"), old))
    assert discovery(calls("ListUsers", "ListRoles", "ListPolicies"), known) == []
    learning = history(START - timedelta(days=1), {})
    assert discovery(calls("ListUsers", "ListRoles", "ListPolicies"), learning) == []
    assert discovery(calls("ListUsers", "ListRoles", "ListPolicies"), {}) == []


def test_a_call_first_seen_just_before_the_window_still_counts() -> None:
    recent = history(START - timedelta(days=6), {"ListUsers": START - timedelta(minutes=10)})
    assert discovery(calls("ListUsers", "ListRoles", "ListPolicies"), recent)


def test_hit_names_the_new_apis_and_takes_the_latest_sample() -> None:
    detector = DETECTORS.get("iam-anomalous-privilegeescalation")
    late = {**ALICE, "@timestamp": "2026-01-14T12:50:00.000Z"}
    found = {
        "buckets": [
            evidence("AttachUserPolicy", 1, ALICE),
            evidence("PutUserPolicy", 2, late, START + timedelta(minutes=40)),
        ]
    }
    window = {"principals": {"buckets": [{"key": "AIDAALICE", "doc_count": 3, "calls": found}]}}
    past = history(START - timedelta(days=6), {})
    [hit] = detector.evaluate(window, past, WINDOW, detector.params)
    assert hit.event == late
    assert hit.spec.additional_info["newApis"] == ["AttachUserPolicy", "PutUserPolicy"]
    assert hit.spec.severity == 5.0
    assert hit.first_seen == START
    assert hit.last_seen == START + timedelta(minutes=41)


def test_external_addresses() -> None:
    assert all(map(external, ("203.0.113.9", "54.1.2.3")))
    internal = ("10.20.1.10", "100.64.3.4", "ec2.amazonaws.com", "fd00::1")
    assert not any(map(external, internal))


def session_window(*addresses: str) -> dict[str, Any]:
    event = {"user": {"id": "AROAWEB:i-1", "name": "web-role"}, "source": {"ip": addresses[0]}}
    session = {
        "key": "AROAWEB:i-1",
        "doc_count": len(addresses),
        "role": {"buckets": [{"key": "arn:aws:iam::1:role/web-role", "doc_count": 1}]},
        "addresses": {
            "buckets": [evidence(a, 1, {**event, "source": {"ip": a}}) for a in addresses]
        },
    }
    return {"sessions": {"buckets": [session]}}


def role_history(since: datetime, *addresses: str) -> dict[str, Any]:
    role = {
        "key": "arn:aws:iam::1:role/web-role",
        "doc_count": 5,
        "since": ms(since),
        "addresses": {"buckets": [{"key": a, "doc_count": 5} for a in addresses]},
    }
    return {"roles": {"buckets": [role]}}


def test_instance_credentials_from_an_unknown_public_address() -> None:
    detector = DETECTORS.get("instance-credential-exfiltration")
    params, old = detector.params, START - timedelta(days=5)
    assert detector.baseline is not None
    window = session_window("54.1.2.3", "203.0.113.9")
    assert detector.baseline(window, params) is not None
    [hit] = detector.evaluate(window, role_history(old, "54.1.2.3"), WINDOW, params)
    assert hit.spec.additional_info["externalAddresses"] == ["203.0.113.9"]
    assert (
        detector.evaluate(window, role_history(old, "54.1.2.3", "203.0.113.9"), WINDOW, params)
        == []
    )
    assert detector.evaluate(window, role_history(START, "54.1.2.3"), WINDOW, params) == []
    assert detector.baseline(session_window("10.20.1.10"), params) is None


def login(at: datetime, ip: str) -> dict[str, Any]:
    return {"@timestamp": at.isoformat(), "source": {"ip": ip}, "user": {"id": "AIDAALICE"}}


def test_distant_pairs_need_two_networks_close_in_time() -> None:
    params = DETECTORS.get("console-login-distant-networks").params
    office, far = login(START, "192.0.2.20"), login(START + timedelta(minutes=20), "203.0.113.9")
    assert distant_pairs([], [office, far], params) == [(office, far)]
    assert distant_pairs([office], [far], params) == [(office, far)]
    assert distant_pairs([office], [], params) == []
    late = login(START + timedelta(hours=3), "203.0.113.9")
    assert distant_pairs([], [office, late], params) == []
    near = login(START + timedelta(minutes=5), "192.0.77.1")
    assert distant_pairs([], [office, near], params) == []


def test_console_evaluate_reads_top_hits() -> None:
    detector = DETECTORS.get("console-login-distant-networks")
    logins = [login(START, "192.0.2.20"), login(START + timedelta(minutes=20), "203.0.113.9")]
    window = {
        "users": {
            "buckets": [
                {"key": "AIDAALICE", "logins": {"hits": {"hits": [{"_source": d} for d in logins]}}}
            ]
        }
    }
    [hit] = detector.evaluate(window, {}, WINDOW, detector.params)
    assert hit.event == logins[1]
    assert hit.spec.additional_info["networks"] == ["192.0.0.0/16", "203.0.0.0/16"]
