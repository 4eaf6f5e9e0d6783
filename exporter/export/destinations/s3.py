"""Amazon S3: gzip JSON Lines objects laid out as GuardDuty's S3 export lays them out.

Each batch becomes one object per (account, region, day of ``updatedAt``) under
``<prefix>AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<name>.jsonl.gz``; ``<name>`` is a
hash of the batch's event ids, so a retried batch overwrites its own object instead of adding
a duplicate. ``kms_key_id`` turns on SSE-KMS (GuardDuty's export requires it; here it is
optional).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from exporter.export import aws
from exporter.export.destination import DESTINATION_TYPES, Delivery, DestinationType

MAX_BATCH = 500


def prefix_of(prefix: str) -> str:
    """A key prefix that ends with ``/`` (empty stays empty)."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def group_key(finding: Mapping[str, Any]) -> tuple[str, str, str]:
    """(account, region, ``YYYY/MM/DD`` of ``updatedAt``) of a finding."""
    day = str(finding["updatedAt"])[:10].replace("-", "/")
    return str(finding["accountId"]), str(finding["region"]), day


def object_key(prefix: str, group: tuple[str, str, str], event_ids: Sequence[str]) -> str:
    """The key of one group's object; the name is stable for the same event ids."""
    account, region, day = group
    name = hashlib.sha256("\n".join(sorted(event_ids)).encode()).hexdigest()[:32]
    return f"{prefix_of(prefix)}AWSLogs/{account}/GuardDuty/{region}/{day}/{name}.jsonl.gz"


def jsonl_gz(findings: Sequence[Mapping[str, Any]]) -> bytes:
    """Findings as gzip-compressed JSON Lines (no timestamp in the gzip header)."""
    lines = b"".join(orjson.dumps(f) + b"\n" for f in findings)
    return gzip.compress(lines, mtime=0)


def objects(prefix: str, batch: Sequence[Delivery]) -> dict[str, list[Delivery]]:
    """The objects a batch is written as: key -> its deliveries."""
    groups: dict[tuple[str, str, str], list[Delivery]] = {}
    for delivery in batch:
        groups.setdefault(group_key(delivery.finding), []).append(delivery)
    return {
        object_key(prefix, group, [d.event_id for d in members]): members
        for group, members in groups.items()
    }


@dataclass
class S3Destination:
    """Writes findings to a bucket."""

    name: str
    s3: Any
    bucket: str
    prefix: str = ""
    kms_key_id: str | None = None
    max_batch: int = MAX_BATCH

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """PutObject per (account, region, day); a failed object fails its event ids."""
        failures: dict[str, str | None] = {}
        messages: dict[str, str] = {}
        for key, members in objects(self.prefix, batch).items():
            body = jsonl_gz([d.finding for d in members])
            try:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **self._extra())
            except Exception as exc:  # noqa: BLE001 - boto3 raises many types; classified
                failures.update({d.event_id: aws.error_code(exc) for d in members})
                messages.update({d.event_id: str(exc)[:300] for d in members})
        if failures:
            raise aws.item_failures("PutObject", failures, messages)

    def _extra(self) -> dict[str, str]:
        extra = {"ContentType": "application/x-ndjson", "ContentEncoding": "gzip"}
        if self.kms_key_id:
            extra |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return extra


OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["bucket"],
    "properties": {
        **aws.AWS_OPTIONS,
        "bucket": {"type": "string", "minLength": 3, "maxLength": 63},
        "prefix": {"type": "string", "default": "", "description": "key prefix before AWSLogs/"},
        "kms_key_id": {"type": "string", "minLength": 1, "description": "KMS key for SSE-KMS"},
    },
}


def build(name: str, options: Mapping[str, Any]) -> S3Destination:
    """An S3 destination from its options."""
    return S3Destination(
        name=name,
        s3=aws.client("s3", options),
        bucket=options["bucket"],
        prefix=options.get("prefix", ""),
        kms_key_id=options.get("kms_key_id"),
    )


DESTINATION_TYPES.add(
    "s3",
    DestinationType(
        "s3",
        "Amazon S3 gzip JSON Lines under AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/",
        OPTIONS_SCHEMA,
        build,
    ),
)
