"""CloudTrail parser: delivery shapes, positions, dead letters, sniffing, robustness."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import SHARED

from exporter.parsers.base import DeadLetter, Position, Record, decompress
from exporter.parsers.cloudtrail import PARSER

DATA = SHARED / "data"
ELASTIC = DATA / "elastic-integrations-aws" / "cloudtrail"
PANTHER = DATA / "panther-analysis-labelled-rule-tests"
SCENARIO = PANTHER / "compromised-root-creds-scenario"

EVENT: dict[str, Any] = {
    "eventVersion": "1.08",
    "eventTime": "2025-03-02T11:04:17Z",
    "eventSource": "cloudtrail.amazonaws.com",
    "eventName": "StopLogging",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "203.0.113.45",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ci-bot"},
    "eventID": "0f6f2d8e-0000-4000-8000-000000000001",
}
VPC_FLOW_HEADER = (
    b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets"
)
VPC_FLOW_LINE = (
    b"2 111122223333 eni-0f1e2d3c 198.51.100.77 10.0.3.25 49822 22 6 9 540 1 2 REJECT OK"
)
ROUTE53_LINE = (
    b'{"version":"1.100000","account_id":"111122223333","region":"eu-west-1",'
    b'"query_timestamp":"2025-03-02T11:12:40Z","query_name":"x.example.net.","query_type":"A",'
    b'"rcode":"NXDOMAIN","srcaddr":"10.0.3.25"}'
)
EKS_LINE = (
    b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1",'
    b'"stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/pods"}'
)
S3_NOTIFICATION = (
    b'{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",'
    b'"eventTime":"2025-03-02T11:12:40Z","s3":{"bucket":{"name":"b"}}}]}'
)


def results(data: bytes, origin: str = "s3://bucket/key.json") -> list[Record | DeadLetter]:
    """Everything the parser yields for ``data``."""
    return list(PARSER.parse(data, origin))


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return orjson.dumps(value)


def envelope(*messages: str, kind: str = "DATA_MESSAGE") -> dict[str, Any]:
    """A CloudWatch Logs subscription envelope holding ``messages``."""
    events = [{"id": str(i), "timestamp": 1, "message": text} for i, text in enumerate(messages)]
    return {
        "messageType": kind,
        "owner": "111122223333",
        "logGroup": "aws-cloudtrail-logs",
        "logStream": "111122223333_CloudTrail_eu-west-1",
        "subscriptionFilters": ["all"],
        "logEvents": events,
    }


def test_s3_log_file_gives_one_record_per_entry_with_its_index() -> None:
    second = {**EVENT, "eventID": "second"}
    out = results(dumps({"Records": [EVENT, second]}))
    assert all(isinstance(r, Record) for r in out)
    assert [r.fields["eventID"] for r in out if isinstance(r, Record)] == [
        EVENT["eventID"],
        "second",
    ]
    assert out[1].position == Position("s3://bucket/key.json", index=1)
    assert isinstance(out[0], Record)
    assert orjson.loads(out[0].original) == EVENT


def test_s3_log_file_entry_that_is_not_an_object_is_a_dead_letter_at_its_index() -> None:
    out = results(dumps({"Records": [EVENT, "oops", EVENT]}))
    assert [type(r) for r in out] == [Record, DeadLetter, Record]
    assert isinstance(out[1], DeadLetter)
    assert out[1].position.index == 1
    assert "expected a JSON object" in out[1].reason


def test_records_that_is_not_an_array_is_one_dead_letter() -> None:
    out = results(dumps({"Records": {"a": 1}}))
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)
    assert "Records is not an array" in out[0].reason


def test_truncated_log_file_is_one_dead_letter_saying_where() -> None:
    data = dumps({"Records": [EVENT, EVENT, EVENT]})
    out = results(data[:300])
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)
    assert out[0].reason.startswith("truncated JSON")
    assert "byte 300" in out[0].reason
    assert out[0].position == Position("s3://bucket/key.json")


def test_truncated_pretty_printed_log_file_is_one_dead_letter() -> None:
    data = orjson.dumps({"Records": [EVENT, EVENT]}, option=orjson.OPT_INDENT_2)
    out = results(data[: len(data) // 2])
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)
    assert "truncated JSON" in out[0].reason


def test_invalid_json_reason_names_the_byte() -> None:
    out = results(b'{"Records": [} ')
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)
    assert out[0].reason.startswith("invalid JSON at byte 13")


def test_json_lines_keep_going_after_a_bad_line() -> None:
    first = dumps(EVENT)
    data = first + b"\n{not json\n\n" + dumps({**EVENT, "eventID": "third"}) + b"\n"
    out = results(data, "events.jsonl")
    assert [type(r) for r in out] == [Record, DeadLetter, Record]
    assert out[1].position == Position("events.jsonl", line=2, offset=len(first) + 1)
    assert out[2].position.line == 4
    assert isinstance(out[0], Record)
    assert out[0].original == first.decode()


def test_json_line_that_is_not_an_object_is_a_dead_letter() -> None:
    out = results(dumps(EVENT) + b"\n[1, 2]\n" + dumps(EVENT))
    assert [type(r) for r in out] == [Record, DeadLetter, Record]


def test_top_level_array_of_records_is_read_with_indexes() -> None:
    out = results(dumps([EVENT, EVENT]))
    assert [r.position.index for r in out] == [0, 1]


def test_eventbridge_event_is_unwrapped_to_its_detail() -> None:
    event = {
        "version": "0",
        "id": "e1",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cloudtrail",
        "account": "111122223333",
        "detail": EVENT,
    }
    line = dumps(event)
    out = results(line + b"\n" + line)
    assert all(isinstance(r, Record) and r.fields == EVENT for r in out)
    assert isinstance(out[0], Record)
    assert out[0].original == line.decode()


def test_eventbridge_event_of_another_kind_is_a_dead_letter() -> None:
    out = results(dumps({"detail-type": "GuardDuty Finding", "detail": {"id": "x"}}))
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)
    assert "not a CloudTrail event" in out[0].reason


def test_cloudwatch_envelope_gives_its_messages() -> None:
    message = dumps(EVENT).decode()
    out = results(dumps(envelope(message, message)))
    assert [type(r) for r in out] == [Record, Record]
    assert out[1].position.index == 1
    assert isinstance(out[0], Record)
    assert out[0].original == message


def test_cloudwatch_envelopes_as_json_lines_keep_line_and_index() -> None:
    line = dumps(envelope(dumps(EVENT).decode(), "{broken"))
    out = results(line + b"\n" + line)
    assert [type(r) for r in out] == [Record, DeadLetter, Record, DeadLetter]
    assert out[3].position == Position(
        "s3://bucket/key.json", line=2, offset=len(line) + 1, index=1
    )
    assert isinstance(out[1], DeadLetter)
    assert "log event message" in out[1].reason


def test_cloudwatch_control_message_is_skipped_silently() -> None:
    assert (
        results(dumps(envelope("CWL CONTROL MESSAGE: Checking health", kind="CONTROL_MESSAGE")))
        == []
    )


def test_cloudwatch_log_event_without_message_is_a_dead_letter() -> None:
    data = envelope()
    data["logEvents"] = [{"id": "1", "timestamp": 1}]
    out = results(dumps(data))
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)


def test_digest_files_yield_nothing() -> None:
    digest = {
        "awsAccountId": "111122223333",
        "digestStartTime": "2025-03-02T10:00:00Z",
        "digestEndTime": "2025-03-02T11:00:00Z",
        "digestS3Bucket": "trail-bucket",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/x.json.gz",
        "logFiles": [],
    }
    assert results(dumps(digest)) == []
    digest_path = "s3://b/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/x.json.gz"
    assert results(b"anything at all", digest_path) == []


def test_empty_payload_yields_nothing() -> None:
    assert results(b"") == []
    assert results(b" \n\n") == []


def test_byte_order_mark_is_ignored() -> None:
    out = results(b"\xef\xbb\xbf" + dumps({"Records": [EVENT]}))
    assert len(out) == 1
    assert isinstance(out[0], Record)


def test_gzipped_log_file_reads_after_decompress() -> None:
    data = gzip.compress(dumps({"Records": [EVENT]}))
    assert PARSER.sniff(decompress(data, "k")[:65536])
    assert len(results(decompress(data, "k"))) == 1


def test_vendor_fields_are_kept_as_they_are() -> None:
    out = results(dumps({**EVENT, "p_log_type": "AWS.CloudTrail", "p_any_ip_addresses": ["1"]}))
    assert isinstance(out[0], Record)
    assert out[0].fields["p_log_type"] == "AWS.CloudTrail"


@pytest.mark.parametrize(
    "head",
    [
        dumps({"Records": [EVENT]}),
        dumps(EVENT),
        dumps({"detail-type": "AWS Console Sign In via CloudTrail", "detail": {}}),
        dumps(envelope(dumps(EVENT).decode())),
        b'{"awsAccountId":"1","digestStartTime":"x","digestS3Object":"y"}',
        b'{"eventsource": "iam.amazonaws.com", "eventname": "GetUser"}',
    ],
    ids=["s3-file", "line", "eventbridge", "cloudwatch", "digest", "lake"],
)
def test_sniff_claims_cloudtrail(head: bytes) -> None:
    assert PARSER.sniff(head)


@pytest.mark.parametrize(
    "head",
    [
        VPC_FLOW_HEADER,
        VPC_FLOW_LINE,
        ROUTE53_LINE,
        EKS_LINE,
        dumps({**envelope(EKS_LINE.decode()), "logGroup": "/aws/eks/prod/cluster"}),
        S3_NOTIFICATION,
        b'{"schemaVersion":"2.0","type":"Recon:IAMUser/MaliciousIPCaller","service":{}}',
        b"",
        b"\x1f\x8b\x08\x00garbage",
    ],
    ids=[
        "vpcflow-header",
        "vpcflow",
        "route53",
        "eks",
        "eks-cloudwatch",
        "s3-notify",
        "gd",
        "empty",
        "gz",
    ],
)
def test_sniff_rejects_other_sources(head: bytes) -> None:
    assert not PARSER.sniff(head)


@pytest.mark.parametrize("path", sorted(ELASTIC.glob("*.log")), ids=lambda p: p.name)
def test_elastic_samples_are_all_records(path: Path) -> None:
    data = path.read_bytes()
    assert PARSER.sniff(data[:65536])
    out = results(data, str(path))
    assert out
    assert all(isinstance(r, Record) for r in out)


@pytest.mark.parametrize(
    "path",
    [PANTHER / "panther_rule_tests_aws_cloudtrail.jsonl", SCENARIO / "attacker_cloudtrail.jsonl"],
    ids=lambda p: p.name,
)
def test_panther_logs_are_records(path: Path) -> None:
    logs = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    logs = [entry.get("log", entry) for entry in logs]
    out = results(b"\n".join(dumps(log) for log in logs), str(path))
    assert len(out) == len(logs)
    assert all(isinstance(r, Record) for r in out)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(["Records", "messageType", "logEvents", "message", "detail-type", "detail"])
NEAR_VALID = st.one_of(
    st.builds(lambda v: {"Records": v}, JSON),
    st.builds(lambda v: {"Records": [EVENT, v]}, JSON),
    st.builds(lambda v, kind: {**envelope(), "messageType": kind, "logEvents": v}, JSON, JSON),
    st.builds(lambda v: envelope(v), st.text(max_size=40)),
    st.builds(lambda v: {"detail-type": "AWS API Call via CloudTrail", "detail": v}, JSON),
    st.dictionaries(KEYS, JSON, max_size=4),
)


def assert_only_results(data: bytes) -> None:
    """Parsing ``data`` never raises and yields only records and dead letters."""
    for result in PARSER.parse(data, "fuzz"):
        assert isinstance(result, Record | DeadLetter)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_give_only_results(data: bytes) -> None:
    assert_only_results(data)


@settings(max_examples=300, deadline=None)
@given(NEAR_VALID)
def test_near_valid_json_gives_only_results(value: Any) -> None:
    assert_only_results(dumps(value))
    assert_only_results(dumps(value) + b"\n" + dumps(value))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2000), st.binary(max_size=3))
def test_damaged_log_file_gives_only_results(cut: int, noise: bytes) -> None:
    data = dumps({"Records": [EVENT, EVENT, EVENT]})
    assert_only_results(data[:cut] + noise + data[cut + len(noise) :])
