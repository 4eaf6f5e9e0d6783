"""Field types of the indices an index pattern covers, read from ``mappings/`` templates."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
SAMPLE_SUFFIX = "-2025.01.01"
"""A daily-index suffix: pattern ``duskwatch-events-x*`` covers ``duskwatch-events-x-<day>``."""

AGGREGATABLE = frozenset(
    {"keyword", "long", "integer", "short", "byte", "double", "float", "half_float",
     "scaled_float", "unsigned_long", "date", "date_nanos", "ip", "boolean", "geo_point"}
)  # fmt: skip
"""Field types that have doc values and can be aggregated on."""

Fields = dict[str, Mapping[str, Any]]


def flatten(
    properties: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(dotted name, mapping) of every leaf field of a ``properties`` mapping."""
    for name, spec in properties.items():
        if "properties" in spec:
            yield from flatten(spec["properties"], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", spec


def aggregatable(spec: Mapping[str, Any]) -> bool:
    """True when a field of this mapping can be aggregated on."""
    return spec.get("type") in AGGREGATABLE and spec.get("doc_values", True) is not False


def _read(folder: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def _properties(body: Mapping[str, Any]) -> Mapping[str, Any]:
    props: Mapping[str, Any] = body.get("template", {}).get("mappings", {}).get("properties", {})
    return props


def _covers(template: Mapping[str, Any], base: str) -> bool:
    names = (base, base + SAMPLE_SUFFIX)
    return any(fnmatch.fnmatch(n, p) for n in names for p in template.get("index_patterns", []))


def fields_for(title: str, mappings_dir: Path = MAPPINGS_DIR) -> Fields:
    """Every field (dotted name → mapping) of the highest-priority index template covering the
    indices of index pattern ``title``, its component templates included; {} if none does."""
    base = title.rstrip("*").rstrip("-")
    templates = _read(mappings_dir / "index_templates")
    covering = [t for t in templates.values() if _covers(t, base)]
    if not covering:
        return {}
    template = max(covering, key=lambda t: int(t.get("priority", 0)))
    components = _read(mappings_dir / "component_templates")
    fields: Fields = {}
    for name in template.get("composed_of", []):
        fields.update(flatten(_properties(components[name])))
    fields.update(flatten(_properties(template)))
    return fields
