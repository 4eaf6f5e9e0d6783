"""Index housekeeping that respects ``action.destructive_requires_name`` (no wildcard deletes)."""

from __future__ import annotations

from opensearchpy import OpenSearch

EVENT_INDICES = "duskwatch-events-*-*"
NAMES_PER_REQUEST = 40  # keeps the request line under the HTTP line limit


def delete_matching(client: OpenSearch, pattern: str) -> list[str]:
    """Delete every index matching ``pattern`` by exact name; the names deleted."""
    names = sorted(client.indices.get(index=pattern, allow_no_indices=True))
    for start in range(0, len(names), NAMES_PER_REQUEST):
        client.indices.delete(index=",".join(names[start : start + NAMES_PER_REQUEST]))
    return names
