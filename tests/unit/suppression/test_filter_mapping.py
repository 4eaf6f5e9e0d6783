"""The filters index maps every finding field, so any criterion can be a percolator query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exporter.suppression.attributes import findings_properties

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"


def _read(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


def test_filters_template_is_the_findings_mapping_plus_filter_and_query() -> None:
    template = _read(MAPPINGS / "index_templates" / "duskwatch-filters.json")
    mappings = template["template"]["mappings"]
    properties = dict(mappings["properties"])
    assert properties.pop("query") == {"type": "percolator"}
    assert set(properties.pop("filter")["properties"]) == {
        "name", "action", "rank", "description", "findingCriteria",
    }  # fmt: skip
    assert properties == findings_properties(), "copy duskwatch-findings' properties again"
    assert mappings["dynamic"] is False
    assert template["index_patterns"] == ["duskwatch-filters*"]


def test_filters_index_is_created_by_bootstrap() -> None:
    assert _read(MAPPINGS / "indices" / "duskwatch-filters.json") == {}
