"""More rule scenarios (S3, Bedrock, DNS lists, Kubernetes): labels, records, isolation."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from scenario_support import (
    ACCOUNTS,
    END,
    LAST_DAY,
    REGIONS,
    TINY,
    Doc,
    Located,
    Run,
    get,
    request,
    run_scenario,
)

from exporter.detections.threatintel.resolution import DNS_TYPES
from exporter.findings.types import FINDING_TYPES
from exporter.registry import Registry
from exporter.simulate import (
    SCENARIOS,
    SimulationConfig,
    scenarios_kubernetes,
    scenarios_more,
    simulate,
)
from exporter.simulate.model import backup_plan, build_model
from exporter.simulate.scenarios_kubernetes import LAST_APPLIED
from exporter.simulate.scenarios_more import ALL_USERS, C2_DOMAIN, DROP_POINT_DOMAIN

BUILTIN = "exporter.detections.threatintel.builtin"
PODS = ("privileged-pod", "unprivileged-pod", "host-root-mount")
APPLIED = ("unprivileged-pod", "host-root-mount", "host-cache-mount", "web-app-load-balancer")
BACKGROUND_NEVER = (
    *("203.0.113.", "kali", "guardduty", "AccessControlPolicy", "x-amz-acl", "bucketPolicy"),
    *("AccountPublicAccessBlock", "ModelInvocationLogging", "requestObject", "privileged"),
    *("hostPath", "LoadBalancer", "rolebindings", "/secrets", "system:anonymous"),
)


def body(doc: Doc, dotted: str) -> Any:
    return get(get(doc, "kubernetes.audit.requestObject"), dotted)


def call(*actions: str) -> Callable[[Doc], bool]:
    return lambda d: get(d, "event.action") in actions


def acl_grants(doc: Doc) -> str:
    return json.dumps(request(doc, "AccessControlPolicy"))


def privileged(doc: Doc) -> Any:
    return body(doc, "spec.containers")[0]["securityContext"]["privileged"]


def flags(doc: Doc) -> set[Any]:
    config = request(doc, "PublicAccessBlockConfiguration") or {}
    return {v for k, v in config.items() if k != "xmlns"} if len(config) == 5 else set()


def public_policy(public: bool) -> Callable[[Doc], bool]:
    return lambda d: call("PutBucketPolicy")(d) and get(d, "duskwatch.s3.public_policy") is public


def canned(name: str) -> Callable[[Doc], bool]:
    return lambda d: call("PutBucketAcl")(d) and request(d, "x-amz-acl") == [name]


def queried(name: str) -> Callable[[Doc], bool]:
    return lambda d: get(d, "dns.question.name") + "." == name


def writes(verb: str, resource: str) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        done = (get(doc, "kubernetes.audit.verb"), get(doc, "orchestrator.resource.type"))
        return done == (verb, resource) and get(doc, "kubernetes.audit.requestObject") is not None

    return check


def pod_named(name: str) -> Callable[[Doc], bool]:
    return lambda d: writes("create", "pods")(d) and body(d, "metadata.name") == name


def bound(role: str, subject: str) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        subjects = [s["name"] for s in body(doc, "subjects") or []]
        return body(doc, "roleRef.name") == role and subjects == [subject]

    return check


def secrets(anonymous: bool) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        is_anonymous = get(doc, "user.name") == "system:anonymous"
        return get(doc, "orchestrator.resource.type") == "secrets" and is_anonymous is anonymous

    return check


@dataclass(frozen=True)
class Check:
    """What a scenario's label says and how to find its records' documents."""

    finding: str
    expected: str
    source: str
    matches: Callable[[Doc], bool]
    count: int


ANON_GRANTED = "Policy:Kubernetes/AnonymousAccessGranted"
DEFAULT_SA = "Policy:Kubernetes/AdminAccessToDefaultServiceAccount"
PRIVILEGED = "PrivilegeEscalation:Kubernetes/PrivilegedContainer"
MOUNT = "Persistence:Kubernetes/ContainerWithSensitiveMount"
DASHBOARD = "Policy:Kubernetes/ExposedDashboard"
ANON_SECRETS = "CredentialAccess:Kubernetes/SuccessfulAnonymousAccess"
ACCOUNT_BPA = "Policy:S3/AccountBlockPublicAccessDisabled"
ANON_BUCKET = "Policy:S3/BucketAnonymousAccessGranted"
BEDROCK = "DefenseEvasion:IAMUser/BedrockLoggingDisabled"
CHECKS = {
    "kali-linux-s3-download": Check(
        "PenTest:S3/KaliLinux", "positive", "cloudtrail",
        lambda d: get(d, "aws.cloudtrail.event_category") == "Data"
        and "kali" in get(d, "user_agent.original"), 3,
    ),
    "account-public-access-unblocked": Check(
        ACCOUNT_BPA, "positive", "cloudtrail",
        lambda d: call("PutAccountPublicAccessBlock")(d) and flags(d) == {False}, 1,
    ),
    "account-public-access-blocked": Check(
        ACCOUNT_BPA, "negative", "cloudtrail",
        lambda d: call("PutAccountPublicAccessBlock")(d) and flags(d) == {True}, 1,
    ),
    "bucket-acl-public-read": Check(
        ANON_BUCKET, "positive", "cloudtrail",
        lambda d: call("PutBucketAcl")(d) and ALL_USERS in acl_grants(d), 1,
    ),
    "bucket-policy-public-read": Check(
        ANON_BUCKET, "positive", "cloudtrail", public_policy(True), 1
    ),
    "bucket-acl-private": Check(ANON_BUCKET, "negative", "cloudtrail", canned("private"), 1),
    "bucket-policy-tls-only": Check(ANON_BUCKET, "negative", "cloudtrail", public_policy(False), 1),
    "bucket-acl-authenticated-read": Check(
        "Policy:S3/BucketPublicAccessGranted", "positive", "cloudtrail",
        canned("authenticated-read"), 1,
    ),
    "bedrock-logging-disabled": Check(
        BEDROCK, "positive", "cloudtrail",
        lambda d: get(d, "event.provider") == "bedrock.amazonaws.com"
        and get(d, "source.ip") == "203.0.113.201", 2,
    ),
    "bedrock-logging-enabled": Check(
        BEDROCK, "negative", "cloudtrail", call("PutModelInvocationLoggingConfiguration"), 1
    ),
    "c2-domain-beacon": Check(
        "Backdoor:EC2/C&CActivity.B!DNS", "positive", "route53", queried(C2_DOMAIN), 8
    ),
    "drop-point-lookups": Check(
        "Trojan:EC2/DropPoint!DNS", "positive", "route53", queried(DROP_POINT_DOMAIN), 3
    ),
    "privileged-pod": Check(
        PRIVILEGED, "positive", "eks-audit",
        lambda d: pod_named("node-debug")(d) and privileged(d) is True, 1,
    ),
    "unprivileged-pod": Check(
        PRIVILEGED, "negative", "eks-audit",
        lambda d: pod_named("curl-debug")(d) and privileged(d) is False, 1,
    ),
    "host-root-mount": Check(
        MOUNT, "positive", "eks-audit",
        lambda d: pod_named("hostroot")(d)
        and body(d, "spec.volumes")[0]["hostPath"]["path"] == "/", 1,
    ),
    "host-cache-mount": Check(
        MOUNT, "negative", "eks-audit",
        lambda d: writes("create", "deployments")(d)
        and "/mnt/data/cache" in json.dumps(body(d, "spec.template.spec.volumes")), 1,
    ),
    "default-sa-cluster-admin": Check(
        DEFAULT_SA, "positive", "eks-audit",
        lambda d: writes("create", "clusterrolebindings")(d)
        and bound("cluster-admin", "default")(d), 1,
    ),
    "default-sa-view": Check(
        DEFAULT_SA, "negative", "eks-audit",
        lambda d: writes("create", "rolebindings")(d) and bound("view", "default")(d), 1,
    ),
    "anonymous-access-granted": Check(
        ANON_GRANTED, "positive", "eks-audit",
        lambda d: writes("create", "clusterrolebindings")(d)
        and bound("view", "system:unauthenticated")(d), 1,
    ),
    "dashboard-load-balancer": Check(
        DASHBOARD, "positive", "eks-audit",
        lambda d: writes("patch", "services")(d)
        and get(d, "orchestrator.namespace") == "kubernetes-dashboard", 1,
    ),
    "web-app-load-balancer": Check(
        DASHBOARD, "negative", "eks-audit",
        lambda d: writes("create", "services")(d) and body(d, "spec.type") == "LoadBalancer", 1,
    ),
    "anonymous-secret-reads": Check(ANON_SECRETS, "positive", "eks-audit", secrets(True), 2),
    "admin-secret-reads": Check(ANON_SECRETS, "negative", "eks-audit", secrets(False), 2),
}  # fmt: skip


def matching(run: Run, name: str) -> list[Located]:
    """The scenario's records: matching documents within its label's time range (behaviour
    scenarios write the same kind of records as routine on other days and times)."""
    check, label = CHECKS[name], run.label(name)
    start, end = at(label["start"]), at(label["end"]) + 1
    return [
        item
        for item in run.docs
        if item.source == check.source
        and check.matches(item.doc)
        and start <= at(get(item.doc, "@timestamp")) < end
    ]


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_every_scenario_of_these_modules_is_checked() -> None:
    declared = {
        name
        for module in (scenarios_more, scenarios_kubernetes)
        for name in re.findall(r'@labelled\(\s*"([^"]+)"', Path(str(module.__file__)).read_text())
    }
    assert set(CHECKS) == declared
    assert declared <= set(SCENARIOS.names())


@pytest.mark.parametrize("name", list(CHECKS))
def test_label_says_what_and_when(run: Run, name: str) -> None:
    label, check = run.label(name), CHECKS[name]
    assert (label["finding_type"], label["expected"]) == (check.finding, check.expected)
    assert FINDING_TYPES.get(check.finding).log_type == check.source
    assert (label["account"], label["region"]) in {(a, r) for a in ACCOUNTS for r in REGIONS}
    assert label["notes"]
    found = matching(run, name)
    assert len(found) == check.count
    times = [at(get(item.doc, "@timestamp")) for item in found]
    assert LAST_DAY.timestamp() <= at(label["start"]) <= min(times) < at(label["start"]) + 1
    assert max(times) <= at(label["end"]) < max(times) + 1 < END.timestamp()


@pytest.mark.parametrize("name", list(CHECKS))
def test_records_belong_to_the_labelled_resource(run: Run, name: str) -> None:
    label = run.label(name)
    account, region, resource = label["account"], label["region"], label["resource"]
    kind = FINDING_TYPES.get(label["finding_type"]).resource_type
    for item in matching(run, name):
        if kind == "EKSCluster":
            assert item.path.startswith(f"eks-audit/{account}/{region}/{resource}/")
            continue
        where = (get(item.doc, "cloud.account.id"), get(item.doc, "cloud.region"))
        assert where == (account, region)
        if kind == "Instance":
            assert get(item.doc, "cloud.instance.id") == resource
            continue
        assert item.path.startswith(f"AWSLogs/{account}/CloudTrail/{region}/")
        assert get(item.doc, "aws.cloudtrail.user_identity.type") == "IAMUser"
        if kind == "S3Bucket":
            assert request(item.doc, "bucketName") == resource
        else:
            assert get(item.doc, "aws.cloudtrail.user_identity.access_key_id") == resource


def test_kali_downloads_last_nights_backup(run: Run) -> None:
    items = matching(run, "kali-linux-s3-download")
    assert [get(i.doc, "event.action") for i in items] == ["ListObjects", "GetObject", "GetObject"]
    assert all(get(i.doc, "event.outcome") == "success" for i in items)
    start, end = int((END - timedelta(days=2)).timestamp()), int(END.timestamp())
    model = build_model(1, start, end, 0.02, ACCOUNTS, REGIONS)
    plan = backup_plan(1, model.accounts[0].vpcs[0], start)
    assert [request(i.doc, "key") for i in items[1:]] == [key for key, _ in plan.objects[:2]]
    assert request(items[0].doc, "prefix") == plan.objects[0][0].rsplit("/", 1)[0] + "/"


def test_bucket_changes_are_management_events_on_their_bucket(run: Run) -> None:
    names = [n for n, c in CHECKS.items() if c.finding.startswith("Policy:S3/Bucket")]
    for item in (item for name in names for item in matching(run, name)):
        host = f"{request(item.doc, 'bucketName')}.s3.{get(item.doc, 'cloud.region')}.amazonaws.com"
        assert get(item.doc, "aws.cloudtrail.event_category") == "Management"
        assert get(item.doc, "tls.client.server_name") == host
        assert get(item.doc, "user_agent.original").startswith("[")


def test_dns_domains_are_on_the_builtin_list_with_their_type(run: Run) -> None:
    text = resources.files(BUILTIN).joinpath("guardduty-tester.txt").read_text()
    rows = csv.reader(line for line in text.splitlines() if not line.startswith("#"))
    categories = {row[0]: row[1] for row in rows}
    for name in ("c2-domain-beacon", "drop-point-lookups"):
        (domain,) = {get(item.doc, "dns.question.name") for item in matching(run, name)}
        assert DNS_TYPES[categories[domain]] == CHECKS[name].finding
        assert all(get(item.doc, "dns.response_code") == "NOERROR" for item in matching(run, name))


def test_applied_manifests_carry_their_last_applied_configuration(run: Run) -> None:
    for name in APPLIED:
        (item,) = matching(run, name)
        sent = get(item.doc, "kubernetes.audit.requestObject")
        metadata = dict(sent["metadata"])
        annotations = dict(metadata.pop("annotations"))
        last = json.loads(annotations.pop(LAST_APPLIED))
        metadata |= {"annotations": annotations} if annotations else {}
        assert last == {**sent, "metadata": metadata}
        assert get(item.doc, "kubernetes.audit.level") == "Request"


def test_workloads_name_their_images(run: Run) -> None:
    images = {name: get(matching(run, name)[0].doc, "container.image.name") for name in PODS}
    assert images == {
        "privileged-pod": ["ubuntu:22.04"],
        "unprivileged-pod": ["curlimages/curl:8.7.1"],
        "host-root-mount": ["alpine:3.19"],
    }


@pytest.mark.parametrize("name", list(CHECKS))
def test_scenarios_are_deterministic_per_seed(name: str) -> None:
    assert run_scenario(1, name) == run_scenario(1, name)
    assert run_scenario(1, name)[1] != run_scenario(2, name)[1]


def test_background_never_shows_these_patterns(tmp_path: Path) -> None:
    simulate(SimulationConfig(tmp_path / "bg", **TINY), scenarios=Registry("scenario"))
    for path in (tmp_path / "bg").rglob("*.gz"):
        text = gzip.decompress(path.read_bytes()).decode()
        assert not [m for m in BACKGROUND_NEVER if m in text], path
