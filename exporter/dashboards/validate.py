"""Offline checks of the saved objects: they parse, references resolve, fields exist.

Every problem is collected (``file:line: message``), none stops the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from exporter.dashboards.objects import (
    JSON_ATTRIBUTES,
    TYPE_ORDER,
    SavedObject,
    group_of,
    load,
    parse_lines,
    to_ndjson,
)
from exporter.dashboards.queries import BUCKETS, METRICS, enabled_aggs, scripted_fields
from exporter.dashboards.templates import MAPPINGS_DIR, Fields, aggregatable, fields_for

DOC_FIELD = re.compile(r"doc\['([^']+)'\]")
"""A field a painless script reads: ``doc['name']``."""

Index = dict[tuple[str, str], SavedObject]
Check = Callable[[SavedObject, Index, Path], Iterator[str]]


def _parse(obj: SavedObject, _index: Index, _mappings: Path) -> Iterator[str]:
    if obj.type not in TYPE_ORDER:
        yield f"unknown type {obj.type!r}"
    if not obj.attributes.get("title"):
        yield "no title"
    if group_of(obj.id) is None:
        yield f"id {obj.id!r} starts with no known group prefix"
    for attribute in JSON_ATTRIBUTES.get(obj.type, ()):
        try:
            obj.decoded(attribute)
        except ValueError as exc:
            yield f"{attribute} is not JSON: {exc}"


def _ref_names(obj: SavedObject) -> Iterator[str]:
    """Reference names the object's own JSON points at."""
    source = obj.decoded("kibanaSavedObjectMeta.searchSourceJSON") or {}
    if "indexRefName" in source:
        yield source["indexRefName"]
    if "savedSearchRefName" in obj.attributes:
        yield obj.attributes["savedSearchRefName"]
    panels = obj.decoded("panelsJSON") if obj.type == "dashboard" else None
    for panel in panels or []:
        yield panel.get("panelRefName", "<panel without panelRefName>")


def _references(obj: SavedObject, index: Index, _mappings: Path) -> Iterator[str]:
    names = {ref["name"] for ref in obj.references}
    for ref in obj.references:
        if (ref["type"], ref["id"]) not in index:
            yield f"reference {ref['name']} → {ref['type']} {ref['id']!r} does not exist"
    for name in _ref_names(obj):
        if name not in names:
            yield f"{name!r} is used but not among the references"


def index_pattern_of(obj: SavedObject, index: Index) -> SavedObject | None:
    """The index pattern an object searches (directly or through its saved search)."""
    for ref in obj.references:
        target = index.get((ref["type"], ref["id"]))
        if target is not None and target.type == "index-pattern":
            return target
        if target is not None and target.type == "search":
            return index_pattern_of(target, index)
    return None


def _field_problem(field: str, fields: Fields, scripts: Mapping[str, Any]) -> str | None:
    if field in scripts:
        used = DOC_FIELD.findall(str(scripts[field].get("script", "")))
        missing = [f for f in used if f not in fields or not aggregatable(fields[f])]
        return f"scripted field {field} reads {missing} (not aggregatable)" if missing else None
    if field not in fields:
        return f"field {field} is not in the index template"
    if not aggregatable(fields[field]):
        return f"field {field} ({fields[field].get('type')}) is not aggregatable"
    return None


def _agg_fields(obj: SavedObject, index: Index, mappings: Path) -> Iterator[str]:
    if obj.type != "visualization":
        return
    pattern = index_pattern_of(obj, index)
    if pattern is None:
        yield "no index pattern"
        return
    fields = fields_for(str(pattern.attributes.get("title")), mappings)
    scripts = scripted_fields(pattern)
    for agg in enabled_aggs(obj):
        if agg["type"] not in BUCKETS and agg["type"] not in METRICS:
            yield f"aggregation {agg['id']}: unsupported type {agg['type']!r}"
        field = agg.get("params", {}).get("field")
        problem = field and _field_problem(field, fields, scripts)
        if problem:
            yield f"aggregation {agg['id']}: {problem}"


def _pattern_fields(obj: SavedObject, _index: Index, mappings: Path) -> Iterator[str]:
    if obj.type != "index-pattern":
        return
    fields = fields_for(str(obj.attributes.get("title")), mappings)
    if not fields:
        yield f"no index template covers {obj.attributes.get('title')!r}"
        return
    time_field = obj.attributes.get("timeFieldName")
    if time_field and fields.get(time_field, {}).get("type") != "date":
        yield f"time field {time_field} is not a date field"
    scripts = scripted_fields(obj)
    for name in obj.decoded("fieldFormatMap") or {}:
        if name not in fields and name not in scripts:
            yield f"field format for unknown field {name}"
    for name in scripts:
        problem = _field_problem(name, fields, scripts)
        if problem:
            yield problem


def _search_fields(obj: SavedObject, index: Index, mappings: Path) -> Iterator[str]:
    if obj.type != "search":
        return
    pattern = index_pattern_of(obj, index)
    fields = fields_for(str(pattern.attributes.get("title")), mappings) if pattern else {}
    for column in obj.attributes.get("columns", []):
        if column not in fields:
            yield f"column {column} is not in the index template"
    for field, _order in obj.attributes.get("sort", []):
        if field not in fields or not aggregatable(fields[field]):
            yield f"sort field {field} is not sortable"


CHECKS: tuple[Check, ...] = (
    _parse,
    _references,
    _pattern_fields,
    _agg_fields,
    _search_fields,
)


def problems(objects: Sequence[SavedObject], mappings: Path = MAPPINGS_DIR) -> list[str]:
    """Every problem of every object: ``location: message``."""
    index: Index = {}
    found = []
    for obj in objects:
        if (obj.type, obj.id) in index:
            found.append(f"{obj.location}: duplicate {obj.type} {obj.id!r}")
        index[(obj.type, obj.id)] = obj
    for obj in objects:
        found += [
            f"{obj.location}: {msg}" for check in CHECKS for msg in check(obj, index, mappings)
        ]
    return found


def not_canonical(directory: Path) -> list[str]:
    """Files whose text differs from their canonical form (``duskwatch dashboards export``
    writes it)."""
    return [
        path.name
        for path in sorted(directory.glob("*.ndjson"))
        if path.read_text() != to_ndjson(o.raw for o in parse_lines(path.read_text(), path.name))
    ]


def check(directory: Path, mappings: Path = MAPPINGS_DIR) -> list[str]:
    """All problems of the saved objects in ``directory``, canonical form included."""
    found = problems(load(directory), mappings)
    return found + [f"{name}: not in canonical form" for name in not_canonical(directory)]
