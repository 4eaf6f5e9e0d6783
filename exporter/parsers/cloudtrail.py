"""AWS CloudTrail reader.

Reads the shapes CloudTrail is delivered in: S3 log files (``{"Records": [...]}``), one event per
line (CloudTrail Lake exports, EventBridge events whose ``detail`` is the record) and CloudWatch
Logs subscription envelopes (one per payload or one per line). Digest files yield nothing.

The JSON payload driver (:func:`iter_json`) and the CloudWatch envelope reader
(:func:`iter_log_events`) are shared with the EKS audit parser.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

from exporter.parsers.base import DeadLetter, ParseResult, Position, Record, iter_lines

Dispatch = Callable[[Any, bytes, Position], Iterator[ParseResult]]
"""Turns one decoded JSON value (with its raw bytes and position) into results."""
OnMessage = Callable[[str, Position, Mapping[str, Any]], Iterator[ParseResult]]
"""Turns one CloudWatch log event message (with its envelope) into results."""

PROBE_LINES = 3
DIGEST_PATH_MARK = "CloudTrail-Digest"
EVENTBRIDGE_SUFFIX = " via CloudTrail"

_EVENT_SOURCE = re.compile(rb'\\?"event[Ss]ource\\?"\s*:\s*\\?"[\w.-]+\.amazonaws\.com\\?"')
_EVENTBRIDGE = re.compile(rb'"detail-type"\s*:\s*"AWS [^"]* via CloudTrail"')
_DIGEST_KEYS = ("digestStartTime", "digestS3Object")


def iter_json(
    data: bytes,
    origin: str,
    dispatch: Dispatch,
    split_line: Callable[[bytes], bytes] = bytes.strip,
) -> Iterator[ParseResult]:
    """Each JSON value of a payload (one document, or one per line) handed to ``dispatch``.

    A payload that is neither one valid document nor JSON lines is one dead letter whose reason
    says where the JSON breaks. ``split_line`` picks the JSON text out of a line.
    """
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        return
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _looks_like_lines(data, split_line):
            yield from _iter_json_lines(data, origin, dispatch, split_line)
        else:
            yield DeadLetter.of(json_error(data, exc), Position(origin), data)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from dispatch(item, b"", Position(origin, index=index))
    else:
        yield from dispatch(value, data, Position(origin))


def _looks_like_lines(data: bytes, split_line: Callable[[bytes], bytes]) -> bool:
    """True when one of the first few non-blank lines is a JSON document on its own."""
    for count, (_, _, line) in enumerate(iter_lines(data)):
        if count >= PROBE_LINES:
            return False
        try:
            orjson.loads(split_line(line))
        except orjson.JSONDecodeError:
            continue
        return True
    return False


def _iter_json_lines(
    data: bytes, origin: str, dispatch: Dispatch, split_line: Callable[[bytes], bytes]
) -> Iterator[ParseResult]:
    """One JSON value per line; an unreadable line is one dead letter."""
    for number, offset, line in iter_lines(data):
        position = Position(origin, line=number, offset=offset)
        text = split_line(line)
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield DeadLetter.of(json_error(text, exc), position, line)
            continue
        yield from dispatch(value, text, position)


def json_error(data: bytes, exc: orjson.JSONDecodeError) -> str:
    """A dead-letter reason for unreadable JSON: truncated or invalid, and at which byte."""
    at = len(data.decode("utf-8", "replace")[: exc.pos].encode("utf-8"))
    if at >= len(data.rstrip()) or exc.msg.startswith("unexpected end"):
        return f"truncated JSON: document ends at byte {at} ({exc.msg})"
    return f"invalid JSON at byte {at}: {exc.msg}"


def with_index(position: Position, index: int) -> Position:
    """``position`` narrowed to entry ``index`` of an array it holds."""
    return Position(position.origin, position.line, position.offset, index)


def is_cloudwatch_envelope(value: Mapping[str, Any]) -> bool:
    """True for a CloudWatch Logs subscription envelope."""
    return "messageType" in value and "logEvents" in value


def iter_log_events(
    envelope: Mapping[str, Any], raw: bytes, position: Position, on_message: OnMessage
) -> Iterator[ParseResult]:
    """Each log event message of a DATA_MESSAGE envelope; CONTROL_MESSAGE yields nothing."""
    kind = envelope.get("messageType")
    if kind == "CONTROL_MESSAGE":
        return
    events = envelope.get("logEvents")
    if kind != "DATA_MESSAGE" or not isinstance(events, list):
        reason = f"CloudWatch Logs envelope: unexpected messageType {kind!r} or logEvents"
        yield DeadLetter.of(reason, position, raw)
        return
    for index, event in enumerate(events):
        where = with_index(position, index)
        message = event.get("message") if isinstance(event, dict) else None
        if isinstance(message, str):
            yield from on_message(message, where, envelope)
        else:
            yield DeadLetter.of("CloudWatch log event without a message", where, _dump(event))


def loads_message(message: str, position: Position) -> Any | DeadLetter:
    """A log event message as JSON, or a dead letter saying why it is not."""
    try:
        return orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        encoded = message.encode("utf-8", "replace")
        return DeadLetter.of(f"log event message: {json_error(encoded, exc)}", position, message)


def original_text(raw: bytes, value: Any) -> str:
    """The record's original text: its own raw bytes, or re-serialized when embedded."""
    return raw.decode("utf-8").strip() if raw else _dump(value)


def _dump(value: Any) -> str:
    """Compact JSON text of a decoded value."""
    return orjson.dumps(value).decode("utf-8")


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
                yield _record(value, _dump(value), where)
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
    return DeadLetter.of(reason, position, raw or _dump(value))


PARSER = CloudTrailParser()
