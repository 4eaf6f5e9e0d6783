"""findingCriteria → structured OpenSearch query: every operator, every attribute."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.findings.attributes import filter_attributes
from exporter.suppression.attributes import FieldType, attribute_types
from exporter.suppression.compile import DEPRECATED, OPERATORS, compile_criteria
from exporter.suppression.model import problems


def compiled(criterion: dict[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = compile_criteria({"criterion": criterion}).to_dict()
    return query


@pytest.mark.parametrize(
    ("operator", "value", "where", "clause"),
    [
        ("equals", ["8", "7.5"], "filter", {"terms": {"severity": [8.0, 7.5]}}),
        ("notEquals", ["2"], "must_not", {"terms": {"severity": [2.0]}}),
        ("greaterThan", 7, "filter", {"range": {"severity": {"gt": 7}}}),
        ("greaterThanOrEqual", 7, "filter", {"range": {"severity": {"gte": 7}}}),
        ("lessThan", 4, "filter", {"range": {"severity": {"lt": 4}}}),
        ("lessThanOrEqual", 4, "filter", {"range": {"severity": {"lte": 4}}}),
        ("eq", ["8"], "filter", {"terms": {"severity": [8.0]}}),
        ("neq", ["8"], "must_not", {"terms": {"severity": [8.0]}}),
        ("gt", 7, "filter", {"range": {"severity": {"gt": 7}}}),
        ("gte", 7, "filter", {"range": {"severity": {"gte": 7}}}),
        ("lt", 4, "filter", {"range": {"severity": {"lt": 4}}}),
        ("lte", 4, "filter", {"range": {"severity": {"lte": 4}}}),
    ],
)
def test_every_numeric_operator(operator: str, value: Any, where: str, clause: Any) -> None:
    assert compiled({"severity": {operator: value}}) == {"bool": {where: [clause]}}


def test_every_operator_is_covered() -> None:
    assert set(OPERATORS) == {
        "equals", "notEquals", "greaterThan", "greaterThanOrEqual", "lessThan",
        "lessThanOrEqual", "matches", "notMatches", *DEPRECATED,
    }  # fmt: skip
    assert all(OPERATORS[old] is OPERATORS[new] for old, new in DEPRECATED.items())


def test_matches_and_not_matches_are_wildcards() -> None:
    query = compiled({"type": {"matches": ["Recon:*", "*/Port?can"], "notMatches": ["*\\*"]}})
    assert query == {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"wildcard": {"type": {"value": "Recon:*"}}},
                            {"wildcard": {"type": {"value": "*/Port?can"}}},
                        ],
                        "minimum_should_match": 1,
                    }
                }
            ],
            "must_not": [
                {
                    "bool": {
                        "should": [{"wildcard": {"type": {"value": "*\\\\*"}}}],
                        "minimum_should_match": 1,
                    }
                }
            ],
        }
    }


def test_attributes_and_operators_are_anded() -> None:
    query = compiled(
        {
            "type": {"equals": ["Recon:EC2/Portscan", "Recon:EC2/PortProbeUnprotectedPort"]},
            "service.count": {"greaterThan": 1, "lessThanOrEqual": 10},
            "accountId": {"notEquals": ["111122223333", "444455556666"]},
        }
    )
    assert query == {
        "bool": {
            "filter": [
                {"terms": {"type": ["Recon:EC2/Portscan", "Recon:EC2/PortProbeUnprotectedPort"]}},
                {"range": {"service.count": {"gt": 1}}},
                {"range": {"service.count": {"lte": 10}}},
            ],
            "must_not": [{"terms": {"accountId": ["111122223333", "444455556666"]}}],
        }
    }


def test_values_follow_the_field_type() -> None:
    query = compiled(
        {
            "service.archived": {"equals": ["false"]},
            "service.count": {"equals": ["3"]},
            "updatedAt": {"equals": ["1740913200000", "2025-03-02T11:00:00Z"], "gte": 1},
        }
    )
    assert query["bool"]["filter"] == [
        {"terms": {"service.archived": [False]}},
        {"terms": {"service.count": [3]}},
        {"terms": {"updatedAt": [1740913200000, "2025-03-02T11:00:00Z"]}},
        {"range": {"updatedAt": {"gte": 1, "format": "epoch_millis"}}},
    ]


def test_user_input_never_becomes_query_syntax() -> None:
    hostile = 'x" OR * AND type:* \\ (a)'
    query = compiled({"type": {"equals": [hostile]}, "region": {"matches": [hostile]}})
    assert query["bool"]["filter"][0] == {"terms": {"type": [hostile]}}
    assert "query_string" not in repr(query)


def _wildcard(field: str) -> dict[str, Any]:
    return {"bool": {"should": [{"wildcard": {field: {"value": "a*"}}}], "minimum_should_match": 1}}


EXAMPLES: dict[FieldType, tuple[dict[str, Any], Any, Any]] = {
    "keyword": ({"matches": ["a*"], "notEquals": ["1"]}, _wildcard, "1"),
    "long": (
        {"greaterThanOrEqual": 1, "notEquals": ["1"]},
        lambda f: {"range": {f: {"gte": 1}}},
        1,
    ),
    "double": ({"lessThan": 5, "notEquals": ["1"]}, lambda f: {"range": {f: {"lt": 5}}}, 1.0),
    "date": (
        {"greaterThan": 1740913200000, "notEquals": ["1"]},
        lambda f: {"range": {f: {"gt": 1740913200000, "format": "epoch_millis"}}},
        1,
    ),
    "boolean": (
        {"equals": ["true"], "notEquals": ["false"]},
        lambda f: {"terms": {f: [True]}},
        False,
    ),
}
"""Per field type: a condition, the clause it gives on a field, the notEquals value read."""


def test_attribute_types_cover_all_622_attributes() -> None:
    types = attribute_types()
    assert list(types) == list(filter_attributes())
    assert len(types) == 622
    assert (types["severity"], types["updatedAt"], types["service.archived"]) == (
        "double", "date", "boolean",
    )  # fmt: skip


@pytest.mark.parametrize("attribute", filter_attributes())
def test_every_attribute_validates_and_compiles_to_its_own_field(attribute: str) -> None:
    condition, clause, excluded = EXAMPLES[attribute_types()[attribute]]
    criterion = {attribute: condition}
    body = {"name": "all", "action": "NOOP", "rank": 1, "findingCriteria": {"criterion": criterion}}
    assert problems(body) == []
    assert compiled(criterion) == {
        "bool": {"filter": [clause(attribute)], "must_not": [{"terms": {attribute: [excluded]}}]}
    }
