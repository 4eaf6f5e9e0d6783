"""Saved objects as files: load, parse and write them in one canonical, stable form.

Each ``dashboards/<group>.ndjson`` holds the objects of one group (findings or one event
source). An object belongs to the group whose id prefix is the longest one its id starts
with. Canonical form: one object per line, keys sorted, volatile export fields dropped, the
JSON-encoded attributes (``visState``, ``panelsJSON``...) re-encoded with sorted keys, and
objects ordered by type then id — so an export of unchanged objects is byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.errors import DuskwatchError

DASHBOARDS_DIR = Path(__file__).resolve().parents[2] / "dashboards"

GROUPS: dict[str, str] = {
    "findings": "duskwatch-findings",
    "cloudtrail": "duskwatch-events-cloudtrail",
    "vpcflow": "duskwatch-events-vpcflow",
    "route53": "duskwatch-events-route53",
    "eks-audit": "duskwatch-events-eks-audit",
}
"""Group (file name) → the id prefix of its objects; the index pattern's id is the prefix."""

TYPE_ORDER = ("index-pattern", "search", "visualization", "dashboard")
"""Object types, in the order they are written (referenced objects first)."""

JSON_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "index-pattern": ("fieldFormatMap", "fields"),
    "search": ("kibanaSavedObjectMeta.searchSourceJSON",),
    "visualization": ("visState", "uiStateJSON", "kibanaSavedObjectMeta.searchSourceJSON"),
    "dashboard": ("panelsJSON", "optionsJSON", "kibanaSavedObjectMeta.searchSourceJSON"),
}
"""Attributes that hold JSON encoded as a string, by object type."""

KEPT_KEYS = ("attributes", "id", "migrationVersion", "references", "type")
"""Top-level keys of a canonical object; the rest (updated_at, version...) is volatile."""


class SavedObjectError(DuskwatchError):
    """A saved-objects file cannot be read."""


@dataclass(frozen=True)
class SavedObject:
    """One saved object and where it was read from (``file:line``)."""

    raw: Mapping[str, Any]
    location: str = ""

    @property
    def type(self) -> str:
        """The object type (index-pattern, search, visualization, dashboard)."""
        return str(self.raw["type"])

    @property
    def id(self) -> str:
        """The object id."""
        return str(self.raw["id"])

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The object's attributes, as stored (JSON strings still encoded)."""
        attributes: Mapping[str, Any] = self.raw.get("attributes", {})
        return attributes

    @property
    def references(self) -> list[dict[str, str]]:
        """Its references: ``{"name", "type", "id"}``."""
        return list(self.raw.get("references", []))

    def decoded(self, attribute: str) -> Any:
        """A JSON-string attribute (dotted path) decoded; None when absent."""
        value = _dig(self.attributes, attribute)
        return None if value is None else json.loads(value)


def group_of(object_id: str) -> str | None:
    """The group an id belongs to (the longest matching prefix), None if none."""
    matches = [(len(p), g) for g, p in GROUPS.items() if object_id.startswith(p)]
    return max(matches)[1] if matches else None


def parse_lines(text: str, source: str) -> list[SavedObject]:
    """The saved objects of one NDJSON text; an export's summary line is skipped."""
    objects = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SavedObjectError(f"{source}:{number}: not JSON: {exc}") from exc
        if not isinstance(raw, dict) or "exportedCount" in raw:
            continue
        objects.append(SavedObject(raw, f"{source}:{number}"))
    return objects


def load(directory: Path = DASHBOARDS_DIR) -> list[SavedObject]:
    """Every saved object of ``directory/*.ndjson``, in file then line order."""
    files = sorted(directory.glob("*.ndjson"))
    return [obj for path in files for obj in parse_lines(path.read_text(), path.name)]


def canonical(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An object in canonical form: kept keys only, JSON attributes re-encoded, sorted."""
    kept = {key: raw[key] for key in KEPT_KEYS if key in raw}
    attributes = json.loads(json.dumps(raw.get("attributes", {})))
    for path in JSON_ATTRIBUTES.get(str(raw.get("type")), ()):
        value = _dig(attributes, path)
        if isinstance(value, str) and value:
            _set(attributes, path, _dumps(json.loads(value)))
    kept["attributes"] = attributes
    kept["references"] = sorted(kept.get("references", []), key=lambda r: (r["name"], r["id"]))
    return kept


def sort_key(raw: Mapping[str, Any]) -> tuple[int, str]:
    """Type order first, then id."""
    kind = str(raw.get("type"))
    rank = TYPE_ORDER.index(kind) if kind in TYPE_ORDER else len(TYPE_ORDER)
    return rank, str(raw.get("id"))


def to_ndjson(objects: Iterable[Mapping[str, Any]]) -> str:
    """Canonical NDJSON text of ``objects``: sorted, one canonical line each."""
    lines = [_dumps(canonical(raw)) for raw in sorted(objects, key=sort_key)]
    return "".join(line + "\n" for line in lines)


def by_group(objects: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Objects grouped by file; objects of no group are left out."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for raw in objects:
        group = group_of(str(raw.get("id")))
        if group is not None:
            grouped.setdefault(group, []).append(raw)
    return grouped


def write(objects: Iterable[Mapping[str, Any]], directory: Path) -> list[Path]:
    """Write ``objects`` to ``directory/<group>.ndjson`` in canonical form; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for group, members in sorted(by_group(objects).items()):
        path = directory / f"{group}.ndjson"
        path.write_text(to_ndjson(members))
        written.append(path)
    return written


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _dig(mapping: Mapping[str, Any], path: str) -> Any:
    value: Any = mapping
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _set(mapping: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        mapping = mapping[key]
    mapping[last] = value
