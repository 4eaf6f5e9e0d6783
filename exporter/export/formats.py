"""Pure payload shapes shared by destinations."""

from __future__ import annotations

from typing import Any

from exporter.export.destination import Delivery


def envelope(delivery: Delivery) -> dict[str, Any]:
    """A GuardDuty finding wrapped with its event id (receivers deduplicate on ``eventId``)."""
    return {"eventId": delivery.event_id, "finding": dict(delivery.finding)}


DETAIL_TYPE = "GuardDuty Finding"
DEFAULT_SOURCE = "aws.guardduty"


def guardduty_event(delivery: Delivery, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    """The EventBridge event GuardDuty emits for a finding (``id`` = the stable event id)."""
    finding = delivery.finding
    return {
        "version": "0",
        "id": delivery.event_id,
        "detail-type": DETAIL_TYPE,
        "source": source,
        "account": finding["accountId"],
        "time": _seconds(str(finding["updatedAt"])),
        "region": finding["region"],
        "resources": [finding["arn"]],
        "detail": dict(finding),
    }


def _seconds(timestamp: str) -> str:
    """``2025-03-02T11:23:40.123Z`` -> ``2025-03-02T11:23:40Z`` (EventBridge's ``time``)."""
    return timestamp.split(".", 1)[0].rstrip("Z") + "Z"
