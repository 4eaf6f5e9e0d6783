"""Rule and list scenarios: labels, their records as ECS documents, the lists, isolation."""

from __future__ import annotations

import gzip
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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

from exporter.registry import Registry
from exporter.simulate import SCENARIOS, SimulationConfig, simulate
from exporter.simulate.labels import IpList, Scenario, merge_lists
from exporter.simulate.scenarios_signatures import HEALTH_PATHS, MINING_POOLS


def audit(doc: Doc, dotted: str) -> Any:
    return get(doc, f"kubernetes.audit.{dotted}")


def anonymous(doc: Doc) -> bool:
    groups = audit(doc, "user.groups") or []
    return bool(get(doc, "user.name") == "system:anonymous" and "system:unauthenticated" in groups)


def execs_in(namespace: str) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        ref = (audit(doc, "objectRef.resource"), audit(doc, "objectRef.subresource"))
        where = (audit(doc, "objectRef.namespace"), get(doc, "http.response.status_code"))
        return bool(
            audit(doc, "verb") == "create" and ref == ("pods", "exec") and where == (namespace, 101)
        )

    return check


def block_flags(doc: Doc) -> set[Any]:
    config = request(doc, "PublicAccessBlockConfiguration") or {}
    return {v for k, v in config.items() if k != "xmlns"} if len(config) == 5 else set()


def from_ip(ip: str, *actions: str) -> Callable[[Doc], bool]:
    return lambda d: ip in (get(d, "related.ip") or []) and get(d, "event.action") in actions


@dataclass(frozen=True)
class Check:
    """What a scenario's label says and how to find (and vet) its records' documents."""

    finding: str
    expected: str
    source: str
    matches: Callable[[Doc], bool]
    count: int


DESCRIBE = ("DescribeInstances", "DescribeSecurityGroups")
CUSTOM_EC2 = "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
CHECKS = {
    "cloudtrail-logging-disabled": Check(
        "Stealth:IAMUser/CloudTrailLoggingDisabled", "positive", "cloudtrail",
        lambda d: from_ip("203.0.113.23", "StopLogging", "DeleteTrail")(d)
        and get(d, "event.provider") == "cloudtrail.amazonaws.com"
        and request(d, "name").endswith(":trail/org-trail"), 2,
    ),
    "trail-logging-started": Check(
        "Stealth:IAMUser/CloudTrailLoggingDisabled", "negative", "cloudtrail",
        lambda d: get(d, "event.action") == "StartLogging", 1,
    ),
    "kali-linux-recon": Check(
        "PenTest:IAMUser/KaliLinux", "positive", "cloudtrail",
        lambda d: "kali" in get(d, "user_agent.original")
        and get(d, "event.provider") == "iam.amazonaws.com", 3,
    ),
    "kali-ami-lookup": Check(
        "PenTest:IAMUser/KaliLinux", "negative", "cloudtrail",
        lambda d: get(d, "event.action") == "DescribeImages"
        and get(d, "event.provider") == "ec2.amazonaws.com"
        and "kali" in json.dumps(request(d, "filterSet"))
        and "kali" not in get(d, "user_agent.original"), 1,
    ),
    "password-policy-weakened": Check(
        "Stealth:IAMUser/PasswordPolicyChange", "positive", "cloudtrail",
        lambda d: get(d, "event.action") == "UpdateAccountPasswordPolicy"
        and request(d, "minimumPasswordLength") == 6
        and request(d, "requireSymbols") is False, 1,
    ),
    "bucket-public-access-unblocked": Check(
        "Policy:S3/BucketBlockPublicAccessDisabled", "positive", "cloudtrail",
        lambda d: get(d, "event.action") == "PutBucketPublicAccessBlock"
        and block_flags(d) == {False}, 1,
    ),
    "bucket-public-access-blocked": Check(
        "Policy:S3/BucketBlockPublicAccessDisabled", "negative", "cloudtrail",
        lambda d: get(d, "event.action") == "PutBucketPublicAccessBlock"
        and block_flags(d) == {True}, 1,
    ),
    "bucket-access-logging-disabled": Check(
        "Stealth:S3/ServerAccessLoggingDisabled", "positive", "cloudtrail",
        lambda d: get(d, "event.action") == "PutBucketLogging"
        and request(d, "BucketLoggingStatus") == {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"},
        1,
    ),
    "exec-in-kube-system-pod": Check(
        "Execution:Kubernetes/ExecInKubeSystemPod", "positive", "eks-audit",
        lambda d: execs_in("kube-system")(d) and get(d, "source.ip") == "203.0.113.51", 1,
    ),
    "exec-in-team-pod": Check(
        "Execution:Kubernetes/ExecInKubeSystemPod", "negative", "eks-audit", execs_in("team-a"), 1
    ),
    "anonymous-api-access": Check(
        "Discovery:Kubernetes/SuccessfulAnonymousAccess", "positive", "eks-audit",
        lambda d: anonymous(d) and audit(d, "verb") == "list"
        and audit(d, "objectRef.resource") in ("namespaces", "pods")
        and get(d, "http.response.status_code") == 200, 2,
    ),
    "anonymous-health-checks": Check(
        "Discovery:Kubernetes/SuccessfulAnonymousAccess", "negative", "eks-audit",
        lambda d: anonymous(d) and get(d, "url.original") in HEALTH_PATHS
        and audit(d, "objectRef") is None, 12,
    ),
    "metadata-dns-rebind": Check(
        "UnauthorizedAccess:EC2/MetadataDNSRebind", "positive", "route53",
        lambda d: get(d, "dns.question.registered_domain") == "rbndr.us", 2,
    ),
    "mining-pool-lookups": Check(
        "CryptoCurrency:EC2/BitcoinTool.B!DNS", "positive", "route53",
        lambda d: get(d, "dns.question.name") + "." in MINING_POOLS
        and bool(get(d, "dns.resolved_ip")), 12,
    ),
    "threat-list-inbound": Check(
        CUSTOM_EC2, "positive", "vpcflow", from_ip("203.0.113.66", "ACCEPT"), 10
    ),
    "threat-list-outbound": Check(
        CUSTOM_EC2, "positive", "vpcflow", from_ip("203.0.113.130", "ACCEPT"), 12
    ),
    "threat-list-iam-recon": Check(
        "Recon:IAMUser/MaliciousIPCaller.Custom", "positive", "cloudtrail",
        from_ip("203.0.113.66", *DESCRIBE), 2,
    ),
    "threat-list-iam-persistence": Check(
        "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "positive", "cloudtrail",
        from_ip("203.0.113.66", "CreateUser", "AttachUserPolicy", "CreateAccessKey"), 3,
    ),
    "trusted-ip-traffic": Check(
        CUSTOM_EC2, "negative", "vpcflow", from_ip("203.0.113.99", "ACCEPT"), 20
    ),
    "trusted-ip-api-calls": Check(
        "Recon:IAMUser/MaliciousIPCaller.Custom", "negative", "cloudtrail",
        from_ip("203.0.113.99", *DESCRIBE), 2,
    ),
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


def span(item: Located) -> tuple[float, float]:
    if item.source == "vpcflow":
        fields = ("event.start", "event.end")
    else:
        fields = ("@timestamp", "@timestamp")
    start, end = (datetime.fromisoformat(get(item.doc, f)).timestamp() for f in fields)
    return start, end


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_every_scenario_of_these_modules_is_checked() -> None:
    modules = {"exporter.simulate.scenarios_signatures", "exporter.simulate.scenarios_lists"}
    mine = {name for name, scenario in SCENARIOS.items() if scenario.__module__ in modules}
    assert mine
    assert set(CHECKS) == mine


@pytest.mark.parametrize("name", list(CHECKS))
def test_label_says_what_and_when(run: Run, name: str) -> None:
    label, check = run.label(name), CHECKS[name]
    assert (label["finding_type"], label["expected"]) == (check.finding, check.expected)
    assert label["account"] in ACCOUNTS
    assert label["region"] in REGIONS
    assert label["notes"]
    found = matching(run, name)
    assert len(found) == check.count
    spans = [span(item) for item in found]
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    assert LAST_DAY.timestamp() <= at(label["start"]) <= first < at(label["start"]) + 1
    assert last <= at(label["end"]) < last + 1 < END.timestamp()


@pytest.mark.parametrize("name", list(CHECKS))
def test_records_belong_to_the_labelled_resource(run: Run, name: str) -> None:
    label = run.label(name)
    account, region, resource = label["account"], label["region"], label["resource"]
    for item in matching(run, name):
        if item.source == "cloudtrail":
            assert item.path.startswith(f"AWSLogs/{account}/CloudTrail/{region}/")
            assert get(item.doc, "aws.cloudtrail.user_identity.access_key_id") == resource
            assert get(item.doc, "aws.cloudtrail.user_identity.type") == "IAMUser"
        elif item.source == "eks-audit":
            assert item.path.startswith(f"eks-audit/{account}/{region}/{resource}/")
        else:
            assert get(item.doc, "cloud.instance.id") == resource
            assert (get(item.doc, "cloud.account.id"), get(item.doc, "cloud.region")) == (
                account,
                region,
            )


def test_s3_bucket_calls_name_their_bucket(run: Run) -> None:
    for name in ("bucket-public-access-unblocked", "bucket-access-logging-disabled"):
        (item,) = matching(run, name)
        bucket = request(item.doc, "bucketName")
        assert get(item.doc, "aws.cloudtrail.resources") == [
            {
                "arn": f"arn:aws:s3:::{bucket}",
                "account_id": run.label(name)["account"],
                "type": "AWS::S3::Bucket",
            }
        ]
        assert get(item.doc, "tls.client.server_name").startswith(f"{bucket}.s3.")
        assert get(item.doc, "user_agent.original").startswith("[")
        assert get(item.doc, "event.outcome") == "success"


def test_rebind_resolves_to_the_metadata_address(run: Run) -> None:
    resolved = [get(item.doc, "dns.resolved_ip") for item in matching(run, "metadata-dns-rebind")]
    assert resolved == [["203.0.113.33"], ["169.254.169.254"]]


def listed(lists: list[IpList], kind: str, ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    nets = (ipaddress.ip_network(e) for x in lists if x.kind == kind for e in x.entries)
    return any(address in net for net in nets)


def declared(run: Run) -> list[IpList]:
    return [
        IpList(x["name"], x["kind"], tuple(x["entries"]), x.get("category"), x["format"])
        for x in run.labels["lists"]
    ]


def test_lists_hold_the_entries_the_scenarios_rely_on(run: Run) -> None:
    assert run.labels["lists"] == [
        {
            "name": "sim-threats",
            "kind": "threat",
            "category": "custom",
            "format": "txt",
            "entries": ["203.0.113.66", "203.0.113.128/28", "203.0.113.96/28"],
        },
        {"name": "sim-trusted", "kind": "trusted", "format": "txt", "entries": ["203.0.113.99"]},
    ]
    lists = declared(run)
    for ip, threat, trusted in (
        ("203.0.113.66", True, False),
        ("203.0.113.130", True, False),
        ("203.0.113.99", True, True),
        ("203.0.113.23", False, False),
    ):
        assert (listed(lists, "threat", ip), listed(lists, "trusted", ip)) == (threat, trusted)


def test_only_list_scenarios_touch_listed_addresses(run: Run) -> None:
    lists = declared(run)
    touching = [
        item
        for item in run.docs
        if any(listed(lists, "threat", ip) for ip in get(item.doc, "related.ip") or [])
    ]
    custom = [n for n, c in CHECKS.items() if ".Custom" in c.finding]
    assert len(touching) == sum(CHECKS[name].count for name in custom)


@pytest.mark.parametrize("name", list(CHECKS))
def test_scenarios_are_deterministic_per_seed(name: str) -> None:
    assert run_scenario(1, name) == run_scenario(1, name)
    assert run_scenario(1, name)[1] != run_scenario(2, name)[1]


def test_background_never_uses_scenario_addresses_or_names(tmp_path: Path) -> None:
    summary = simulate(SimulationConfig(tmp_path / "bg", **TINY), scenarios=Registry("scenario"))
    assert json.loads(summary.labels_path.read_text())["lists"] == []
    markers: tuple[str, ...] = ("203.0.113.", "rbndr.us", "system:anonymous", "/exec", "kali")
    markers += tuple(pool.rstrip(".") for pool in MINING_POOLS)
    for path in (tmp_path / "bg").rglob("*.gz"):
        text = gzip.decompress(path.read_bytes()).decode()
        assert not [m for m in markers if m in text], path


def test_lists_merge_by_name_and_reject_bad_entries() -> None:
    moment = datetime(2025, 3, 3, tzinfo=UTC)
    a = IpList("t", "threat", ("203.0.113.1", "203.0.113.0/30"), "custom")
    b = IpList("t", "threat", ("203.0.113.0/30", "2001:db8::/32"), "custom")
    labels = [
        Scenario("x", "T", "r", "1", "us-east-1", "positive", moment, moment, "", (a,)),
        Scenario("y", "T", "r", "1", "us-east-1", "positive", moment, moment, "", (b,)),
    ]
    assert merge_lists(labels) == [
        IpList("t", "threat", ("203.0.113.1", "203.0.113.0/30", "2001:db8::/32"), "custom")
    ]
    assert "lists" not in labels[0].to_json()
    clash = Scenario("z", "T", "r", "1", "us-east-1", "negative", moment, moment, "", (
        IpList("t", "trusted", ("203.0.113.9",)),
    ))  # fmt: skip
    with pytest.raises(ValueError, match="different settings"):
        merge_lists([*labels, clash])
    for bad in ("evil.example", "203.0.113.1/24", "300.1.1.1"):
        with pytest.raises(ValueError, match="does not appear to be|has host bits"):
            IpList("t", "threat", (bad,))
