"""Fixtures of the suppression tests: a findings index and a filters index per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter.findings.build import build_finding
from exporter.findings.spec import FindingSpec
from exporter.findings.writer import Finding
from exporter.suppression import store as filters
from exporter.suppression.model import Filter, parse_filter

T0 = datetime(2025, 3, 2, 11, 0, tzinfo=UTC)
DETECTOR = "3c9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
SSH = "UnauthorizedAccess:EC2/SSHBruteForce"
PORTSCAN = "Recon:EC2/Portscan"


def _scratch(client: OpenSearch, prefix: str) -> Iterator[str]:
    name = f"{prefix}-test-{uuid.uuid4().hex}"
    client.indices.create(index=name)  # the template of the prefix applies
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def findings_index(client: OpenSearch) -> Iterator[str]:
    """A findings index of this test only, deleted by its exact name."""
    yield from _scratch(client, "duskwatch-findings")


@pytest.fixture
def filters_index(client: OpenSearch) -> Iterator[str]:
    """A filters index of this test only, deleted by its exact name."""
    yield from _scratch(client, "duskwatch-filters")


def _finding(
    finding_type: str = SSH,
    *,
    instance: str = "i-0abc1234def567890",
    at: datetime = T0,
    severity: float = 2.0,
    remote: str = "198.51.100.77",
    tags: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A finding about an inbound SSH flow to ``instance`` (same instance and type: same id)."""
    event: dict[str, Any] = {
        "@timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "cloud": {
            "account": {"id": "111122223333"},
            "region": "eu-west-1",
            "instance": {"id": instance},
        },
        "source": {"ip": remote, "port": 49822},
        "destination": {"ip": "10.0.3.25", "port": 22},
        "network": {"transport": "tcp", "direction": "inbound"},
    }
    spec = FindingSpec(type=finding_type, severity=severity, title="t", description="d")
    finding = build_finding(spec, event, log_type="vpcflow", now=at, detector_id=DETECTOR)
    if tags:
        details = finding["resource"]["instanceDetails"]
        details["tags"] = [{"key": k, "value": v} for k, v in tags]
    return finding


@pytest.fixture
def add_filter(client: OpenSearch, filters_index: str) -> Callable[..., Filter]:
    """Create a filter in the test's filters index: ``add_filter(name, criterion, ...)``."""

    def add(name: str, criterion: dict[str, Any], action: str = "ARCHIVE", rank: int = 1) -> Filter:
        body = {"name": name, "action": action, "rank": rank,
                "findingCriteria": {"criterion": criterion}}  # fmt: skip
        flt = parse_filter(body)
        filters.create(client, flt, filters_index)
        return flt

    return add


@pytest.fixture
def make_finding() -> Callable[..., dict[str, Any]]:
    """``make_finding(type, instance=, at=, severity=, tags=)``: a fresh finding document."""
    return _finding


class RecordingOutbox:
    """An outbox that keeps what it is given (the export outbox is another module's)."""

    def __init__(self) -> None:
        self.queued: list[str] = []

    def enqueue(self, findings: Sequence[Finding], *, created: set[str]) -> None:
        self.queued += [str(f["id"]) for f in findings]


@pytest.fixture
def outbox() -> RecordingOutbox:
    """An outbox recording the ids of the findings queued for export."""
    return RecordingOutbox()
