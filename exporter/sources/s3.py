"""S3 buckets: list a prefix, fetch each new object, remember it once it is indexed.

Progress lives in OpenSearch (``duskwatch-state``), so a restart resumes where it stopped:
an object is marked only after its documents are written, and an object ingested twice by a
crash in between is deduplicated by the document ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from exporter.errors import DuskwatchError
from exporter.ingest.pipeline import Ingestor
from exporter.store.state import ProcessedObjects

MARK_EVERY = 20


@dataclass(frozen=True)
class S3Object:
    """One object to ingest."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def url(self) -> str:
        """``s3://bucket/key``: the origin recorded with every document."""
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise DuskwatchError(f"{url!r} is not an s3://bucket/prefix URL")
    return parsed.netloc, parsed.path.lstrip("/")


def list_objects(s3: Any, bucket: str, prefix: str) -> Iterator[S3Object]:
    """Every object under the prefix, in key order."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):
                yield S3Object(bucket, item["Key"], item["ETag"].strip('"'), item["Size"])


def fetch(s3: Any, obj: S3Object) -> bytes:
    """The object's bytes."""
    body: bytes = s3.get_object(Bucket=obj.bucket, Key=obj.key)["Body"].read()
    return body


def ingest_prefix(
    s3: Any, state: ProcessedObjects, ingestor: Ingestor, url: str, log_type: str | None = None
) -> tuple[int, int]:
    """Ingest every new object under ``url``; (ingested, skipped as already done)."""
    bucket, prefix = parse_s3_url(url)
    done: list[S3Object] = []
    ingested = skipped = 0
    for obj in list_objects(s3, bucket, prefix):
        if state.seen(obj.bucket, obj.key, obj.etag):
            skipped += 1
            continue
        ingestor.ingest(obj.url, fetch(s3, obj), log_type)
        done.append(obj)
        ingested += 1
        if len(done) >= MARK_EVERY:
            _mark(ingestor, state, done)
    _mark(ingestor, state, done)
    return ingested, skipped


def _mark(ingestor: Ingestor, state: ProcessedObjects, done: list[S3Object]) -> None:
    ingestor.flush()
    state.mark([(o.bucket, o.key, o.etag, o.size) for o in done])
    done.clear()
