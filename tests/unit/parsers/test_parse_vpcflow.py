"""VPC Flow Logs parser: text layouts, JSON and Parquet forms, dead letters, sniffing, fuzzing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import SHARED

from exporter.parsers.base import DeadLetter, Position, Record
from exporter.parsers.vpcflow import HEADERLESS_LAYOUTS, PARSER, V2_DEFAULT

DATA = SHARED / "data"
ELASTIC = DATA / "elastic-integrations-aws"
PANTHER = DATA / "panther-analysis-labelled-rule-tests"

HEADER = b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes"
HEADER += b" start end action log-status"
LINE = b"2 111122223333 eni-0f1e2d3c4b5a69788 198.51.100.77 10.0.3.25 49822 22 6 9 540"
LINE += b" 1740913200 1740913260 REJECT OK"
NODATA = b"2 111122223333 eni-0f1e2d3c4b5a69788 - - - - - - - 1740913200 1740913260 - NODATA"
CLOUDTRAIL = (
    b'{"Records":[{"eventVersion":"1.08","eventTime":"2025-03-02T11:04:17Z",'
    b'"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging",'
    b'"sourceIPAddress":"203.0.113.45","awsRegion":"eu-west-1"}]}'
)
ROUTE53 = (
    b'{"version":"1.100000","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-1",'
    b'"query_timestamp":"2025-03-02T11:12:40Z","query_name":"x.example.net.","query_type":"A",'
    b'"rcode":"NXDOMAIN","answers":[],"srcaddr":"10.0.3.25","srcport":"53122",'
    b'"transport":"UDP","srcids":{"instance":"i-0abc"}}'
)
EKS_AUDIT = (
    b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1",'
    b'"stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/pods",'
    b'"sourceIPs":["198.51.100.20"]}'
)


def results(data: bytes, origin: str = "s3://bucket/flow.log") -> list[Record | DeadLetter]:
    """Everything the parser yields for ``data``."""
    return list(PARSER.parse(data, origin))


def only_record(data: bytes) -> Record:
    """The single record ``data`` holds."""
    (result,) = results(data)
    assert isinstance(result, Record), result
    return result


def parquet(columns: dict[str, list[Any]]) -> bytes:
    """A Parquet file with the given columns."""
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


# --- text ------------------------------------------------------------------------------------


def test_header_names_the_fields() -> None:
    record = only_record(HEADER + b"\n" + LINE + b"\n")
    assert record.fields["srcaddr"] == "198.51.100.77"
    assert record.fields["dstport"] == "22"
    assert record.fields["log-status"] == "OK"
    assert record.original == LINE.decode()
    assert record.position == Position("s3://bucket/flow.log", line=2, offset=len(HEADER) + 1)


def test_headerless_v2_line_uses_the_default_layout() -> None:
    record = only_record(LINE)
    assert tuple(record.fields) == V2_DEFAULT
    assert record.position == Position("s3://bucket/flow.log", line=1, offset=0)


def test_missing_values_are_dropped_and_nodata_is_kept() -> None:
    record = only_record(NODATA)
    assert record.fields == {
        "version": "2",
        "account-id": "111122223333",
        "interface-id": "eni-0f1e2d3c4b5a69788",
        "start": "1740913200",
        "end": "1740913260",
        "log-status": "NODATA",
    }


def test_custom_header_order_and_repeated_headers() -> None:
    path = ELASTIC / "vpcflow" / "test-tcp-flag-sequence.log"
    found = results(path.read_bytes(), str(path))
    assert [type(result) for result in found] == [Record, Record, Record]
    first = found[0]
    assert isinstance(first, Record)
    assert first.fields["tcp-flags"] == "2"
    assert first.fields["pkt-dstaddr"] == "10.0.0.62"
    assert first.position.line == 2
    statuses = [result.fields["log-status"] for result in found if isinstance(result, Record)]
    assert statuses == ["OK", "SKIPDATA", "NODATA"]


@pytest.mark.parametrize(
    "path", sorted((ELASTIC / "vpcflow").glob("*.log")), ids=lambda path: path.name
)
def test_every_elastic_sample_parses_without_dead_letters(path: Path) -> None:
    found = results(path.read_bytes(), str(path))
    assert found
    assert all(isinstance(result, Record) for result in found), found


def test_headerless_default_layouts_by_field_count() -> None:
    assert sorted(HEADERLESS_LAYOUTS) == [14, 29, 36, 39, 40]
    tgw = only_record((ELASTIC / "vpcflow" / "test-tgw-samples.log").read_bytes().split(b"\n")[0])
    assert tgw.fields["tgw-id"] == "tgw-0a12bc34de56f7890"
    assert tgw.fields["flow-direction"] == "ingress"
    v8 = only_record((ELASTIC / "vpcflow" / "test-v8-samples.log").read_bytes())
    assert v8.fields["reject-reason"] == "BPA"
    assert v8.fields["ecs-service-name"] == "payments-service"


def test_fourteen_fields_with_another_version_is_not_the_v2_default() -> None:
    (letter,) = results(b"3" + LINE[1:])
    assert isinstance(letter, DeadLetter)
    assert "match no default layout" in letter.reason


def test_wrong_field_count_is_a_dead_letter_with_its_position() -> None:
    data = HEADER + b"\n" + LINE + b"\n" + LINE + b" extra\n" + LINE + b"\n"
    found = results(data)
    assert [type(result) for result in found] == [Record, DeadLetter, Record]
    letter = found[1]
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "expected 14 fields, got 15"
    assert letter.position.line == 3
    assert letter.position.offset == len(HEADER) + len(LINE) + 2
    assert letter.snippet.endswith("extra")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (LINE.replace(b" 22 ", b" ssh "), "dstport is not a number: 'ssh'"),
        (LINE.replace(b" 49822 ", b" -1 "), "srcport is not a number: '-1'"),
        (LINE.replace(b" 540 ", b" 5.4 "), "bytes is not a number: '5.4'"),
        (LINE.replace(b" 1740913200 ", b" yesterday "), "start is not a number: 'yesterday'"),
    ],
)
def test_non_numeric_integer_fields_are_dead_letters(bad: bytes, reason: str) -> None:
    (letter,) = results(bad)
    assert isinstance(letter, DeadLetter)
    assert letter.reason == reason
    assert letter.position.line == 1


def test_invalid_utf8_and_blank_lines() -> None:
    found = results(b"\n\n" + LINE + b"\n\xff\xfe garbage\n\r\n")
    assert [type(result) for result in found] == [Record, DeadLetter]
    assert found[0].position.line == 3
    assert isinstance(found[1], DeadLetter)
    assert found[1].reason == "line is not valid UTF-8"
    assert found[1].position.line == 4


def test_crlf_and_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + HEADER + b"\r\n" + LINE + b"\r\n"
    record = only_record(data)
    assert record.fields["log-status"] == "OK"
    assert record.position.offset == 3 + len(HEADER) + 2


# --- JSON ------------------------------------------------------------------------------------


def test_json_message_field_holds_a_flow_line() -> None:
    path = ELASTIC / "vpcflow" / "test-with-message-field.log"
    record = only_record(path.read_bytes())
    assert record.fields["log-status"] == "NODATA"
    assert record.original.startswith("2 428961148399 ")


def test_json_keys_in_any_case_map_to_header_names() -> None:
    obj = {
        "srcAddr": "1.1.1.1",
        "dst_addr": "10.0.0.1",
        "dstPort": 22,
        "log-status": "OK",
        "subNetId": "subnet-1",
        "account": "111122223333",
        "status": "OK",
        "start": "2025-03-02T11:00:00Z",
        "p_log_type": "AWS.VPCFlow",
        "p_any_ip_addresses": ["1.1.1.1"],
        "flowDirection": "-",
        "bytes": 1.0,
    }
    record = only_record(orjson.dumps(obj))
    assert record.fields == {
        "srcaddr": "1.1.1.1",
        "dstaddr": "10.0.0.1",
        "dstport": "22",
        "log-status": "OK",
        "subnet-id": "subnet-1",
        "account-id": "111122223333",
        "start": "2025-03-02T11:00:00Z",
        "bytes": "1",
    }


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"dst_endpoint": {"port": 22}, "p_log_type": "OCSF.NetworkActivity"}, "p_log_type"),
        ({"dstPort": "http", "srcAddr": "1.1.1.1"}, "dstport is not a number"),
        ({"dstPort": True}, "dstPort is not a single value"),
        ({"srcAddr": {"ip": "1.1.1.1"}, "dstport": 1}, "srcAddr is not a single value"),
        ({"eventName": "StopLogging"}, "not a VPC flow record"),
    ],
)
def test_unusable_json_objects_are_dead_letters(obj: dict[str, Any], reason: str) -> None:
    (letter,) = results(orjson.dumps(obj))
    assert isinstance(letter, DeadLetter)
    assert reason in letter.reason


def test_invalid_json_and_non_objects_are_dead_letters() -> None:
    broken, array = results(b'{"srcaddr": \n[1, 2]\n')
    assert isinstance(broken, DeadLetter)
    assert broken.reason.startswith("invalid JSON")
    assert isinstance(array, DeadLetter)
    assert array.reason == "no header line, and 2 fields match no default layout"
    (letter,) = results(b' ["a"]')
    assert isinstance(letter, DeadLetter)


def test_every_panther_flow_log_is_a_record_or_a_dead_letter() -> None:
    lines = (PANTHER / "panther_rule_tests_aws_vpcflow.jsonl").read_bytes().splitlines()
    logs = [orjson.loads(line)["log"] for line in lines]
    assert len(logs) >= 20
    for log in logs:
        (result,) = results(orjson.dumps(log))
        if str(log.get("p_log_type", "")).startswith("OCSF."):
            assert isinstance(result, DeadLetter)
        else:
            assert isinstance(result, Record), result


# --- Parquet ---------------------------------------------------------------------------------


def test_parquet_rows_become_records() -> None:
    data = parquet(
        {
            "version": [5, 5],
            "srcaddr": ["10.0.0.1", None],
            "dstport": [443, None],
            "log_status": ["OK", "NODATA"],
            "start": [1740913200, 1740913200],
        }
    )
    assert PARSER.sniff(data[:65536])
    first, second = results(data)
    assert isinstance(first, Record)
    assert first.fields == {
        "version": "5",
        "srcaddr": "10.0.0.1",
        "dstport": "443",
        "log-status": "OK",
        "start": "1740913200",
    }
    assert first.original == "5 10.0.0.1 443 OK 1740913200"
    assert first.position == Position("s3://bucket/flow.log", index=0)
    assert isinstance(second, Record)
    assert second.fields == {"version": "5", "log-status": "NODATA", "start": "1740913200"}
    assert second.position.index == 1


def test_parquet_bad_values_and_files() -> None:
    (letter,) = results(parquet({"dstport": ["http"], "srcaddr": ["10.0.0.1"]}))
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "dstport is not a number: 'http'"
    (letter,) = results(parquet({"name": ["x"]}))
    assert isinstance(letter, DeadLetter)
    assert "no flow log columns" in letter.reason
    assert not PARSER.sniff(parquet({"name": ["x"]}))
    (letter,) = results(b"PAR1 this is not parquet PAR1")
    assert isinstance(letter, DeadLetter)
    assert letter.reason.startswith("unreadable Parquet file")


# --- sniff -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        HEADER + b"\n" + LINE,
        LINE,
        NODATA,
        b"\n\n" + LINE,
        b"vpc-id srcaddr dstaddr action\nvpc-1 1.1.1.1 2.2.2.2 ACCEPT",
        b'{"message":"' + NODATA + b'"}',
        b'{"srcAddr": "1.1.1.1", "dstPort": 22}',
        b'{"status": "OK", "p_log_type": "AWS.VPCFlow"}',
        b"PAR1" + b"\0" * 100,
    ],
)
def test_sniff_accepts_flow_logs(head: bytes) -> None:
    assert PARSER.sniff(head)


@pytest.mark.parametrize(
    "head",
    [
        CLOUDTRAIL,
        ROUTE53,
        EKS_AUDIT,
        b'{"srcaddr": "10.0.0.1", "srcport": "53", "query_name": "x."}',
        b'{"status_code": "OK", "p_log_type": "OCSF.NetworkActivity"}',
        b"",
        b"\xff\xfe",
        b"hello world",
        b"3" + LINE[1:],
        b"[1, 2, 3]",
    ],
)
def test_sniff_rejects_other_data(head: bytes) -> None:
    assert not PARSER.sniff(head)


def test_sniff_rejects_the_other_shared_samples() -> None:
    for path in [
        *sorted((ELASTIC / "cloudtrail").glob("*.log"))[:5],
        ELASTIC / "route53_resolver_logs" / "test-route53.log",
        DATA / "elastic-integrations-kubernetes-audit" / "test-audit.log",
    ]:
        assert not PARSER.sniff(path.read_bytes()[:65536]), path


# --- robustness ------------------------------------------------------------------------------

TOKENS = st.sampled_from(
    ["2", "5", "-", "eni-1", "10.0.0.1", "::1", "22", "6", "ACCEPT", "NODATA", "x", "-1", "version"]
)
LINES = st.lists(TOKENS, min_size=1, max_size=42).map(" ".join)


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_only_records_and_dead_letters(data: bytes) -> None:
    for result in PARSER.parse(data, "fuzz"):
        assert isinstance(result, Record | DeadLetter)
    assert isinstance(PARSER.sniff(data), bool)


@given(st.lists(LINES, max_size=8).map("\n".join))
@settings(max_examples=300, deadline=None)
def test_flow_like_text_gives_only_records_and_dead_letters(text: str) -> None:
    for result in PARSER.parse((V2_DEFAULT[0] + " " + text).encode(), "fuzz"):
        assert isinstance(result, Record | DeadLetter)
    for result in PARSER.parse(text.encode(), "fuzz"):
        assert isinstance(result, Record | DeadLetter)


@given(st.binary(max_size=512))
@settings(max_examples=100, deadline=None)
def test_corrupt_parquet_never_raises(body: bytes) -> None:
    found = results(b"PAR1" + body + b"PAR1")
    assert all(isinstance(result, Record | DeadLetter) for result in found)
