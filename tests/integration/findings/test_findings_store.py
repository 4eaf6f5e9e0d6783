"""The findings store on the real node: dynamic findings, archive state, search and stats."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter.errors import StoreError
from exporter.findings import store
from exporter.findings.build import build_finding
from exporter.findings.samples import sample_findings
from exporter.findings.spec import FindingSpec
from exporter.findings.validation import InvalidFinding

T0 = datetime(2025, 3, 2, 11, 0, tzinfo=UTC)
DETECTOR = "3c9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
SSH = "UnauthorizedAccess:EC2/SSHBruteForce"


@pytest.fixture
def index(client: OpenSearch) -> Iterator[str]:
    """A findings index of this test only (the template applies), deleted by exact name."""
    name = f"duskwatch-findings-test-{uuid.uuid4().hex}"
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


def flow_event(
    at: datetime, remote: str = "198.51.100.77", instance: str = "i-0abc1234def567890"
) -> dict[str, Any]:
    """An inbound SSH flow record, as the VPC flow normalizer writes it."""
    return {
        "@timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "cloud": {
            "account": {"id": "111122223333"},
            "region": "eu-west-1",
            "instance": {"id": instance},
        },
        "source": {"ip": remote, "port": 49822},
        "destination": {"ip": "10.0.3.25", "port": 22},
        "network": {"transport": "tcp", "direction": "inbound"},
        "aws": {"vpcflow": {"interface_id": "eni-0f1e2d3c4b5a69788", "action": "REJECT"}},
    }


def finding(
    at: datetime,
    *,
    finding_type: str = SSH,
    severity: float = 2.0,
    now: datetime | None = None,
    **event: Any,
) -> dict[str, Any]:
    spec = FindingSpec(
        type=finding_type, severity=severity, title="SSH brute force", description="d"
    )
    return build_finding(
        spec, flow_event(at, **event), log_type="vpcflow", now=now or at, detector_id=DETECTOR
    )


def stored(client: OpenSearch, index: str, identifier: str) -> dict[str, Any]:
    return store.get(client, [identifier], index, raw=True)[0]


def test_create_then_recur(client: OpenSearch, index: str) -> None:
    first = finding(T0)
    assert store.upsert(client, [first], index) == store.UpsertResult(created=[first["id"]])
    later = finding(T0 + timedelta(hours=1), remote="203.0.113.9", severity=5.0)
    assert later["id"] == first["id"]
    assert store.upsert(client, [later], index) == store.UpsertResult(updated=[first["id"]])

    merged = stored(client, index, first["id"])
    service = merged["service"]
    assert service["count"] == 2
    assert service["eventFirstSeen"] == "2025-03-02T11:00:00.000Z"
    assert service["eventLastSeen"] == "2025-03-02T12:00:00.000Z"
    assert merged["createdAt"] == first["createdAt"]
    assert merged["updatedAt"] == later["updatedAt"] == merged["@timestamp"]
    remote = service["action"]["networkConnectionAction"]["remoteIpDetails"]
    assert remote == {"ipAddressV4": "203.0.113.9"}
    assert (merged["severity"], merged["event"]["severity"]) == (5.0, 5)


def test_an_older_occurrence_counts_but_keeps_the_latest_details(
    client: OpenSearch, index: str
) -> None:
    latest = finding(T0 + timedelta(hours=1), remote="203.0.113.9", severity=5.0)
    older = finding(T0, remote="198.51.100.77", now=T0 + timedelta(hours=2))
    store.upsert(client, [latest], index)
    store.upsert(client, [older], index)
    merged = stored(client, index, latest["id"])
    assert merged["service"]["count"] == 2
    assert merged["service"]["eventFirstSeen"] == "2025-03-02T11:00:00.000Z"
    assert merged["service"]["eventLastSeen"] == "2025-03-02T12:00:00.000Z"
    remote = merged["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]
    assert remote == {"ipAddressV4": "203.0.113.9"}
    assert merged["severity"] == 5.0
    assert merged["updatedAt"] == "2025-03-02T13:00:00.000Z"


def test_concurrent_upserts_count_every_occurrence(client: OpenSearch, index: str) -> None:
    one = finding(T0)

    def writer(worker: int) -> None:
        for n in range(50):
            store.upsert(client, [finding(T0 + timedelta(seconds=worker * 100 + n))], index)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(writer, range(2)))
    merged = stored(client, index, one["id"])
    assert merged["service"]["count"] == 100
    assert merged["service"]["eventFirstSeen"] == "2025-03-02T11:00:00.000Z"
    assert merged["service"]["eventLastSeen"] == "2025-03-02T11:02:29.000Z"


def test_manually_archived_finding_recurs_active(client: OpenSearch, index: str) -> None:
    first = finding(T0)
    store.upsert(client, [first], index)
    assert store.archive(client, [first["id"], "f" * 32], index) == [first["id"]]
    assert stored(client, index, first["id"])["service"]["archived"] is True
    store.upsert(client, [finding(T0 + timedelta(minutes=5))], index)
    assert stored(client, index, first["id"])["service"]["archived"] is False


def test_suppressed_finding_stays_archived(client: OpenSearch, index: str) -> None:
    first = finding(T0)
    store.upsert(client, [first], index)
    suppressed = finding(T0 + timedelta(minutes=1))
    suppressed["duskwatch"] = {"suppressed_by": "bastion-ssh"}
    store.upsert(client, [suppressed], index)
    assert stored(client, index, first["id"])["service"]["archived"] is True

    store.upsert(client, [finding(T0 + timedelta(minutes=2))], index)
    merged = stored(client, index, first["id"])
    assert merged["service"]["archived"] is True
    assert merged["duskwatch"]["suppressed_by"] == "bastion-ssh"
    assert merged["service"]["count"] == 3

    assert store.unarchive(client, [first["id"]], index) == [first["id"]]
    lifted = stored(client, index, first["id"])
    assert lifted["service"]["archived"] is False
    assert "suppressed_by" not in lifted["duskwatch"]


def test_new_suppressed_finding_is_created_archived(client: OpenSearch, index: str) -> None:
    first = finding(T0)
    first["duskwatch"] = {"suppressed_by": "bastion-ssh"}
    store.upsert(client, [first], index)
    assert stored(client, index, first["id"])["service"]["archived"] is True
    store.upsert(client, [finding(T0 + timedelta(minutes=1))], index)
    assert stored(client, index, first["id"])["service"]["archived"] is True


def test_an_occurrence_is_counted_once(client: OpenSearch, index: str) -> None:
    occurrence = finding(T0)
    occurrence["duskwatch"] = {"occurrences": ["events-1/doc-1"]}
    assert store.upsert(client, [occurrence], index).created == [occurrence["id"]]
    assert store.upsert(client, [occurrence], index).unchanged == [occurrence["id"]]
    another = finding(T0 + timedelta(minutes=1))
    another["duskwatch"] = {"occurrences": ["events-1/doc-2"]}
    assert store.upsert(client, [another], index).updated == [occurrence["id"]]
    merged = stored(client, index, occurrence["id"])
    assert merged["service"]["count"] == 2
    assert merged["duskwatch"]["occurrences"] == ["events-1/doc-1", "events-1/doc-2"]


def test_a_batch_partly_counted_before_adds_only_its_new_occurrences(
    client: OpenSearch, index: str
) -> None:
    first = finding(T0)
    first["duskwatch"] = {"occurrences": ["e/1"]}
    store.upsert(client, [first], index)
    batch = finding(T0 + timedelta(minutes=1))
    batch["service"]["count"] = 3
    batch["duskwatch"] = {"occurrences": ["e/1", "e/2", "e/3"]}
    store.upsert(client, [batch], index)
    assert stored(client, index, first["id"])["service"]["count"] == 3


def test_invalid_findings_are_not_written(client: OpenSearch, index: str) -> None:
    broken = finding(T0)
    broken["severity"] = 12.0
    with pytest.raises(InvalidFinding, match="severity"):
        store.upsert(client, [finding(T0 + timedelta(minutes=1)), broken], index)
    assert not client.indices.exists(index=index)


def test_get_returns_guardduty_shape_in_order(client: OpenSearch, index: str) -> None:
    first = finding(T0)
    second = finding(T0, instance="i-0fedcba9876543210")
    store.upsert(client, [first, second], index)
    found = store.get(client, [second["id"], "0" * 32, first["id"]], index)
    assert [f["id"] for f in found] == [second["id"], first["id"]]
    assert not {"@timestamp", "event", "duskwatch"} & set(found[0])


def _populate(client: OpenSearch, index: str) -> dict[str, str]:
    findings = {
        "old-low": finding(T0, severity=2.0, instance="i-0000000000000001"),
        "new-high": finding(
            T0, severity=8.0, instance="i-0000000000000002", now=T0 + timedelta(days=2)
        ),
        "portscan": finding(
            T0, finding_type="Recon:EC2/Portscan", severity=5.0, now=T0 + timedelta(days=1)
        ),
        "archived": finding(T0, severity=9.5, instance="i-0000000000000003"),
    }
    store.upsert(client, list(findings.values()), index, refresh=True)
    store.archive(client, [findings["archived"]["id"]], index, refresh=True)
    return {name: f["id"] for name, f in findings.items()}


def test_search_filters(client: OpenSearch, index: str) -> None:
    ids = _populate(client, index)

    def names(**criteria: Any) -> set[str]:
        found = {f["id"] for f in store.search(client, index=index, **criteria)}
        return {name for name, identifier in ids.items() if identifier in found}

    assert names() == {"old-low", "new-high", "portscan"}
    assert names(archived=True) == {"archived"}
    assert names(archived=None) == set(ids)
    assert names(types=["Recon:EC2/Portscan"]) == {"portscan"}
    assert names(min_severity=5.0) == {"new-high", "portscan"}
    assert names(account="111122223333") == {"old-low", "new-high", "portscan"}
    assert names(account="999999999999") == set()
    assert names(since=T0 + timedelta(days=1)) == {"new-high", "portscan"}
    ordered = store.search(client, index=index, sort="-severity")
    assert [f["severity"] for f in ordered] == [8.0, 5.0, 2.0]
    newest = store.search(client, index=index, size=1)
    assert [f["id"] for f in newest] == [ids["new-high"]]


def test_search_rejects_unknown_sort(client: OpenSearch, index: str) -> None:
    with pytest.raises(ValueError, match="cannot sort"):
        store.search(client, index=index, sort="title")


def test_stats(client: OpenSearch, index: str) -> None:
    _populate(client, index)
    counted = store.stats(client, index=index)
    assert counted.total == 3
    assert counted.by_severity == {"Low": 1, "Medium": 1, "High": 1, "Critical": 0}
    assert counted.by_type == {SSH: 2, "Recon:EC2/Portscan": 1}
    everything = store.stats(client, archived=None, index=index)
    assert everything.by_severity["Critical"] == 1
    assert everything.total == 4


def test_every_sample_type_indexes_and_filters(client: OpenSearch, index: str) -> None:
    samples = sample_findings(
        None, now=T0, detector_id=DETECTOR, account="111122223333", region="eu-west-1"
    )
    result = store.upsert(client, samples, index, refresh=True)
    assert len(result.created) == len(samples)
    filters = {
        "service.action.networkConnectionAction.localPortDetails.port": 22,
        "service.action.dnsRequestAction.domain": "generatedfindingdomainname.example.com",
        "resource.s3BucketDetails.name": "generatedfindingbucketname",
        "resource.eksClusterDetails.name": "GeneratedFindingEKSClusterName",
        "service.additionalInfo.threatListName": "GeneratedFindingThreatListName",
        "service.action.portProbeAction.portProbeDetails.localPortDetails.port": 22,
        "service.additionalInfo.sample": True,
    }
    for field, value in filters.items():
        hits = client.search(index=index, body={"query": {"term": {field: value}}, "size": 0})
        assert hits["hits"]["total"]["value"] > 0, field


def test_missing_index_is_a_store_error(client: OpenSearch, index: str) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.search(client, index=index)
    with pytest.raises(StoreError, match="does not exist"):
        store.stats(client, index=index)


def test_detector_id(client: OpenSearch) -> None:
    derived = store.detector_id(client)
    assert re.fullmatch("[0-9a-f]{32}", derived)
    assert store.detector_id(client) == derived
    assert store.detector_id(client, DETECTOR) == DETECTOR
