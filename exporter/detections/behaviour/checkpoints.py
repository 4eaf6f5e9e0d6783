"""Per-detector checkpoints in ``duskwatch-state``: the end of the last window completed.

A window's findings are written before its checkpoint moves, so a crash re-runs at most the
windows after the checkpoint; their findings carry the window as occurrence id and are not
counted twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from opensearchpy import OpenSearch

from exporter.normalize.ecs import iso_timestamp
from exporter.store.state import STATE_INDEX

KIND = "detector-checkpoint"


def _id(detector: str) -> str:
    return f"{KIND}:{detector}"


def load(client: OpenSearch, detector: str) -> datetime | None:
    """The end of ``detector``'s last completed window, or None (never ran)."""
    found = client.get(index=STATE_INDEX, id=_id(detector), ignore=[404])
    if not found.get("found"):
        return None
    return datetime.fromisoformat(found["_source"]["window_end"].replace("Z", "+00:00"))


def save(client: OpenSearch, detector: str, window_end: datetime) -> None:
    """Record that ``detector`` completed every window up to ``window_end``, durably."""
    body = {
        "kind": KIND,
        "key": detector,
        "window_end": iso_timestamp(window_end),
        "updated_at": iso_timestamp(datetime.now(UTC)),
    }
    client.index(index=STATE_INDEX, id=_id(detector), body=body, refresh="wait_for")


def reset(client: OpenSearch, detector: str) -> None:
    """Forget ``detector``'s checkpoint (its next run starts from the oldest events)."""
    client.delete(index=STATE_INDEX, id=_id(detector), ignore=[404], refresh="wait_for")
