"""The findings index template maps every GuardDuty filter attribute to a queryable leaf."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_dir import SHARED

from exporter.findings.attributes import filter_attributes
from exporter.findings.validation import schema

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
TEMPLATE = MAPPINGS / "index_templates" / "duskwatch-findings.json"
REFERENCE = SHARED / "reference"


def _template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TEMPLATE.read_text("utf-8"))
    return loaded


def _properties() -> dict[str, Any]:
    properties: dict[str, Any] = _template()["template"]["mappings"]["properties"]
    return properties


def leaf(path: str) -> dict[str, Any] | None:
    """The mapping of ``path``'s leaf field, None when it is not mapped down to a leaf."""
    node: dict[str, Any] = {"properties": _properties()}
    for part in path.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node if "type" in node and node["type"] != "object" else None


def mapped_leaves(node: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of every leaf under ``node``'s properties."""
    found: list[str] = []
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        found += mapped_leaves(child, f"{path}.") if "properties" in child else [path]
    return found


def test_the_attribute_list_is_the_reference() -> None:
    attributes = filter_attributes()
    assert len(attributes) == len(set(attributes)) == 622
    reference = REFERENCE / "guardduty-filter-attributes.txt"
    assert reference.read_text("utf-8").split() == list(attributes)


def test_every_filter_attribute_is_a_mapped_leaf() -> None:
    unmapped = [attribute for attribute in filter_attributes() if leaf(attribute) is None]
    assert unmapped == [], f"not mapped in {TEMPLATE.name}"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("severity", "double"),
        ("service.count", "long"),
        ("service.archived", "boolean"),
        ("createdAt", "date"),
        ("updatedAt", "date"),
        ("service.eventFirstSeen", "date"),
        ("service.eventLastSeen", "date"),
        ("service.action.networkConnectionAction.localPortDetails.port", "long"),
        ("service.action.portProbeAction.portProbeDetails.localPortDetails.port", "long"),
        ("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "keyword"),
        ("service.action.kubernetesApiCallAction.statusCode", "long"),
        ("resource.instanceDetails.networkInterfaces.privateIpAddress", "keyword"),
        ("type", "keyword"),
        ("accountId", "keyword"),
        ("service.additionalInfo.sample", "boolean"),
        ("@timestamp", "date"),
        ("event.kind", "keyword"),
        ("rule.name", "keyword"),
        ("threat.tactic.name", "keyword"),
        ("threat.technique.id", "keyword"),
        ("duskwatch.suppressed_by", "keyword"),
    ],
)
def test_field_types(path: str, kind: str) -> None:
    mapped = leaf(path)
    assert mapped is not None
    assert mapped["type"] == kind


def test_only_filter_attributes_and_duskwatch_fields_are_mapped() -> None:
    extra = set(mapped_leaves({"properties": _properties()})) - set(filter_attributes())
    assert extra == {
        "@timestamp",
        "event.kind",
        "event.severity",
        "rule.name",
        "threat.tactic.name",
        "threat.technique.id",
        "duskwatch.suppressed_by",
    }


def test_template_shape() -> None:
    template = _template()
    assert template["index_patterns"] == ["duskwatch-findings*"]
    assert template["priority"] == 200
    assert template["template"]["mappings"]["dynamic"] is False
    assert json.loads((MAPPINGS / "indices" / "duskwatch-findings.json").read_text()) == {}


def test_typed_additional_info_keys_are_constrained_by_the_schema() -> None:
    """Free-form ``additionalInfo`` cannot put an object where the index expects a value."""
    info = schema()["$defs"]["additionalInfo"]["properties"]
    mapped = mapped_leaves(_properties()["service"]["properties"]["additionalInfo"])
    for path in mapped:
        node: dict[str, Any] = {"properties": info}
        for part in path.split("."):
            node = node["properties"][part]
        assert node.get("type") != "object", path
