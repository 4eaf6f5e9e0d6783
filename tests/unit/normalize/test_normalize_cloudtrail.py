"""CloudTrail normalizer: agreement with Elastic, ECS conformance, mapping, edge cases."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from ecs_support import ecs_types, flatten, mapped_fields
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import SHARED

from exporter.errors import ParseError
from exporter.normalize.cloudtrail import FIELD_MAP, FIELD_TREE, identity, normalize, timestamp
from exporter.normalize.ecs import apply_field_map, get_path, parse_timestamp
from exporter.parsers.base import Position, Record
from exporter.parsers.cloudtrail import PARSER

ROOT = Path(__file__).resolve().parents[3]
DATA = SHARED / "data"
ELASTIC = DATA / "elastic-integrations-aws" / "cloudtrail"
PANTHER = DATA / "panther-analysis-labelled-rule-tests"
SOURCE_DOC = ROOT / "mappings" / "sources" / "cloudtrail.md"

RAW_OBJECT = "kept as the JSON object (not indexed), not a Java toString() text"
ALLOWED_DIFFERENCES = {
    "user.name": "IAM user names are kept whole; Elastic splits e-mail-like names",
    "aws.cloudtrail.request_parameters": RAW_OBJECT,
    "aws.cloudtrail.response_elements": RAW_OBJECT,
    "aws.cloudtrail.additional_eventdata": RAW_OBJECT,
}
"""Elastic output fields we deliberately differ on (see mappings/sources/cloudtrail.md)."""
SUBSET_FIELDS = {"related.user"}
"""Ours must be a subset: Elastic's entity pipeline also adds principal ids and session names."""
UNINDEXED = (
    "aws.cloudtrail.request_parameters",
    "aws.cloudtrail.response_elements",
    "aws.cloudtrail.additional_eventdata",
    "aws.cloudtrail.service_event_details",
    "aws.cloudtrail.insight_details",
)
ECS_TYPES = {
    "api": {"access", "admin", "allowed", "change", "creation", "deletion", "denied", "end"}
    | {"info", "start", "user"},
    "authentication": {"start", "end", "info"},
    "file": {"access", "change", "creation", "deletion", "info"},
    "iam": {"admin", "change", "creation", "deletion", "group", "info", "user"},
}
"""ECS 8.17 allowed event.type values per event.category (for the categories we emit)."""

EVENT: dict[str, Any] = {
    "eventVersion": "1.09",
    "eventTime": "2025-03-02T11:09:51Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "185.220.101.7",
    "userAgent": "aws-cli/2.15.30",
    "userIdentity": {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:i-0abc1234def567890",
        "arn": "arn:aws:sts::111122223333:assumed-role/app-role/i-0abc1234def567890",
        "accountId": "111122223333",
        "accessKeyId": "ASIAEXAMPLETMP01",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "userName": "app-role", "accountId": "111122223333"},
            "attributes": {"creationDate": "2025-03-02T10:00:00Z", "mfaAuthenticated": "false"},
        },
    },
    "requestParameters": {"bucketName": "payroll-exports", "key": "2025/02/salaries.csv"},
    "additionalEventData": {"bytesTransferredOut": 52311},
    "resources": [
        {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::payroll-exports/2025/02/salaries.csv"},
        {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::payroll-exports", "accountId": "1111"},
        {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::payroll-exports", "accountId": "1111"},
    ],
    "eventID": "7f1c0d3e-0000-4000-8000-000000000001",
    "readOnly": True,
    "eventType": "AwsApiCall",
    "managementEvent": False,
    "recipientAccountId": "111122223333",
    "eventCategory": "Data",
    "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"},
}


def record(fields: Mapping[str, Any], original: str = "{}") -> Record:
    """A record as the parser would give it."""
    return Record(fields=fields, position=Position("test"), original=original)


def corpus() -> Iterator[Record]:
    """Every CloudTrail record of the shared samples (Elastic, Panther, the attack scenario)."""
    for path in sorted(ELASTIC.glob("*.log")):
        yield from (r for r in PARSER.parse(path.read_bytes(), str(path)) if isinstance(r, Record))
    for path in (
        PANTHER / "panther_rule_tests_aws_cloudtrail.jsonl",
        PANTHER / "compromised-root-creds-scenario" / "attacker_cloudtrail.jsonl",
        PANTHER / "compromised-root-creds-scenario" / "victim_cloudtrail.jsonl",
    ):
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        payload = b"\n".join(orjson.dumps(row.get("log", row)) for row in rows)
        yield from (r for r in PARSER.parse(payload, str(path)) if isinstance(r, Record))


def normalized_corpus() -> list[dict[str, Any]]:
    """The documents of every corpus record that normalizes."""
    docs = []
    for item in corpus():
        try:
            docs.append(normalize(item))
        except ParseError:
            continue
    return docs


DOCS = normalized_corpus()


def elastic_pairs() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(sample name, our document, Elastic's expected document), matched by event.original."""
    for expected_path in sorted(ELASTIC.glob("*-expected.json")):
        log = expected_path.with_name(expected_path.name.removesuffix("-expected.json"))
        ours = {
            r.original: normalize(r)
            for r in PARSER.parse(log.read_bytes(), str(log))
            if isinstance(r, Record)
        }
        for expected in orjson.loads(expected_path.read_bytes())["expected"]:
            original = expected.get("event", {}).get("original")
            if original is not None:  # an entry without it has no input line in the sample
                yield log.name, ours[original], expected


@pytest.mark.parametrize(
    ("name", "ours", "theirs"),
    [pytest.param(*pair, id=f"{pair[0]}#{n}") for n, pair in enumerate(elastic_pairs())],
)
def test_agrees_with_elastic_on_every_shared_field(
    name: str, ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    mine = dict(flatten(ours))
    for path, value in flatten(theirs):
        if path in ALLOWED_DIFFERENCES:
            continue
        if path in SUBSET_FIELDS:
            assert set(mine.get(path, [])) <= set(value), f"{name}: {path}"
        elif path in mine:
            assert mine[path] == value, f"{name}: {path}"
        else:
            clash = [p for p in mine if p.startswith(path + ".")]
            assert not clash, f"{name}: {path} is a value for Elastic, an object for us"


def test_every_corpus_record_normalizes_or_is_a_parse_error() -> None:
    failures = []
    for item in corpus():
        try:
            assert isinstance(normalize(item), dict)
        except ParseError as exc:
            failures.append(str(exc))
    assert all("eventTime" in reason for reason in failures)
    assert len(failures) <= 20  # trimmed Panther test events without a usable eventTime
    assert len(DOCS) > 450


def test_categorization_uses_ecs_allowed_values() -> None:
    for doc in DOCS:
        event = doc["event"]
        assert event["kind"] == "event"
        assert event["outcome"] in {"success", "failure", "unknown"}
        for category in event["category"]:
            assert set(event["type"]) <= ECS_TYPES[category], event["action"]


def test_every_emitted_field_is_mapped_or_deliberately_unindexed() -> None:
    mapped = mapped_fields("duskwatch-ecs-base", "duskwatch-events-cloudtrail")
    emitted = {path for doc in DOCS for path, _ in flatten(doc)}
    unmapped = {p for p in emitted if p not in mapped and not p.startswith(UNINDEXED)}
    assert not unmapped


def test_ecs_fields_we_map_have_the_ecs_type() -> None:
    ecs = ecs_types()
    for path, kind in mapped_fields("duskwatch-events-cloudtrail").items():
        if not path.startswith(("aws.", "duskwatch.")):
            assert ecs[path] == kind, path
    emitted = {path for doc in DOCS for path, _ in flatten(doc)}
    assert {p for p in emitted if not p.startswith(("aws.", "duskwatch.", "@timestamp"))} <= set(
        ecs
    )


def test_source_doc_names_every_field() -> None:
    text = SOURCE_DOC.read_text()
    fields = set(mapped_fields("duskwatch-events-cloudtrail")) | set(FIELD_MAP) | set(UNINDEXED)
    emitted = {path for doc in DOCS for path, _ in flatten(doc) if not path.startswith(UNINDEXED)}
    missing = sorted(f for f in fields | emitted if f"`{f}`" not in text)
    assert not missing
    assert all(f"`{path}`" in text for path in ALLOWED_DIFFERENCES)


def test_s3_data_event() -> None:
    doc = normalize(record(EVENT, orjson.dumps(EVENT).decode()))
    assert doc["@timestamp"] == "2025-03-02T11:09:51.000Z"
    assert doc["event"]["category"] == ["file"]
    assert doc["event"]["type"] == ["access"]
    assert doc["event"]["outcome"] == "success"
    assert doc["event"]["dataset"] == "aws.cloudtrail"
    assert doc["event"]["original"] == orjson.dumps(EVENT).decode()
    trail = doc["aws"]["cloudtrail"]
    assert trail["event_category"] == "Data"
    assert trail["management_event"] is False
    assert trail["read_only"] is True
    assert trail["request_parameters"] == EVENT["requestParameters"]
    assert trail["additional_eventdata"] == {"bytesTransferredOut": 52311}
    assert trail["resources"] == [
        {"arn": "arn:aws:s3:::payroll-exports/2025/02/salaries.csv", "type": "AWS::S3::Object"},
        {"arn": "arn:aws:s3:::payroll-exports", "account_id": "1111", "type": "AWS::S3::Bucket"},
    ]
    assert doc["tls"] == {
        "cipher": "TLS_AES_128_GCM_SHA256",
        "version_protocol": "tls",
        "version": "1.3",
    }


def test_assumed_role_user_and_session() -> None:
    doc = normalize(record(EVENT))
    assert doc["user"] == {"id": "AROAEXAMPLE:i-0abc1234def567890", "name": "app-role"}
    session = doc["aws"]["cloudtrail"]["user_identity"]["session_context"]
    assert session["creation_date"] == "2025-03-02T10:00:00.000Z"
    assert session["mfa_authenticated"] == "false"
    assert session["session_issuer"]["user_name"] == "app-role"
    assert doc["aws"]["cloudtrail"]["user_identity"]["access_key_id"] == "ASIAEXAMPLETMP01"
    assert doc["cloud"] == {
        "provider": "aws",
        "region": "eu-west-1",
        "account": {"id": "111122223333"},
    }
    assert doc["source"] == {"address": "185.220.101.7", "ip": "185.220.101.7"}
    assert doc["related"] == {"ip": ["185.220.101.7"], "user": ["app-role"]}


def test_failed_call_sets_error_and_outcome() -> None:
    fields = {**EVENT, "errorCode": "AccessDenied", "errorMessage": "User is not authorized"}
    doc = normalize(record(fields))
    assert doc["event"]["outcome"] == "failure"
    assert doc["error"] == {"code": "AccessDenied", "message": "User is not authorized"}
    assert doc["aws"]["cloudtrail"]["error_code"] == "AccessDenied"


def test_console_login_outcome_and_mfa() -> None:
    fields = {
        **EVENT,
        "eventName": "ConsoleLogin",
        "eventSource": "signin.amazonaws.com",
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"},
        "responseElements": {"ConsoleLogin": "Failure"},
        "additionalEventData": {"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/"},
    }
    doc = normalize(record(fields))
    assert doc["event"]["outcome"] == "failure"
    assert doc["event"]["category"] == ["authentication"]
    login = doc["aws"]["cloudtrail"]["console_login"]["additional_eventdata"]
    assert login == {"mfa_used": False, "login_to": "https://console.aws.amazon.com/"}


def test_iam_call_names_the_target_user() -> None:
    fields = {
        **EVENT,
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "userIdentity": {"type": "IAMUser", "userName": "alice@example.com"},
        "requestParameters": {"userName": "backdoor"},
        "sourceIPAddress": "iam.amazonaws.com",
    }
    doc = normalize(record(fields))
    assert doc["event"]["category"] == ["iam"]
    assert doc["event"]["type"] == ["user", "change"]
    assert doc["user"]["target"] == {"name": "backdoor"}
    assert doc["user"]["email"] == "alice@example.com"
    assert doc["related"]["user"] == ["alice@example.com", "backdoor"]
    assert doc["source"] == {"address": "iam.amazonaws.com"}


def test_cloudtrail_lake_lower_case_keys_are_understood() -> None:
    fields = {
        "eventtime": "2023-01-10 21:04:02",
        "eventname": "GetRecords",
        "eventsource": "dynamodb.amazonaws.com",
        "eventcategory": "Data",
        "managementevent": "false",
        "eventid": "5d4b45ed",
        "useridentity": {"arn": "arn:aws:iam::1:user/x", "sessioncontext": {"sessionissuer": {}}},
    }
    doc = normalize(record(fields))
    assert doc["@timestamp"] == "2023-01-10T21:04:02.000Z"
    assert doc["event"]["action"] == "GetRecords"
    assert doc["aws"]["cloudtrail"]["management_event"] is False
    assert doc["aws"]["cloudtrail"]["user_identity"]["arn"] == "arn:aws:iam::1:user/x"
    assert identity(record(fields)) == "5d4b45ed"


def test_session_creation_date_out_of_range_is_left_out() -> None:
    fields = {
        **EVENT,
        "userIdentity": {
            "sessionContext": {"attributes": {"creationDate": "0001-01-01T00:00:00+01:00"}}
        },
    }
    assert "session_context" not in normalize(record(fields))["aws"]["cloudtrail"].get(
        "user_identity", {}
    )


def test_unknown_call_is_an_api_event() -> None:
    doc = normalize(record({**EVENT, "eventName": "DeleteDetector"}))
    assert doc["event"]["category"] == ["api"]
    assert doc["event"]["type"] == ["info"]


def test_odd_value_shapes_are_not_copied_to_indexed_fields() -> None:
    fields = {**EVENT, "userAgent": {"x": 1}, "readOnly": "maybe", "requestParameters": [1]}
    doc = normalize(record(fields))
    assert "user_agent" not in doc
    assert "read_only" not in doc["aws"]["cloudtrail"]
    assert "request_parameters" not in doc["aws"]["cloudtrail"]  # indexed as an object only


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({k: v for k, v in EVENT.items() if k != "eventTime"}, "eventTime"),
        ({**EVENT, "eventTime": "yesterday"}, "eventTime"),
        ({**EVENT, "eventTime": "0001-01-01T00:00:00+01:00"}, "out of range"),
        ({k: v for k, v in EVENT.items() if k != "eventName"}, "eventName"),
        ({"query_name": "x.example.", "query_timestamp": "2025-03-02T11:12:40Z"}, "eventName"),
    ],
    ids=["no-time", "bad-time", "out-of-range", "no-name", "route53"],
)
def test_invalid_records_raise_parse_error(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        normalize(record(fields))


def test_identity_is_the_event_id() -> None:
    assert identity(record(EVENT)) == EVENT["eventID"]
    assert identity(record({"eventName": "x"})) is None
    assert identity(record({"eventID": 7})) is None


def test_ingested_is_left_to_the_caller() -> None:
    assert "ingested" not in normalize(record(EVENT))["event"]


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-02T11:04:17Z",
        "2025-03-02 11:04:17Z",
        "2025-W10-1T11:04:17Z",
        "2025-03-02T11:04+01Z",
    ],
)
def test_timestamp_fast_path_agrees_with_parse_timestamp(value: str) -> None:
    assert_same_as_parse_timestamp(value)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes().map(lambda moment: moment.isoformat(timespec="seconds") + "Z")
    | st.text(alphabet="0123456789-:TZW+ .", min_size=18, max_size=22)
)
def test_timestamp_is_parse_timestamp(value: str) -> None:
    assert_same_as_parse_timestamp(value)


def assert_same_as_parse_timestamp(value: str) -> None:
    """``timestamp`` gives what ``parse_timestamp`` gives, or a ParseError when that fails."""
    try:
        expected = parse_timestamp(value, "t")
    except ParseError:
        with pytest.raises(ParseError):
            timestamp(value, "t")
        return
    assert timestamp(value, "t") == expected


IDENTITY_KEYS = ["type", "arn", "userName", "accountId", "sessionContext", "sessionIssuer"]
KEYS = st.sampled_from(
    sorted({*EVENT, *IDENTITY_KEYS, "attributes", "errorCode", "responseElements", "eventtime"})
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=10), st.dictionaries(KEYS, JSON, max_size=3))
def test_normalize_returns_a_document_or_raises_parse_error(
    base: dict[str, Any], overrides: dict[str, Any]
) -> None:
    for fields in (base, {**EVENT, **overrides}, {**EVENT, "userIdentity": base}):
        try:
            doc = normalize(record(fields))
        except ParseError:
            continue
        assert isinstance(doc, dict)
        assert doc == normalize(record(dict(reversed(list(fields.items())))))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=10), st.dictionaries(KEYS, JSON, max_size=4))
def test_field_tree_copies_what_apply_field_map_copies(
    base: dict[str, Any], overrides: dict[str, Any]
) -> None:
    for fields in (base, {**EVENT, **overrides}, {**EVENT, "userIdentity": {**base, **overrides}}):
        plain = {
            target: source
            for target, source in FIELD_MAP.items()
            if isinstance(get_path(fields, source), str | int | float)
        }
        copied: dict[str, Any] = {}
        FIELD_TREE.copy(copied, fields)
        assert copied == apply_field_map({}, fields, plain)


def test_request_parameters_are_bounded_and_public_policies_flagged() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}
    fields = {
        **EVENT,
        "eventName": "PutBucketPolicy",
        "requestParameters": {"bucketName": "b", "bucketPolicy": policy, "note": "x" * 9000},
    }
    doc = normalize(record(fields))
    assert len(doc["aws"]["cloudtrail"]["request_parameters"]["note"]) == 8192
    assert doc["duskwatch"]["s3"]["public_policy"] is True
    conditional = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ]
    }
    fields["requestParameters"] = {
        "bucketName": "b",
        "bucketPolicy": orjson.dumps(conditional).decode(),
    }
    assert normalize(record(fields))["duskwatch"]["s3"]["public_policy"] is False
