"""Every visualization's aggregation, run as a real query on the real node over a small
simulated day (plus two public CloudTrail samples with errors and console logins) and
sample findings, returns buckets; so does every saved search's query."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.dashboards.objects import GROUPS, SavedObject, group_of, load
from exporter.dashboards.queries import lucene, search_body, top_buckets
from exporter.dashboards.validate import index_pattern_of
from exporter.findings import store
from exporter.findings.samples import sample_findings
from exporter.ingest.pipeline import Ingestor
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files
from exporter.store.indices import EVENT_INDICES, delete_matching

END = datetime(2025, 3, 10, tzinfo=UTC)
EXTRA_CLOUDTRAIL = ("test-update-trail-json.log", "test-console-login-json.log")
"""Public samples with what the simulator does not write: an errorCode."""
GEO = {"country": {"countryName": "Netherlands", "countryCode": "NL"},
       "organization": {"asn": "64500", "asnOrg": "Example Transit BV"}}  # fmt: skip
"""GuardDuty's remote IP enrichment (Duskwatch does not geolocate yet), on some findings."""

SHIPPED = load()
INDEX = {(o.type, o.id): o for o in SHIPPED}


def with_geo(finding: dict[str, Any]) -> dict[str, Any]:
    enriched = copy.deepcopy(finding)
    for action in enriched["service"].get("action", {}).values():
        if isinstance(action, dict) and "remoteIpDetails" in action:
            action["remoteIpDetails"].update(GEO)
    return enriched


@pytest.fixture(scope="module")
def findings_index(
    client: OpenSearch,
    settings: config.Settings,
    tmp_path_factory: pytest.TempPathFactory,
    shared_data: Path,
) -> Iterator[str]:
    """Events of one simulated day and sample findings (half geo-enriched) in a test index."""
    delete_matching(client, EVENT_INDICES)
    out = tmp_path_factory.mktemp("dash") / "logs"
    simulate(SimulationConfig(out, days=1, scale=0.02, seed=5, end=END))
    ingestor = Ingestor(client, settings.ingest)
    extra = [
        str(shared_data / "elastic-integrations-aws" / "cloudtrail" / n) for n in EXTRA_CLOUDTRAIL
    ]
    for origin, data in files.read_files(files.expand([str(out), *extra])):
        ingestor.ingest(origin, data)
    ingestor.close()
    index = f"duskwatch-findings-test-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=index)
    samples = sample_findings(
        None, now=END, detector_id="d" * 32, account="123456789012", region="us-east-1"
    )
    enriched = [with_geo(f) for f in samples[::2]]
    store.upsert(client, samples[1::2] + enriched, index=index, refresh=True)
    store.archive(client, [samples[1]["id"]], index=index, refresh=True)
    yield index
    client.indices.delete(index=index)
    delete_matching(client, EVENT_INDICES)


def target(obj: SavedObject, findings_index: str) -> tuple[str, SavedObject]:
    pattern = index_pattern_of(obj, INDEX)
    assert pattern is not None
    is_findings = group_of(pattern.id) == "findings"
    return (findings_index if is_findings else str(pattern.attributes["title"])), pattern


@pytest.mark.parametrize(
    "vis", [o for o in SHIPPED if o.type == "visualization"], ids=lambda o: o.id
)
def test_visualization_returns_buckets(
    client: OpenSearch, findings_index: str, vis: SavedObject
) -> None:
    index, pattern = target(vis, findings_index)
    response = client.search(index=index, body=search_body(vis, pattern))
    assert top_buckets(response, vis) > 0, f"{vis.id}: no buckets in {index}"


@pytest.mark.parametrize("search", [o for o in SHIPPED if o.type == "search"], ids=lambda o: o.id)
def test_saved_search_query_runs(
    client: OpenSearch, findings_index: str, search: SavedObject
) -> None:
    index, _ = target(search, findings_index)
    query = search.decoded("kibanaSavedObjectMeta.searchSourceJSON")["query"]["query"]
    sort = [{field: order} for field, order in search.attributes["sort"]]
    response = client.search(index=index, body={"query": lucene(query), "sort": sort, "size": 1})
    assert response["_shards"]["failed"] == 0


def test_common_filters_find_findings(client: OpenSearch, findings_index: str) -> None:
    for name in ("high-critical-active", "type-recon", "type-unauthorizedaccess"):
        search = INDEX[("search", f"{GROUPS['findings']}-search-{name}")]
        query = search.decoded("kibanaSavedObjectMeta.searchSourceJSON")["query"]["query"]
        hits = client.search(index=findings_index, body={"query": lucene(query)})["hits"]
        assert hits["total"]["value"] > 0, name
