"""AWS CloudTrail reader.

Reads the shapes CloudTrail is delivered in: S3 log files (``{"Records": [...]}``), one event per
line (CloudTrail Lake exports, EventBridge events whose ``detail`` is the record) and CloudWatch
Logs subscription envelopes (one per payload or one per line). Digest files yield nothing.

The JSON payload driver and the CloudWatch envelope reader live in
:mod:`exporter.parsers.jsonpayload`, shared with the other JSON log types.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from exporter.parsers.base import DeadLetter, ParseResult, Position, Record
from exporter.parsers.jsonpayload import (
    dump,
    is_cloudwatch_envelope,
    iter_json,
    iter_log_events,
    loads_message,
    original_text,
    with_index,
)

DIGEST_PATH_MARK = "CloudTrail-Digest"
EVENTBRIDGE_SUFFIX = " via CloudTrail"

_EVENT_SOURCE = re.compile(rb'\\?"event[Ss]ource\\?"\s*:\s*\\?"[\w.-]+\.amazonaws\.com\\?"')
_EVENTBRIDGE = re.compile(rb'"detail-type"\s*:\s*"AWS [^"]* via CloudTrail"')
_DIGEST_KEYS = ("digestStartTime", "digestS3Object")


class CloudTrailParser:
    """Reads CloudTrail log files, JSON lines and CloudWatch Logs envelopes."""

    name = "cloudtrail"

    def sniff(self, head: bytes) -> bool:
        """True for CloudTrail records (also inside envelopes) and CloudTrail digest files."""
        if _EVENT_SOURCE.search(head) or _EVENTBRIDGE.search(head):
            return True
        return all(key.encode() in head for key in _DIGEST_KEYS)

    def parse(self, data: bytes, origin: str) -> Iterator[ParseResult]:
        """Every CloudTrail record of a decompressed payload, or dead letters."""
        if DIGEST_PATH_MARK in origin:
            return iter(())
        return iter_json(data, origin, self._dispatch)

    def _dispatch(self, value: Any, raw: bytes, position: Position) -> Iterator[ParseResult]:
        """Route one JSON value: log file, digest, envelope, EventBridge event or record."""
        if not isinstance(value, dict):
            yield _not_an_object(value, raw, position)
        elif "Records" in value:
            yield from self._records(value["Records"], raw, position)
        elif all(key in value for key in _DIGEST_KEYS):
            return
        elif is_cloudwatch_envelope(value):
            yield from iter_log_events(value, raw, position, self._message)
        else:
            yield _record(value, original_text(raw, value), position)

    def _records(self, records: Any, raw: bytes, position: Position) -> Iterator[ParseResult]:
        """The entries of a log file's ``Records`` array."""
        if not isinstance(records, list):
            yield DeadLetter.of("CloudTrail log file: Records is not an array", position, raw)
            return
        for index, value in enumerate(records):
            where = with_index(position, index)
            if isinstance(value, dict):
                yield _record(value, dump(value), where)
            else:
                yield _not_an_object(value, b"", where)

    def _message(
        self, message: str, position: Position, envelope: Mapping[str, Any]
    ) -> Iterator[ParseResult]:
        """A CloudWatch log event whose message is one CloudTrail record."""
        value = loads_message(message, position)
        if isinstance(value, DeadLetter):
            yield value
        elif isinstance(value, dict):
            yield _record(value, message, position)
        else:
            yield _not_an_object(value, message.encode("utf-8", "replace"), position)


def _record(value: dict[str, Any], original: str, position: Position) -> ParseResult:
    """A record, unwrapping an EventBridge "... via CloudTrail" event to its ``detail``."""
    if "detail-type" not in value:
        return Record(fields=value, position=position, original=original)
    kind, detail = value["detail-type"], value.get("detail")
    if isinstance(kind, str) and kind.endswith(EVENTBRIDGE_SUFFIX) and isinstance(detail, dict):
        return Record(fields=detail, position=position, original=original)
    reason = f"EventBridge event of detail-type {kind!r} is not a CloudTrail event"
    return DeadLetter.of(reason, position, original)


def _not_an_object(value: Any, raw: bytes, position: Position) -> DeadLetter:
    """A dead letter for a JSON value that is not an object."""
    reason = f"expected a JSON object, got {type(value).__name__}"
    return DeadLetter.of(reason, position, raw or dump(value))


PARSER = CloudTrailParser()
