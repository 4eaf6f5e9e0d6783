"""Remediation against moto's standalone server (EC2 network ACLs, IAM) and the real node's
``duskwatch-remediation`` index: dry run changes nothing, execute changes AWS, undo reverts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from opensearchpy import OpenSearch

from exporter.config import RemediationSettings
from exporter.errors import DuskwatchError
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings
from exporter.remediation.actions import ClientFactory
from exporter.remediation.log import RemediationLog, Status
from exporter.remediation.service import Remediator

REGION = "us-east-1"
BLOCK = {
    "action": "block-ip-nacl",
    "finding_types": ["UnauthorizedAccess:EC2/*"],
    "rule_range": [50, 60],
}
KEY = {
    "action": "deactivate-access-key",
    "finding_types": ["UnauthorizedAccess:IAMUser/*"],
    "min_severity": 5,
}


@pytest.fixture(scope="module")
def clients() -> Iterator[ClientFactory]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"  # noqa: SLF001 - the bound port

    def make(service: str, region: str | None) -> Any:
        return boto3.client(
            service,
            region_name=region or REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    yield make
    server.stop()


@pytest.fixture
def records(client: OpenSearch) -> RemediationLog:
    return RemediationLog(client)


def subnet_finding(
    clients: ClientFactory, address: str = "198.51.100.1"
) -> tuple[dict[str, Any], str]:
    ec2 = clients("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    finding = sample("UnauthorizedAccess:EC2/SSHBruteForce")
    nic = finding["resource"]["instanceDetails"]["networkInterfaces"][0]
    nic["subnetId"], nic["vpcId"] = subnet, vpc
    finding["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] = (
        address
    )
    return finding, subnet


def sample(kind: str) -> dict[str, Any]:
    [found] = sample_findings(
        [kind],
        now=datetime(2025, 3, 2, tzinfo=UTC),
        detector_id=uuid.uuid4().hex,
        account="111122223333",
        region=REGION,
    )
    finding = to_guardduty(found)
    finding["id"] = uuid.uuid4().hex  # each test acts on its own finding
    return finding


def denies(clients: ClientFactory, subnet: str) -> list[tuple[int, bool, str]]:
    acls = clients("ec2", REGION).describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["NetworkAcls"]
    return sorted(
        (e["RuleNumber"], e["Egress"], e["CidrBlock"])
        for e in acls[0]["Entries"]
        if e["RuleAction"] == "deny" and e["RuleNumber"] < 32767
    )


def remediator(records: RemediationLog, clients: ClientFactory, *, dry_run: bool) -> Remediator:
    return Remediator(RemediationSettings(True, dry_run, [BLOCK, KEY]), records, clients)


def test_dry_run_records_and_changes_nothing(
    records: RemediationLog, clients: ClientFactory
) -> None:
    finding, subnet = subnet_finding(clients)
    [record] = remediator(records, clients, dry_run=True).handle([finding])
    assert record.status == Status.PLANNED
    assert record.dry_run is True
    assert record.target["cidr"] == "198.51.100.1/32"
    assert denies(clients, subnet) == []
    assert remediator(records, clients, dry_run=True).handle([finding]) == []
    [stored] = records.search(finding_id=finding["id"])
    assert stored.id == record.id


def test_execute_blocks_then_undo_unblocks(records: RemediationLog, clients: ClientFactory) -> None:
    finding, subnet = subnet_finding(clients, "203.0.113.45")
    acl = clients("ec2", REGION).describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["NetworkAcls"][0]["NetworkAclId"]
    clients("ec2", REGION).create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=50,
        Protocol="6",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 443, "To": 443},
    )
    service = remediator(records, clients, dry_run=False)
    [record] = service.handle([finding])
    assert record.status == Status.EXECUTED, record.error
    assert denies(clients, subnet) == [
        (50, True, "203.0.113.45/32"),
        (51, False, "203.0.113.45/32"),
    ]

    undone = service.undo(record.id)
    assert undone.status == Status.UNDONE
    assert undone.undone_at
    assert denies(clients, subnet) == []
    assert records.get(record.id).status == Status.UNDONE
    with pytest.raises(DuskwatchError, match="only executed actions"):
        service.undo(record.id)


def test_internal_address_is_skipped(records: RemediationLog, clients: ClientFactory) -> None:
    finding, subnet = subnet_finding(clients, "10.9.1.7")
    [record] = remediator(records, clients, dry_run=False).handle([finding])
    assert record.status == Status.SKIPPED
    assert "private" in (record.error or "")
    assert denies(clients, subnet) == []


def test_archived_findings_are_left_alone(records: RemediationLog, clients: ClientFactory) -> None:
    finding, subnet = subnet_finding(clients)
    finding["service"]["archived"] = True
    assert remediator(records, clients, dry_run=False).handle([finding]) == []
    assert records.search(finding_id=finding["id"]) == []


def test_access_key_deactivated_and_reactivated(
    records: RemediationLog, clients: ClientFactory
) -> None:
    iam = clients("iam", None)
    user = f"ci-bot-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    finding = sample("UnauthorizedAccess:IAMUser/MaliciousIPCaller")
    finding["resource"]["accessKeyDetails"].update({"accessKeyId": key, "userName": user})

    def status() -> str:
        return str(iam.list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"])

    [planned] = remediator(records, clients, dry_run=True).handle([finding])
    assert planned.status == Status.PLANNED
    assert status() == "Active"

    service = remediator(records, clients, dry_run=False)
    [record] = service.handle([finding])
    assert record.status == Status.EXECUTED, record.error
    assert status() == "Inactive"
    assert service.undo(record.id).status == Status.UNDONE
    assert status() == "Active"


def test_low_severity_is_below_the_rule(records: RemediationLog, clients: ClientFactory) -> None:
    finding = sample("UnauthorizedAccess:IAMUser/MaliciousIPCaller")
    finding["severity"] = 2.0
    assert remediator(records, clients, dry_run=False).handle([finding]) == []
