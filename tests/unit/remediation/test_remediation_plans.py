"""Remediation: planning from findings (pure), rule matching and configuration validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from exporter.config import RemediationSettings
from exporter.errors import ConfigError
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings
from exporter.remediation.actions import (
    NotApplicable,
    free_rule_number,
    plan_block_ip,
    plan_deactivate_key,
)
from exporter.remediation.service import Rule, rules


def finding(kind: str) -> dict[str, Any]:
    [found] = sample_findings(
        [kind],
        now=datetime(2025, 3, 2, tzinfo=UTC),
        detector_id="d" * 32,
        account="111122223333",
        region="eu-west-1",
    )
    return to_guardduty(found)


def test_block_ip_plan() -> None:
    plan = plan_block_ip(finding("UnauthorizedAccess:EC2/SSHBruteForce"), {})
    assert plan.target["cidr"] == "198.51.100.1/32"
    assert plan.target["subnet_id"] == "GeneratedFindingSubnetId"
    assert plan.target["directions"] == ["ingress", "egress"]
    assert plan.region == "eu-west-1"


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "169.254.169.254", "192.168.0.1", "::1", "not-an-ip"]
)
def test_block_ip_refuses_internal_addresses(address: str) -> None:
    f = finding("UnauthorizedAccess:EC2/SSHBruteForce")
    f["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] = address
    with pytest.raises(NotApplicable):
        plan_block_ip(f, {})


def test_block_ip_needs_an_instance() -> None:
    with pytest.raises(NotApplicable, match="not an EC2 instance"):
        plan_block_ip(finding("UnauthorizedAccess:IAMUser/MaliciousIPCaller"), {})


def test_deactivate_key_only_long_term_user_keys() -> None:
    f = finding("UnauthorizedAccess:IAMUser/MaliciousIPCaller")
    with pytest.raises(NotApplicable, match="temporary"):
        plan_deactivate_key(f, {})
    f["resource"]["accessKeyDetails"]["accessKeyId"] = "AKIAEXAMPLEKEY01"
    plan = plan_deactivate_key(f, {})
    assert plan.target == {
        "access_key_id": "AKIAEXAMPLEKEY01",
        "user_name": "GeneratedFindingUserName",
    }


def test_free_rule_number() -> None:
    entries = [{"RuleNumber": n} for n in (1, 2, 4, 32767)]
    assert free_rule_number(entries, 1, 99) == 3
    assert free_rule_number(entries, 4, 10) == 5


def test_rule_matching_with_wildcards_and_severity() -> None:
    rule = Rule("block-ip-nacl", ("UnauthorizedAccess:EC2/*",), 5.0)
    f = finding("UnauthorizedAccess:EC2/SSHBruteForce")
    assert not rule.matches(f)
    f["severity"] = 8.0
    assert rule.matches(f)
    f["type"] = "Recon:EC2/Portscan"
    assert not rule.matches(f)


def test_rules_are_validated() -> None:
    good = RemediationSettings(
        True,
        True,
        [{"action": "block-ip-nacl", "finding_types": ["Recon:EC2/*"], "rule_range": [10, 20]}],
    )
    [rule] = rules(good)
    assert rule.options == {"rule_range": [10, 20]}
    bad = RemediationSettings(
        True,
        True,
        [{"action": "reboot"}, {"action": "block-ip-nacl", "finding_types": [], "colour": 1}],
    )
    with pytest.raises(ConfigError) as err:
        rules(bad)
    assert "unknown action 'reboot'" in str(err.value)
    assert "remediation.actions[1]" in str(err.value)
