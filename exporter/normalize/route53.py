"""Route 53 Resolver query log record -> ECS document (field list: ``mappings/sources/route53.md``).

Plain fields are data (:data:`FIELD_MAP`); the query name (registered domain, parents, reverse
lookups), answers, source address and the event categorization are small functions below.
Name and timestamp work is cached: resolvers repeat the same names within the same seconds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from exporter.errors import ParseError
from exporter.normalize.ecs import (
    Doc,
    FieldMap,
    parent_domains,
    parse_timestamp,
    registered_domain,
    unique,
)
from exporter.parsers.base import Record

DATASET = "aws.route53_resolver_logs"

FIELD_MAP: FieldMap = {
    "cloud.account.id": "account_id",
    "cloud.region": "region",
    "cloud.instance.id": "srcids.instance",
    "dns.question.class": "query_class",
    "dns.question.type": "query_type",
    "dns.response_code": "rcode",
    "aws.route53.version": "version",
    "aws.route53.vpc_id": "vpc_id",
    "aws.route53.srcids.instance": "srcids.instance",
    "aws.route53.srcids.resolver_endpoint": "srcids.resolver_endpoint",
    "aws.route53.firewall.action": "firewall_rule_action",
    "aws.route53.firewall.rule_group.id": "firewall_rule_group_id",
    "aws.route53.firewall.domain_list.id": "firewall_domain_list_id",
}
"""ECS path <- query log field (dotted for nested), copied as text."""

TRANSPORT_NUMBERS: Mapping[str, str] = {"tcp": "6", "udp": "17"}
FIREWALL_TYPES: Mapping[str, str] = {"BLOCK": "denied", "ALLOW": "allowed"}
ADDRESS_TYPES = frozenset({"A", "AAAA"})
HOST_TYPES = frozenset({"CNAME", "PTR"})
REVERSE_SUFFIXES = (".in-addr.arpa", ".ip6.arpa")
EVENT_ACTION = "dns-query"
MAX_PORT = 65535

_COMPILED_MAP = tuple(
    (tuple(target.split(".")), tuple(source.split(".")), source)
    for target, source in FIELD_MAP.items()
)


def _text(value: Any, field: str) -> str | None:
    """A scalar field as text (None when absent); ParseError for objects and lists."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ParseError(f"{field}: expected text, got {type(value).__name__}")


@lru_cache(maxsize=4096)
def _timestamp(value: str) -> str:
    try:
        return parse_timestamp(value, "query_timestamp")
    except OverflowError:
        raise ParseError(f"query_timestamp: {value[:40]!r} is out of range") from None


@lru_cache(maxsize=16384)
def _name_parts(name: str) -> tuple[str | None, tuple[str, ...]]:
    """(registered domain, parent domains) of a query name; reverse lookups get neither."""
    if name.endswith(REVERSE_SUFFIXES):
        return None, ()
    try:
        domain = registered_domain(name)
    except ValueError:  # a label the IDNA codec rejects
        domain = None
    return domain, tuple(parent_domains(name))


def _question(name: str) -> Doc:
    """``dns.question`` name parts: registered domain, its suffix and the subdomain."""
    question: Doc = {"name": name}
    domain = _name_parts(name)[0]
    if domain is not None:
        question["registered_domain"] = domain
        question["top_level_domain"] = domain.partition(".")[2]
        if name.endswith("." + domain):
            question["subdomain"] = name[: -len(domain) - 1]
    return question


def _reverse_ip(name: str) -> str | None:
    """The address a PTR query name (``4.3.2.1.in-addr.arpa``, ``...ip6.arpa``) asks about."""
    labels = name.split(".")
    if name.endswith(".in-addr.arpa") and len(labels) == 6:
        candidate = ".".join(reversed(labels[:4]))
    elif name.endswith(".ip6.arpa") and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        candidate = ":".join(nibbles[i : i + 4] for i in range(0, 32, 4))
    else:
        return None
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _copy_mapped(doc: Doc, fields: Mapping[str, Any]) -> None:
    """Copy every FIELD_MAP field present (as text) into ``doc``."""
    for target, keys, source in _COMPILED_MAP:
        value = fields.get(keys[0])
        for key in keys[1:]:
            value = value.get(key) if isinstance(value, dict) else None
        text = _text(value, source)
        if text:
            node = doc
            for key in target[:-1]:
                node = node.setdefault(key, {})
            node[target[-1]] = text


@lru_cache(maxsize=16384)
def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _answers(value: Any) -> tuple[list[Doc], list[str], list[str]]:
    """``dns.answers``, the addresses of A/AAAA answers and the names of CNAME/PTR answers."""
    items = [value] if isinstance(value, dict) else value
    if items is None:
        return [], [], []
    if not isinstance(items, list):
        raise ParseError(f"answers: expected a list, got {type(items).__name__}")
    answers: list[Doc] = []
    addresses: list[str] = []
    hosts: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParseError(f"answers[{index}]: expected an object, got {type(item).__name__}")
        data = _text(item.get("Rdata"), "answers.Rdata")
        kind = _text(item.get("Type"), "answers.Type")
        if data and data != ".":
            data = data.rstrip(".")
        klass = _text(item.get("Class"), "answers.Class")
        answer = {
            key: text for key, text in (("data", data), ("type", kind), ("class", klass)) if text
        }
        if answer:
            answers.append(answer)
        address = _ip(data) if kind in ADDRESS_TYPES else None
        if address is not None:
            addresses.append(address)
        elif kind in HOST_TYPES and data:
            hosts.append(data)
    return answers, addresses, hosts


def _source(fields: Mapping[str, Any]) -> Doc:
    """``source.address``/``ip``/``port`` of the querying client."""
    source: Doc = {}
    address = _text(fields.get("srcaddr"), "srcaddr")
    if address:
        source["address"] = address
        ip = _ip(address)
        if ip is not None:
            source["ip"] = ip
    port = _text(fields.get("srcport"), "srcport")
    if port:
        if not port.isdecimal() or int(port) > MAX_PORT:
            raise ParseError(f"srcport: {port[:40]!r} is not a port number")
        source["port"] = int(port)
    return source


def _network(fields: Mapping[str, Any], source_ip: str | None) -> Doc:
    """``network.*``: dns over the logged transport."""
    network: Doc = {"protocol": "dns"}
    transport = _text(fields.get("transport"), "transport")
    if transport:
        network["transport"] = transport.lower()
        number = TRANSPORT_NUMBERS.get(network["transport"])
        if number is not None:
            network["iana_number"] = number
    if source_ip is not None:
        network["type"] = "ipv6" if ":" in source_ip else "ipv4"
    return network


def _event(fields: Mapping[str, Any], original: str) -> Doc:
    """kind/category/type/action/outcome: outcome from the response code, type from DNS Firewall."""
    types = ["protocol"]
    firewall = fields.get("firewall_rule_action")
    if isinstance(firewall, str) and firewall in FIREWALL_TYPES:
        types.append(FIREWALL_TYPES[firewall])
    event: Doc = {"kind": "event", "category": ["network"], "type": types}
    event.update(action=EVENT_ACTION, dataset=DATASET, original=original)
    rcode = _text(fields.get("rcode"), "rcode")
    if rcode:
        event["outcome"] = "success" if rcode == "NOERROR" else "failure"
    return event


def _query_name(fields: Mapping[str, Any]) -> str:
    """The query name without its trailing dot, lowercased; ParseError when missing."""
    value = _text(fields.get("query_name"), "query_name")
    if not value or not value.strip():
        raise ParseError("query_name is missing")
    return value.strip().rstrip(".").lower() or "."


def _when(fields: Mapping[str, Any]) -> str:
    value = _text(fields.get("query_timestamp"), "query_timestamp")
    if not value:
        raise ParseError("query_timestamp is missing")
    return _timestamp(value)


def _related(doc: Doc, ips: Iterable[str | None], hosts: Iterable[str]) -> None:
    related = {"ip": unique(ips), "hosts": unique(hosts)}
    related = {key: values for key, values in related.items() if values}
    if related:
        doc["related"] = related


def normalize(record: Record) -> dict[str, Any]:
    """The ECS document of one query log record (without ``event.ingested``)."""
    fields = record.fields
    name = _query_name(fields)
    doc: Doc = {"@timestamp": _when(fields), "cloud": {"provider": "aws"}}
    _copy_mapped(doc, fields)
    dns = doc.setdefault("dns", {})
    dns["question"] = _question(name) | dns.get("question", {})
    dns["type"] = "answer"
    answers, addresses, hosts = _answers(fields.get("answers"))
    if answers:
        dns["answers"] = answers
    if addresses:
        dns["resolved_ip"] = unique(addresses)
    source = _source(fields)
    if source:
        doc["source"] = source
    doc["network"] = _network(fields, source.get("ip"))
    doc["event"] = _event(fields, record.original)
    parents = _name_parts(name)[1]
    if parents:
        doc["duskwatch"] = {"dns": {"parent_domains": list(parents)}}
    names = hosts if name.endswith(REVERSE_SUFFIXES) else [name, *hosts]
    _related(doc, [source.get("ip"), *addresses, _reverse_ip(name)], names)
    return doc


def identity(record: Record) -> str | None:
    """Query log records carry no id: the caller hashes the record and its origin."""
    del record
    return None
