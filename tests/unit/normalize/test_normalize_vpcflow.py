"""VPC Flow Logs -> ECS: agreement with Elastic, ECS conformance, hard fields, robustness."""

from __future__ import annotations

import contextlib
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
from exporter.normalize.vpcflow import identity, normalize
from exporter.parsers.base import DeadLetter, Position, Record
from exporter.parsers.vpcflow import KNOWN_FIELDS, PARSER

ROOT = Path(__file__).resolve().parents[3]
ELASTIC = SHARED / "data" / "elastic-integrations-aws" / "vpcflow"
PANTHER = SHARED / "data" / "panther-analysis-labelled-rule-tests"
ECS_CSV = SHARED / "reference" / "ecs" / "fields-8.17.csv"
FIELD_DOC = ROOT / "mappings" / "sources" / "vpcflow.md"
TEMPLATE = ROOT / "mappings" / "component_templates" / "duskwatch-events-vpcflow.json"
BASE = ROOT / "mappings" / "component_templates" / "duskwatch-ecs-base.json"

S3_KEY = "s3://b/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2025/03/02/x.log.gz"
HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes"
HEADER += " start end action log-status"
LINE = "2 111122223333 eni-0f1e 198.51.100.77 10.0.3.25 49822 22 6 9 540 1740913200 1740913260"

ECS_CATEGORIZATION = {
    "event.kind": {"alert", "asset", "enrichment", "event", "metric", "state", "signal"},
    "event.category": {"network"},
    "event.type": {"access", "allowed", "connection", "denied", "end", "info", "protocol", "start"},
    "event.outcome": {"failure", "success", "unknown"},
    "network.direction": {"ingress", "egress", "inbound", "outbound", "internal", "external"},
}
"""ECS 8 allowed values (network category only, as flow events use)."""

NOT_EMITTED = (
    "ecs.version",
    "tags",
    "event.ingested",
    "network.community_id",
    "source.geo",
    "source.as",
    "destination.geo",
    "destination.as",
)
"""Elastic output Duskwatch does not produce (mappings/sources/vpcflow.md, differences)."""

DIFFERENCES: dict[str, Callable[[Any, Any], bool]] = {
    # ECS 1.x network_traffic -> ECS 8 network.
    "event.category": lambda elastic, ours: ours == ["network"],
    # ECS 1.x "flow" / Elastic 8.11 ["connection"] -> connection + allowed/denied, or info.
    "event.type": lambda elastic, ours: ours[0] in ("connection", "info"),
    # ECS 1.x allow/deny -> success/failure.
    "event.outcome": lambda elastic, ours: (
        {"allow": "success", "deny": "failure"}.get(elastic, elastic) == ours
    ),
    # pkt-srcaddr/pkt-dstaddr added.
    "related.ip": lambda elastic, ours: set(elastic) <= set(ours),
}
"""Elastic field -> check that our (deliberately different) value is the documented one."""


def flatten(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf value) for every leaf; lists are leaves; empty objects vanish."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from flatten(value, f"{prefix}{key}.")
    else:
        yield prefix[:-1], doc


def documents(data: bytes, origin: str = S3_KEY) -> list[dict[str, Any]]:
    """The ECS documents of every record ``data`` holds."""
    out = []
    for result in PARSER.parse(data, origin):
        assert isinstance(result, Record), result
        out.append(normalize(result))
    return out


def one(line: str, origin: str = S3_KEY) -> dict[str, Any]:
    """The ECS document of one text line (headerless v2 unless a header is included)."""
    (doc,) = documents(line.encode(), origin)
    return doc


def record(fields: dict[str, Any], original: str = "x", origin: str = S3_KEY) -> Record:
    """A record built by hand."""
    return Record(fields=fields, position=Position(origin, line=1, offset=0), original=original)


# --- agreement with Elastic -----------------------------------------------------------------


def expected_pairs() -> Iterator[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    """(log name, index, Elastic's document, ours) for every expected output."""
    for path in sorted(ELASTIC.glob("*-expected.json")):
        log = path.with_name(path.name.removesuffix("-expected.json"))
        ours = documents(log.read_bytes(), str(log))
        expected = json.loads(path.read_text())["expected"]
        assert len(ours) == len(expected), path.name
        for index, (theirs, mine) in enumerate(zip(expected, ours, strict=True)):
            yield log.name, index, theirs, mine


@pytest.mark.parametrize(
    ("name", "index", "theirs", "ours"),
    list(expected_pairs()),
    ids=lambda value: value if isinstance(value, str | int) else "",
)
def test_agrees_with_elastic_expected_output(
    name: str, index: int, theirs: dict[str, Any], ours: dict[str, Any]
) -> None:
    mine = dict(flatten(ours))
    for path, value in flatten(theirs):
        if path.startswith(NOT_EMITTED):
            continue
        if path in DIFFERENCES:
            assert DIFFERENCES[path](value, mine.get(path)), (path, value, mine.get(path))
            continue
        assert mine.get(path) == value, (name, index, path)


# --- ECS conformance ------------------------------------------------------------------------


def ecs_types() -> dict[str, str]:
    """ECS 8.17 field -> type."""
    with ECS_CSV.open(newline="") as handle:
        return {row["Field"]: row["Type"] for row in csv.DictReader(handle)}


PYTHON_TYPES = {
    "keyword": str,
    "constant_keyword": str,
    "wildcard": str,
    "match_only_text": str,
    "ip": str,
    "date": str,
    "long": int,
    "integer": int,
}


def sample_documents() -> list[dict[str, Any]]:
    """The documents of every Elastic sample log."""
    docs = []
    for path in sorted(ELASTIC.glob("*.log")):
        docs.extend(documents(path.read_bytes(), str(path)))
    return docs


def test_every_field_outside_aws_is_ecs_with_its_type() -> None:
    types = ecs_types()
    for doc in sample_documents():
        for path, value in flatten(doc):
            if path.startswith("aws."):
                continue
            assert path in types, path
            for item in value if isinstance(value, list) else [value]:
                assert isinstance(item, PYTHON_TYPES[types[path]]), (path, item)


def test_categorization_uses_ecs_allowed_values() -> None:
    for doc in sample_documents():
        fields = dict(flatten(doc))
        for path, allowed in ECS_CATEGORIZATION.items():
            value = fields.get(path)
            values = value if isinstance(value, list) else [value] if value else []
            assert set(values) <= allowed, (path, value)
        assert fields["event.kind"] == "event"
        assert fields["event.dataset"] == "aws.vpcflow"
        assert fields["cloud.provider"] == "aws"
        assert "event.ingested" not in fields


def test_every_emitted_field_is_documented() -> None:
    documented = set(re.findall(r"`([a-z@][a-z0-9_.@]*)`", FIELD_DOC.read_text()))
    for doc in sample_documents():
        for path, _ in flatten(doc):
            assert path in documented, path


def test_component_template_adds_only_aws_vpcflow_fields() -> None:
    template = json.loads(TEMPLATE.read_text())
    properties = template["template"]["mappings"]["properties"]
    assert list(properties) == ["aws"]
    assert list(properties["aws"]["properties"]) == ["vpcflow"]
    base = json.loads(BASE.read_text())["template"]["mappings"]["properties"]
    assert "vpcflow" not in base.get("aws", {}).get("properties", {})
    mapped = properties["aws"]["properties"]["vpcflow"]["properties"]
    emitted = {
        path.removeprefix("aws.vpcflow.")
        for doc in sample_documents()
        for path, _ in flatten(doc)
        if path.startswith("aws.vpcflow.")
    }
    assert set(mapped) <= emitted
    assert {spec["type"] for spec in mapped.values()} <= {"keyword", "ip"}


# --- hard fields ----------------------------------------------------------------------------


def test_accepted_flow_event() -> None:
    doc = one(f"{LINE} ACCEPT OK")
    assert doc["@timestamp"] == "2025-03-02T11:01:00.000Z"
    assert doc["event"] == {
        "kind": "event",
        "category": ["network"],
        "type": ["connection", "allowed"],
        "action": "ACCEPT",
        "outcome": "success",
        "dataset": "aws.vpcflow",
        "start": "2025-03-02T11:00:00.000Z",
        "end": "2025-03-02T11:01:00.000Z",
        "duration": 60_000_000_000,
        "original": f"{LINE} ACCEPT OK",
    }


def test_accepted_flow_endpoints() -> None:
    doc = one(f"{LINE} ACCEPT OK")
    assert doc["source"] == {
        "address": "198.51.100.77",
        "ip": "198.51.100.77",
        "port": 49822,
        "packets": 9,
        "bytes": 540,
    }
    assert doc["destination"] == {"address": "10.0.3.25", "ip": "10.0.3.25", "port": 22}
    assert doc["network"] == {
        "iana_number": "6",
        "transport": "tcp",
        "packets": 9,
        "bytes": 540,
        "type": "ipv4",
        "direction": "inbound",
    }
    assert doc["cloud"] == {
        "provider": "aws",
        "account": {"id": "111122223333"},
        "region": "eu-west-1",
    }
    assert doc["related"] == {"ip": ["198.51.100.77", "10.0.3.25"]}
    assert doc["aws"]["vpcflow"] == {
        "version": "2",
        "account_id": "111122223333",
        "interface_id": "eni-0f1e",
        "action": "ACCEPT",
        "log_status": "OK",
    }


def test_rejected_flow() -> None:
    doc = one(f"{LINE} REJECT OK")
    assert doc["event"]["type"] == ["connection", "denied"]
    assert doc["event"]["outcome"] == "failure"
    assert doc["event"]["action"] == "REJECT"


@pytest.mark.parametrize("status", ["NODATA", "SKIPDATA"])
def test_status_records_have_no_addresses(status: str) -> None:
    doc = one(f"2 111122223333 eni-0f1e - - - - - - - 1740913200 1740913260 - {status}")
    assert doc["event"]["type"] == ["info"]
    assert doc["event"]["action"] == status
    assert "outcome" not in doc["event"]
    assert doc["aws"]["vpcflow"]["log_status"] == status
    for absent in ("source", "destination", "related", "network"):
        assert absent not in doc


@pytest.mark.parametrize(
    ("src", "dst", "direction"),
    [
        ("198.51.100.77", "10.0.3.25", "inbound"),
        ("10.0.3.25", "198.51.100.77", "outbound"),
        ("10.0.3.25", "172.16.0.9", "internal"),
        ("100.64.0.1", "192.168.1.1", "internal"),
        ("8.8.8.8", "1.1.1.1", "external"),
        ("fd00::1", "2001:db8::1", "outbound"),
    ],
)
def test_direction_is_inferred_without_flow_direction(src: str, dst: str, direction: str) -> None:
    line = f"2 111122223333 eni-1 {src} {dst} 1 2 17 1 1 1740913200 1740913260 ACCEPT OK"
    doc = one(line)
    assert doc["network"]["direction"] == direction
    assert doc["network"]["transport"] == "udp"


def test_v5_fields_and_flow_direction() -> None:
    doc = one((ELASTIC / "test-v5-all-fields.log").read_text().strip())
    assert doc["network"]["direction"] == "ingress"
    assert doc["cloud"]["region"] == "us-east-1"
    assert doc["cloud"]["availability_zone"] == "use1-az5"
    assert doc["cloud"]["instance"] == {"id": "i-0axxxxxx1ad77"}
    assert doc["aws"]["vpcflow"]["tcp_flags_array"] == ["fin"]
    assert doc["aws"]["vpcflow"]["pkt_src_service"] == "AMAZON"
    assert doc["related"]["ip"] == ["89.160.20.156", "10.200.0.0", "10.200.0.80"]
    assert "flow_direction" not in doc["aws"]["vpcflow"]


def test_v8_ecs_and_reject_reason() -> None:
    doc = one((ELASTIC / "test-v8-samples.log").read_text().strip())
    assert doc["event"]["reason"] == "BPA"
    assert doc["orchestrator"]["cluster"]["name"] == "backend-cluster"
    assert doc["service"] == {"name": "payments-service"}
    assert doc["network"]["type"] == "ipv6"
    assert doc["source"]["ip"] == "2a02:cf40::"


def test_tcp_flags_are_decoded() -> None:
    header = "version srcaddr dstaddr tcp-flags start end"
    doc = one(f"{header}\n3 10.0.0.1 10.0.0.2 19 1740913200 1740913260")
    assert doc["aws"]["vpcflow"]["tcp_flags_array"] == ["fin", "syn", "ack"]


def test_account_and_region_come_from_the_s3_key_when_missing() -> None:
    header = "srcaddr dstaddr start"
    for origin in (
        "s3://b/p/AWSLogs/444455556666/vpcflowlogs/ap-south-1/2025/03/02/f.log.gz",
        "s3://b/AWSLogs/aws-account-id=444455556666/aws-service=vpcflowlogs/aws-region=ap-south-1/f",
    ):
        doc = one(f"{header}\n10.0.0.1 10.0.0.2 1740913200", origin)
        assert doc["cloud"] == {
            "provider": "aws",
            "account": {"id": "444455556666"},
            "region": "ap-south-1",
        }
    doc = one(f"{header}\n10.0.0.1 10.0.0.2 1740913200", "/tmp/flow.log")
    assert doc["cloud"] == {"provider": "aws"}
    assert doc["@timestamp"] == "2025-03-02T11:00:00.000Z"
    assert "end" not in doc["event"]


def test_times_in_milliseconds_and_iso() -> None:
    doc = normalize(record({"start": "1740913200000", "end": "2025-03-02T11:00:30.5Z"}))
    assert doc["event"]["start"] == "2025-03-02T11:00:00.000Z"
    assert doc["@timestamp"] == "2025-03-02T11:00:30.500Z"
    assert doc["event"]["duration"] == 30_500_000_000


def test_invalid_addresses_are_not_ip_fields() -> None:
    doc = normalize(record({"srcaddr": "null", "dstaddr": "10.0.0.1", "end": "1740913260"}))
    assert doc["source"] == {"address": "null"}
    assert doc["related"] == {"ip": ["10.0.0.1"]}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"srcaddr": "10.0.0.1"}, "neither start nor end"),
        ({"end": "1", "dstport": "70000"}, "dstport: 70000 is out of range"),
        ({"end": "1", "protocol": "300"}, "protocol: 300 is out of range"),
        ({"end": "1", "bytes": "9" * 30}, "bytes"),
        ({"end": "1", "srcport": "x"}, "srcport: 'x' is not a number"),
        ({"end": "1", "tcp-flags": "syn"}, "tcp-flags: 'syn' is not a number"),
        ({"end": "yesterday"}, "end"),
        ({"end": "1", "srcaddr": 10}, "srcaddr: expected a string, got int"),
        ({"end": "9" * 25}, "end"),
    ],
)
def test_invalid_records_raise_parse_error(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParseError, match=re.escape(reason)):
        normalize(record(fields))


def test_missing_markers_in_hand_built_records_are_ignored() -> None:
    doc = normalize(record({"srcaddr": "-", "dstaddr": "", "end": "1740913260"}))
    assert "source" not in doc
    assert "destination" not in doc


def test_identity_is_none() -> None:
    assert identity(record({"end": "1"})) is None


def test_every_panther_flow_log_normalizes_or_is_rejected() -> None:
    lines = (PANTHER / "panther_rule_tests_aws_vpcflow.jsonl").read_bytes().splitlines()
    outcomes = []
    for line in lines:
        log = orjson.loads(line)["log"]
        for result in PARSER.parse(orjson.dumps(log), "panther"):
            if isinstance(result, DeadLetter):
                outcomes.append("dead letter")
                continue
            try:
                normalize(result)
                outcomes.append("document")
            except ParseError:
                outcomes.append("parse error")
    assert len(outcomes) == len(lines)
    stamped = {**orjson.loads(lines[4])["log"], "start": 1740913200, "end": 1740913260}
    (result,) = PARSER.parse(orjson.dumps(stamped), "panther")
    assert isinstance(result, Record)
    doc = normalize(result)
    assert doc["destination"]["port"] == 22
    assert doc["network"]["direction"] == "inbound"


# --- robustness -----------------------------------------------------------------------------

VALUES = st.one_of(
    st.sampled_from(["-", "", "0", "22", "6", "1740913200", "10.0.0.1", "::1", "ACCEPT", "x"]),
    st.text(max_size=12),
    st.integers(),
    st.none(),
)


@given(st.dictionaries(st.sampled_from(sorted(KNOWN_FIELDS)) | st.text(max_size=8), VALUES))
@settings(max_examples=400, deadline=None)
def test_normalize_returns_a_document_or_raises_parse_error(fields: dict[str, Any]) -> None:
    try:
        doc = normalize(record(fields))
    except ParseError:
        return
    assert isinstance(doc, dict)
    assert doc["event"]["original"] == "x"


@given(st.binary(max_size=1024))
@settings(max_examples=200, deadline=None)
def test_any_parsed_bytes_normalize_or_raise_parse_error(data: bytes) -> None:
    for result in PARSER.parse(
        b"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n" + data, "f"
    ):
        if isinstance(result, Record):
            with contextlib.suppress(ParseError):
                assert isinstance(normalize(result), dict)
