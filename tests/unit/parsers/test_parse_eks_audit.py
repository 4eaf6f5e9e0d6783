"""EKS audit parser: delivery shapes, foreign clouds, dead letters, sniffing, robustness."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import SHARED

from exporter.parsers.base import DeadLetter, Position, Record
from exporter.parsers.eks_audit import CLOUDWATCH_KEY, PARSER

DATA = SHARED / "data"
K8S = DATA / "elastic-integrations-kubernetes-audit"
PANTHER_EKS = (
    DATA / "panther-analysis-labelled-rule-tests" / "panther_rule_tests_amazon_eks_audit.jsonl"
)

EVENT: dict[str, Any] = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "Metadata",
    "auditID": "5b2c1e7a-9d3f-4e11-a0b2-6c8d9e0f1a2b",
    "stage": "ResponseComplete",
    "requestURI": "/api/v1/namespaces/kube-system/pods/coredns-x2k4p/exec?command=sh",
    "verb": "create",
    "user": {"username": "kubernetes-admin", "groups": ["system:masters"]},
    "sourceIPs": ["198.51.100.20"],
    "objectRef": {"resource": "pods", "namespace": "kube-system", "subresource": "exec"},
    "responseStatus": {"code": 101},
    "requestReceivedTimestamp": "2025-03-02T11:20:05.101Z",
}
GKE = {
    "protoPayload": {"serviceName": "k8s.io", "methodName": "io.k8s.core.v1.pods.get"},
    "logName": "projects/p/logs/cloudaudit.googleapis.com%2Fdata_access",
    "resource": {"type": "k8s_cluster"},
}
AKS = {"category": "kube-audit", "properties": {"log": orjson.dumps(EVENT).decode()}}
CLOUDTRAIL_LINE = (
    b'{"eventVersion":"1.08","eventTime":"2025-03-02T11:04:17Z","eventSource":"eks.amazonaws.com",'
    b'"eventName":"DescribeCluster","requestParameters":{"name":"prod"}}'
)
ROUTE53_LINE = (
    b'{"version":"1.100000","account_id":"111122223333","query_timestamp":"2025-03-02T11:12:40Z",'
    b'"query_name":"x.example.net.","query_type":"A","rcode":"NOERROR"}'
)
VPC_FLOW_HEADER = (
    b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets"
)


def results(data: bytes, origin: str = "audit.jsonl") -> list[Record | DeadLetter]:
    """Everything the parser yields for ``data``."""
    return list(PARSER.parse(data, origin))


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return orjson.dumps(value)


def envelope(*messages: str, stream: str = "kube-apiserver-audit-0a1b2c") -> dict[str, Any]:
    """An EKS control-plane CloudWatch Logs subscription envelope."""
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "111122223333",
        "logGroup": "/aws/eks/prod-eu/cluster",
        "logStream": stream,
        "logEvents": [{"id": str(i), "timestamp": 1, "message": m} for i, m in enumerate(messages)],
    }


def test_json_lines_give_records_with_line_and_offset() -> None:
    line = dumps(EVENT)
    out = results(line + b"\n" + line + b"\n")
    assert [type(r) for r in out] == [Record, Record]
    assert out[1].position == Position("audit.jsonl", line=2, offset=len(line) + 1)
    assert isinstance(out[0], Record)
    assert out[0].original == line.decode()
    assert out[0].fields == EVENT


def test_event_list_gives_its_items() -> None:
    data = dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [EVENT, 3]})
    out = results(data)
    assert [type(r) for r in out] == [Record, DeadLetter]
    assert out[1].position.index == 1


def test_event_list_without_items_array_is_a_dead_letter() -> None:
    out = results(dumps({"kind": "EventList", "items": None}))
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)


def test_cloudwatch_envelope_records_carry_the_envelope() -> None:
    message = dumps(EVENT).decode()
    out = results(dumps(envelope(message, "not json")))
    assert [type(r) for r in out] == [Record, DeadLetter]
    record = out[0]
    assert isinstance(record, Record)
    assert record.original == message
    assert record.fields[CLOUDWATCH_KEY] == {
        "owner": "111122223333",
        "logGroup": "/aws/eks/prod-eu/cluster",
        "logStream": "kube-apiserver-audit-0a1b2c",
    }


def test_other_eks_control_plane_streams_are_skipped() -> None:
    data = dumps(envelope("I0302 11:20:05 scheduler started", stream="kube-scheduler-0a1b"))
    assert results(data) == []


def test_cloudwatch_export_lines_drop_the_timestamp_prefix() -> None:
    line = dumps(EVENT)
    out = results(b"2025-03-02T11:20:05.101Z " + line + b"\n2025-03-02T11:20:06.000Z " + line)
    assert [type(r) for r in out] == [Record, Record]
    assert isinstance(out[0], Record)
    assert out[0].original == line.decode()


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (GKE, "looks like a GKE LogEntry"),
        (AKS, "looks like an AKS diagnostic log"),
        ({**EVENT, "p_log_type": "GCP.AuditLog"}, "Panther p_log_type is 'GCP.AuditLog'"),
        ({"kind": "Pod", "apiVersion": "v1"}, "not a Kubernetes audit event"),
        ({"kind": "Event", "apiVersion": "v1", "reason": "Pulled"}, "not a Kubernetes audit event"),
    ],
    ids=["gke", "aks", "panther-gcp", "pod", "core-event"],
)
def test_foreign_records_are_dead_letters_with_a_reason(log: dict[str, Any], reason: str) -> None:
    out = results(dumps(EVENT) + b"\n" + dumps(log))
    assert isinstance(out[0], Record)
    assert isinstance(out[1], DeadLetter)
    assert reason in out[1].reason
    assert out[1].position.line == 2


def test_panther_eks_rows_are_kept() -> None:
    out = results(dumps({**EVENT, "p_log_type": "Amazon.EKS.Audit", "p_row_id": "r"}))
    assert isinstance(out[0], Record)


def test_elastic_sample_keeps_native_events_and_rejects_gke_and_aks() -> None:
    out = results((K8S / "test-audit.log").read_bytes())
    assert [type(r) for r in out] == [Record, Record, Record, DeadLetter, DeadLetter]
    reasons = [r.reason for r in out if isinstance(r, DeadLetter)]
    assert "GKE" in reasons[0]
    assert "AKS" in reasons[1]
    aks = results((K8S / "test-kube-audit.log").read_bytes())
    assert len(aks) == 1
    assert isinstance(aks[0], DeadLetter)


def test_every_panther_eks_log_is_a_record_or_a_dead_letter() -> None:
    rows = [orjson.loads(line) for line in PANTHER_EKS.read_bytes().splitlines() if line.strip()]
    out = results(b"\n".join(dumps(row["log"]) for row in rows), str(PANTHER_EKS))
    assert len(out) == len(rows)
    for row, result in zip(rows, out, strict=True):
        foreign = row["log"].get("p_log_type", "Amazon.EKS.Audit") != "Amazon.EKS.Audit"
        assert isinstance(result, DeadLetter) == foreign


def test_truncated_event_list_is_one_dead_letter() -> None:
    data = dumps({"kind": "EventList", "items": [EVENT, EVENT]})
    out = results(data[:150])
    assert len(out) == 1
    assert isinstance(out[0], DeadLetter)
    assert "truncated JSON" in out[0].reason


@pytest.mark.parametrize(
    "head",
    [
        dumps(EVENT),
        dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": []}),
        dumps(envelope(dumps(EVENT).decode())),
        b"2025-03-02T11:20:05.101Z " + dumps(EVENT),
        b'{"kind":"Event","verb":"get","objectRef":{"resource":"pods"}}',
        dumps(GKE),
        dumps(AKS),
    ],
    ids=["line", "list", "cloudwatch", "export", "trimmed", "gke", "aks"],
)
def test_sniff_claims_kubernetes_audit(head: bytes) -> None:
    assert PARSER.sniff(head)


@pytest.mark.parametrize(
    "head",
    [
        CLOUDTRAIL_LINE,
        dumps({"Records": [orjson.loads(CLOUDTRAIL_LINE)]}),
        ROUTE53_LINE,
        VPC_FLOW_HEADER,
        b"2 111122223333 eni-0f1e2d3c 198.51.100.77 10.0.3.25 49822 22 6 9 540 1 2 REJECT OK",
        b'{"eventName":"CreateLogGroup","requestParameters":{"logGroupName":"/aws/eks/x/cluster"}}',
        b'{"kind":"Event","apiVersion":"v1","reason":"Pulled","involvedObject":{"kind":"Pod"}}',
        b"",
    ],
    ids=[
        "cloudtrail",
        "cloudtrail-file",
        "route53",
        "vpcflow-header",
        "vpcflow",
        "ct-eks",
        "k8s-event",
        "empty",
    ],
)
def test_sniff_rejects_other_sources(head: bytes) -> None:
    assert not PARSER.sniff(head)


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
AUDIT_KEYS = st.sampled_from(
    ["kind", "apiVersion", "items", "messageType", "logEvents", "logGroup", "logStream"]
)
NEAR_VALID = st.one_of(
    st.builds(lambda v: {**EVENT, "objectRef": v}, JSON),
    st.builds(lambda v: {"kind": "EventList", "items": v}, JSON),
    st.builds(lambda v: {"kind": "EventList", "items": [EVENT, v]}, JSON),
    st.builds(lambda v: {**envelope(), "logEvents": v}, JSON),
    st.builds(lambda v: envelope(v), st.text(max_size=40)),
    st.builds(lambda v: {**envelope(), "logGroup": v, "logStream": v}, JSON),
    st.dictionaries(AUDIT_KEYS, JSON, max_size=5),
)


def assert_only_results(data: bytes) -> None:
    """Parsing ``data`` never raises and yields only records and dead letters."""
    for result in PARSER.parse(data, "fuzz"):
        assert isinstance(result, Record | DeadLetter)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_give_only_results(data: bytes) -> None:
    assert_only_results(data)
    assert_only_results(b"2025-03-02T11:20:05Z " + data)


@settings(max_examples=300, deadline=None)
@given(NEAR_VALID)
def test_near_valid_json_gives_only_results(value: Any) -> None:
    assert_only_results(dumps(value))
    assert_only_results(dumps(value) + b"\n" + dumps(value))
