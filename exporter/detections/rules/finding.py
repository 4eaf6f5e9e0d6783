"""A matched rule + its event -> :class:`FindingSpec` (pure: no I/O).

Fields are read by dotted path through nested objects (lists are walked, as OpenSearch does),
so templates and keys may use any ``_source`` field, indexed or not. A placeholder may list
alternatives, ``{a.b|c.d}``: the first present one is used. A missing field renders as
``unknown`` in titles and descriptions and as ``""`` in the aggregation key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from exporter.detections.rules.model import Rule, SeverityTable
from exporter.findings.spec import FindingSpec

UNKNOWN = "unknown"
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


def rule_finding(rule: Rule, event: Mapping[str, Any]) -> FindingSpec:
    """The finding ``rule`` asserts about ``event`` (an ECS document that matched it)."""
    return FindingSpec(
        type=rule.finding_type,
        severity=severity(rule, event),
        title=render(rule.title, event),
        description=render(rule.description, event),
        resource_role=rule.resource_role,
        key=tuple(field_text(event, name) or "" for name in rule.key_fields),
        tactic=rule.tactic,
        technique=rule.technique,
        rule=rule.id,
    )


def severity(rule: Rule, event: Mapping[str, Any]) -> float:
    """The rule's severity, or its table's highest entry matching the event's field."""
    table = rule.severity
    if not isinstance(table, SeverityTable):
        return float(table)
    found = [table.values[text] for text in _texts(event, table.field) if text in table.values]
    return max(found, default=table.default)


def render(template: str, event: Mapping[str, Any]) -> str:
    """``template`` with each ``{dotted.field}`` replaced by the event's value(s)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        for name in match.group(1).split("|"):
            text = field_text(event, name.strip())
            if text is not None:
                return text
        return UNKNOWN

    return _PLACEHOLDER.sub(substitute, template)


def field_text(event: Mapping[str, Any], path: str) -> str | None:
    """The field's distinct values as text, comma-separated; None when it is absent."""
    return ", ".join(_texts(event, path)) or None


def field_values(event: Mapping[str, Any], path: str) -> list[Any]:
    """Every value at ``path`` (nested objects or dotted keys; lists flattened)."""
    return _walk(event, path.split("."))


def _texts(event: Mapping[str, Any], path: str) -> list[str]:
    return list(dict.fromkeys(_text(v) for v in field_values(event, path)))


def _walk(node: Any, parts: list[str]) -> list[Any]:
    if isinstance(node, list):
        return [value for item in node for value in _walk(item, parts)]
    if not parts:
        return [] if node is None else [node]
    if not isinstance(node, Mapping):
        return []
    found: list[Any] = []
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in node:
            found += _walk(node[key], parts[size:])
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)
