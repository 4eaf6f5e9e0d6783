"""Filter validation: every problem reported at once, naming the attribute and the operator."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.suppression.model import Action, FilterError, parse_filter, problems


def body(criterion: Any, **overrides: Any) -> dict[str, Any]:
    """A filter body around ``criterion``."""
    return {
        "name": "suppress-scanner",
        "action": "ARCHIVE",
        "rank": 1,
        "findingCriteria": {"criterion": criterion},
        **overrides,
    }


def test_the_reference_example_is_valid() -> None:
    criterion = {
        "type": {"equals": ["Recon:EC2/Portscan"]},
        "resource.instanceDetails.imageId": {"equals": ["ami-0123456789abcdef0"]},
    }
    flt = parse_filter(body(criterion, description="scanner"))
    assert (flt.name, flt.action, flt.rank, flt.description) == (
        "suppress-scanner", Action.ARCHIVE, 1, "scanner",
    )  # fmt: skip
    assert flt.to_guardduty()["findingCriteria"] == {"criterion": criterion}


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (
            {"severity": {"greaterThan": "7"}},
            "criterion 'severity', operator 'greaterThan': expected an integer "
            '(epoch milliseconds for timestamps), got "7"',
        ),
        (
            {"type": {"equals": "Recon:EC2/Portscan"}},
            "criterion 'type', operator 'equals': expected a list of 1 to 50 strings",
        ),
        ({"type": {"equals": []}}, "criterion 'type', operator 'equals': expected a list"),
        ({"type": {"eq": [1]}}, "criterion 'type', operator 'eq': expected a list"),
        ({"type": {"gte": 1.5}}, "criterion 'type', operator 'gte': expected an integer"),
        (
            {"type": {"matches": ["a", "b", "c", "d", "e", "f"]}},
            "criterion 'type', operator 'matches': expected a list of 1 to 5 non-empty strings",
        ),
        (
            {"type": {"equal": ["x"]}},
            "criterion 'type', operator 'equal': expected a known operator (equals, notEquals,",
        ),
        ({"type": {}}, "criterion 'type': expected an object of operators (equals,"),
        ({"type": "Recon:EC2/Portscan"}, "criterion 'type': expected an object of operators"),
        (
            {"severity": {"matches": ["7*"]}},
            "criterion 'severity', operator 'matches': expected a string attribute, "
            "'severity' is a number",
        ),
        (
            {"type": {"lessThan": 5}},
            "criterion 'type', operator 'lessThan': expected an integer, a number or a "
            "timestamp attribute, 'type' is a string",
        ),
        (
            {"service.archived": {"greaterThan": 0}},
            "criterion 'service.archived', operator 'greaterThan': expected an integer, a",
        ),
        (
            {"service.archived": {"equals": ["yes"]}},
            "criterion 'service.archived', operator 'equals': expected \"true\" or \"false\", "
            'got ["yes"]',
        ),
        (
            {"severity": {"notEquals": ["8", "high"]}},
            "criterion 'severity', operator 'notEquals': expected numbers as text",
        ),
        (
            {"service.count": {"neq": ["2.5"]}},
            "criterion 'service.count', operator 'neq': expected integers as text",
        ),
        (
            {"updatedAt": {"equals": ["yesterday"]}},
            "criterion 'updatedAt', operator 'equals': expected epoch milliseconds or ISO 8601",
        ),
        (
            {"sevrity": {"equals": ["8"]}},
            "criterion 'sevrity': not a GuardDuty finding attribute (did you mean 'severity'?)",
        ),
    ],
)
def test_a_bad_criterion_names_attribute_operator_and_expectation(
    criterion: dict[str, Any], expected: str
) -> None:
    found = problems(body(criterion))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


def test_every_problem_is_reported_at_once() -> None:
    criterion = {
        "severity": {"gt": "7"},
        "nope": {"equals": ["x"]},
        "type": {"equals": [2]},
        "region": {"lt": 3},
    }
    with pytest.raises(FilterError) as raised:
        parse_filter(body(criterion, name="x", rank=0, action="DROP"))
    found = raised.value.problems
    assert [p.split(":", 1)[0] for p in found] == [
        "action",
        "criterion 'severity', operator 'gt'",
        "criterion 'type', operator 'equals'",
        "name",
        "rank",
        "criterion 'nope'",
        "criterion 'region', operator 'lt'",
    ]
    assert "filter x is invalid" in raised.value.message
    assert raised.value.hint == "attributes and their operators: duskwatch filters attributes"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "ab"}, "name: expected 3 to 64 characters"),
        ({"name": "a" * 65}, "name: expected 3 to 64 characters"),
        ({"name": "bad name"}, "name: expected 3 to 64 characters"),
        ({"rank": 101}, "rank: expected an integer from 1 to 100"),
        ({"action": "archive"}, "action: expected NOOP (a saved filter) or ARCHIVE"),
        ({"description": "d" * 513}, "description: expected at most 512 characters"),
        ({"findingCriteria": {}}, "findingCriteria: expected an object"),
        ({"findingCriteria": {"criterion": {}}}, "findingCriteria.criterion: expected an object"),
    ],
)
def test_filter_fields(overrides: dict[str, Any], expected: str) -> None:
    found = problems(body({"type": {"equals": ["x"]}}, **overrides))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


def test_limits_of_the_reference() -> None:
    attributes = ["accountId", "region", "type", "id", "arn", "partition"]
    assert problems(body({a: {"equals": ["x"] * 50} for a in attributes})) == []
    assert problems(body({"type": {"equals": ["x"] * 51}}))
    assert problems(body({"type": {"matches": ["x"] * 5}})) == []
    names = ["a.b", "A_b-9", "x" * 64]
    assert all(problems(body({"type": {"equals": ["x"]}}, name=n)) == [] for n in names)


def test_valid_values_of_each_type() -> None:
    criterion = {
        "service.archived": {"equals": ["true", "false"]},
        "service.count": {"equals": ["3"], "gt": 1},
        "severity": {"equals": ["7", "7.5"]},
        "updatedAt": {"equals": ["1740913200000", "2025-03-02T11:00:00Z"]},
        "type": {"notMatches": ["*Port*", "Recon:EC2/?ortscan"]},
    }
    assert problems(body(criterion)) == []
