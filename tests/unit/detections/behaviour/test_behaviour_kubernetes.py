"""Kubernetes first-seen behaviour detectors: requests, baselines and evaluation (canned)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exporter.detections.behaviour import DETECTORS
from exporter.detections.behaviour.catalogue import kubernetes
from exporter.detections.behaviour.model import Detector, Window

START = datetime(2026, 1, 14, 12, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=1))
USER = "arn:aws:iam::111122223333:user/bob"
NAMES = {
    "kubernetes-permission-checked": "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
    "kubernetes-secrets-accessed": "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
    "kubernetes-exec-in-pod": "Execution:Kubernetes/AnomalousBehavior.ExecInPod",
    "kubernetes-role-binding-created": (
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated"
    ),
}
SECRETS = DETECTORS.get("kubernetes-secrets-accessed")
BINDINGS = DETECTORS.get("kubernetes-role-binding-created")
EXEC = DETECTORS.get("kubernetes-exec-in-pod")


def ms(moment: datetime) -> float:
    return moment.timestamp() * 1000


def actor(key: list[str], **aggs: Any) -> dict[str, Any]:
    event = {"orchestrator": {"cluster": {"name": key[0]}}, "user": {"name": key[1]}}
    return {
        "key": key,
        "doc_count": 2,
        "sample": {"hits": {"hits": [{"_source": event}]}},
        "first_seen": {"value": ms(START)},
        "last_seen": {"value": ms(START + timedelta(minutes=1))},
        **aggs,
    }


def history(since: datetime, done: int = 0, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    past: dict[str, Any] = {"doc_count": done}
    if scopes:
        past["scopes"] = {"buckets": [{"key": scope, "doc_count": 1} for scope in scopes]}
    bucket = {
        "key": ["prod", USER],
        "doc_count": 50,
        "since": {"value": ms(since)},
        "done": past,
    }
    return {"history": {"buckets": [bucket]}}


@pytest.mark.parametrize(("name", "finding_type"), NAMES.items())
def test_detectors_are_registered_with_their_type(name: str, finding_type: str) -> None:
    detector = DETECTORS.get(name)
    assert detector.finding_types == (finding_type,)
    assert detector.log_type == "eks-audit"
    assert detector.baseline_days == 7
    assert detector.params["learning_days"] <= 5


def test_query_keeps_allowed_requests_of_non_control_plane_users() -> None:
    query = str(SECRETS.query(SECRETS.params).to_dict())
    assert "'secrets'" in query
    assert "'lt': 400" in query
    assert "eks:" in query


def test_secrets_are_keyed_per_namespace_others_per_user() -> None:
    secrets = SECRETS.aggs(SECRETS.params)["actors"].to_dict()["multi_terms"]["terms"]
    execs = EXEC.aggs(EXEC.params)["actors"].to_dict()["multi_terms"]["terms"]
    assert [term["field"] for term in secrets][-1] == kubernetes.NAMESPACE
    assert [term["field"] for term in execs] == [kubernetes.CLUSTER, kubernetes.USER]


def test_baseline_asks_only_about_the_window_users() -> None:
    assert EXEC.baseline is not None
    assert EXEC.baseline({"actors": {"buckets": []}}, EXEC.params) is None
    wanted = EXEC.baseline({"actors": {"buckets": [actor(["prod", USER])]}}, EXEC.params)
    assert wanted is not None
    assert wanted.query.to_dict() == {"terms": {kubernetes.USER: [USER]}}


def evaluate(detector: Detector, key: list[str], past: dict[str, Any], **aggs: Any) -> list[str]:
    window = {"actors": {"buckets": [actor(key, **aggs)]}}
    return [hit.spec.type for hit in detector.evaluate(window, past, WINDOW, detector.params)]


def test_first_time_of_a_known_user_reports() -> None:
    assert evaluate(EXEC, ["prod", USER], history(START - timedelta(days=5))) == [
        "Execution:Kubernetes/AnomalousBehavior.ExecInPod"
    ]


def test_routine_or_still_learning_users_do_not_report() -> None:
    known = START - timedelta(days=5)
    assert not evaluate(EXEC, ["prod", USER], history(known, done=3))
    assert not evaluate(EXEC, ["prod", USER], history(START - timedelta(days=1)))
    assert not evaluate(EXEC, ["prod", USER], {})
    assert not evaluate(EXEC, ["other-cluster", USER], history(known))


def test_secret_reads_compare_namespaces() -> None:
    known = START - timedelta(days=5)
    key = ["prod", USER, "team-a"]
    assert evaluate(SECRETS, key, history(known, 2, ("team-b",)))
    assert not evaluate(SECRETS, key, history(known, 2, ("team-a",)))
    assert not evaluate(SECRETS, key, history(known, 2, (kubernetes.CLUSTER_WIDE,)))


def test_binding_an_admin_role_is_high() -> None:
    window = {"actors": {"buckets": [actor(["prod", USER], escalated={"doc_count": 1})]}}
    past = history(START - timedelta(days=5))
    hits = BINDINGS.evaluate(window, past, WINDOW, BINDINGS.params)
    assert [hit.spec.severity for hit in hits] == [8.0]
    assert hits[0].spec.key == (USER,)
    plain = {"actors": {"buckets": [actor(["prod", USER], escalated={"doc_count": 0})]}}
    assert [h.spec.severity for h in BINDINGS.evaluate(plain, past, WINDOW, BINDINGS.params)] == [
        5.0
    ]


@pytest.mark.parametrize("name", NAMES)
def test_every_detector_has_positive_and_negative_cases(name: str) -> None:
    detector = DETECTORS.get(name)
    assert detector.cases is not None
    cases = detector.cases(WINDOW)
    assert any(case.expect for case in cases)
    assert any(not case.expect for case in cases)
