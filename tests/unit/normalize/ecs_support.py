"""Helpers the normalizer tests share: flattening documents, mapped fields, ECS types."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shared_dir import SHARED

ROOT = Path(__file__).resolve().parents[3]
ECS_CSV = SHARED / "reference" / "ecs" / "fields-8.17.csv"
TEMPLATES = ROOT / "mappings" / "component_templates"


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf value) of a document; arrays of objects are walked into."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from flatten(item, f"{prefix}{key}.")
    elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        for item in value:
            yield from flatten(item, prefix)
    else:
        yield prefix.rstrip("."), value


def mapped_fields(*names: str) -> dict[str, str]:
    """Dotted path -> type of every leaf mapped by the named component templates."""
    fields: dict[str, str] = {}

    def walk(properties: Mapping[str, Any], prefix: str) -> None:
        for key, spec in properties.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{key}.")
            else:
                fields[prefix + key] = spec["type"]

    for name in names:
        template = json.loads((TEMPLATES / f"{name}.json").read_text())
        walk(template["template"]["mappings"]["properties"], "")
    return fields


def ecs_types() -> dict[str, str]:
    """ECS 8.17 field -> type."""
    with ECS_CSV.open(newline="") as handle:
        return {row["Field"]: row["Type"] for row in csv.DictReader(handle)}
