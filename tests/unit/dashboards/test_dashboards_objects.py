"""The shipped saved objects: they parse, references resolve, every aggregated field exists in
its index template with an aggregatable type, and the files are in canonical form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporter.dashboards import objects, validate
from exporter.dashboards.objects import DASHBOARDS_DIR, SavedObject, load
from exporter.dashboards.templates import fields_for

SHIPPED = load()
BY_ID = {(o.type, o.id): o for o in SHIPPED}
DASHBOARD_TITLES = {
    "Duskwatch: Findings overview",
    "Duskwatch: CloudTrail activity",
    "Duskwatch: VPC flow",
    "Duskwatch: DNS",
    "Duskwatch: EKS audit",
}


def of_type(kind: str) -> list[SavedObject]:
    return [o for o in SHIPPED if o.type == kind]


def test_every_object_parses() -> None:
    assert len(SHIPPED) > 40
    for obj in SHIPPED:
        assert not list(validate._parse(obj, {}, validate.MAPPINGS_DIR)), obj.location
        for attribute in objects.JSON_ATTRIBUTES[obj.type]:
            obj.decoded(attribute)


def test_index_pattern_for_findings_and_every_source() -> None:
    titles = {o.attributes["title"]: o for o in of_type("index-pattern")}
    assert set(titles) == {f"{prefix}*" for prefix in objects.GROUPS.values()}
    for title, pattern in titles.items():
        assert fields_for(title), title
        assert pattern.attributes["timeFieldName"] in {"@timestamp", "updatedAt"}
        assert pattern.decoded("fieldFormatMap"), f"{title} has no field formats"


def test_every_reference_resolves() -> None:
    index = {(o.type, o.id): o for o in SHIPPED}
    for obj in SHIPPED:
        assert not list(validate._references(obj, index, validate.MAPPINGS_DIR)), obj.location


def test_every_visualization_field_is_aggregatable_in_its_template() -> None:
    for obj in of_type("visualization") + of_type("index-pattern") + of_type("search"):
        found = [
            msg
            for check in (validate._agg_fields, validate._pattern_fields, validate._search_fields)
            for msg in check(obj, BY_ID, validate.MAPPINGS_DIR)
        ]
        assert not found, f"{obj.location}: {found}"


def test_the_issues_dashboards_exist_and_show_every_visualization() -> None:
    dashboards = of_type("dashboard")
    assert {d.attributes["title"] for d in dashboards} == DASHBOARD_TITLES
    shown = {ref["id"] for d in dashboards for ref in d.references}
    assert {v.id for v in of_type("visualization")} <= shown


def test_saved_searches_cover_the_common_guardduty_filters() -> None:
    queries = {
        o.decoded("kibanaSavedObjectMeta.searchSourceJSON")["query"]["query"]
        for o in of_type("search")
    }
    assert "severity:>=7 AND service.archived:false" in queries
    assert any(q.startswith("type:Recon\\:*") for q in queries)


def test_files_are_canonical_and_the_whole_check_passes() -> None:
    assert validate.check(DASHBOARDS_DIR) == []


def test_an_export_in_any_order_with_volatile_fields_writes_the_shipped_files(
    tmp_path: Path,
) -> None:
    exported = [dict(o.raw, updated_at="2025-01-01T00:00:00Z", version="WzEsMV0=") for o in SHIPPED]
    written = objects.write(reversed(exported), tmp_path)
    assert {p.name for p in written} == {f"{g}.ndjson" for g in objects.GROUPS}
    for path in written:
        assert "updated_at" not in path.read_text()
        assert path.read_text() == (DASHBOARDS_DIR / path.name).read_text()


@pytest.mark.parametrize(
    ("field", "message"),
    [("no.such.field", "not in the index template"), ("message", "not aggregatable")],
)
def test_a_bad_field_is_reported(field: str, message: str) -> None:
    vis = next(o for o in of_type("visualization") if o.id.endswith("top-apis"))
    state = vis.decoded("visState")
    state["aggs"][1]["params"]["field"] = field
    attributes = {**vis.attributes, "visState": json.dumps(state)}
    broken = SavedObject({**vis.raw, "attributes": attributes}, "broken:1")
    found = validate.problems([o for o in SHIPPED if o is not vis] + [broken])
    assert any(message in p and p.startswith("broken:1") for p in found), found


def test_a_dangling_reference_is_reported() -> None:
    dash = of_type("dashboard")[0]
    refs = [*dash.references[:-1], {**dash.references[-1], "id": "gone"}]
    broken = SavedObject({**dash.raw, "references": refs}, "broken:1")
    found = validate.problems([o for o in SHIPPED if o is not dash] + [broken])
    assert any("'gone' does not exist" in p for p in found), found
