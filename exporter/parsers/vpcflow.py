"""VPC Flow Logs reader: space-separated text, JSON lines and Parquet.

Text files start with a header line naming the fields in order (the flow log's format); a
header can appear again later (concatenated files) and applies from there on. Lines before any
header are read with the AWS default layout of their field count (:data:`HEADERLESS_LAYOUTS`).
JSON lines are either ``{"message": "<flow line>"}`` or one object per record keyed by field
names in kebab-case, snake_case or Panther's camelCase; Parquet columns are snake_case. All
forms give the same canonical (kebab-case) field names with string values; ``-`` (missing) is
dropped, so ``Record.fields`` holds only the values present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from exporter.parsers.base import DeadLetter, ParseResult, Position, Record, iter_lines

V2_DEFAULT = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)  # fmt: skip
V3_FIELDS = (
    "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
)  # fmt: skip
V4_FIELDS = ("region", "az-id", "sublocation-type", "sublocation-id")
V5_FIELDS = ("pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path")
V7_FIELDS = (
    "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn",
    "ecs-container-instance-id", "ecs-container-id", "ecs-second-container-id",
    "ecs-service-name", "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id",
)  # fmt: skip
V8_FIELDS = ("reject-reason",)
ALL_V5 = V2_DEFAULT + V3_FIELDS + V4_FIELDS + V5_FIELDS
TGW_DEFAULT = (
    "version", "resource-type", "account-id", "tgw-id", "tgw-attachment-id",
    "tgw-src-vpc-account-id", "tgw-dst-vpc-account-id", "tgw-src-vpc-id", "tgw-dst-vpc-id",
    "tgw-src-subnet-id", "tgw-dst-subnet-id", "tgw-src-eni", "tgw-dst-eni", "tgw-src-az-id",
    "tgw-dst-az-id", "tgw-pair-attachment-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "log-status", "type",
    "packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired", "tcp-flags", "region", "flow-direction",
    "pkt-src-aws-service", "pkt-dst-aws-service",
)  # fmt: skip

HEADERLESS_LAYOUTS: Mapping[int, tuple[str, ...]] = {
    len(layout): layout
    for layout in (
        V2_DEFAULT,  # 14: the default format; only taken when the version token is "2"
        ALL_V5,  # 29: every v2-v5 field in AWS's documented order
        TGW_DEFAULT,  # 36: Transit Gateway flow logs, default format
        ALL_V5 + V7_FIELDS,  # 39: v2-v7 (ECS task metadata)
        ALL_V5 + V7_FIELDS + V8_FIELDS,  # 40: v2-v8 (reject-reason)
    )
}
"""Field count -> default layout, for lines that come before any header line."""

KNOWN_FIELDS = frozenset(ALL_V5 + V7_FIELDS + V8_FIELDS + TGW_DEFAULT)
INT_FIELDS = frozenset(
    {"version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end"}
    | {"tcp-flags", "traffic-path", "packets-lost-no-route", "packets-lost-blackhole"}
    | {"packets-lost-mtu-exceeded", "packets-lost-ttl-expired"}
)
"""Fields that must be decimal integers when present (a bad port is a dead letter)."""

JSON_ALIASES: Mapping[str, str] = {name.replace("-", ""): name for name in KNOWN_FIELDS} | {
    "account": "account-id",  # Panther AWS.VPCFlow
    "status": "log-status",  # Panther AWS.VPCFlow
}
"""JSON key with ``-``/``_`` removed, lowercased -> canonical field name."""

FLOW_ONLY_FIELDS = frozenset(
    {"dstaddr", "dstport", "interface-id", "log-status", "action", "packets", "bytes"}
    | {"protocol", "tcp-flags", "flow-direction", "pkt-srcaddr", "pkt-dstaddr"}
)
"""Fields a JSON object needs (one of) to be taken for a flow record, not e.g. a DNS log."""

PANTHER_LOG_TYPE = "AWS.VPCFlow"
PARQUET_MAGIC = b"PAR1"
MISSING = "-"


class _Layout:
    """A field order plus the positions of its integer fields, checked on every line."""

    __slots__ = ("int_positions", "names", "pick_ints")

    def __init__(self, names: Sequence[str], *, check_times: bool = True) -> None:
        self.names = tuple(names)
        skip = () if check_times else ("start", "end")
        self.int_positions = tuple(
            (i, name)
            for i, name in enumerate(self.names)
            if name in INT_FIELDS and name not in skip
        )
        # itemgetter gives a tuple for 2+ positions and a bare token for one: both join alike.
        positions = [i for i, _ in self.int_positions]
        self.pick_ints: Callable[[Sequence[str]], Iterable[str]] = (
            itemgetter(*positions) if positions else _no_tokens
        )

    def bad_field(self, tokens: Sequence[str]) -> str | None:
        """The reason the first non-numeric integer field is bad, or None when all are fine."""
        if "".join(self.pick_ints(tokens)).isdecimal():
            return None
        for i, name in self.int_positions:
            token = tokens[i]
            if token != MISSING and not token.isdecimal():
                return f"{name} is not a number: {token[:40]!r}"
        return None

    def fields(self, tokens: Sequence[str]) -> dict[str, str]:
        """Field name -> value for the values present."""
        if MISSING not in tokens:
            return dict(zip(self.names, tokens, strict=True))
        return {
            name: value for name, value in zip(self.names, tokens, strict=True) if value != MISSING
        }


def _no_tokens(tokens: Sequence[str]) -> Iterable[str]:
    del tokens
    return ()


_LAYOUTS: dict[tuple[str, ...], _Layout] = {}


def _layout(names: Sequence[str]) -> _Layout:
    key = tuple(names)
    found = _LAYOUTS.get(key)
    if found is None:
        found = _LAYOUTS[key] = _Layout(key)
    return found


def _is_name(token: str) -> bool:
    return token.isascii() and token[:1].isalpha() and token.replace("-", "").isalnum()


def is_header(tokens: Sequence[str]) -> bool:
    """True for a header line: field names only, starting with a known flow log field."""
    return bool(tokens) and tokens[0] in KNOWN_FIELDS and all(map(_is_name, tokens))


def headerless_layout(tokens: Sequence[str]) -> tuple[str, ...] | None:
    """The default layout for a data line seen before any header, or None."""
    layout = HEADERLESS_LAYOUTS.get(len(tokens))
    if layout is None or not tokens[0].isdecimal():
        return None
    if layout is V2_DEFAULT and tokens[0] != "2":
        return None
    return layout


def canonical_name(key: str) -> str | None:
    """The canonical field name of a JSON/Parquet key (any case, ``-`` or ``_``), or None."""
    return JSON_ALIASES.get(key.replace("_", "").replace("-", "").lower())


def is_flow_object(obj: Mapping[str, Any]) -> bool:
    """True when a JSON object looks like one flow record (and not a DNS or API log)."""
    log_type = obj.get("p_log_type")
    if log_type is not None:
        return bool(log_type == PANTHER_LOG_TYPE)
    if "query_name" in obj:
        return False
    return any(canonical_name(key) in FLOW_ONLY_FIELDS for key in obj)


def _scalar(value: Any) -> str | None:
    """A JSON/Parquet value as flow text, or None when it is not a single number or string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _TextReader:
    """Reads text lines, following header lines as they come."""

    __slots__ = ("layout",)

    def __init__(self) -> None:
        self.layout: _Layout | None = None

    def read(self, text: str, position: Position) -> ParseResult | None:
        """A record or dead letter for a data line; None for a header line."""
        tokens = text.split()
        if not tokens:
            return DeadLetter.of("line holds no fields", position, text)
        if tokens[0] in KNOWN_FIELDS and is_header(tokens):
            self.layout = _layout(tokens)
            return None
        layout = self.layout
        if layout is None:
            names = headerless_layout(tokens)
            if names is None:
                reason = f"no header line, and {len(tokens)} fields match no default layout"
                return DeadLetter.of(reason, position, text)
            layout = _layout(names)
        if len(tokens) != len(layout.names):
            reason = f"expected {len(layout.names)} fields, got {len(tokens)}"
            return DeadLetter.of(reason, position, text)
        bad = layout.bad_field(tokens)
        if bad is not None:
            return DeadLetter.of(bad, position, text)
        return Record(layout.fields(tokens), position, text)


def _json_fields(obj: Mapping[str, Any]) -> dict[str, str] | str:
    """Canonical fields of a keyed JSON flow record, or the reason it is unusable."""
    fields: dict[str, str] = {}
    for key, value in obj.items():
        if key.startswith("p_") or value is None or value in ("", MISSING):
            continue
        name = canonical_name(key)
        text = _scalar(value)
        if text is None:
            if name is not None:
                return f"{key} is not a single value"
            continue
        fields[name or key.lower().replace("_", "-")] = text
    return fields


_JSON_LAYOUT = _Layout(sorted(INT_FIELDS), check_times=False)


def _json_line(text: str, position: Position, reader: _TextReader) -> ParseResult | None:
    """A JSON line: ``{"message": "<flow line>"}`` or a keyed flow record."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return DeadLetter.of(f"invalid JSON: {exc}", position, text)
    if not isinstance(obj, dict):
        return DeadLetter.of("JSON line is not an object", position, text)
    message = obj.get("message")
    if isinstance(message, str):
        return reader.read(message, position)
    if not is_flow_object(obj):
        log_type = obj.get("p_log_type")
        suffix = f" (p_log_type {log_type!r})" if log_type is not None else ""
        return DeadLetter.of(f"JSON object is not a VPC flow record{suffix}", position, text)
    fields = _json_fields(obj)
    if isinstance(fields, str):
        return DeadLetter.of(fields, position, text)
    present = [fields.get(name, MISSING) for name in _JSON_LAYOUT.names]
    bad = _JSON_LAYOUT.bad_field(present)
    if bad is not None:
        return DeadLetter.of(bad, position, text)
    return Record(fields, position, text)


def _decoded_lines(data: bytes) -> Iterator[tuple[int, int, str | bytes]]:
    """(line number, byte offset, text) per non-blank line; undecodable lines stay bytes."""
    if not data.isascii():
        for number, offset, raw in iter_lines(data):
            try:
                decoded = raw.decode().removeprefix("\ufeff")
            except UnicodeDecodeError:
                yield number, offset, raw
                continue
            if decoded.strip():
                yield number, offset, decoded
        return
    offset = 0
    for number, line in enumerate(data.decode("ascii").split("\n"), start=1):
        text = line.rstrip("\r")
        if text and not text.isspace():
            yield number, offset, text
        offset += len(line) + 1


def _parse_lines(data: bytes, origin: str) -> Iterator[ParseResult]:
    reader = _TextReader()
    for number, offset, text in _decoded_lines(data):
        position = Position(origin, number, offset)
        if isinstance(text, bytes):
            yield DeadLetter.of("line is not valid UTF-8", position, text)
            continue
        if text[0] == "{" or (text[0].isspace() and text.lstrip()[:1] == "{"):
            result = _json_line(text, position, reader)
        else:
            result = reader.read(text, position)
        if result is not None:
            yield result


def _parquet_columns(data: bytes) -> tuple[list[str], list[list[Any]]]:
    table = pq.read_table(pa.BufferReader(data))
    return table.column_names, [column.to_pylist() for column in table.columns]


def _parse_parquet(data: bytes, origin: str) -> Iterator[ParseResult]:
    """Parquet flow logs: one record per row; ``Record.original`` is the row as a text line."""
    try:
        column_names, columns = _parquet_columns(data)
    except (pa.ArrowException, OSError, ValueError) as exc:
        yield DeadLetter.of(f"unreadable Parquet file: {exc}", Position(origin), data[:64])
        return
    names = [canonical_name(name) or name.lower().replace("_", "-") for name in column_names]
    if FLOW_ONLY_FIELDS.isdisjoint(names):
        reason = f"Parquet file has no flow log columns: {column_names[:20]}"
        yield DeadLetter.of(reason, Position(origin), data[:64])
        return
    layout = _Layout(names)
    for index, row in enumerate(zip(*columns, strict=True)):
        tokens = [_scalar(value) or MISSING for value in row]
        text = " ".join(tokens)
        position = Position(origin, index=index)
        bad = layout.bad_field(tokens)
        if bad is not None:
            yield DeadLetter.of(bad, position, text)
        else:
            yield Record(layout.fields(tokens), position, text)


def _first_line(head: bytes) -> str | None:
    for line in head.removeprefix(b"\xef\xbb\xbf").split(b"\n"):
        if line.strip():
            try:
                return line.strip().decode()
            except UnicodeDecodeError:
                return None
    return None


def _sniff_text(line: str) -> bool:
    if line.startswith("{"):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(obj, dict):
            return False
        message = obj.get("message")
        return _sniff_text(message) if isinstance(message, str) else is_flow_object(obj)
    tokens = line.split()
    return is_header(tokens) or (bool(tokens) and headerless_layout(tokens) is not None)


class VpcFlowParser:
    """VPC Flow Logs: text (with or without header), JSON lines and Parquet."""

    name = "vpcflow"

    def sniff(self, head: bytes) -> bool:
        """True for a flow header, a default-layout flow line, a flow JSON line or Parquet."""
        if head.startswith(PARQUET_MAGIC):
            # The schema sits in the footer: check it when the head holds the whole file.
            names = (b"srcaddr", b"dstaddr", b"log_status", b"interface_id")
            return not head.endswith(PARQUET_MAGIC) or any(name in head for name in names)
        line = _first_line(head)
        return line is not None and _sniff_text(line)

    def parse(self, data: bytes, origin: str) -> Iterator[ParseResult]:
        """Every flow record of a decompressed payload; bad lines become dead letters."""
        if data.startswith(PARQUET_MAGIC):
            return _parse_parquet(data, origin)
        return _parse_lines(data, origin)


PARSER = VpcFlowParser()
