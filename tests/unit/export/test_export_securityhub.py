"""Security Hub: ASFF required attributes, GuardDuty's type and severity mapping, resources."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from exporter.export.destinations.securityhub import (
    MAX_PRODUCT_FIELDS,
    REQUIRED,
    asff_type,
    asff_types,
    missing_required,
    severity,
    to_asff,
)
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings
from exporter.findings.types import FINDING_TYPES

NOW = datetime(2025, 3, 2, tzinfo=UTC)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
NAMESPACES = ("Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors")


def findings(*kinds: str) -> list[dict[str, Any]]:
    found = sample_findings(
        list(kinds) or None,
        now=NOW,
        detector_id="d" * 32,
        account="111122223333",
        region="eu-west-1",
    )
    return [to_guardduty(f) for f in found]


@pytest.mark.parametrize("finding", findings(), ids=lambda f: f["type"])
def test_every_sample_type_is_valid_asff(finding: dict[str, Any]) -> None:
    asff = to_asff(finding)
    assert missing_required(asff) == []
    assert asff["SchemaVersion"] == "2018-10-08"
    assert asff["Id"] == finding["arn"]
    assert asff["ProductArn"] == "arn:aws:securityhub:eu-west-1::product/aws/guardduty"
    assert asff["GeneratorId"] == f"arn:aws:guardduty:eu-west-1:111122223333:detector/{'d' * 32}"
    assert re.fullmatch(r"\d{12}", asff["AwsAccountId"])
    assert all(
        ISO.match(asff[k]) for k in ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt")
    )
    assert len(asff["Types"]) == 1
    assert asff["Types"][0].split("/", 1)[0] in NAMESPACES
    assert asff["Severity"]["Label"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    assert len(asff["Title"]) <= 256
    assert len(asff["Description"]) <= 1024
    assert 0 < len(asff["ProductFields"]) <= MAX_PRODUCT_FIELDS
    assert all(isinstance(v, str) for v in asff["ProductFields"].values())
    assert asff["Resources"]
    assert all({"Type", "Id"} <= set(r) for r in asff["Resources"])


def test_missing_required_names_the_attributes() -> None:
    asff = to_asff(findings("Recon:EC2/Portscan")[0])
    del asff["Title"]
    asff["Types"] = []
    assert missing_required(asff) == ["Title", "Types"]
    assert set(REQUIRED) >= {"Title", "Types"}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "UnauthorizedAccess:EC2/SSHBruteForce",
            "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce",
        ),
        ("Behavior:EC2/NetworkPortUnusual", "Unusual Behaviors/VM/Behavior:EC2-NetworkPortUnusual"),
        ("Trojan:EC2/DropPoint", "Effects/Data Exfiltration/Trojan:EC2-DropPoint"),
        (
            "Backdoor:EC2/C&CActivity.B!DNS",
            "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS",
        ),
        (
            "Policy:Kubernetes/ExposedDashboard",
            "Software and Configuration Checks/AWS Security Best Practices/"
            "Policy:Kubernetes-ExposedDashboard",
        ),
        ("Execution:Runtime/NewBinaryExecuted", "TTPs/Execution:Runtime-NewBinaryExecuted"),
    ],
)
def test_types_follow_guardduty_table(kind: str, expected: str) -> None:
    assert asff_type(kind) == expected


def test_table_covers_every_finding_type() -> None:
    assert set(FINDING_TYPES.names()) <= set(asff_types())


@pytest.mark.parametrize(
    ("value", "label", "normalized"),
    [(1.0, "LOW", 1), (2.0, "LOW", 14), (3.9, "LOW", 38), (4.0, "MEDIUM", 40),
     (5.0, "MEDIUM", 50), (6.9, "MEDIUM", 68), (7.0, "HIGH", 70), (8.0, "HIGH", 80),
     (8.9, "HIGH", 88), (9.0, "CRITICAL", 90), (10.0, "CRITICAL", 100)],
)  # fmt: skip
def test_severity_label_and_normalized_agree(value: float, label: str, normalized: int) -> None:
    assert severity(value) == {"Product": value, "Label": label, "Normalized": normalized}


def test_instance_resource_and_product_fields() -> None:
    finding = findings("UnauthorizedAccess:EC2/SSHBruteForce")[0]
    finding["resource"]["instanceDetails"]["tags"] = [{"key": "Name", "value": "bastion-1"}]
    asff = to_asff(
        finding, "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
    )
    assert asff["ProductArn"].endswith("product/111122223333/default")
    [resource] = asff["Resources"]
    assert resource["Type"] == "AwsEc2Instance"
    assert resource["Id"] == "arn:aws:ec2:eu-west-1:111122223333:instance/i-99999999"
    assert resource["Tags"] == {"Name": "bastion-1"}
    assert resource["Details"]["AwsEc2Instance"]["IpV4Addresses"] == ["10.0.0.23"]
    fields = asff["ProductFields"]
    assert fields["aws/guardduty/service/archived"] == "false"
    assert (
        fields["aws/guardduty/service/action/networkConnectionAction/remoteIpDetails/ipAddressV4"]
        == "198.51.100.1"
    )


def test_access_key_bucket_and_cluster_resources() -> None:
    key, bucket, cluster = findings(
        "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
        "Discovery:S3/MaliciousIPCaller",
        "Policy:Kubernetes/ExposedDashboard",
    )
    assert to_asff(key)["Resources"][0]["Type"] == "AwsIamAccessKey"
    buckets = [r for r in to_asff(bucket)["Resources"] if r["Type"] == "AwsS3Bucket"]
    assert buckets
    assert buckets[0]["Id"].startswith("arn:aws:s3:::")
    assert to_asff(cluster)["Resources"][0]["Type"] == "AwsEksCluster"
