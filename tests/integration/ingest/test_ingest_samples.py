"""Every public sample of the five sources ingests without a crash, exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import count, ingest_paths
from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.pipeline import DEADLETTER_INDEX
from exporter.normalize.geo import country_code

SOURCE_DIRS = {
    "cloudtrail": "elastic-integrations-aws/cloudtrail",
    "vpcflow": "elastic-integrations-aws/vpcflow",
    "route53": "elastic-integrations-aws/route53_resolver_logs",
    "eks-audit": "elastic-integrations-kubernetes-audit",
}
PANTHER = {
    "cloudtrail": "panther_rule_tests_aws_cloudtrail.jsonl",
    "eks-audit": "panther_rule_tests_amazon_eks_audit.jsonl",
    "vpcflow": "panther_rule_tests_aws_vpcflow.jsonl",
    "route53": "panther_rule_tests_aws_vpcdns.jsonl",
}


def sample_logs(shared_data: Path, log_type: str) -> list[str]:
    folder = shared_data / SOURCE_DIRS[log_type]
    return [str(p) for p in sorted(folder.glob("*.log"))]


def panther_logs(shared_data: Path, tmp_path: Path, log_type: str) -> str:
    """The ``log`` of every labelled Panther case, one JSON object per line."""
    rows = shared_data / "panther-analysis-labelled-rule-tests" / PANTHER[log_type]
    lines = [
        json.dumps(json.loads(line)["log"])
        for line in rows.read_text().splitlines()
        if line.strip()
    ]
    out = tmp_path / f"panther-{log_type}.json"
    out.write_text("\n".join(lines) + "\n")
    return str(out)


def test_every_sample_ingests_and_reingests_as_duplicates(
    clean: OpenSearch, settings: config.Settings, shared_data: Path, tmp_path: Path
) -> None:
    for log_type in SOURCE_DIRS:
        paths = [*sample_logs(shared_data, log_type), panther_logs(shared_data, tmp_path, log_type)]
        first = ingest_paths(clean, settings, *paths, log_type=log_type)
        stats = first.sources[log_type]
        assert stats.read > 0
        assert stats.read == stats.indexed + stats.duplicates + stats.dead_lettered, log_type
        assert stats.indexed > 0, log_type
        stored = count(clean, f"duskwatch-events-{log_type}")
        assert stored == stats.indexed, log_type

        again = ingest_paths(clean, settings, *paths, log_type=log_type).sources[log_type]
        assert again.indexed == 0, log_type
        assert again.duplicates == stats.indexed + stats.duplicates, log_type
        assert count(clean, f"duskwatch-events-{log_type}") == stored, log_type


def test_auto_detection_matches_the_source(
    clean: OpenSearch, settings: config.Settings, shared_data: Path
) -> None:
    for log_type in SOURCE_DIRS:
        summary = ingest_paths(clean, settings, *sample_logs(shared_data, log_type))
        assert set(summary.sources) == {log_type}, log_type
        assert not summary.unrecognized


def test_non_eks_audit_events_are_dead_lettered_with_reasons(
    clean: OpenSearch, settings: config.Settings, shared_data: Path
) -> None:
    audit = shared_data / SOURCE_DIRS["eks-audit"] / "test-audit.log"
    summary = ingest_paths(clean, settings, str(audit), log_type="eks-audit")
    assert summary.sources["eks-audit"].dead_lettered >= 2
    hits = clean.search(
        index=DEADLETTER_INDEX, body={"size": 50, "query": {"term": {"log_type": "eks-audit"}}}
    )["hits"]["hits"]
    reasons = " | ".join(hit["_source"]["reason"] for hit in hits)
    assert "GKE" in reasons
    assert "AKS" in reasons
    assert all(hit["_source"]["line"] for hit in hits)
    assert all(hit["_source"]["origin"] == str(audit) for hit in hits)


def test_ecs_documents_are_queryable(
    clean: OpenSearch, settings: config.Settings, shared_data: Path
) -> None:
    ingest_paths(clean, settings, *sample_logs(shared_data, "vpcflow"), log_type="vpcflow")
    ingest_paths(clean, settings, *sample_logs(shared_data, "route53"), log_type="route53")
    assert count(clean, "duskwatch-events-vpcflow", {"term": {"related.ip": "10.0.0.0/8"}}) > 0
    assert count(clean, "duskwatch-events-vpcflow", {"exists": {"field": "network.transport"}}) > 0
    sample = clean.search(
        index="duskwatch-events-route53",
        body={"size": 1, "query": {"exists": {"field": "duskwatch.dns.parent_domains"}}},
    )["hits"]["hits"][0]
    name = sample["_source"]["dns"]["question"]["name"]
    parent = sample["_source"]["duskwatch"]["dns"]["parent_domains"][-1]
    assert name.endswith(parent)
    assert (
        count(clean, "duskwatch-events-route53", {"term": {"duskwatch.dns.parent_domains": parent}})
        > 0
    )


def test_public_addresses_get_their_country(
    clean: OpenSearch, settings: config.Settings, shared_data: Path
) -> None:
    ingest_paths(clean, settings, *sample_logs(shared_data, "vpcflow"), log_type="vpcflow")
    ingest_paths(clean, settings, *sample_logs(shared_data, "cloudtrail"), log_type="cloudtrail")
    located = 0
    for index in ("duskwatch-events-vpcflow", "duskwatch-events-cloudtrail"):
        hits = clean.search(index=index, body={"size": 1000})["hits"]["hits"]
        for hit in hits:
            for side in ("source", "destination"):
                found = hit["_source"].get(side, {})
                code = country_code(found["ip"]) if "ip" in found else None
                assert found.get("geo", {}).get("country_iso_code") == code, (index, found)
                located += code is not None
    assert located > 0
    by_country = {
        "size": 0,
        "aggs": {"countries": {"terms": {"field": "source.geo.country_iso_code"}}},
    }
    buckets = clean.search(index="duskwatch-events-*", body=by_country)["aggregations"]
    assert buckets["countries"]["buckets"], "no country to aggregate on"
