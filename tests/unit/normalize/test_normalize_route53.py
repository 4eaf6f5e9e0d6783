"""Route 53 Resolver query logs -> ECS: agreement with Elastic, ECS conformance, hard fields."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import SHARED

from exporter.errors import ParseError
from exporter.normalize.route53 import identity, normalize
from exporter.parsers.base import DeadLetter, Position, Record
from exporter.parsers.route53 import PARSER

ROOT = Path(__file__).resolve().parents[3]
ELASTIC = SHARED / "data" / "elastic-integrations-aws" / "route53_resolver_logs"
PANTHER = SHARED / "data" / "panther-analysis-labelled-rule-tests"
ECS_CSV = SHARED / "reference" / "ecs" / "fields-8.17.csv"
FIELD_DOC = ROOT / "mappings" / "sources" / "route53.md"
TEMPLATE = ROOT / "mappings" / "component_templates" / "duskwatch-events-route53.json"

QUERY: dict[str, Any] = {
    "version": "1.100000",
    "account_id": "111122223333",
    "region": "eu-west-1",
    "vpc_id": "vpc-0a1b2c3d",
    "query_timestamp": "2025-03-02T11:12:40Z",
    "query_name": "X7kq2v9d1m.Sub.Example-DGA.co.uk.",
    "query_type": "A",
    "query_class": "IN",
    "rcode": "NOERROR",
    "answers": [
        {"Rdata": "cdn.example.net.", "Type": "CNAME", "Class": "IN"},
        {"Rdata": "203.0.113.9", "Type": "A", "Class": "IN"},
        {"Rdata": "2001:DB8::1", "Type": "AAAA", "Class": "IN"},
    ],
    "srcaddr": "10.0.3.25",
    "srcport": "53122",
    "transport": "UDP",
    "srcids": {"instance": "i-0abc1234def567890"},
}

FIREWALL = {
    "firewall_rule_action": "BLOCK",
    "firewall_rule_group_id": "rslvr-frg-1",
    "firewall_domain_list_id": "rslvr-fdl-1",
}
ENDPOINT = {"resolver_endpoint": "rslvr-in-1"}

NOT_EMITTED = (
    "agent",
    "aws.s3",
    "data_stream",
    "ecs.version",
    "elastic_agent",
    "event.agent_id_status",
    "event.ingested",
    "input",
    "log.",
    "source.geo",
    "source.as",
    "tags",
)
"""Elastic output Duskwatch does not produce (mappings/sources/route53.md, differences)."""

RENAMED = {"aws.vpc_id": "aws.route53.vpc_id", "aws.instance_id": "aws.route53.srcids.instance"}
DIFFERENCES: dict[str, Callable[[Any, Any], bool]] = {
    # DNS Firewall BLOCK/ALLOW adds denied/allowed.
    "event.type": lambda elastic, ours: ours[: len(elastic)] == elastic,
}


def flatten(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf value) for every leaf; lists are leaves."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from flatten(value, f"{prefix}{key}.")
    else:
        yield prefix[:-1], doc


def record(fields: dict[str, Any], original: str = "x") -> Record:
    """A record built by hand."""
    return Record(fields=fields, position=Position("s3://b/k", line=1, offset=0), original=original)


def documents(data: bytes) -> list[dict[str, Any]]:
    """The ECS documents of every record ``data`` holds."""
    out = []
    for result in PARSER.parse(data, "s3://b/k"):
        assert isinstance(result, Record), result
        out.append(normalize(result))
    return out


def sample_documents() -> list[dict[str, Any]]:
    """The documents of Elastic's sample log plus :data:`QUERY`."""
    docs = documents((ELASTIC / "test-route53.log").read_bytes())
    return [*docs, normalize(record(QUERY))]


# --- agreement with Elastic -----------------------------------------------------------------


def test_agrees_with_elastic_sample_event() -> None:
    theirs = json.loads((ELASTIC / "sample_event.json").read_text())
    (ours,) = documents(theirs["event"]["original"].encode())
    mine = dict(flatten(ours))
    for path, value in flatten(theirs):
        if path.startswith(NOT_EMITTED):
            continue
        if path in DIFFERENCES:
            assert DIFFERENCES[path](value, mine.get(path)), (path, value, mine.get(path))
            continue
        assert mine.get(RENAMED.get(path, path)) == value, path
    assert ours["event"]["type"] == ["protocol", "denied"]


# --- ECS conformance ------------------------------------------------------------------------

PYTHON_TYPES = {"keyword": str, "ip": str, "date": str, "long": int, "integer": int}


def test_every_field_outside_aws_and_duskwatch_is_ecs_with_its_type() -> None:
    with ECS_CSV.open(newline="") as handle:
        types = {row["Field"]: row["Type"] for row in csv.DictReader(handle)}
    for doc in sample_documents():
        for path, value in flatten(doc):
            if path.startswith(("aws.", "duskwatch.")):
                continue
            if path == "dns.answers":
                assert all(set(answer) <= {"data", "type", "class"} for answer in value)
                continue
            assert path in types, path
            for item in value if isinstance(value, list) else [value]:
                assert isinstance(item, PYTHON_TYPES[types[path]]), (path, item)


def test_categorization_uses_ecs_allowed_values() -> None:
    for doc in sample_documents():
        event = doc["event"]
        assert event["kind"] == "event"
        assert event["category"] == ["network"]
        assert set(event["type"]) <= {"protocol", "allowed", "denied"}
        assert event["outcome"] in {"success", "failure"}
        assert event["dataset"] == "aws.route53_resolver_logs"
        assert event["action"] == "dns-query"
        assert "ingested" not in event


def test_every_emitted_field_is_documented() -> None:
    documented = set(re.findall(r"`([a-z@][a-z0-9_.@]*)`", FIELD_DOC.read_text()))
    for doc in sample_documents():
        for path, value in flatten(doc):
            if path == "dns.answers":
                assert all(f"dns.answers.{key}" in documented for item in value for key in item)
                continue
            assert path in documented, path


def mapped_paths(properties: dict[str, Any], prefix: str) -> Iterator[str]:
    """Dotted paths of the typed leaves of a mapping's ``properties``."""
    for name, spec in properties.items():
        if "properties" in spec:
            yield from mapped_paths(spec["properties"], f"{prefix}{name}.")
        else:
            yield prefix + name


def test_component_template_maps_emitted_aws_route53_fields_only() -> None:
    properties = json.loads(TEMPLATE.read_text())["template"]["mappings"]["properties"]
    assert list(properties) == ["aws"]
    assert list(properties["aws"]["properties"]) == ["route53"]
    firewall = normalize(record({**QUERY, **FIREWALL, "srcids": ENDPOINT}))
    emitted = {path for doc in [*sample_documents(), firewall] for path, _ in flatten(doc)}
    assert set(mapped_paths(properties, "")) <= emitted


# --- hard fields ----------------------------------------------------------------------------


def test_full_record_dns() -> None:
    doc = normalize(record(QUERY, original="raw"))
    assert doc["@timestamp"] == "2025-03-02T11:12:40.000Z"
    assert doc["dns"] == {
        "question": {
            "name": "x7kq2v9d1m.sub.example-dga.co.uk",
            "registered_domain": "example-dga.co.uk",
            "top_level_domain": "co.uk",
            "subdomain": "x7kq2v9d1m.sub",
            "type": "A",
            "class": "IN",
        },
        "response_code": "NOERROR",
        "type": "answer",
        "answers": [
            {"data": "cdn.example.net", "type": "CNAME", "class": "IN"},
            {"data": "203.0.113.9", "type": "A", "class": "IN"},
            {"data": "2001:DB8::1", "type": "AAAA", "class": "IN"},
        ],
        "resolved_ip": ["203.0.113.9", "2001:db8::1"],
    }
    assert doc["duskwatch"] == {
        "dns": {
            "parent_domains": [
                "x7kq2v9d1m.sub.example-dga.co.uk",
                "sub.example-dga.co.uk",
                "example-dga.co.uk",
                "co.uk",
            ]
        }
    }


def test_full_record_context() -> None:
    doc = normalize(record(QUERY, original="raw"))
    assert doc["source"] == {"address": "10.0.3.25", "ip": "10.0.3.25", "port": 53122}
    assert doc["network"] == {
        "protocol": "dns",
        "transport": "udp",
        "iana_number": "17",
        "type": "ipv4",
    }
    assert doc["cloud"] == {
        "provider": "aws",
        "account": {"id": "111122223333"},
        "region": "eu-west-1",
        "instance": {"id": "i-0abc1234def567890"},
    }
    assert doc["event"] == {
        "kind": "event",
        "category": ["network"],
        "type": ["protocol"],
        "action": "dns-query",
        "dataset": "aws.route53_resolver_logs",
        "original": "raw",
        "outcome": "success",
    }
    assert doc["related"] == {
        "ip": ["10.0.3.25", "203.0.113.9", "2001:db8::1"],
        "hosts": ["x7kq2v9d1m.sub.example-dga.co.uk", "cdn.example.net"],
    }
    assert doc["aws"] == {
        "route53": {
            "version": "1.100000",
            "vpc_id": "vpc-0a1b2c3d",
            "srcids": {"instance": "i-0abc1234def567890"},
        }
    }


def test_firewall_and_resolver_endpoint() -> None:
    doc = normalize(record({**QUERY, **FIREWALL, "srcids": ENDPOINT, "rcode": "NXDOMAIN"}))
    assert doc["aws"]["route53"]["firewall"] == {
        "action": "BLOCK",
        "rule_group": {"id": "rslvr-frg-1"},
        "domain_list": {"id": "rslvr-fdl-1"},
    }
    assert doc["aws"]["route53"]["srcids"] == {"resolver_endpoint": "rslvr-in-1"}
    assert "instance" not in doc["cloud"]
    assert doc["event"]["type"] == ["protocol", "denied"]
    assert doc["event"]["outcome"] == "failure"


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("4.3.2.1.in-addr.arpa.", "1.2.3.4"),
        ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "2001:db8::1"),
        ("3.2.1.in-addr.arpa", None),
    ],
)
def test_reverse_lookups(name: str, address: str | None) -> None:
    doc = normalize(record({**QUERY, "query_name": name, "query_type": "PTR", "answers": []}))
    assert "registered_domain" not in doc["dns"]["question"]
    assert "duskwatch" not in doc
    assert doc["related"]["ip"] == (["10.0.3.25", address] if address else ["10.0.3.25"])
    assert "hosts" not in doc["related"]


@pytest.mark.parametrize(
    ("name", "question", "parents"),
    [
        ("instance-data.", {"name": "instance-data"}, []),
        (".", {"name": "."}, []),
        ("evil.com", {"registered_domain": "evil.com", "top_level_domain": "com"}, ["evil.com"]),
        ("ec2.internal.", {"name": "ec2.internal"}, ["ec2.internal"]),
    ],
)
def test_question_name_parts(name: str, question: dict[str, str], parents: list[str]) -> None:
    doc = normalize(record({**QUERY, "query_name": name}))
    assert question.items() <= doc["dns"]["question"].items()
    assert "subdomain" not in doc["dns"]["question"]
    assert doc.get("duskwatch", {}).get("dns", {}).get("parent_domains", []) == parents


def test_panther_form_with_single_answer_and_naive_time() -> None:
    lines = (PANTHER / "panther_rule_tests_aws_vpcdns.jsonl").read_bytes().splitlines()
    log = orjson.loads(lines[3])["log"]
    (result,) = PARSER.parse(orjson.dumps(log), "panther")
    assert isinstance(result, Record)
    doc = normalize(result)
    assert doc["@timestamp"] == "2022-06-25T00:27:53.000Z"
    assert doc["dns"]["question"]["registered_domain"] == "moneropool.ru"
    assert "moneropool.ru" in doc["duskwatch"]["dns"]["parent_domains"]
    assert doc["dns"]["resolved_ip"] == ["1.2.3.4"]


def test_every_panther_dns_log_normalizes_or_is_rejected() -> None:
    lines = (PANTHER / "panther_rule_tests_aws_vpcdns.jsonl").read_bytes().splitlines()
    kinds = []
    for line in lines:
        for result in PARSER.parse(orjson.dumps(orjson.loads(line)["log"]), "panther"):
            if isinstance(result, DeadLetter):
                kinds.append("dead letter")
                continue
            kinds.append(type(normalize(result)).__name__)
    assert kinds.count("dict") == 8
    assert kinds.count("dead letter") == len(lines) - 8


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"query_name": None}, "query_name is missing"),
        ({"query_name": "  "}, "query_name is missing"),
        ({"query_timestamp": None}, "query_timestamp is missing"),
        ({"query_timestamp": "soon"}, "query_timestamp"),
        ({"srcport": "http"}, "srcport: 'http' is not a port number"),
        ({"srcport": "70000"}, "srcport"),
        ({"answers": "1.2.3.4"}, "answers: expected a list"),
        ({"answers": [["1.2.3.4"]]}, "answers[0]: expected an object"),
        ({"region": {"name": "x"}}, "region: expected text"),
        ({"query_name": ["a.com"]}, "query_name: expected text"),
    ],
)
def test_invalid_records_raise_parse_error(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParseError, match=re.escape(reason)):
        normalize(record({**QUERY, **change}))


def test_identity_is_none() -> None:
    assert identity(record(QUERY)) is None


# --- robustness -----------------------------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["Rdata", "Type", "Class", "instance", "x"]), children)
    ),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from([*QUERY, *FIREWALL, "p_x"]), VALUES))
@settings(max_examples=400, deadline=None)
def test_normalize_returns_a_document_or_raises_parse_error(change: dict[str, Any]) -> None:
    try:
        doc = normalize(record({**QUERY, **change}))
    except ParseError:
        return
    assert isinstance(doc, dict)


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_query_name_normalizes_or_raises_parse_error(name: str) -> None:
    try:
        doc = normalize(record({**QUERY, "query_name": name}))
    except ParseError:
        return
    assert doc["dns"]["question"]["name"]
