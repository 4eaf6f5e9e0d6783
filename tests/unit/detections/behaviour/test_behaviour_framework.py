"""The behaviour framework's pure parts: windows, parameters, result readers, trust."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exporter.detections.behaviour import DETECTORS
from exporter.detections.behaviour.model import Window
from exporter.detections.behaviour.params import check_names, resolve
from exporter.detections.behaviour.results import bounds, buckets, counts, keyed, sample, value
from exporter.detections.behaviour.trusted import Trusted, remote_address
from exporter.detections.behaviour.windows import align, chunks, due, windows
from exporter.errors import ConfigError
from exporter.findings.types import FINDING_TYPES

T0 = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SSH = DETECTORS.get("ssh-brute-force")


def test_windows_are_aligned_to_the_epoch_and_cover_the_range() -> None:
    assert align(T0 + timedelta(minutes=47), HOUR) == T0
    found = list(windows(T0 + timedelta(minutes=30), T0 + 3 * HOUR, HOUR))
    assert [w.start for w in found] == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert all(w.end - w.start == HOUR for w in found)
    assert list(windows(T0, T0, HOUR)) == []


def test_a_window_is_due_once_event_time_passed_its_end_plus_settle() -> None:
    settle = timedelta(minutes=15)
    assert due(T0, T0 + HOUR + timedelta(minutes=14), HOUR, settle) == []
    assert due(T0, T0 + HOUR + settle, HOUR, settle) == [Window(T0, T0 + HOUR)]
    assert len(due(T0, T0 + 5 * HOUR + settle, HOUR, settle)) == 5


def test_chunks_keep_order() -> None:
    found = list(windows(T0, T0 + 5 * HOUR, HOUR))
    assert [len(c) for c in chunks(found, 2)] == [2, 2, 1]
    assert [w for c in chunks(found, 2) for w in c] == found


def test_window_label_is_iso_start_and_end() -> None:
    assert Window(T0, T0 + HOUR).label == "2025-05-01T10:00:00.000Z/2025-05-01T11:00:00.000Z"


def test_overrides_replace_defaults_with_checked_values() -> None:
    params = resolve(SSH, {"ssh-brute-force": {"min_connections": 10}})
    assert params["min_connections"] == 10
    assert params["max_packets_per_connection"] == SSH.params["max_packets_per_connection"]
    assert resolve(SSH, {}) == dict(SSH.params)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"min_conections": 10}, "unknown parameter"),
        ({"min_connections": "ten"}, "expected a non-negative number"),
        ({"min_connections": 2.5}, "expected a whole number"),
        ({"min_connections": -1}, "expected a non-negative number"),
    ],
)
def test_bad_overrides_name_the_setting(override: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(SSH, {"ssh-brute-force": override})
    assert "detectors.overrides.ssh-brute-force." in str(caught.value)
    assert message in str(caught.value)


def test_unknown_detector_in_overrides_fails_fast() -> None:
    with pytest.raises(ConfigError, match=r"detectors\.overrides\.ssh-brute: unknown detector"):
        check_names({"ssh-brute": {}}, DETECTORS.names())


RESULT = {
    "pairs": {
        "buckets": [
            {
                "key": ["203.0.113.9", "10.0.0.5"],
                "doc_count": 30,
                "sample": {"hits": {"hits": [{"_source": {"source": {"ip": "203.0.113.9"}}}]}},
                "first_seen": {"value": T0.timestamp() * 1000},
                "last_seen": {"value": (T0 + HOUR).timestamp() * 1000},
                "ports": {"buckets": [{"key": 22, "doc_count": 29}, {"key": 23, "doc_count": 1}]},
                "bytes": {"value": 1234.0},
            }
        ]
    }
}


def test_result_readers() -> None:
    [pair] = buckets(RESULT, "pairs")
    assert buckets(RESULT, "missing") == []
    assert buckets(None, "pairs") == []
    assert sample(pair) == {"source": {"ip": "203.0.113.9"}}
    assert bounds(pair) == (T0, T0 + HOUR)
    assert counts(pair, "ports") == {"22": 29, "23": 1}
    assert set(keyed(pair, "ports")) == {"22", "23"}
    assert value(pair, "bytes") == 1234.0
    assert value(pair, "absent", 7.0) == 7.0


def test_trusted_networks_contain_addresses() -> None:
    trusted = Trusted.of(["203.0.113.0/24", "2001:db8::1", "not-an-ip"])
    assert "203.0.113.200" in trusted
    assert "2001:db8::1" in trusted
    assert "198.51.100.1" not in trusted
    assert None not in trusted
    assert len(trusted.networks) == 2


def test_remote_address_of_a_flow_is_the_far_end() -> None:
    inbound = {"source": {"ip": "203.0.113.9"}, "destination": {"ip": "10.0.0.5"},
               "network": {"direction": "ingress"}}  # fmt: skip
    outbound = {"source": {"ip": "10.0.0.5"}, "destination": {"ip": "198.51.100.7"},
                "network": {"direction": "egress"}}  # fmt: skip
    assert remote_address(inbound, "vpcflow") == "203.0.113.9"
    assert remote_address(outbound, "vpcflow") == "198.51.100.7"
    assert remote_address({"source": {"ip": "192.0.2.1"}}, "cloudtrail") == "192.0.2.1"


def test_every_detector_is_complete() -> None:
    for name, detector in DETECTORS.items():
        assert detector.finding_types, name
        for finding_type in detector.finding_types:
            assert finding_type in FINDING_TYPES, f"{name}: {finding_type} is not a GuardDuty type"
        assert detector.logic, name
        assert detector.cases is not None, f"{name} has no embedded cases"
        assert detector.interval >= timedelta(minutes=5), name
        if detector.baseline is not None:
            assert detector.params.get("baseline_days", 0) > 0, name
