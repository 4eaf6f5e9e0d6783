"""Compile ``findingCriteria`` into a structured OpenSearch query (never a query string).

Attributes are AND-ed, operators of one condition are AND-ed, the values of one ``equals``
(or ``matches``) are OR-ed and those of ``notEquals`` (``notMatches``) are all excluded.
An attribute is its own field in the findings index; its mapping type decides how values
are read (``"true"`` for booleans, numbers as text, epoch milliseconds for timestamps).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy.helpers.query import Q, Query

from exporter.suppression.attributes import FieldType, attribute_types

Clause = Callable[[str, FieldType, Any], Query]
_INTEGER = re.compile(r"-?[0-9]+")
STRINGS: frozenset[FieldType] = frozenset({"keyword"})
ORDERED: frozenset[FieldType] = frozenset({"long", "double", "date"})
EVERY: frozenset[FieldType] = frozenset({"keyword", "long", "double", "date", "boolean"})
TYPE_NAMES: dict[FieldType, str] = {
    "keyword": "a string",
    "long": "an integer",
    "double": "a number",
    "date": "a timestamp",
    "boolean": "a boolean",
}
VALUE_FORMS: dict[FieldType, str] = {
    "keyword": "strings",
    "long": 'integers as text, e.g. "22"',
    "double": 'numbers as text, e.g. "7" or "7.5"',
    "date": "epoch milliseconds or ISO 8601 times as text",
    "boolean": '"true" or "false"',
}


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _number(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _boolean(text: str) -> bool:
    return {"true": True, "false": False}[text]


def _timestamp(text: str) -> int | str:
    if _INTEGER.fullmatch(text):
        return int(text)
    datetime.fromisoformat(text.replace("Z", "+00:00"))
    return text


CONVERTERS: dict[FieldType, Callable[[str], Any]] = {
    "keyword": str,
    "long": _integer,
    "double": _number,
    "date": _timestamp,
    "boolean": _boolean,
}


def convert(kind: FieldType, text: str) -> Any:
    """``text`` as a value of a field of type ``kind``; ValueError/KeyError when it is not."""
    return CONVERTERS[kind](text)


def _terms(field: str, kind: FieldType, values: list[str]) -> Query:
    query: Query = Q("terms", **{field: [convert(kind, v) for v in values]})
    return query


def _bound(key: str) -> Clause:
    def clause(field: str, kind: FieldType, value: int) -> Query:
        spec: dict[str, Any] = {key: value}
        if kind == "date":
            spec["format"] = "epoch_millis"
        query: Query = Q("range", **{field: spec})
        return query

    return clause


def _wildcards(field: str, kind: FieldType, patterns: list[str]) -> Query:
    """Any of the patterns (``*`` and ``?`` wildcards; a backslash is literal)."""
    escaped = [p.replace("\\", "\\\\") for p in patterns]
    should = [Q("wildcard", **{field: {"value": p}}) for p in escaped]
    query: Query = Q("bool", should=should, minimum_should_match=1)
    return query


@dataclass(frozen=True)
class Operator:
    """How one condition operator becomes a query clause, and on which field types."""

    clause: Clause
    negated: bool
    types: frozenset[FieldType]


OPERATORS: dict[str, Operator] = {
    "equals": Operator(_terms, False, EVERY),
    "notEquals": Operator(_terms, True, EVERY),
    "greaterThan": Operator(_bound("gt"), False, ORDERED),
    "greaterThanOrEqual": Operator(_bound("gte"), False, ORDERED),
    "lessThan": Operator(_bound("lt"), False, ORDERED),
    "lessThanOrEqual": Operator(_bound("lte"), False, ORDERED),
    "matches": Operator(_wildcards, False, STRINGS),
    "notMatches": Operator(_wildcards, True, STRINGS),
}
DEPRECATED = {
    "eq": "equals",
    "neq": "notEquals",
    "gt": "greaterThan",
    "gte": "greaterThanOrEqual",
    "lt": "lessThan",
    "lte": "lessThanOrEqual",
}
OPERATORS.update({old: OPERATORS[new] for old, new in DEPRECATED.items()})


def compile_criteria(
    criteria: Mapping[str, Any], types: Mapping[str, FieldType] | None = None
) -> Query:
    """The query of a validated ``findingCriteria`` (see :func:`exporter.suppression.model`)."""
    types = attribute_types() if types is None else types
    must: list[Query] = []
    must_not: list[Query] = []
    for attribute, condition in criteria["criterion"].items():
        kind = types[attribute]
        for name, value in condition.items():
            operator = OPERATORS[name]
            target = must_not if operator.negated else must
            target.append(operator.clause(attribute, kind, value))
    query: Query = Q("bool", filter=must, must_not=must_not)
    return query
