"""Every operator, evaluated by the real percolator against one finding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opensearchpy import OpenSearch

from exporter.detections.percolate import percolate
from exporter.suppression.model import Filter
from exporter.suppression.store import ARCHIVE_ONLY

SSH = "UnauthorizedAccess:EC2/SSHBruteForce"
UPDATED = 1740913200000  # 2025-03-02T11:00:00Z, the finding's updatedAt
PORT = "service.action.networkConnectionAction.localPortDetails.port"

CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "equals-hit": ({"type": {"equals": ["Recon:EC2/Portscan", SSH]}}, True),
    "equals-miss": ({"type": {"equals": ["Recon:EC2/Portscan"]}}, False),
    "notEquals-hit": ({"type": {"notEquals": ["Recon:EC2/Portscan"]}}, True),
    "notEquals-miss": ({"type": {"notEquals": ["Recon:EC2/Portscan", SSH]}}, False),
    "greaterThan-hit": ({"severity": {"greaterThan": 1}}, True),
    "greaterThan-miss": ({"severity": {"greaterThan": 2}}, False),
    "greaterThanOrEqual-hit": ({"severity": {"greaterThanOrEqual": 2}}, True),
    "greaterThanOrEqual-miss": ({"severity": {"greaterThanOrEqual": 3}}, False),
    "lessThan-hit": ({"severity": {"lessThan": 3}}, True),
    "lessThan-miss": ({"severity": {"lessThan": 2}}, False),
    "lessThanOrEqual-hit": ({"severity": {"lessThanOrEqual": 2}}, True),
    "lessThanOrEqual-miss": ({"severity": {"lessThanOrEqual": 1}}, False),
    "eq-hit": ({PORT: {"eq": ["22"]}}, True),
    "eq-miss": ({PORT: {"eq": ["23"]}}, False),
    "neq-hit": ({PORT: {"neq": ["23"]}}, True),
    "neq-miss": ({PORT: {"neq": ["22"]}}, False),
    "gt-hit": ({"service.count": {"gt": 0}}, True),
    "gt-miss": ({"service.count": {"gt": 1}}, False),
    "gte-hit": ({"updatedAt": {"gte": UPDATED}}, True),
    "gte-miss": ({"updatedAt": {"gte": UPDATED + 1}}, False),
    "lt-hit": ({"updatedAt": {"lt": UPDATED + 1}}, True),
    "lt-miss": ({"updatedAt": {"lt": UPDATED}}, False),
    "lte-hit": ({"severity": {"lte": 2}}, True),
    "lte-miss": ({"severity": {"lte": 1}}, False),
    "matches-star": ({"type": {"matches": ["Recon:*", "Unauthorized*"]}}, True),
    "matches-question": ({"type": {"matches": ["*:EC2/SSH?ruteForce"]}}, True),
    "matches-miss": ({"type": {"matches": ["*RDP*", "SSH*"]}}, False),
    "notMatches-hit": ({"type": {"notMatches": ["*RDP*"]}}, True),
    "notMatches-miss": ({"type": {"notMatches": ["*RDP*", "*SSH*"]}}, False),
    "boolean-hit": ({"service.archived": {"equals": ["false"]}}, True),
    "boolean-miss": ({"service.archived": {"equals": ["true"]}}, False),
    "date-equals": ({"updatedAt": {"equals": [str(UPDATED)]}}, True),
    "array-of-objects": ({"resource.instanceDetails.tags.value": {"equals": ["bastion-1"]}}, True),
    "operators-anded": ({"severity": {"greaterThan": 1, "lessThan": 2}}, False),
    "attributes-anded": ({"type": {"equals": [SSH]}, "severity": {"gt": 5}}, False),
    "absent-attribute": ({"resource.s3BucketDetails.name": {"notEquals": ["b"]}}, True),
}


def test_every_operator_on_the_percolator(
    client: OpenSearch,
    filters_index: str,
    add_filter: Callable[..., Filter],
    make_finding: Callable[..., dict[str, Any]],
) -> None:
    for name, (criterion, _) in CASES.items():
        add_filter(name, criterion)
    finding = make_finding(SSH, tags=[("Name", "bastion-1")])
    matches = percolate(client, [filters_index], [finding], query_filter=ARCHIVE_ONLY)
    matched = {m.query_id for m in matches}
    assert matched == {name for name, (_, hit) in CASES.items() if hit}
