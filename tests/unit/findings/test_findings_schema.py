"""The finding schema accepts every sample finding and rejects broken ones."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from exporter.findings.samples import TITLE_PREFIX, sample_findings
from exporter.findings.types import FINDING_TYPES
from exporter.findings.validation import InvalidFinding, problems, validate

NOW = datetime(2025, 3, 2, 11, 18, 44, 202000, tzinfo=UTC)
DETECTOR = "3c9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
SAMPLES = sample_findings(
    None, now=NOW, detector_id=DETECTOR, account="111122223333", region="eu-west-1"
)
Finding = dict[str, Any]


def _sample(finding_type: str) -> Finding:
    found = [s for s in SAMPLES if s["type"] == finding_type]
    return copy.deepcopy(found[0])


def test_one_sample_per_known_type() -> None:
    assert [s["type"] for s in SAMPLES] == FINDING_TYPES.names()
    assert len({s["id"] for s in SAMPLES}) == len(SAMPLES)


@pytest.mark.parametrize("finding", SAMPLES, ids=lambda f: f["type"])
def test_every_sample_validates(finding: Finding) -> None:
    assert problems(finding) == []


@pytest.mark.parametrize("finding", SAMPLES[:: len(SAMPLES) // 8], ids=lambda f: f["type"])
def test_samples_look_like_guardduty_samples(finding: Finding) -> None:
    assert finding["title"].startswith(TITLE_PREFIX)
    assert finding["service"]["additionalInfo"]["sample"] is True
    assert finding["severity"] == FINDING_TYPES.get(finding["type"]).severity


def _set(path: str, value: Any) -> Callable[[Finding], None]:
    def change(finding: Finding) -> None:
        *parents, last = path.split(".")
        node = finding
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return change


def _drop(key: str) -> Callable[[Finding], None]:
    return lambda finding: finding.pop(key)


BREAKAGES: dict[str, Callable[[Finding], None]] = {
    "id not 32 hex": _set("id", "7E4C1A9B2D3F48A6B5C0E1F2A3B4C5D6"),
    "short id": _set("id", "7e4c1a9b"),
    "severity above 10": _set("severity", 10.5),
    "severity below 1": _set("severity", 0.5),
    "bad arn": _set("arn", "arn:aws:guardduty:eu-west-1:111122223333:finding/x"),
    "unknown resource type": _set("resource.resourceType", "Lambda"),
    "instance without details": lambda f: f["resource"].pop("instanceDetails"),
    "unknown action type": _set("service.action.actionType", "RDS_LOGIN_ATTEMPT"),
    "action object of another type": _set("service.action.actionType", "DNS_REQUEST"),
    "archived as text": _set("service.archived", "false"),
    "count zero": _set("service.count", 0),
    "count as float": _set("service.count", 1.5),
    "timestamp without ms": _set("createdAt", "2025-03-02T11:18:44Z"),
    "timestamp with offset": _set("updatedAt", "2025-03-02T11:18:44.202+01:00"),
    "unknown top-level key": _set("confidential", True),
    "unknown service key": _set("service.extra", 1),
    "missing title": _drop("title"),
    "missing service": _drop("service"),
    "bad detector id": _set("service.detectorId", "detector-1"),
    "bad resource role": _set("service.resourceRole", "VICTIM"),
    "wrong schema version": _set("schemaVersion", "1.0"),
    "bad port": _set("service.action.networkConnectionAction.localPortDetails.port", 70000),
    "bad direction": _set("service.action.networkConnectionAction.connectionDirection", "IN"),
    "bad ip": _set("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "1.2.3"),
    "object in a typed additionalInfo key": _set("service.additionalInfo.threatListName", {}),
    "event kind not alert": _set("event.kind", "event"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_broken_findings_are_rejected(name: str) -> None:
    finding = _sample("Backdoor:EC2/C&CActivity.B")
    BREAKAGES[name](finding)
    assert problems(finding)
    with pytest.raises(InvalidFinding, match=finding.get("id", "finding")):
        validate(finding)


def test_untyped_additional_info_is_free_form() -> None:
    finding = _sample("Recon:EC2/Portscan")
    finding["service"]["additionalInfo"]["portsScannedSample"] = [22, 80, {"more": True}]
    assert problems(finding) == []
