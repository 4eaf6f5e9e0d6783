"""SNS: the message is GuardDuty's EventBridge event; FIFO topics deduplicate on the event id."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from exporter.export.destination import Delivery
from exporter.export.destinations.sns import message
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings


def test_message_is_the_eventbridge_event() -> None:
    [found] = sample_findings(
        ["Recon:EC2/Portscan"],
        now=datetime(2025, 3, 2, tzinfo=UTC),
        detector_id="d" * 32,
        account="111122223333",
        region="eu-west-1",
    )
    finding = to_guardduty(found)
    published = message(Delivery("ev-9", finding))
    event = orjson.loads(published["Message"])
    assert event["detail-type"] == "GuardDuty Finding"
    assert event["id"] == "ev-9"
    assert event["detail"] == finding
    assert published["MessageAttributes"]["type"]["StringValue"] == "Recon:EC2/Portscan"
    assert "MessageGroupId" not in published
    fifo = message(Delivery("ev-9", finding), fifo=True)
    assert fifo["MessageDeduplicationId"] == "ev-9"
    assert fifo["MessageGroupId"] == finding["id"]
