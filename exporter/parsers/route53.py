"""Route 53 Resolver query logs reader.

Accepted forms, line by line: one JSON query log record per line (as delivered to S3, plain or
gzipped; Panther's ``AWS.VPCDns`` form with ``p_*`` enrichment fields is tolerated and the
``p_*`` fields are dropped), CloudWatch Logs subscription envelopes
(``{"messageType": "DATA_MESSAGE", "logEvents": [{"message": "<json>"}, ...]}``, one record per
log event; ``CONTROL_MESSAGE`` envelopes hold none), several envelopes concatenated on one line
(as Firehose writes them), and CloudWatch Logs export lines (``<ISO timestamp> <json>``).
``Record.fields`` is the record's JSON object; ``Record.original`` its JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from exporter.parsers.base import DeadLetter, ParseResult, Position, Record, iter_lines
from exporter.parsers.jsonpayload import iter_log_events, loads_message

PANTHER_LOG_TYPE = "AWS.VPCDns"
ENVELOPE_KEY = "logEvents"
_DECODER = json.JSONDecoder()


def is_query_log(obj: Mapping[str, Any]) -> bool:
    """True for one Route 53 Resolver query log record (and not another source's record)."""
    log_type = obj.get("p_log_type")
    if log_type is not None:
        return bool(log_type == PANTHER_LOG_TYPE)
    return "query_name" in obj


def _without_timestamp_prefix(text: str) -> str:
    """A CloudWatch Logs export line ``<timestamp> <json>`` without its timestamp."""
    if text[:1].isdigit():
        rest = text.partition(" ")[2].lstrip()
        if rest.startswith("{"):
            return rest
    return text


def _json_values(text: str) -> list[tuple[Any, str]] | str:
    """Every JSON value on the line with its text, or why there is none.

    One value is the norm; concatenated values (``{...}{...}``) are split with the stdlib
    decoder, which can resume mid-string, unlike orjson.
    """
    try:
        return [(orjson.loads(text), text)]
    except orjson.JSONDecodeError as exc:
        if "}{" not in text:
            return f"invalid JSON: {exc}"
    values: list[tuple[Any, str]] = []
    end = 0
    try:
        while (start := len(text) - len(text[end:].lstrip())) < len(text):
            value, end = _DECODER.raw_decode(text, start)
            values.append((value, text[start:end]))
    except (ValueError, RecursionError) as exc:
        return f"invalid JSON: {exc}"
    return values


def _record(obj: Any, text: str, position: Position) -> ParseResult:
    """A query log record from one JSON object, or a dead letter."""
    if not isinstance(obj, dict):
        return DeadLetter.of("JSON value is not an object", position, text)
    if not is_query_log(obj):
        log_type = obj.get("p_log_type")
        suffix = f" (p_log_type {log_type!r})" if log_type is not None else ""
        reason = f"JSON object is not a Route 53 Resolver query log record{suffix}"
        return DeadLetter.of(reason, position, text)
    fields = {key: value for key, value in obj.items() if not key.startswith("p_")}
    return Record(fields, position, text)


def _message(
    message: str, position: Position, _envelope: Mapping[str, Any]
) -> Iterator[ParseResult]:
    """One CloudWatch log event message: a query log record, or a dead letter."""
    value = loads_message(message, position)
    yield value if isinstance(value, DeadLetter) else _record(value, message, position)


def _line(text: str, position: Position) -> Iterator[ParseResult]:
    values = _json_values(_without_timestamp_prefix(text))
    if isinstance(values, str):
        yield DeadLetter.of(values, position, text)
        return
    for value, value_text in values:
        if isinstance(value, dict) and ENVELOPE_KEY in value:
            yield from iter_log_events(value, value_text.encode(), position, _message)
        else:
            yield _record(value, value_text, position)


def _parse(data: bytes, origin: str) -> Iterator[ParseResult]:
    for number, offset, raw in iter_lines(data):
        position = Position(origin, number, offset)
        try:
            text = raw.decode().removeprefix("\ufeff")
        except UnicodeDecodeError:
            yield DeadLetter.of("line is not valid UTF-8", position, raw)
            continue
        if text.strip():
            yield from _line(text, position)


def _first_line(head: bytes) -> bytes:
    for line in head.removeprefix(b"\xef\xbb\xbf").split(b"\n"):
        if line.strip():
            return line.strip()
    return b""


class Route53Parser:
    """Route 53 Resolver query logs: JSON lines and CloudWatch Logs envelopes."""

    name = "route53"

    def sniff(self, head: bytes) -> bool:
        """True when the first line is a query log record or an envelope of them."""
        line = _first_line(head)
        text = _without_timestamp_prefix(line.decode("utf-8", "replace"))
        if not text.startswith("{"):
            return False
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:  # cut off by the head's end: look for the keys
            return "query_name" in text and "query_timestamp" in text
        if not isinstance(obj, dict):
            return False
        if ENVELOPE_KEY in obj:
            return "query_name" in text and "query_timestamp" in text
        return is_query_log(obj)

    def parse(self, data: bytes, origin: str) -> Iterator[ParseResult]:
        """Every query log record of a decompressed payload; bad lines become dead letters."""
        return _parse(data, origin)


PARSER = Route53Parser()
