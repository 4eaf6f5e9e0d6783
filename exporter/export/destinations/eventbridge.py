"""Amazon EventBridge: one ``PutEvents`` entry per finding, in GuardDuty's event shape.

GuardDuty publishes each finding as an event with ``source: aws.guardduty``, ``detail-type:
GuardDuty Finding`` and the finding JSON as ``detail``; rules written for GuardDuty match
Duskwatch's events unchanged. ``source`` can be changed (a custom ``source`` must not start
with ``aws.`` on a real bus), and ``event_bus`` names the bus (default: the account's default
bus). ``PutEvents`` takes at most 10 entries and 256 KiB per call; entries that fail are
reported by event id, retryable per AWS error code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from exporter.export import aws
from exporter.export.destination import DESTINATION_TYPES, Delivery, DestinationType
from exporter.export.formats import DEFAULT_SOURCE, guardduty_event

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
TIME_BYTES = 14
"""EventBridge counts a ``Time`` as 14 bytes when sizing an entry."""


def put_events_entry(
    delivery: Delivery, source: str = DEFAULT_SOURCE, event_bus: str | None = None
) -> dict[str, Any]:
    """The ``PutEvents`` request entry for one finding."""
    event = guardduty_event(delivery, source)
    entry: dict[str, Any] = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": orjson.dumps(event["detail"]).decode(),
        "Resources": event["resources"],
        "Time": event["time"],
    }
    if event_bus:
        entry["EventBusName"] = event_bus
    return entry


def entry_size(entry: Mapping[str, Any]) -> int:
    """An entry's size as EventBridge computes it for the 256 KiB request limit."""
    size = TIME_BYTES + sum(len(entry[k].encode()) for k in ("Source", "DetailType", "Detail"))
    return size + sum(len(r.encode()) for r in entry.get("Resources", []))


def chunks(
    entries: Sequence[tuple[str, dict[str, Any]]],
    max_entries: int = MAX_ENTRIES,
    max_bytes: int = MAX_REQUEST_BYTES,
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Split (event id, entry) pairs into requests within the count and size limits."""
    chunk: list[tuple[str, dict[str, Any]]] = []
    size = 0
    for pair in entries:
        grows = entry_size(pair[1])
        if chunk and (len(chunk) == max_entries or size + grows > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(pair)
        size += grows
    if chunk:
        yield chunk


@dataclass
class EventBridgeDestination:
    """Puts findings on an event bus."""

    name: str
    events: Any
    source: str = DEFAULT_SOURCE
    event_bus: str | None = None
    max_batch: int = MAX_ENTRIES

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """PutEvents in requests of at most 10 entries; failed entries name their event ids."""
        pairs = [(d.event_id, put_events_entry(d, self.source, self.event_bus)) for d in batch]
        failures: dict[str, str | None] = {}
        messages: dict[str, str] = {}
        for chunk in chunks(pairs):
            try:
                response = self.events.put_events(Entries=[entry for _, entry in chunk])
            except Exception as exc:  # noqa: BLE001 - boto3 raises many types; classified below
                failures.update({event_id: aws.error_code(exc) for event_id, _ in chunk})
                messages.update({event_id: str(exc)[:300] for event_id, _ in chunk})
                continue
            for (event_id, _), result in zip(chunk, response.get("Entries", []), strict=False):
                if "ErrorCode" in result:
                    failures[event_id] = result["ErrorCode"]
                    messages[event_id] = result.get("ErrorMessage", "")
        if failures:
            raise aws.item_failures("PutEvents", failures, messages)


OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **aws.AWS_OPTIONS,
        "source": {"type": "string", "minLength": 1, "default": DEFAULT_SOURCE},
        "event_bus": {"type": "string", "minLength": 1, "description": "bus name or ARN"},
    },
}


def build(name: str, options: Mapping[str, Any]) -> EventBridgeDestination:
    """An EventBridge destination from its options."""
    return EventBridgeDestination(
        name=name,
        events=aws.client("events", options),
        source=options.get("source", DEFAULT_SOURCE),
        event_bus=options.get("event_bus"),
    )


DESTINATION_TYPES.add(
    "eventbridge",
    DestinationType(
        "eventbridge",
        "Amazon EventBridge PutEvents, GuardDuty's event shape (detail-type GuardDuty Finding)",
        OPTIONS_SCHEMA,
        build,
    ),
)
