"""The type of every filterable finding attribute, read from the findings index mapping.

An attribute is also the name of its field (the findings index keeps GuardDuty's JSON); the
mapping in ``mappings/index_templates/duskwatch-findings.json`` is the one place that says
whether it is a string, a number, a timestamp or a boolean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, cast, get_args

from exporter.errors import ConfigError
from exporter.findings.attributes import filter_attributes
from exporter.store.bootstrap import mappings_dir

FieldType = Literal["keyword", "long", "double", "date", "boolean"]
FINDINGS_TEMPLATE = "index_templates/duskwatch-findings.json"


def findings_properties() -> dict[str, Any]:
    """The ``properties`` of the findings index template."""
    template = json.loads((mappings_dir() / FINDINGS_TEMPLATE).read_text("utf-8"))
    properties: dict[str, Any] = template["template"]["mappings"]["properties"]
    return properties


def leaf_types(properties: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted path → mapping type of every leaf field under ``properties``."""
    found: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            found.update(leaf_types(spec["properties"], f"{path}."))
        else:
            found[path] = spec["type"]
    return found


@cache
def attribute_types() -> Mapping[str, FieldType]:
    """Every GuardDuty filter attribute and the type of its field."""
    mapped = leaf_types(findings_properties())
    known = get_args(FieldType)
    wrong = [a for a in filter_attributes() if mapped.get(a) not in known]
    if wrong:
        raise ConfigError(
            f"{FINDINGS_TEMPLATE}: filter attributes not mapped as {'/'.join(known)}: "
            + ", ".join(wrong[:5])
        )
    return {a: cast(FieldType, mapped[a]) for a in filter_attributes()}
