"""List hits -> finding types: the resolution table row by row, trusted wins, DNS semantics."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.detections.threatintel import resolution
from exporter.detections.threatintel.findings import intel_findings
from exporter.detections.threatintel.model import IndicatorType, IntelHit, ListKind
from exporter.findings.spec import FindingSpec, ThreatDetail

ATTACKER = "203.0.113.45"
INSTANCE_IP = "10.0.3.25"
LOW, MEDIUM, HIGH = 2.0, 5.0, 8.0


def hit(
    category: str = "custom",
    indicator: str = ATTACKER,
    *,
    list_name: str = "bad-ips",
    list_kind: ListKind = "threat",
    indicator_type: IndicatorType | None = None,
    threat_name: str | None = None,
) -> IntelHit:
    if indicator_type is None:
        indicator_type = "cidr" if "/" in indicator else "ip"
        if not any(c.isdigit() for c in indicator.split(".")[-1]) and ":" not in indicator:
            indicator_type = "domain"
    return IntelHit(list_name, list_kind, category, indicator, indicator_type, threat_name)


def cloudtrail(api: str, *, data: bool = False, provider: str = "", ip: str = ATTACKER) -> Any:
    service = provider or ("s3.amazonaws.com" if data else "iam.amazonaws.com")
    return {
        "event": {"action": api, "provider": service},
        "source": {"ip": ip},
        "related": {"ip": [ip]},
        "user": {"name": "ci-bot"},
        "aws": {
            "cloudtrail": {
                "event_category": "Data" if data else "Management",
                "request_parameters": {"bucketName": "payroll-exports"},
            }
        },
    }


def s3(api: str) -> Any:
    return cloudtrail(api, data=True)


def eks(verb: str, resource: str = "", subresource: str = "", uri: str = "") -> Any:
    object_ref = {"resource": resource, **({"subresource": subresource} if subresource else {})}
    return {
        "event": {"action": verb},
        "source": {"ip": ATTACKER},
        "related": {"ip": [ATTACKER]},
        "orchestrator": {"cluster": {"name": "prod"}, "resource": {"type": resource}},
        "user": {"name": "kubernetes-admin"},
        "kubernetes": {
            "audit": {
                "verb": verb,
                "requestURI": uri or f"/api/v1/{resource}",
                "objectRef": object_ref if resource else {},
            }
        },
    }


def flow(src: str, dst: str, ports: tuple[int, int] | None = (49822, 443)) -> Any:
    source: dict[str, Any] = {"ip": src}
    destination: dict[str, Any] = {"ip": dst}
    if ports:
        source["port"], destination["port"] = ports
    return {
        "source": source,
        "destination": destination,
        "related": {"ip": [src, dst]},
        "cloud": {"instance": {"id": "i-0abc1234def567890"}},
        "aws": {"vpcflow": {"interface_id": "eni-0f1e"}},
    }


def inbound() -> Any:
    return flow(ATTACKER, INSTANCE_IP)


def outbound() -> Any:
    return flow(INSTANCE_IP, ATTACKER)


def dns(name: str = "a.b.evil.example") -> Any:
    labels = name.split(".")
    parents = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return {
        "dns": {"question": {"name": name, "type": "A"}},
        "duskwatch": {"dns": {"parent_domains": parents}},
        "source": {"ip": INSTANCE_IP},
        "related": {"ip": [INSTANCE_IP, ATTACKER]},
        "cloud": {"instance": {"id": "i-0abc1234def567890"}},
    }


def types(log_type: str, event: Any, *hits: IntelHit) -> list[str]:
    return [spec.type for spec in intel_findings(event, log_type, hits)]


def one(log_type: str, event: Any, *hits: IntelHit) -> FindingSpec:
    specs = intel_findings(event, log_type, hits)
    assert len(specs) == 1, specs
    return specs[0]


# (id, log type, event, hit, type, role, severity): every row of the resolution tables.
ROWS: list[tuple[str, str, Any, IntelHit, str, str, float]] = [
    # CloudTrail management
    ("iam-recon-custom", "cloudtrail", cloudtrail("ListUsers"), hit(),
     "Recon:IAMUser/MaliciousIPCaller.Custom", "TARGET", MEDIUM),
    ("iam-access-custom", "cloudtrail", cloudtrail("CreateUser"), hit(),
     "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "TARGET", MEDIUM),
    ("iam-recon-tor", "cloudtrail", cloudtrail("DescribeInstances"), hit("tor"),
     "Recon:IAMUser/TorIPCaller", "TARGET", MEDIUM),
    ("iam-access-tor", "cloudtrail", cloudtrail("StopLogging"), hit("tor"),
     "UnauthorizedAccess:IAMUser/TorIPCaller", "TARGET", MEDIUM),
    ("iam-recon-intel", "cloudtrail", cloudtrail("GetCallerIdentity"), hit("malicious"),
     "Recon:IAMUser/MaliciousIPCaller", "TARGET", MEDIUM),
    ("iam-access-intel", "cloudtrail", cloudtrail("RunInstances"), hit("c2"),
     "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "TARGET", MEDIUM),
    # CloudTrail S3 data events
    ("s3-list-custom", "cloudtrail", s3("ListObjects"), hit(),
     "Discovery:S3/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("s3-acl-custom", "cloudtrail", s3("GetObjectAcl"), hit(),
     "Discovery:S3/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("s3-get-custom", "cloudtrail", s3("GetObject"), hit(),
     "UnauthorizedAccess:S3/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("s3-put-custom", "cloudtrail", s3("PutObject"), hit(),
     "UnauthorizedAccess:S3/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("s3-head-tor", "cloudtrail", s3("HeadObject"), hit("tor"),
     "Discovery:S3/TorIPCaller", "TARGET", MEDIUM),
    ("s3-delete-tor", "cloudtrail", s3("DeleteObject"), hit("tor"),
     "UnauthorizedAccess:S3/TorIPCaller", "TARGET", HIGH),
    ("s3-list-intel", "cloudtrail", s3("ListObjectsV2"), hit("malicious"),
     "Discovery:S3/MaliciousIPCaller", "TARGET", HIGH),
    ("s3-copy-intel", "cloudtrail", s3("CopyObject"), hit("malicious"),
     "Exfiltration:S3/MaliciousIPCaller", "TARGET", HIGH),
    ("s3-put-intel", "cloudtrail", s3("PutObjectAcl"), hit("droppoint"),
     "Impact:S3/MaliciousIPCaller", "TARGET", HIGH),
    # EKS audit logs
    ("eks-secrets", "eks-audit", eks("get", "secrets"), hit(),
     "CredentialAccess:Kubernetes/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("eks-discovery", "eks-audit", eks("list", "pods"), hit("tor"),
     "Discovery:Kubernetes/TorIPCaller", "TARGET", MEDIUM),
    ("eks-events-delete", "eks-audit", eks("delete", "events"), hit("malicious"),
     "DefenseEvasion:Kubernetes/MaliciousIPCaller", "TARGET", HIGH),
    ("eks-impersonate", "eks-audit", eks("impersonate", "users"), hit(),
     "DefenseEvasion:Kubernetes/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("eks-exec", "eks-audit", eks("create", "pods", "exec"), hit(),
     "Impact:Kubernetes/MaliciousIPCaller.Custom", "TARGET", HIGH),
    ("eks-persistence", "eks-audit", eks("create", "clusterrolebindings"), hit(),
     "Persistence:Kubernetes/MaliciousIPCaller.Custom", "TARGET", MEDIUM),
    ("eks-impact", "eks-audit", eks("delete", "deployments"), hit("tor"),
     "Impact:Kubernetes/TorIPCaller", "TARGET", HIGH),
    # VPC flow logs
    ("flow-custom-in", "vpcflow", inbound(), hit(),
     "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "TARGET", MEDIUM),
    ("flow-custom-out", "vpcflow", outbound(), hit(),
     "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "ACTOR", MEDIUM),
    ("flow-tor-out", "vpcflow", outbound(), hit("tor"),
     "UnauthorizedAccess:EC2/TorClient", "ACTOR", HIGH),
    ("flow-c2-out", "vpcflow", outbound(), hit("c2"),
     "Backdoor:EC2/C&CActivity.B", "ACTOR", HIGH),
    ("flow-mining-out", "vpcflow", outbound(), hit("cryptomining"),
     "CryptoCurrency:EC2/BitcoinTool.B", "ACTOR", HIGH),
    ("flow-droppoint-out", "vpcflow", outbound(), hit("droppoint"),
     "Trojan:EC2/DropPoint", "ACTOR", MEDIUM),
    ("flow-blackhole-out", "vpcflow", outbound(), hit("blackhole"),
     "Trojan:EC2/BlackholeTraffic", "ACTOR", MEDIUM),
]  # fmt: skip

DNS_ROWS = [
    ("custom", "Impact:EC2/MaliciousDomainRequest.Custom", MEDIUM),
    ("c2", "Backdoor:EC2/C&CActivity.B!DNS", HIGH),
    ("cryptomining", "CryptoCurrency:EC2/BitcoinTool.B!DNS", HIGH),
    ("malicious", "Impact:EC2/MaliciousDomainRequest.Reputation", HIGH),
    ("cryptocurrency", "Impact:EC2/BitcoinDomainRequest.Reputation", HIGH),
    ("abused", "Impact:EC2/AbusedDomainRequest.Reputation", MEDIUM),
    ("suspicious", "Impact:EC2/SuspiciousDomainRequest.Reputation", LOW),
    ("droppoint", "Trojan:EC2/DropPoint!DNS", MEDIUM),
    ("blackhole", "Trojan:EC2/BlackholeTraffic!DNS", MEDIUM),
    ("phishing", "Trojan:EC2/PhishingDomainRequest!DNS", HIGH),
    ("driveby", "Trojan:EC2/DriveBySourceTraffic!DNS", HIGH),
    ("dga", "Trojan:EC2/DGADomainRequest.C!DNS", HIGH),
]

# (id, log type, event, hit, a type that must NOT be made): the negative of each row.
NEGATIVES: list[tuple[str, str, Any, IntelHit, str]] = [
    ("iam-recon-not-for-writes", "cloudtrail", cloudtrail("CreateUser"), hit(),
     "Recon:IAMUser/MaliciousIPCaller.Custom"),
    ("iam-access-not-for-reads", "cloudtrail", cloudtrail("ListUsers"), hit(),
     "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom"),
    ("iam-tor-not-custom", "cloudtrail", cloudtrail("ListUsers"), hit("tor"),
     "Recon:IAMUser/MaliciousIPCaller.Custom"),
    ("iam-intel-not-custom", "cloudtrail", cloudtrail("ListUsers"), hit("c2"),
     "Recon:IAMUser/MaliciousIPCaller.Custom"),
    ("s3-discovery-not-for-get", "cloudtrail", s3("GetObject"), hit(),
     "Discovery:S3/MaliciousIPCaller.Custom"),
    ("s3-management-is-iam", "cloudtrail", cloudtrail("ListBuckets"), hit(),
     "Discovery:S3/MaliciousIPCaller.Custom"),
    ("s3-tor-not-exfiltration", "cloudtrail", s3("GetObject"), hit("tor"),
     "Exfiltration:S3/MaliciousIPCaller"),
    ("s3-custom-not-exfiltration", "cloudtrail", s3("GetObject"), hit(),
     "Exfiltration:S3/MaliciousIPCaller"),
    ("s3-impact-not-for-reads", "cloudtrail", s3("GetObject"), hit("malicious"),
     "Impact:S3/MaliciousIPCaller"),
    ("eks-secret-list-not-discovery", "eks-audit", eks("list", "secrets"), hit(),
     "Discovery:Kubernetes/MaliciousIPCaller.Custom"),
    ("eks-configmap-create-not-persistence", "eks-audit", eks("create", "configmaps"), hit(),
     "Persistence:Kubernetes/MaliciousIPCaller.Custom"),
    ("eks-pod-delete-not-defense-evasion", "eks-audit", eks("delete", "pods"), hit(),
     "DefenseEvasion:Kubernetes/MaliciousIPCaller.Custom"),
    ("flow-custom-in-not-actor", "vpcflow", inbound(), hit(), "ACTOR"),
    ("flow-tor-in", "vpcflow", inbound(), hit("tor"), "UnauthorizedAccess:EC2/TorClient"),
    ("flow-c2-in-is-a-reply", "vpcflow", inbound(), hit("c2"), "Backdoor:EC2/C&CActivity.B"),
    ("flow-mining-in", "vpcflow", inbound(), hit("cryptomining"),
     "CryptoCurrency:EC2/BitcoinTool.B"),
    ("flow-droppoint-in", "vpcflow", inbound(), hit("droppoint"), "Trojan:EC2/DropPoint"),
    ("flow-blackhole-in", "vpcflow", inbound(), hit("blackhole"), "Trojan:EC2/BlackholeTraffic"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("log_type", "event", "list_hit", "finding_type", "role", "severity"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_type_resolution_rows(
    log_type: str,
    event: Any,
    list_hit: IntelHit,
    finding_type: str,
    role: str,
    severity: float,
) -> None:
    spec = one(log_type, event, list_hit)
    assert (spec.type, spec.resource_role, spec.severity) == (finding_type, role, severity)
    assert spec.key == ("bad-ips",)
    assert spec.rule == "threatlist:bad-ips"
    assert spec.threat == ThreatDetail("bad-ips", ())
    assert spec.additional_info == {"threatListName": "bad-ips"}
    assert ATTACKER in spec.title
    assert "bad-ips" in spec.title
    assert spec.tactic
    assert (spec.technique or "").startswith("T")


@pytest.mark.parametrize(
    ("log_type", "event", "list_hit", "absent"),
    [row[1:] for row in NEGATIVES],
    ids=[row[0] for row in NEGATIVES],
)
def test_type_resolution_negatives(
    log_type: str, event: Any, list_hit: IntelHit, absent: str
) -> None:
    specs = intel_findings(event, log_type, [list_hit])
    assert absent not in [s.type for s in specs] + [s.resource_role for s in specs]


@pytest.mark.parametrize(("category", "finding_type", "severity"), DNS_ROWS)
def test_dns_domain_hits(category: str, finding_type: str, severity: float) -> None:
    domain = hit(category, "evil.example", threat_name="kit")
    spec = one("route53", dns("a.b.evil.example"), domain)
    assert (spec.type, spec.severity, spec.resource_role) == (finding_type, severity, "ACTOR")
    assert spec.key == ("bad-ips", "evil.example")
    assert spec.threat == ThreatDetail("bad-ips", ("kit",))
    assert spec.additional_info == {"threatListName": "bad-ips", "threatName": "kit"}
    assert "a.b.evil.example" in spec.title
    assert "i-0abc1234def567890" in spec.title
    assert "evil.example (kit)" in spec.description


def test_dns_negatives() -> None:
    assert types("route53", dns(), hit("tor", "evil.example")) == []
    assert types("route53", dns("evil.example.org"), hit("c2", "other.example")) == []


def test_dns_findings_ignore_ip_lists() -> None:
    ip_threat = hit("c2", ATTACKER)  # the A record of the answer
    ip_trusted = hit(indicator=INSTANCE_IP.replace("10.0", "198.51"), list_kind="trusted")
    domain = hit("c2", "evil.example")
    assert types("route53", dns(), ip_threat) == []
    assert types("route53", dns(), ip_threat, ip_trusted, domain) == [
        "Backdoor:EC2/C&CActivity.B!DNS"
    ]


def test_trusted_domain_silences_domain_threats() -> None:
    trusted = hit(indicator="b.evil.example", list_kind="trusted", list_name="ours")
    assert types("route53", dns(), hit("c2", "evil.example"), trusted) == []


def test_trusted_ip_wins_for_cloudtrail_eks_and_flow() -> None:
    trusted = hit(indicator="203.0.113.0/24", list_kind="trusted", list_name="office")
    assert types("cloudtrail", cloudtrail("ListUsers"), hit(), trusted) == []
    assert types("cloudtrail", s3("GetObject"), hit("tor"), trusted) == []
    assert types("eks-audit", eks("get", "secrets"), hit(), trusted) == []
    assert types("vpcflow", outbound(), hit("c2"), trusted) == []


def test_trusted_entry_elsewhere_does_not_silence() -> None:
    trusted = hit(indicator="198.51.100.0/24", list_kind="trusted", list_name="office")
    assert types("cloudtrail", cloudtrail("ListUsers"), hit(), trusted) == [
        "Recon:IAMUser/MaliciousIPCaller.Custom"
    ]
    both_listed = flow("198.51.100.9", ATTACKER)  # trusted source, listed destination
    both = [hit(indicator="0.0.0.0/0"), trusted]
    assert [(s.type, s.resource_role) for s in intel_findings(both_listed, "vpcflow", both)] == [
        ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "ACTOR")
    ]


def roles(event: Any, *hits: IntelHit) -> list[tuple[str, str]]:
    return [(s.type, s.resource_role) for s in intel_findings(event, "vpcflow", hits)]


def test_flow_direction_is_the_connection_direction() -> None:
    reply_from_server = flow(ATTACKER, INSTANCE_IP, (443, 49822))
    reply_to_client = flow(INSTANCE_IP, ATTACKER, (443, 49822))
    assert roles(reply_from_server, hit("c2")) == [("Backdoor:EC2/C&CActivity.B", "ACTOR")]
    assert roles(reply_from_server, hit()) == [
        ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "ACTOR")
    ]
    assert roles(reply_to_client, hit()) == [
        ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "TARGET")
    ]
    assert roles(reply_to_client, hit("tor")) == []
    icmp = flow(ATTACKER, INSTANCE_IP, None)
    assert roles(icmp, hit()) == [("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "TARGET")]


def test_private_addresses_never_match() -> None:
    everything = hit(indicator="0.0.0.0/0")
    assert types("vpcflow", flow(INSTANCE_IP, "10.0.9.9"), everything) == []
    assert types("cloudtrail", cloudtrail("ListUsers", ip="10.1.2.3"), everything) == []


def test_remote_ip_is_not_part_of_the_key() -> None:
    network = hit(indicator="203.0.113.0/24")
    first = one("vpcflow", flow(INSTANCE_IP, "203.0.113.1"), network)
    second = one("vpcflow", flow(INSTANCE_IP, "203.0.113.2"), network)
    assert first.key == second.key == ("bad-ips",)
    assert "203.0.113.2" in second.title


def test_one_finding_per_list_type_and_role() -> None:
    same_list = [hit(), hit(indicator="203.0.113.0/24")]
    other_list = hit(list_name="partner-feed")
    specs = intel_findings(cloudtrail("ListUsers"), "cloudtrail", [*same_list, other_list])
    assert [s.key for s in specs] == [("bad-ips",), ("partner-feed",)]


def test_no_findings_without_a_type() -> None:
    assert types("vpcflow", outbound(), hit("malicious")) == []
    lambda_data = cloudtrail("Invoke", data=True, provider="lambda.amazonaws.com")
    assert types("cloudtrail", lambda_data, hit()) == []
    assert types("eks-audit", eks("get", uri="/healthz"), hit()) == []
    assert types("eks-audit", eks("get", uri="/readyz/etcd"), hit()) == []
    assert types("unknown-source", cloudtrail("ListUsers"), hit()) == []
    assert types("cloudtrail", cloudtrail("ListUsers"), hit("c2", "evil.example")) == []


def test_intel_hit_from_percolator_source() -> None:
    source = {
        "list_name": "duskwatch-guardduty-tester",
        "list_kind": "threat",
        "category": "c2",
        "indicator": "c2.guarddutyc2activityb.com",
        "indicator_type": "domain",
        "threat_name": "GuardDuty tester: C&C activity",
        "list_format": "csv",
        "added_at": "2026-11-23T18:34:42.763Z",
    }
    assert IntelHit.from_source(source) == IntelHit(
        "duskwatch-guardduty-tester",
        "threat",
        "c2",
        "c2.guarddutyc2activityb.com",
        "domain",
        "GuardDuty tester: C&C activity",
    )
    trusted = IntelHit.from_source(
        {"list_name": "office", "list_kind": "trusted", "indicator": "198.51.100.0/24",
         "indicator_type": "cidr"}
    )  # fmt: skip
    assert (trusted.list_kind, trusted.category, trusted.indicator_type) == (
        "trusted",
        "custom",
        "cidr",
    )


def test_every_resolvable_type_has_severity_and_mitre() -> None:
    tables = [
        *resolution.IAM_TYPES.values(),
        *resolution.S3_TYPES.values(),
        *resolution.FLOW_TYPES.values(),
        *resolution.DNS_TYPES.values(),
        *(
            resolution.eks_type(category, tactic)
            for category in ("custom", "tor", "c2")
            for *_, tactic in resolution.EKS_TACTICS
        ),
    ]
    for finding_type in tables:
        info = resolution.type_info(finding_type)
        assert info.severity in (LOW, MEDIUM, HIGH)
        assert info.tactic
        assert info.technique.startswith("T")
