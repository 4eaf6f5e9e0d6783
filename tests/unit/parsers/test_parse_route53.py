"""Route 53 Resolver query log parser: delivery shapes, positions, dead letters, sniffing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import SHARED

from exporter.parsers.base import DeadLetter, Position, Record
from exporter.parsers.route53 import PARSER

DATA = SHARED / "data"
ELASTIC = DATA / "elastic-integrations-aws"
PANTHER = DATA / "panther-analysis-labelled-rule-tests"

QUERY: dict[str, Any] = {
    "version": "1.100000",
    "account_id": "111122223333",
    "region": "eu-west-1",
    "vpc_id": "vpc-0a1b2c3d",
    "query_timestamp": "2025-03-02T11:12:40Z",
    "query_name": "x7kq2v9d1m.example-dga.net.",
    "query_type": "A",
    "query_class": "IN",
    "rcode": "NXDOMAIN",
    "answers": [],
    "srcaddr": "10.0.3.25",
    "srcport": "53122",
    "transport": "UDP",
    "srcids": {"instance": "i-0abc1234def567890"},
}
LINE = orjson.dumps(QUERY)
FLOW_LINE = b"2 111122223333 eni-0f1e 198.51.100.77 10.0.3.25 49822 22 6 9 540 1 2 REJECT OK"
CLOUDTRAIL = b'{"Records":[{"eventVersion":"1.08","eventName":"StopLogging","eventTime":"x"}]}'
EKS_AUDIT = b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","verb":"get"}'


def results(data: bytes, origin: str = "s3://bucket/dns.log") -> list[Record | DeadLetter]:
    """Everything the parser yields for ``data``."""
    return list(PARSER.parse(data, origin))


def envelope(*messages: str, kind: str = "DATA_MESSAGE") -> bytes:
    """A CloudWatch Logs subscription envelope around ``messages``."""
    events = [{"id": str(i), "timestamp": 1, "message": text} for i, text in enumerate(messages)]
    body = {"messageType": kind, "owner": "111122223333", "logGroup": "/r53", "logEvents": events}
    return orjson.dumps(body)


def test_json_lines_become_records() -> None:
    found = results(LINE + b"\n\n" + LINE + b"\n")
    assert [type(result) for result in found] == [Record, Record]
    first, second = found
    assert isinstance(first, Record)
    assert first.fields == QUERY
    assert first.original == LINE.decode()
    assert first.position == Position("s3://bucket/dns.log", line=1, offset=0)
    assert second.position == Position("s3://bucket/dns.log", line=3, offset=len(LINE) + 2)


def test_elastic_samples_parse_without_dead_letters() -> None:
    path = ELASTIC / "route53_resolver_logs" / "test-route53.log"
    found = results(path.read_bytes(), str(path))
    assert len(found) == len(path.read_bytes().strip().splitlines())
    assert all(isinstance(result, Record) for result in found)


def test_cloudwatch_envelope_gives_one_record_per_event() -> None:
    message = LINE.decode()
    found = results(b"\n" + envelope(message, "not json", message))
    assert [type(result) for result in found] == [Record, DeadLetter, Record]
    first, bad, third = found
    assert isinstance(first, Record)
    assert first.fields == QUERY
    assert first.original == message
    assert first.position == Position("s3://bucket/dns.log", line=2, offset=1, index=0)
    assert isinstance(bad, DeadLetter)
    assert bad.reason.startswith("log event message: invalid JSON")
    assert bad.position.index == 1
    assert third.position.index == 2


def test_control_messages_hold_no_records() -> None:
    assert results(envelope("CWL CONTROL MESSAGE", kind="CONTROL_MESSAGE")) == []


def test_concatenated_envelopes_on_one_line() -> None:
    message = LINE.decode()
    found = results(envelope(message) + envelope(message, message) + b" ")
    assert [result.position.index for result in found] == [0, 0, 1]
    assert all(isinstance(result, Record) for result in found)


def test_cloudwatch_export_lines_carry_a_timestamp_prefix() -> None:
    (record,) = results(b"2025-03-02T11:12:41.000Z " + LINE)
    assert isinstance(record, Record)
    assert record.fields["query_name"] == QUERY["query_name"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "JSON value is not an object"),
        (b'{"eventName": "StopLogging"}', "not a Route 53 Resolver query log record"),
        (b'{"query": {}, "p_log_type": "OCSF.DnsActivity"}', "p_log_type 'OCSF.DnsActivity'"),
        (b'{"logEvents": {"message": "x"}}', "unexpected messageType None or logEvents"),
        (envelope().replace(b"[]", b"[{}]"), "CloudWatch log event without a message"),
        (b"\xff" + LINE, "line is not valid UTF-8"),
        (b"{}{", "invalid JSON"),
    ],
)
def test_bad_lines_are_dead_letters(data: bytes, reason: str) -> None:
    (letter,) = results(b"\n" + data)
    assert isinstance(letter, DeadLetter)
    assert reason in letter.reason
    assert letter.position.line == 2


def test_panther_p_fields_are_dropped() -> None:
    (record,) = results(orjson.dumps({**QUERY, "p_log_type": "AWS.VPCDns", "p_event_time": "x"}))
    assert isinstance(record, Record)
    assert record.fields == QUERY


def test_every_panther_dns_log_is_a_record_or_a_dead_letter() -> None:
    lines = (PANTHER / "panther_rule_tests_aws_vpcdns.jsonl").read_bytes().splitlines()
    assert len(lines) >= 8
    for line in lines:
        log = orjson.loads(line)["log"]
        (result,) = results(orjson.dumps(log))
        expected = DeadLetter if log["p_log_type"].startswith("OCSF.") else Record
        assert isinstance(result, expected)


@pytest.mark.parametrize(
    "head",
    [
        LINE,
        b"\n" + LINE + b"\n" + LINE,
        LINE[: LINE.index(b'"query_type"')],  # cut off by the head's end: keys are looked for
        envelope(LINE.decode()),
        b"2025-03-02T11:12:41.000Z " + LINE,
        orjson.dumps({"query_name": "a.", "p_log_type": "AWS.VPCDns"}),
        (ELASTIC / "route53_resolver_logs" / "test-route53.log").read_bytes(),
    ],
)
def test_sniff_accepts_query_logs(head: bytes) -> None:
    assert PARSER.sniff(head)


@pytest.mark.parametrize(
    "head",
    [
        CLOUDTRAIL,
        EKS_AUDIT,
        FLOW_LINE,
        b"version account-id interface-id srcaddr dstaddr\n" + FLOW_LINE,
        b'{"srcAddr": "1.1.1.1", "dstPort": 22}',
        b'{"query": {"hostname": "a."}, "p_log_type": "OCSF.DnsActivity"}',
        envelope("2 111122223333 eni-1 - - - - - - - 1 2 - NODATA"),
        b"",
        b"\xff\xfe",
        b"[]",
    ],
)
def test_sniff_rejects_other_data(head: bytes) -> None:
    assert not PARSER.sniff(head)


def test_sniff_rejects_the_other_shared_samples() -> None:
    for path in [
        *sorted((ELASTIC / "cloudtrail").glob("*.log")),
        *sorted((ELASTIC / "vpcflow").glob("*.log")),
        DATA / "elastic-integrations-kubernetes-audit" / "test-audit.log",
        DATA / "elastic-integrations-kubernetes-audit" / "test-kube-audit.log",
    ]:
        assert not PARSER.sniff(path.read_bytes()[:65536]), path


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["query_name", "logEvents", "message", "x"]), children)
    ),
    max_leaves=8,
)


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_only_records_and_dead_letters(data: bytes) -> None:
    for result in PARSER.parse(data, "fuzz"):
        assert isinstance(result, Record | DeadLetter)
    assert isinstance(PARSER.sniff(data), bool)


@given(st.lists(JSONISH, max_size=4))
@settings(max_examples=300, deadline=None)
def test_any_json_values_give_only_records_and_dead_letters(values: list[Any]) -> None:
    data = b"".join(orjson.dumps(value) for value in values)
    for result in PARSER.parse(data + b"\n" + envelope(*map(str, values)), "fuzz"):
        assert isinstance(result, Record | DeadLetter)
