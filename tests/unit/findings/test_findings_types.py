"""The catalogue of finding types (guardduty.md section 2, the five data sources)."""

from __future__ import annotations

import re

import pytest

from exporter.findings.datasources import DATA_SOURCES
from exporter.findings.severity import HIGH, LOW, MEDIUM
from exporter.findings.types import FINDING_TYPES

GRAMMAR = re.compile(r"^[A-Za-z]+:(EC2|IAMUser|S3|Kubernetes)/[A-Za-z0-9&.!]+$")
FAMILY_RESOURCES = {
    "EC2": {"Instance"},
    "IAMUser": {"AccessKey"},
    "S3": {"S3Bucket", "AccessKey"},
    "Kubernetes": {"EKSCluster"},
}


def test_catalogue_size_and_sources() -> None:
    counts: dict[str, int] = {}
    for _, kind in FINDING_TYPES.items():
        counts[kind.log_type] = counts.get(kind.log_type, 0) + 1
    assert counts == {"vpcflow": 25, "route53": 15, "cloudtrail": 46, "eks-audit": 35}
    assert set(counts) == set(DATA_SOURCES.names())


@pytest.mark.parametrize("name", FINDING_TYPES.names())
def test_every_type_is_well_formed(name: str) -> None:
    kind = FINDING_TYPES.get(name)
    found = GRAMMAR.match(name)
    assert found, name
    assert kind.resource_type in FAMILY_RESOURCES[found.group(1)]
    assert kind.severity in (LOW, MEDIUM, HIGH)
    assert kind.summary
    assert kind.summary == kind.summary.strip()


@pytest.mark.parametrize(
    "fragment",
    [":Runtime/", ":Lambda/", ":RDS/", "AttackSequence:", "MaliciousFile", "ObjectRead.Unusual"],
)
def test_out_of_scope_and_retired_types_are_left_out(fragment: str) -> None:
    assert not [name for name in FINDING_TYPES.names() if fragment in name]


@pytest.mark.parametrize(
    ("name", "severity", "log_type", "action"),
    [
        (
            "Persistence:Kubernetes/SuccessfulAnonymousAccess",
            HIGH,
            "eks-audit",
            "KUBERNETES_API_CALL",
        ),
        ("Persistence:Kubernetes/TorIPCaller", MEDIUM, "eks-audit", "KUBERNETES_API_CALL"),
        (
            "Discovery:Kubernetes/MaliciousIPCaller.Custom",
            MEDIUM,
            "eks-audit",
            "KUBERNETES_API_CALL",
        ),
        ("Impact:Kubernetes/SuccessfulAnonymousAccess", HIGH, "eks-audit", "KUBERNETES_API_CALL"),
        ("Recon:EC2/PortProbeUnprotectedPort", LOW, "vpcflow", "PORT_PROBE"),
        ("Trojan:EC2/BlackholeTraffic!DNS", MEDIUM, "route53", "DNS_REQUEST"),
        ("UnauthorizedAccess:EC2/MetadataDNSRebind", HIGH, "route53", "DNS_REQUEST"),
        ("Stealth:IAMUser/CloudTrailLoggingDisabled", LOW, "cloudtrail", "AWS_API_CALL"),
        ("Exfiltration:S3/MaliciousIPCaller", HIGH, "cloudtrail", "AWS_API_CALL"),
    ],
)
def test_examples(name: str, severity: float, log_type: str, action: str) -> None:
    kind = FINDING_TYPES.get(name)
    assert (kind.severity, kind.log_type, kind.action_type) == (severity, log_type, action)


def test_threat_list_types_carry_evidence() -> None:
    assert FINDING_TYPES.get("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom").uses_threat_list
    assert not FINDING_TYPES.get("Recon:EC2/Portscan").uses_threat_list
