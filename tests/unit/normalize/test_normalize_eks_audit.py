"""EKS audit normalizer: agreement with Elastic, ECS conformance, mapping, edge cases."""

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
from exporter.normalize.eks_audit import FIELD_MAP, SHAPES, identity, normalize
from exporter.parsers.base import Position, Record
from exporter.parsers.eks_audit import CLOUDWATCH_KEY, PARSER

ROOT = Path(__file__).resolve().parents[3]
DATA = SHARED / "data"
K8S = DATA / "elastic-integrations-kubernetes-audit"
PANTHER_EKS = (
    DATA / "panther-analysis-labelled-rule-tests" / "panther_rule_tests_amazon_eks_audit.jsonl"
)
SOURCE_DOC = ROOT / "mappings" / "sources" / "eks-audit.md"

ALLOWED_DIFFERENCES = {
    "orchestrator.api_version": "the acted-on resource's API version, not the audit schema's",
    "source.ip": "the client (first of sourceIPs), not the whole proxy chain (see related.ip)",
}
"""Elastic output fields we deliberately differ on (see mappings/sources/eks-audit.md)."""
SET_FIELDS = {"related.user", "related.ip"}
"""Compared as sets: the order of related values carries no meaning."""
UNINDEXED = (
    "kubernetes.audit.requestObject",
    "kubernetes.audit.responseObject",
    "kubernetes.audit.requestReceivedTimestamp",
    "kubernetes.audit.stageTimestamp",
    "kubernetes.audit.user.extra",
    "kubernetes.audit.impersonatedUser.extra",
    "kubernetes.audit.annotations",
    "kubernetes.audit.responseStatus",
    "kubernetes.audit.objectRef",
)
"""Prefixes kept in _source only; their indexed children are listed in the template."""
API_TYPES = {"access", "admin", "allowed", "change", "creation", "deletion", "denied", "end"} | {
    "info",
    "start",
    "user",
}
"""ECS 8.17 allowed event.type values for event.category ``api``."""

EVENT: dict[str, Any] = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "RequestResponse",
    "auditID": "5b2c1e7a-9d3f-4e11-a0b2-6c8d9e0f1a2b",
    "stage": "ResponseComplete",
    "requestURI": "/apis/apps/v1/namespaces/default/deployments",
    "verb": "create",
    "user": {
        "username": "kubernetes-admin",
        "uid": "aws-iam-authenticator:1:AIDA",
        "groups": ["system:masters"],
    },
    "impersonatedUser": {"username": "system:serviceaccount:default:builder"},
    "sourceIPs": ["198.51.100.20", "10.0.0.7"],
    "userAgent": "kubectl/v1.30.2",
    "objectRef": {
        "resource": "deployments",
        "namespace": "default",
        "name": "miner",
        "apiGroup": "apps",
        "apiVersion": "v1",
    },
    "responseStatus": {"metadata": {}, "code": 201},
    "requestObject": {
        "kind": "Deployment",
        "spec": {
            "template": {"spec": {"containers": [{"image": "xmrig/xmrig:6"}, {"image": "busybox"}]}}
        },
    },
    "requestReceivedTimestamp": "2025-03-02T11:20:05.101234Z",
    "stageTimestamp": "2025-03-02T11:20:05.201Z",
    "annotations": {
        "authorization.k8s.io/decision": "allow",
        "authorization.k8s.io/reason": "RBAC",
    },
}


def record(fields: Mapping[str, Any], original: str = "{}") -> Record:
    """A record as the parser would give it."""
    return Record(fields=fields, position=Position("test"), original=original)


def corpus() -> Iterator[Record]:
    """Every EKS audit record of the shared samples (Elastic's native events, Panther's rows)."""
    for path in sorted(K8S.glob("*.log")):
        yield from (r for r in PARSER.parse(path.read_bytes(), str(path)) if isinstance(r, Record))
    rows = [orjson.loads(line) for line in PANTHER_EKS.read_bytes().splitlines() if line.strip()]
    payload = b"\n".join(orjson.dumps(row["log"]) for row in rows)
    yield from (r for r in PARSER.parse(payload, str(PANTHER_EKS)) if isinstance(r, Record))


def with_timestamp(item: Record) -> Record:
    """The record with a receive time when it has none (Panther trims them from its tests)."""
    if "requestReceivedTimestamp" in item.fields or "stageTimestamp" in item.fields:
        return item
    return record({**item.fields, "requestReceivedTimestamp": "2025-03-02T11:20:05Z"})


DOCS = [normalize(with_timestamp(item)) for item in corpus()]


def elastic_pairs() -> Iterator[Any]:
    """(our document, Elastic's expected document) for the native events of the samples."""
    for expected_path in sorted(K8S.glob("*-expected.json")):
        log = expected_path.with_name(expected_path.name.removesuffix("-expected.json"))
        ours = {
            r.original: normalize(r)
            for r in PARSER.parse(log.read_bytes(), str(log))
            if isinstance(r, Record)
        }
        for n, expected in enumerate(orjson.loads(expected_path.read_bytes())["expected"]):
            if expected["event"]["original"] in ours:  # GKE and AKS lines are dead letters
                mine = ours[expected["event"]["original"]]
                yield pytest.param(mine, expected, id=f"{log.name}#{n}")


def test_gke_and_aks_expected_documents_have_no_twin() -> None:
    assert len(list(elastic_pairs())) == 3


@pytest.mark.parametrize(("ours", "theirs"), list(elastic_pairs()))
def test_agrees_with_elastic_on_every_shared_field(
    ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    mine = dict(flatten(ours))
    for path, value in flatten(theirs):
        if path in ALLOWED_DIFFERENCES:
            continue
        if path in SET_FIELDS:
            assert set(mine[path]) == set(value), path
        elif path in mine:
            assert mine[path] == value, path
        else:
            assert not [p for p in mine if p.startswith(path + ".")], path


def test_every_corpus_record_normalizes_or_is_a_parse_error() -> None:
    reasons = []
    for item in corpus():
        try:
            assert isinstance(normalize(item), dict)
        except ParseError as exc:
            reasons.append(str(exc))
    assert set(reasons) == {"audit event without requestReceivedTimestamp or stageTimestamp"}
    assert len(DOCS) == 191


def test_categorization_uses_ecs_allowed_values() -> None:
    for doc in DOCS:
        assert doc["event"]["category"] == ["api"]
        assert set(doc["event"]["type"]) <= API_TYPES
        assert doc["event"]["outcome"] in {"success", "failure", "unknown"}


def test_every_emitted_field_is_mapped_or_deliberately_unindexed() -> None:
    mapped = mapped_fields("duskwatch-ecs-base", "duskwatch-events-eks-audit")
    emitted = {path for doc in DOCS for path, _ in flatten(doc)}
    assert not {p for p in emitted if p not in mapped and not p.startswith(UNINDEXED)}


def test_every_indexed_audit_field_is_type_checked() -> None:
    audit = {
        p.removeprefix("kubernetes.audit.") for p in mapped_fields("duskwatch-events-eks-audit")
    }
    checked = {p for p in audit if not p.startswith(("annotations.", "user.", "impersonatedUser."))}
    assert checked - set(SHAPES) == set()
    assert {"user.username", "user.uid", "user.groups", "impersonatedUser.username"} <= set(SHAPES)


def test_ecs_fields_we_map_have_the_ecs_type() -> None:
    ecs = ecs_types()
    for path, kind in mapped_fields("duskwatch-events-eks-audit").items():
        if not path.startswith("kubernetes."):
            assert ecs[path] == kind, path
    emitted = {path for doc in DOCS for path, _ in flatten(doc)}
    assert {p for p in emitted if not p.startswith(("kubernetes.", "@timestamp"))} <= set(ecs)


def test_source_doc_names_every_field() -> None:
    text = SOURCE_DOC.read_text()
    fields = set(mapped_fields("duskwatch-events-eks-audit")) | set(FIELD_MAP) | set(UNINDEXED)
    emitted = {path for doc in DOCS for path, _ in flatten(doc) if not path.startswith(UNINDEXED)}
    assert sorted(f for f in fields | emitted if f"`{f}`" not in text) == []
    assert all(f"`{path}`" in text for path in ALLOWED_DIFFERENCES)


def test_workload_creation() -> None:
    doc = normalize(record(EVENT, "raw"))
    assert doc["@timestamp"] == "2025-03-02T11:20:05.101Z"
    assert doc["event"] | {"original": None} == {
        "kind": "event",
        "module": "kubernetes",
        "dataset": "kubernetes.audit_logs",
        "provider": "kube-apiserver",
        "action": "create",
        "id": EVENT["auditID"],
        "category": ["api"],
        "type": ["creation", "allowed"],
        "outcome": "success",
        "start": "2025-03-02T11:20:05.101Z",
        "end": "2025-03-02T11:20:05.201Z",
        "original": None,
    }
    assert doc["orchestrator"] == {
        "type": "kubernetes",
        "namespace": "default",
        "resource": {"type": "deployments", "name": "miner"},
        "api_version": "apps/v1",
    }
    assert doc["user"] == {
        "name": "kubernetes-admin",
        "id": "aws-iam-authenticator:1:AIDA",
        "effective": {"name": "system:serviceaccount:default:builder"},
    }
    assert doc["container"] == {"image": {"name": ["xmrig/xmrig:6", "busybox"]}}
    assert doc["source"] == {"address": "198.51.100.20", "ip": "198.51.100.20"}
    assert doc["related"]["ip"] == ["198.51.100.20", "10.0.0.7"]
    assert doc["http"] == {"response": {"status_code": 201}}
    assert doc["kubernetes"]["audit"]["annotations"] == {
        "authorization_k8s_io/decision": "allow",
        "authorization_k8s_io/reason": "RBAC",
    }
    assert doc["kubernetes"]["audit"]["requestObject"] == EVENT["requestObject"]


def test_forbidden_exec_is_a_denied_session_start() -> None:
    fields = {
        **EVENT,
        "objectRef": {"resource": "pods", "subresource": "exec", "name": "web", "apiVersion": "v1"},
        "responseStatus": {"code": 403, "reason": "Forbidden", "message": "pods is forbidden"},
        "annotations": {"authorization.k8s.io/decision": "forbid"},
    }
    doc = normalize(record(fields))
    assert doc["event"]["type"] == ["start", "denied"]
    assert doc["event"]["outcome"] == "failure"
    assert doc["error"] == {"code": "Forbidden", "message": "pods is forbidden"}
    assert doc["orchestrator"]["api_version"] == "v1"


def test_request_received_stage_has_unknown_outcome() -> None:
    fields = {k: v for k, v in EVENT.items() if k not in ("responseStatus", "annotations")}
    doc = normalize(record({**fields, "stage": "RequestReceived"}))
    assert doc["event"]["outcome"] == "unknown"
    assert (
        identity(record({**fields, "stage": "RequestReceived"}))
        == f"{EVENT['auditID']}:RequestReceived"
    )


def test_cloudwatch_envelope_gives_cluster_and_account() -> None:
    envelope = {
        "owner": "111122223333",
        "logGroup": "/aws/eks/prod-eu/cluster",
        "logStream": "kube-apiserver-audit-1",
    }
    doc = normalize(record({**EVENT, CLOUDWATCH_KEY: envelope}))
    assert doc["orchestrator"]["cluster"] == {"name": "prod-eu"}
    assert doc["cloud"] == {"provider": "aws", "account": {"id": "111122223333"}}
    assert CLOUDWATCH_KEY not in doc["kubernetes"]["audit"]


def test_vendor_fields_are_dropped() -> None:
    doc = normalize(record({**EVENT, "p_log_type": "Amazon.EKS.Audit", "p_row_id": "x"}))
    assert set(doc["kubernetes"]["audit"]) <= set(EVENT)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {k: v for k, v in EVENT.items() if "Timestamp" not in k},
            "without requestReceivedTimestamp",
        ),
        ({**EVENT, "requestReceivedTimestamp": "soon"}, "requestReceivedTimestamp"),
        ({**EVENT, "stageTimestamp": "9999-12-31T23:59:59-01:00"}, "out of range"),
        ({**EVENT, "verb": ["get"]}, "verb"),
        ({**EVENT, "user": {"username": 7}}, "user.username"),
        ({**EVENT, "sourceIPs": [1]}, "sourceIPs"),
        ({**EVENT, "responseStatus": {"code": "200"}}, "responseStatus.code"),
        ({**EVENT, "responseStatus": {"code": 10**12}}, "responseStatus.code"),
        ({**EVENT, "annotations": {"a": 1}}, "annotations"),
        ({"protoPayload": {}, "logName": "x"}, "GKE"),
        ({"kind": "Pod"}, "not a Kubernetes audit event"),
    ],
    ids=[
        "no-time",
        "bad-time",
        "out-of-range",
        "verb",
        "username",
        "ips",
        "code-str",
        "code-big",
        "annot",
        "gke",
        "pod",
    ],
)
def test_invalid_records_raise_parse_error(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        normalize(record(fields))


def test_identity() -> None:
    assert identity(record(EVENT)) == f"{EVENT['auditID']}:ResponseComplete"
    assert identity(record({"auditID": "a"})) == "a"
    assert identity(record({"stage": "ResponseComplete"})) is None


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(sorted({*EVENT, CLOUDWATCH_KEY, "p_log_type", "protoPayload", "category"}))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=10), st.dictionaries(KEYS, JSON, max_size=3))
def test_normalize_returns_a_document_or_raises_parse_error(
    base: dict[str, Any], overrides: dict[str, Any]
) -> None:
    for fields in (base, {**EVENT, **overrides}, {**EVENT, "user": base, "objectRef": base}):
        try:
            doc = normalize(record(fields))
        except ParseError:
            continue
        assert isinstance(doc, dict)
        assert doc == normalize(record(dict(reversed(list(fields.items())))))


def test_cluster_account_and_region_from_the_file_layout() -> None:
    line = (
        '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-1",'
        '"stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list",'
        '"user":{"username":"alice"},"sourceIPs":["10.0.0.1"],'
        '"requestReceivedTimestamp":"2025-03-02T11:20:05.101Z",'
        '"stageTimestamp":"2025-03-02T11:20:05.201Z"}'
    )
    from exporter.parsers.eks_audit import PARSER

    for origin, expected in (
        (
            "/logs/eks-audit/111122223333/eu-west-1/prod-eks/2025/03/02/a.log.gz",
            ("prod-eks", "111122223333", "eu-west-1"),
        ),
        (
            "s3://b/exports/aws/eks/blue/cluster/kube-apiserver-audit-1/000000.gz",
            ("blue", None, None),
        ),
    ):
        [record] = list(PARSER.parse(line.encode(), origin))
        doc = normalize(record)  # type: ignore[arg-type]
        assert doc["orchestrator"]["cluster"]["name"] == expected[0]
        assert doc["cloud"].get("account", {}).get("id") == expected[1]
        assert doc["cloud"].get("region") == expected[2]
