"""Durable progress in the ``duskwatch-state`` index: which S3 objects are already ingested."""

from __future__ import annotations

from datetime import UTC, datetime

from opensearchpy import OpenSearch

from exporter.normalize.ecs import iso_timestamp

STATE_INDEX = "duskwatch-state"


class ProcessedObjects:
    """S3 objects already ingested, keyed by bucket/key and ETag (a rewritten object is new)."""

    def __init__(self, client: OpenSearch) -> None:
        self._client = client

    @staticmethod
    def _id(bucket: str, key: str) -> str:
        return f"s3-object:{bucket}/{key}"[:512]

    def seen(self, bucket: str, key: str, etag: str) -> bool:
        """True when this exact version of the object was ingested before."""
        found = self._client.get(index=STATE_INDEX, id=self._id(bucket, key), ignore=[404])
        return bool(found.get("found")) and found["_source"].get("etag") == etag

    def mark(self, objects: list[tuple[str, str, str, int]]) -> None:
        """Record (bucket, key, etag, size) objects as ingested, durably."""
        if not objects:
            return
        now = iso_timestamp(datetime.now(UTC))
        lines: list[dict[str, object]] = []
        for bucket, key, etag, size in objects:
            lines.append({"index": {"_index": STATE_INDEX, "_id": self._id(bucket, key)}})
            lines.append(
                {
                    "kind": "s3-object",
                    "key": f"{bucket}/{key}",
                    "etag": etag,
                    "size": size,
                    "updated_at": now,
                }
            )
        self._client.bulk(body=lines, refresh="wait_for")
