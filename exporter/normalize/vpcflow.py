"""VPC Flow Logs record -> ECS document (field list: ``mappings/sources/vpcflow.md``).

Plain fields are data (:data:`FIELD_MAP`); addresses, counters, times, protocol, direction
and the event categorization are small functions below. Every field that has no ECS home is
kept under ``aws.vpcflow.<snake_case name>``. Hot paths are cached: a flow file repeats the
same window times and addresses on many lines.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from exporter.errors import ParseError
from exporter.normalize.ecs import Doc, FieldMap, iso_timestamp, parse_timestamp
from exporter.parsers.base import Record

DATASET = "aws.vpcflow"

FIELD_MAP: FieldMap = {
    "cloud.account.id": "account-id",
    "cloud.instance.id": "instance-id",
    "cloud.region": "region",
    "cloud.availability_zone": "az-id",
    "event.reason": "reject-reason",
    "orchestrator.cluster.id": "ecs-cluster-arn",
    "orchestrator.cluster.name": "ecs-cluster-name",
    "orchestrator.resource.id": "ecs-container-instance-id",
    "orchestrator.resource.name": "ecs-container-instance-arn",
    "service.name": "ecs-service-name",
}
"""ECS path <- flow field, copied as written."""

HARD_FIELDS = frozenset(
    {"srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes"}
    | {"start", "end", "flow-direction"}
)
"""Flow fields the functions below turn into ECS."""

KEPT_UNDER_AWS = frozenset({"account-id", "instance-id"})
"""FIELD_MAP sources also kept under ``aws.vpcflow`` (as Elastic does)."""

AWS_RENAMES: Mapping[str, str] = {
    "pkt-src-aws-service": "pkt_src_service",
    "pkt-dst-aws-service": "pkt_dst_service",
}
"""Flow field -> ``aws.vpcflow`` key where Elastic's name is not the plain snake_case one."""

IANA_TRANSPORTS: Mapping[int, str] = {
    0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipv4", 6: "tcp", 8: "egp", 17: "udp", 41: "ipv6",
    47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 112: "vrrp", 132: "sctp",
}  # fmt: skip
"""IANA protocol number -> lowercase keyword (``network.transport``)."""

TCP_FLAG_BITS = ((1, "fin"), (2, "syn"), (4, "rst"), (8, "psh"), (16, "ack"), (32, "urg"))
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
"""Addresses counted as inside the VPC when ``network.direction`` is inferred."""

FLOW_DIRECTIONS: Mapping[str, str] = {"ingress": "ingress", "egress": "egress"}
ACTION_TYPES: Mapping[str, str] = {"ACCEPT": "allowed", "REJECT": "denied"}
ACTION_OUTCOMES: Mapping[str, str] = {"ACCEPT": "success", "REJECT": "failure"}
STATUS_ACTIONS = frozenset({"NODATA", "SKIPDATA"})
MISSING = "-"
MAX_PORT = 65535
MAX_LONG = 2**63 - 1
EPOCH_MS_FROM = 10**11
"""Epoch values this large are milliseconds (10**11 seconds is the year 5138)."""

IpInfo = tuple[str, int, bool]
"""(canonical address, IP version 4/6, inside :data:`INTERNAL_NETWORKS`)."""

_ECS_TARGETS = {source: tuple(target.split(".")) for target, source in FIELD_MAP.items()}
_NOT_UNDER_AWS = HARD_FIELDS | (frozenset(FIELD_MAP.values()) - KEPT_UNDER_AWS)
_PLANS_LIMIT = 1024


def _aws_key(name: str) -> str | None:
    """The ``aws.vpcflow`` key of a flow field, or None when it only goes to ECS."""
    if name in _NOT_UNDER_AWS:
        return None
    return AWS_RENAMES.get(name, name.replace("-", "_"))


def _picker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function returning the values of ``names`` (all present) as a tuple."""
    if len(names) > 1:
        return itemgetter(*names)
    return lambda fields: tuple(fields[name] for name in names)


class _Plan:
    """Where each field of one field-name set goes; flow files repeat a few such sets."""

    __slots__ = ("aws_keys", "ecs", "pick_aws")

    def __init__(self, names: Sequence[str]) -> None:
        aws = [(name, key) for name in names if (key := _aws_key(name)) is not None]
        self.aws_keys = tuple(key for _, key in aws)
        self.pick_aws = _picker([name for name, _ in aws])
        self.ecs = tuple((name, _ECS_TARGETS[name]) for name in names if name in _ECS_TARGETS)


_PLANS: dict[tuple[str, ...], _Plan] = {}


def _plan(fields: Mapping[str, Any]) -> _Plan:
    names = tuple(fields)
    plan = _PLANS.get(names)
    if plan is None:
        plan = _Plan(names)
        if len(_PLANS) < _PLANS_LIMIT:
            _PLANS[names] = plan
    return plan


def _all_present(values: Iterable[Any]) -> bool:
    """True when every value is a string other than "" and "-" (one C-speed join and scan)."""
    try:
        joined = "\0" + "\0".join(values) + "\0"
    except TypeError:
        return False
    return "\0-\0" not in joined and "\0\0" not in joined


def _spread(fields: Mapping[str, str], doc: Doc) -> dict[str, Any]:
    """Copy FIELD_MAP fields into ``doc`` and return ``aws.vpcflow``."""
    plan = _plan(fields)
    for name, keys in plan.ecs:
        node = doc
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = fields[name]
    aws = dict(zip(plan.aws_keys, plan.pick_aws(fields), strict=False))  # same length
    flags = fields.get("tcp-flags")
    if flags is not None:
        aws["tcp_flags_array"] = list(_tcp_flags(flags))
    return aws


def _present(fields: Mapping[str, Any]) -> Mapping[str, str]:
    """The fields with a value; ParseError when a value is not a string."""
    for name, value in fields.items():
        if not isinstance(value, str):
            raise ParseError(f"{name}: expected a string, got {type(value).__name__}")
    return {name: value for name, value in fields.items() if value not in ("", MISSING)}


@lru_cache(maxsize=256)
def _tcp_flags(value: str) -> tuple[str, ...]:
    """The names of the TCP flags OR-ed into ``tcp-flags`` (fin, syn, rst, psh, ack, urg)."""
    bits = _int(value, "tcp-flags", MAX_LONG)
    return tuple(name for bit, name in TCP_FLAG_BITS if bits & bit)


def _int(value: str, field: str, maximum: int) -> int:
    """A decimal field as an int in 0..maximum; ParseError otherwise."""
    try:
        number = int(value)
    except ValueError:
        raise ParseError(f"{field}: {value[:40]!r} is not a number") from None
    if not 0 <= number <= maximum:
        raise ParseError(f"{field}: {number} is out of range")
    return number


@lru_cache(maxsize=65536)
def _ip_info(value: str) -> IpInfo | None:
    """The address facts of ``value``, or None when it is not an IP address."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    internal = any(address in network for network in INTERNAL_NETWORKS)
    return str(address), address.version, internal


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@lru_cache(maxsize=8192)
def _epoch_instant(value: str, field: str) -> tuple[str, int]:
    """(ISO timestamp, epoch nanoseconds) of a decimal epoch in seconds (or milliseconds)."""
    number = _int(value, field, MAX_LONG)
    nanos = number * 1_000_000 if number >= EPOCH_MS_FROM else number * 1_000_000_000
    try:
        moment = _EPOCH + timedelta(microseconds=nanos // 1000)
    except OverflowError:
        raise ParseError(f"{field}: epoch {value[:40]!r} is out of range") from None
    return iso_timestamp(moment), nanos


def _instant(value: str | None, field: str) -> tuple[str, int] | None:
    """(ISO timestamp, epoch nanoseconds) of an epoch or ISO 8601 time, or None when absent."""
    if value is None:
        return None
    if value.isdecimal():
        return _epoch_instant(value, field)
    try:
        iso = parse_timestamp(value, field)
    except OverflowError:
        raise ParseError(f"{field}: {value[:40]!r} is out of range") from None
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return iso, (moment - _EPOCH) // _MICROSECOND * 1000


def _times(fields: Mapping[str, str], event: Doc) -> str:
    """Fill event.start/end/duration; return ``@timestamp`` (the window end, else its start)."""
    start = _instant(fields.get("start"), "start")
    end = _instant(fields.get("end"), "end")
    if start is not None:
        event["start"] = start[0]
    if end is not None:
        event["end"] = end[0]
        if start is not None and end[1] >= start[1]:
            event["duration"] = end[1] - start[1]
        return end[0]
    if start is None:
        raise ParseError("flow record has neither start nor end time")
    return start[0]


def _endpoint(fields: Mapping[str, str], prefix: str) -> tuple[Doc, IpInfo | None]:
    """``source``/``destination`` from ``<prefix>addr``/``<prefix>port``, and the address info."""
    side: Doc = {}
    info = None
    address = fields.get(prefix + "addr")
    if address is not None:
        side["address"] = address
        info = _ip_info(address)
        if info is not None:
            side["ip"] = info[0]
    port = fields.get(prefix + "port")
    if port is not None:
        side["port"] = _int(port, prefix + "port", MAX_PORT)
    return side, info


def _direction(fields: Mapping[str, str], src: IpInfo | None, dst: IpInfo | None) -> str | None:
    """flow-direction (ingress/egress) when logged, else inferred from the address ranges."""
    logged = fields.get("flow-direction")
    if logged is not None:
        return FLOW_DIRECTIONS.get(logged)
    if src is None or dst is None:
        return None
    if src[2]:
        return "internal" if dst[2] else "outbound"
    return "inbound" if dst[2] else "external"


def _network(fields: Mapping[str, str], source: Doc, src: IpInfo | None, dst: IpInfo | None) -> Doc:
    """``network.*``; the packet and byte counters also go to ``source.*`` (flows are one-way)."""
    network: Doc = {}
    protocol = fields.get("protocol")
    if protocol is not None:
        number = _int(protocol, "protocol", 255)
        network["iana_number"] = str(number)
        transport = IANA_TRANSPORTS.get(number)
        if transport is not None:
            network["transport"] = transport
    for counter in ("packets", "bytes"):
        value = fields.get(counter)
        if value is not None:
            network[counter] = source[counter] = _int(value, counter, MAX_LONG)
    known = src or dst
    if known is not None:
        network["type"] = "ipv4" if known[1] == 4 else "ipv6"
    direction = _direction(fields, src, dst)
    if direction is not None:
        network["direction"] = direction
    return network


def _event(fields: Mapping[str, str], has_addresses: bool) -> Doc:
    """kind/category/type/action/outcome: ACCEPT/REJECT flows, or NODATA/SKIPDATA status records."""
    action = fields.get("action")
    kinds = ["connection"] if has_addresses else ["info"]
    event: Doc = {"kind": "event", "category": ["network"], "type": kinds, "dataset": DATASET}
    if action is not None:
        event["action"] = action
        if action in ACTION_TYPES:
            kinds.append(ACTION_TYPES[action])
            event["outcome"] = ACTION_OUTCOMES[action]
    elif fields.get("log-status") in STATUS_ACTIONS:
        event["action"] = fields["log-status"]
    return event


@lru_cache(maxsize=256)
def _origin_scope(origin: str) -> tuple[str | None, str | None]:
    """(account, region) from an S3 key ``AWSLogs/<account>/vpcflowlogs/<region>/...``."""
    parts = [part.split("=", 1)[-1] for part in origin.split("/")]
    if "vpcflowlogs" not in parts:
        return None, None
    at = parts.index("vpcflowlogs")
    account = parts[at - 1] if at > 0 and parts[at - 1].isdecimal() else None
    region = parts[at + 1] if at + 1 < len(parts) and "-" in parts[at + 1] else None
    return account, region


def _fill_scope(cloud: Doc, origin: str) -> None:
    """Account and region from the S3 key when the record does not carry them."""
    if "account" in cloud and "region" in cloud:
        return
    account, region = _origin_scope(origin)
    if account is not None and "account" not in cloud:
        cloud["account"] = {"id": account}
    if region is not None:
        cloud.setdefault("region", region)


def normalize(record: Record) -> dict[str, Any]:
    """The ECS document of one flow record (without ``event.ingested``)."""
    fields = record.fields
    if not _all_present(fields.values()):
        fields = _present(fields)
    doc: Doc = {"cloud": {"provider": "aws"}}
    aws = _spread(fields, doc)
    source, src = _endpoint(fields, "src")
    destination, dst = _endpoint(fields, "dst")
    event = _event(fields, src is not None or dst is not None)
    doc["@timestamp"] = _times(fields, event)
    event["original"] = record.original
    doc["event"] = event if "event" not in doc else doc["event"] | event
    network = _network(fields, source, src, dst)
    for key, part in (("source", source), ("destination", destination), ("network", network)):
        if part:
            doc[key] = part
    _fill_scope(doc["cloud"], record.position.origin)
    related = _related_ips(fields, src, dst)
    if related:
        doc["related"] = {"ip": related}
    doc["aws"] = {"vpcflow": aws}
    return doc


def _related_ips(fields: Mapping[str, str], src: IpInfo | None, dst: IpInfo | None) -> list[str]:
    """Every distinct valid address of the flow: srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr."""
    infos = [src, dst]
    for name in ("pkt-srcaddr", "pkt-dstaddr"):
        value = fields.get(name)
        if value is not None:
            infos.append(_ip_info(value))
    ips: list[str] = []
    for info in infos:
        if info is not None and info[0] not in ips:
            ips.append(info[0])
    return ips


def identity(record: Record) -> str | None:
    """Flow records carry no id: the caller hashes the record and its origin."""
    del record
    return None
