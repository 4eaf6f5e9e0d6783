"""A matched rule + its event -> FindingSpec: templates, severity tables and aggregation keys."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.detections.rules import Rule, SeverityTable, load_rules, rule_finding
from exporter.detections.rules.finding import field_text, field_values, render, severity
from exporter.detections.rules.testing import normalize_record

EVENT: dict[str, Any] = {
    "event": {"action": "StopLogging", "category": ["api", "configuration"]},
    "user": {"name": "ci-bot"},
    "source": {"address": "203.0.113.45"},
    "aws": {
        "cloudtrail": {
            "read_only": False,
            "request_parameters": {"name": "org-trail", "flags": {"a": 1}},
            "resources": [{"arn": "arn:1"}, {"arn": "arn:2"}, {"arn": "arn:1"}],
        }
    },
    "kubernetes.audit": {"verb": "create"},
}


def make_rule(**changes: Any) -> Rule:
    base: dict[str, Any] = {
        "id": "Stealth:IAMUser/CloudTrailLoggingDisabled#weakened",
        "finding_type": "Stealth:IAMUser/CloudTrailLoggingDisabled",
        "severity": 2.0,
        "log_types": ("cloudtrail",),
        "query": {"term": {"event.action": "StopLogging"}},
        "title": "Trail {aws.cloudtrail.request_parameters.name} stopped",
        "description": "{event.action} by {user.name} from {source.address}",
        "tactic": "Defense Evasion",
        "technique": "T1562.008",
    }
    return Rule(**{**base, **changes})


def test_the_finding_of_a_rule() -> None:
    spec = rule_finding(make_rule(key_fields=("user.name", "host.name")), EVENT)
    assert spec.type == "Stealth:IAMUser/CloudTrailLoggingDisabled"
    assert spec.rule == "Stealth:IAMUser/CloudTrailLoggingDisabled#weakened"
    assert spec.severity == 2.0
    assert spec.title == "Trail org-trail stopped"
    assert spec.description == "StopLogging by ci-bot from 203.0.113.45"
    assert spec.resource_role == "TARGET"
    assert spec.key == ("ci-bot", "")
    assert (spec.tactic, spec.technique) == ("Defense Evasion", "T1562.008")
    assert spec.threat is None


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("{user.name}", "ci-bot"),
        ("{ user.name }", "ci-bot"),
        ("{host.name}", "unknown"),
        ("{event.category}", "api, configuration"),
        ("{aws.cloudtrail.resources.arn}", "arn:1, arn:2"),
        ("{aws.cloudtrail.read_only}", "false"),
        ("{aws.cloudtrail.request_parameters.flags}", '{"a":1}'),
        ("{kubernetes.audit.verb}", "create"),
        ("{host.name|user.name}", "ci-bot"),
        ("{host.name|host.id}", "unknown"),
        ("{{literal}} {user.name}", "{literal} ci-bot"),
        ("no placeholders", "no placeholders"),
    ],
)
def test_render(template: str, text: str) -> None:
    assert render(template, EVENT) == text


def test_field_values_walk_lists_and_dotted_keys() -> None:
    assert field_values(EVENT, "aws.cloudtrail.resources.arn") == ["arn:1", "arn:2", "arn:1"]
    assert field_values(EVENT, "kubernetes.audit.verb") == ["create"]
    assert field_values(EVENT, "user.name.first") == []
    assert field_values({"a": None, "b": [None, "x"]}, "a") == []
    assert field_values({"b": [None, "x"]}, "b") == ["x"]
    assert field_text({"a": [""]}, "a") is None


TABLE = SeverityTable("event.action", {"DeleteTrail": 5.0, "StopLogging": 3.0}, 2.0)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"event": {"action": "StopLogging"}}, 3.0),
        ({"event": {"action": "DeleteTrail"}}, 5.0),
        ({"event": {"action": "UpdateTrail"}}, 2.0),
        ({}, 2.0),
        ({"event": {"action": ["StopLogging", "DeleteTrail"]}}, 5.0),
    ],
)
def test_severity_table(event: dict[str, Any], expected: float) -> None:
    assert severity(make_rule(severity=TABLE), event) == expected


def test_severity_table_of_booleans_uses_json_text() -> None:
    table = SeverityTable("aws.cloudtrail.read_only", {"false": 6.0}, 2.0)
    assert severity(make_rule(severity=table), EVENT) == 6.0


def test_resource_role_and_key_order() -> None:
    rule = make_rule(resource_role="ACTOR", key_fields=("source.address", "event.action"))
    spec = rule_finding(rule, EVENT)
    assert spec.resource_role == "ACTOR"
    assert spec.key == ("203.0.113.45", "StopLogging")


def catalogue_rule(rule_id: str) -> Rule:
    return next(rule for rule in load_rules() if rule.id == rule_id)


def test_a_catalogue_rule_on_its_own_test_record() -> None:
    rule = catalogue_rule("Stealth:IAMUser/PasswordPolicyChange")
    for test, expected in zip(rule.tests[:2], (2.0, 5.0), strict=True):
        event = normalize_record(test.log_type, test.record)
        spec = rule_finding(rule, event)
        assert spec.severity == expected
        assert spec.title == f"Account password policy was changed ({event['event']['action']})."
        assert "arn:aws:iam::111122223333:user/bob" in spec.description


def test_alternative_placeholders_in_the_catalogue() -> None:
    rule = catalogue_rule("Stealth:IAMUser/CloudTrailLoggingDisabled#weakened")
    test = rule.tests[1]
    spec = rule_finding(rule, normalize_record(test.log_type, test.record))
    assert spec.title == "CloudTrail trail org-trail now logs less."
    assert spec.key == ("", "org-trail")
