"""Suppression before write, on the real node: FindingWriter + PercolatingSuppressor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter.findings import store
from exporter.findings.writer import FindingWriter
from exporter.suppression import store as filters
from exporter.suppression.attributes import attribute_types
from exporter.suppression.model import Filter
from exporter.suppression.suppressor import PercolatingSuppressor, suppressor_for

PORTSCAN = "Recon:EC2/Portscan"
SSH = "UnauthorizedAccess:EC2/SSHBruteForce"
BASTION = "i-0bbbbbbbbbbbbbbbb"
OTHER = "i-0ccccccccccccccccc"
LATER = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)

AddFilter = Callable[..., Filter]
MakeFinding = Callable[..., dict[str, Any]]


@pytest.fixture
def writer(
    client: OpenSearch, findings_index: str, filters_index: str, outbox: Any
) -> FindingWriter:
    return FindingWriter(
        client, findings_index, suppressor=suppressor_for(client, filters_index), outbox=outbox
    )


def stored(client: OpenSearch, index: str, identifier: str) -> dict[str, Any]:
    return store.get(client, [identifier], index, raw=True)[0]


def test_archive_filter_suppresses_matching_new_findings_before_export(
    client: OpenSearch,
    findings_index: str,
    writer: FindingWriter,
    outbox: Any,
    add_filter: AddFilter,
    make_finding: MakeFinding,
) -> None:
    add_filter("suppress-bastion-ssh", {
        "type": {"equals": [SSH]},
        "resource.instanceDetails.tags.value": {"equals": ["bastion-1"]},
    })  # fmt: skip
    bastion = make_finding(SSH, instance=BASTION, tags=[("Name", "bastion-1")])
    web = make_finding(SSH, instance=OTHER, tags=[("Name", "web-1")])
    scan = make_finding(PORTSCAN, instance=BASTION, tags=[("Name", "bastion-1")])

    result = writer.write([bastion, web, scan], refresh=True)

    assert sorted(result.created) == sorted(f["id"] for f in (bastion, web, scan))
    suppressed = stored(client, findings_index, bastion["id"])
    assert suppressed["service"]["archived"] is True
    assert suppressed["duskwatch"]["suppressed_by"] == "suppress-bastion-ssh"
    for active in (web, scan):
        doc = stored(client, findings_index, active["id"])
        assert doc["service"]["archived"] is False
        assert "suppressed_by" not in doc.get("duskwatch", {})
    assert sorted(outbox.queued) == sorted([web["id"], scan["id"]])
    listed = store.search(client, archived=True, index=findings_index)
    assert [f["id"] for f in listed] == [bastion["id"]]


def test_the_lowest_ranked_matching_rule_is_recorded(
    client: OpenSearch,
    findings_index: str,
    writer: FindingWriter,
    add_filter: AddFilter,
    make_finding: MakeFinding,
) -> None:
    add_filter("a-broad", {"severity": {"gte": 1}}, rank=7)
    add_filter("z-narrow", {"type": {"equals": [SSH]}}, rank=2)
    add_filter("b-same-rank", {"type": {"matches": ["Unauthorized*"]}}, rank=2)
    ssh, scan = make_finding(SSH), make_finding(PORTSCAN, severity=5.0)
    writer.write([ssh, scan], refresh=True)
    assert stored(client, findings_index, ssh["id"])["duskwatch"]["suppressed_by"] == "b-same-rank"
    assert stored(client, findings_index, scan["id"])["duskwatch"]["suppressed_by"] == "a-broad"


def test_noop_filters_never_suppress(
    client: OpenSearch,
    findings_index: str,
    filters_index: str,
    writer: FindingWriter,
    outbox: Any,
    add_filter: AddFilter,
    make_finding: MakeFinding,
) -> None:
    add_filter("saved-ssh", {"type": {"equals": [SSH]}}, action="NOOP")
    raw = client.get(index=filters_index, id="saved-ssh")["_source"]
    assert "query" not in raw
    finding = make_finding(SSH)
    writer.write([finding], refresh=True)
    assert stored(client, findings_index, finding["id"])["service"]["archived"] is False
    assert outbox.queued == [finding["id"]]


def test_hand_archived_recurs_active_while_suppressed_stays_archived(
    client: OpenSearch,
    findings_index: str,
    writer: FindingWriter,
    outbox: Any,
    add_filter: AddFilter,
    make_finding: MakeFinding,
) -> None:
    add_filter("suppress-portscan", {"type": {"equals": [PORTSCAN]}})
    by_hand, suppressed = make_finding(SSH), make_finding(PORTSCAN)
    writer.write([by_hand, suppressed], refresh=True)
    assert store.archive(client, [by_hand["id"]], findings_index, refresh=True) == [by_hand["id"]]
    outbox.queued.clear()

    later = [make_finding(SSH, at=LATER), make_finding(PORTSCAN, at=LATER)]
    result = writer.write(later, refresh=True)

    assert sorted(result.updated) == sorted([by_hand["id"], suppressed["id"]])
    recurred = stored(client, findings_index, by_hand["id"])
    assert (recurred["service"]["archived"], recurred["service"]["count"]) == (False, 2)
    still = stored(client, findings_index, suppressed["id"])
    assert (still["service"]["archived"], still["service"]["count"]) == (True, 2)
    assert still["duskwatch"]["suppressed_by"] == "suppress-portscan"
    assert outbox.queued == [by_hand["id"]]


def test_update_and_delete_follow_the_percolator_query(
    client: OpenSearch,
    findings_index: str,
    filters_index: str,
    writer: FindingWriter,
    add_filter: AddFilter,
    make_finding: MakeFinding,
) -> None:
    add_filter("moving-rule", {"type": {"equals": [SSH]}})
    first = make_finding(SSH, instance="i-01")
    writer.write([first], refresh=True)
    assert stored(client, findings_index, first["id"])["service"]["archived"] is True

    filters.update(client, "moving-rule", {"findingCriteria": {"criterion": {
        "type": {"equals": [PORTSCAN]}}}}, filters_index)  # fmt: skip
    ssh, scan = make_finding(SSH, instance="i-02"), make_finding(PORTSCAN, instance="i-02")
    writer.write([ssh, scan], refresh=True)
    assert stored(client, findings_index, ssh["id"])["service"]["archived"] is False
    assert stored(client, findings_index, scan["id"])["service"]["archived"] is True
    query = client.get(index=filters_index, id="moving-rule")["_source"]["query"]
    assert query == {"bool": {"filter": [{"terms": {"type": [PORTSCAN]}}]}}

    filters.update(client, "moving-rule", {"action": "NOOP"}, filters_index)
    assert "query" not in client.get(index=filters_index, id="moving-rule")["_source"]
    noop = make_finding(PORTSCAN, instance="i-03")
    writer.write([noop], refresh=True)
    assert stored(client, findings_index, noop["id"])["service"]["archived"] is False

    filters.update(client, "moving-rule", {"action": "ARCHIVE", "rank": 9}, filters_index)
    assert filters.get(client, "moving-rule", filters_index).rank == 9
    filters.delete(client, "moving-rule", filters_index)
    assert not client.exists(index=filters_index, id="moving-rule")
    gone = make_finding(PORTSCAN, instance="i-04")
    writer.write([gone], refresh=True)
    assert stored(client, findings_index, gone["id"])["service"]["archived"] is False


def test_apply_existing_archives_stored_matches(
    client: OpenSearch,
    findings_index: str,
    filters_index: str,
    add_filter: AddFilter,
    make_finding: MakeFinding,
) -> None:
    plain = FindingWriter(client, findings_index)
    matching = [make_finding(SSH, instance=f"i-0{n}") for n in range(3)]
    other = make_finding(PORTSCAN)
    plain.write([*matching, other], refresh=True)
    store.archive(client, [matching[0]["id"]], findings_index, refresh=True)

    rule = add_filter("late-rule", {"type": {"equals": [SSH]}, "service.count": {"lte": 5}})
    assert filters.apply_existing(client, rule, findings_index) == 3
    for finding in matching:
        doc = stored(client, findings_index, finding["id"])
        assert doc["service"]["archived"] is True
        assert doc["duskwatch"]["suppressed_by"] == "late-rule"
    assert stored(client, findings_index, other["id"])["service"]["archived"] is False
    assert filters.apply_existing(client, rule, findings_index) == 0


def test_without_a_filters_index_nothing_is_suppressed(
    client: OpenSearch, findings_index: str, make_finding: MakeFinding
) -> None:
    finding = make_finding(SSH)
    PercolatingSuppressor(client, "duskwatch-filters-test-absent").mark([finding])
    assert "duskwatch" not in finding


def test_every_attribute_can_be_a_percolator_query(
    client: OpenSearch, filters_index: str, add_filter: AddFilter
) -> None:
    examples = {"keyword": {"equals": ["x"]}, "long": {"gt": 1}, "double": {"lt": 5},
                "date": {"gte": 1740913200000}, "boolean": {"equals": ["true"]}}  # fmt: skip
    names = list(attribute_types().items())
    for start in range(0, len(names), 50):
        chunk = names[start : start + 50]
        add_filter(f"all-{start}", {a: examples[kind] for a, kind in chunk})
    assert len(filters.list_filters(client, filters_index)) == 13
