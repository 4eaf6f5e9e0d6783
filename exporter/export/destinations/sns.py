"""Amazon SNS: each finding published as its GuardDuty EventBridge event (JSON).

Subscribers receive exactly what an EventBridge rule with an SNS target would deliver for a
GuardDuty finding. ``PublishBatch`` sends up to 10 messages per call (``batch: false`` uses
``Publish``). On a FIFO topic (``.fifo``) the message group is the finding id and the
deduplication id is the event id, so SNS drops an at-least-once retry of the same version.
Message attributes ``type``, ``severity``, ``accountId`` and ``region`` allow subscription
filter policies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from exporter.export import aws
from exporter.export.destination import DESTINATION_TYPES, Delivery, DestinationType
from exporter.export.formats import DEFAULT_SOURCE, guardduty_event

MAX_BATCH = 10


def attributes(finding: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """SNS message attributes for filter policies."""
    return {
        "type": {"DataType": "String", "StringValue": str(finding["type"])},
        "severity": {"DataType": "Number", "StringValue": str(finding["severity"])},
        "accountId": {"DataType": "String", "StringValue": str(finding["accountId"])},
        "region": {"DataType": "String", "StringValue": str(finding["region"])},
    }


def message(delivery: Delivery, source: str = DEFAULT_SOURCE, fifo: bool = False) -> dict[str, Any]:
    """The Publish arguments for one finding (``Message`` = the EventBridge event JSON)."""
    published: dict[str, Any] = {
        "Message": orjson.dumps(guardduty_event(delivery, source)).decode(),
        "Subject": f"GuardDuty Finding {delivery.finding['type']}"[:100],
        "MessageAttributes": attributes(delivery.finding),
    }
    if fifo:
        published["MessageGroupId"] = str(delivery.finding["id"])
        published["MessageDeduplicationId"] = delivery.event_id[:128]
    return published


@dataclass
class SnsDestination:
    """Publishes findings to a topic."""

    name: str
    sns: Any
    topic_arn: str
    source: str = DEFAULT_SOURCE
    batch: bool = True
    max_batch: int = MAX_BATCH

    @property
    def fifo(self) -> bool:
        """True for a FIFO topic."""
        return self.topic_arn.endswith(".fifo")

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """Publish each finding; failed entries are reported by event id."""
        failures: dict[str, str | None] = {}
        messages: dict[str, str] = {}
        publish = self._publish_batch if self.batch else self._publish_each
        for start in range(0, len(batch), MAX_BATCH):
            chunk = batch[start : start + MAX_BATCH]
            try:
                publish(chunk, failures, messages)
            except Exception as exc:  # noqa: BLE001 - boto3 raises many types; classified
                failures.update({d.event_id: aws.error_code(exc) for d in chunk})
                messages.update({d.event_id: str(exc)[:300] for d in chunk})
        if failures:
            raise aws.item_failures("Publish", failures, messages)

    def _publish_batch(
        self, chunk: Sequence[Delivery], failures: dict[str, str | None], messages: dict[str, str]
    ) -> None:
        entries = [
            {"Id": f"m{index}", **message(delivery, self.source, self.fifo)}
            for index, delivery in enumerate(chunk)
        ]
        response = self.sns.publish_batch(
            TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
        )
        for failed in response.get("Failed", []):
            delivery = chunk[int(failed["Id"][1:])]
            failures[delivery.event_id] = failed.get("Code")
            messages[delivery.event_id] = failed.get("Message", "")

    def _publish_each(
        self, chunk: Sequence[Delivery], failures: dict[str, str | None], messages: dict[str, str]
    ) -> None:
        for delivery in chunk:
            try:
                self.sns.publish(
                    TopicArn=self.topic_arn, **message(delivery, self.source, self.fifo)
                )
            except Exception as exc:  # noqa: BLE001 - boto3 raises many types; classified
                failures[delivery.event_id] = aws.error_code(exc)
                messages[delivery.event_id] = str(exc)[:300]


OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["topic_arn"],
    "properties": {
        **aws.AWS_OPTIONS,
        "topic_arn": {"type": "string", "pattern": "^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:.+$"},
        "source": {"type": "string", "minLength": 1, "default": DEFAULT_SOURCE},
        "batch": {"type": "boolean", "default": True, "description": "use PublishBatch"},
    },
}


def build(name: str, options: Mapping[str, Any]) -> SnsDestination:
    """An SNS destination from its options."""
    return SnsDestination(
        name=name,
        sns=aws.client("sns", options),
        topic_arn=options["topic_arn"],
        source=options.get("source", DEFAULT_SOURCE),
        batch=options.get("batch", True),
    )


DESTINATION_TYPES.add(
    "sns",
    DestinationType(
        "sns",
        "Amazon SNS Publish/PublishBatch of GuardDuty's EventBridge event JSON",
        OPTIONS_SCHEMA,
        build,
    ),
)
