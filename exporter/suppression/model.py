"""A GuardDuty filter, validated: JSON Schema first, then each criterion against its attribute.

Every problem is reported at once; a bad criterion names the attribute, the operator and
what was expected, e.g. ``criterion 'severity', operator 'matches': expected a string
attribute, 'severity' is a number``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from exporter.errors import DuskwatchError
from exporter.suppression.attributes import FieldType, attribute_types
from exporter.suppression.compile import OPERATORS, TYPE_NAMES, VALUE_FORMS, convert

CRITERION = ("findingCriteria", "criterion")


class FilterError(DuskwatchError):
    """A filter is invalid; ``problems`` lists every problem."""

    def __init__(self, name: str, problems: list[str]) -> None:
        listed = "\n  ".join(problems)
        super().__init__(
            f"filter {name} is invalid:\n  {listed}",
            hint="attributes and their operators: duskwatch filters attributes",
        )
        self.problems = problems


class Action(StrEnum):
    """What a filter does: a saved view, or a suppression rule."""

    NOOP = "NOOP"
    ARCHIVE = "ARCHIVE"


@dataclass(frozen=True)
class Filter:
    """A validated filter (GuardDuty's ``GetFilter`` body)."""

    name: str
    action: Action
    rank: int
    criteria: Mapping[str, Any] = field(repr=False)
    description: str = ""

    def to_guardduty(self) -> dict[str, Any]:
        """GuardDuty's JSON of the filter."""
        return {
            "name": self.name,
            "description": self.description,
            "action": self.action.value,
            "rank": self.rank,
            "findingCriteria": dict(self.criteria),
        }


def schema() -> dict[str, Any]:
    """The filter JSON Schema."""
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


@cache
def _expected() -> dict[str, str]:
    """What each operator and each part of a filter (dotted path) expects, from the schema."""
    definitions = schema()["$defs"]
    described = {
        op: definitions[spec["$ref"].rsplit("/", 1)[-1]]["description"]
        for op, spec in definitions["condition"]["properties"].items()
    }
    parts = schema()["properties"].items()
    described.update({k: v["description"] for k, v in parts if "description" in v})
    described["findingCriteria"] = definitions["findingCriteria"]["description"]
    described[".".join(CRITERION)] = definitions["criterion"]["description"]
    return described


def parse_filter(data: Mapping[str, Any], types: Mapping[str, FieldType] | None = None) -> Filter:
    """A :class:`Filter` from GuardDuty's JSON; :class:`FilterError` lists every problem."""
    found = problems(data, types)
    if found:
        raise FilterError(str(data.get("name", "?")), found)
    return Filter(
        name=data["name"],
        action=Action(data["action"]),
        rank=data["rank"],
        criteria=data["findingCriteria"],
        description=data.get("description", ""),
    )


def problems(data: Mapping[str, Any], types: Mapping[str, FieldType] | None = None) -> list[str]:
    """Every problem of a filter (empty when it is valid)."""
    types = attribute_types() if types is None else types
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path)))
    found = [_describe(e, data) for e in errors]
    criteria = data.get("findingCriteria")
    criterion = criteria.get("criterion") if isinstance(criteria, Mapping) else None
    if isinstance(criterion, Mapping):
        broken = {e.absolute_path[2] for e in errors if _under_criterion(e)}
        found += [p for a in criterion if (p := _unknown(a, types))]
        for attribute, condition in criterion.items():
            if attribute in types and attribute not in broken:
                found += _misfits(attribute, condition, types)
    return list(dict.fromkeys(found))


def _under_criterion(error: ValidationError) -> bool:
    """True when ``error`` is inside one attribute's condition."""
    path = tuple(error.absolute_path)
    return path[:2] == CRITERION and len(path) >= 3


def _describe(error: ValidationError, data: Mapping[str, Any]) -> str:
    """One schema error in the user's terms: the attribute, the operator, what was expected."""
    path = [str(p) for p in error.absolute_path]
    if tuple(path[:2]) == CRITERION and len(path) >= 4:
        attribute, operator = path[2], path[3]
        value = data["findingCriteria"]["criterion"][attribute][operator]
        return _criterion(attribute, operator, f"{_expected()[operator]}, got {_shown(value)}")
    if tuple(path[:2]) == CRITERION and len(path) == 3:
        return _condition(path[2], data["findingCriteria"]["criterion"][path[2]], error)
    where = ".".join(path)
    if where in _expected():
        return f"{where}: expected {_expected()[where]}, got {_shown(error.instance)}"
    return f"{where or 'filter'}: {error.message}"


def _shown(value: Any, limit: int = 120) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _condition(attribute: str, condition: Any, error: ValidationError) -> str:
    operators = ", ".join(OPERATORS)
    if error.validator == "additionalProperties":
        unknown = sorted(set(condition) - set(OPERATORS))
        return _criterion(attribute, unknown[0], f"a known operator ({operators})")
    return f"criterion {attribute!r}: expected an object of operators ({operators})"


def _unknown(attribute: str, types: Mapping[str, FieldType]) -> str | None:
    if attribute in types:
        return None
    close = difflib.get_close_matches(attribute, types, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"criterion {attribute!r}: not a GuardDuty finding attribute{hint}"


def _misfits(
    attribute: str, condition: Mapping[str, Any], types: Mapping[str, FieldType]
) -> list[str]:
    """Operators that do not apply to the attribute's type, and values it cannot hold."""
    kind = types[attribute]
    found = []
    for name, value in condition.items():
        allowed = OPERATORS[name].types
        if kind not in allowed:
            wanted = _either([TYPE_NAMES[t] for t in TYPE_NAMES if t in allowed])
            found.append(
                _criterion(
                    attribute, name, f"{wanted} attribute, {attribute!r} is {TYPE_NAMES[kind]}"
                )
            )
        elif isinstance(value, list) and (bad := _unreadable(kind, value)):
            found.append(_criterion(attribute, name, f"{VALUE_FORMS[kind]}, got {_shown(bad)}"))
    return found


def _either(words: list[str]) -> str:
    return " or ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} or {words[-1]}"


def _unreadable(kind: FieldType, values: list[str]) -> list[str]:
    bad = []
    for value in values:
        try:
            convert(kind, value)
        except (ValueError, KeyError):
            bad.append(value)
    return bad


def _criterion(attribute: str, operator: str, expected: str) -> str:
    return f"criterion {attribute!r}, operator {operator!r}: expected {expected}"
