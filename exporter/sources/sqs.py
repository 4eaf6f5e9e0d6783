"""S3 event notifications from SQS: long polling, delete only after the objects are indexed.

A message may carry an S3 event directly or wrapped by SNS. While a big object is read the
message's visibility is extended. A message that keeps failing (received ``max_receives``
times) is a poison message: it goes to the dead letters with the error and is deleted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from exporter.ingest.pipeline import Ingestor
from exporter.parsers.base import DeadLetter, Position
from exporter.sources.s3 import S3Object, fetch

log = logging.getLogger(__name__)

WAIT_SECONDS = 20
VISIBILITY_SECONDS = 300
BIG_OBJECT_BYTES = 64 * 1024 * 1024


@dataclass
class QueueStats:
    """What a queue run did."""

    messages: int = 0
    objects: int = 0
    poison: int = 0
    ignored: int = 0
    errors: list[str] = field(default_factory=list)


def s3_objects(body: str) -> list[S3Object]:
    """The objects an S3 event notification (raw or SNS-wrapped) names; [] for test events."""
    message = json.loads(body)
    if message.get("Type") == "Notification" and "Message" in message:
        message = json.loads(message["Message"])
    if message.get("Event") == "s3:TestEvent":
        return []
    objects = []
    for record in message.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        objects.append(
            S3Object(
                s3["bucket"]["name"],
                unquote_plus(s3["object"]["key"]),
                s3["object"].get("eTag", ""),
                int(s3["object"].get("size", 0)),
            )
        )
    return objects


def consume(
    sqs: Any,
    s3: Any,
    ingestor: Ingestor,
    queue_url: str,
    *,
    follow: bool = False,
    log_type: str | None = None,
    max_receives: int = 5,
    wait_seconds: int = WAIT_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
) -> QueueStats:
    """Process messages until the queue is empty (or forever with ``follow``)."""
    stats = QueueStats()
    while not should_stop():
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=VISIBILITY_SECONDS,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if not messages and not follow:
            break
        for message in messages:
            _handle(sqs, s3, ingestor, queue_url, message, log_type, max_receives, stats)
    return stats


def _handle(
    sqs: Any,
    s3: Any,
    ingestor: Ingestor,
    queue_url: str,
    message: dict[str, Any],
    log_type: str | None,
    max_receives: int,
    stats: QueueStats,
) -> None:
    stats.messages += 1
    receipt = message["ReceiptHandle"]
    try:
        objects = s3_objects(message["Body"])
        for obj in objects:
            if obj.size > BIG_OBJECT_BYTES:
                sqs.change_message_visibility(
                    QueueUrl=queue_url,
                    ReceiptHandle=receipt,
                    VisibilityTimeout=VISIBILITY_SECONDS * 4,
                )
            ingestor.ingest(obj.url, fetch(s3, obj), log_type)
        ingestor.flush()
        stats.objects += len(objects)
        stats.ignored += not objects
    except Exception as exc:  # noqa: BLE001 - any failure: retried, then parked as poison
        _failed(sqs, ingestor, queue_url, message, exc, max_receives, stats)
        return
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)


def _failed(
    sqs: Any,
    ingestor: Ingestor,
    queue_url: str,
    message: dict[str, Any],
    exc: BaseException,
    max_receives: int,
    stats: QueueStats,
) -> None:
    received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
    reason = f"SQS message {message.get('MessageId')}: {type(exc).__name__}: {exc}"
    stats.errors.append(reason)
    log.warning("message failed", extra={"reason": reason, "received": received})
    if received < max_receives:
        return  # becomes visible again after the visibility timeout
    ingestor.dead_letter(
        "sqs",
        DeadLetter.of(
            f"poison message after {received} receives: {reason}",
            Position(queue_url),
            message["Body"],
        ),
    )
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    stats.poison += 1
