"""JSON payloads shared by the JSON log types: one document, an array, or one value per line,
and CloudWatch Logs subscription envelopes. Pure: bytes in, records or dead letters out.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

from exporter.parsers.base import DeadLetter, ParseResult, Position, iter_lines

Dispatch = Callable[[Any, bytes, Position], Iterator[ParseResult]]
"""Turns one decoded JSON value (with its raw bytes and position) into results."""
OnMessage = Callable[[str, Position, Mapping[str, Any]], Iterator[ParseResult]]
"""Turns one CloudWatch log event message (with its envelope) into results."""

PROBE_LINES = 3


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
            yield DeadLetter.of("CloudWatch log event without a message", where, dump(event))


def loads_message(message: str, position: Position) -> Any | DeadLetter:
    """A log event message as JSON, or a dead letter saying why it is not."""
    try:
        return orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        encoded = message.encode("utf-8", "replace")
        return DeadLetter.of(f"log event message: {json_error(encoded, exc)}", position, message)


def original_text(raw: bytes, value: Any) -> str:
    """The record's original text: its own raw bytes, or re-serialized when embedded."""
    return raw.decode("utf-8").strip() if raw else dump(value)


def dump(value: Any) -> str:
    """Compact JSON text of a decoded value."""
    return orjson.dumps(value).decode("utf-8")
