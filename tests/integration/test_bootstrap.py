from __future__ import annotations

import json
import shutil
from pathlib import Path

from opensearchpy import OpenSearch

from exporter.store.bootstrap import HASH_KEY, Outcome, bootstrap, mappings_dir


def test_bootstrap_is_idempotent(client: OpenSearch) -> None:
    again = bootstrap(client)
    assert again, "nothing under mappings/"
    assert {r.outcome for r in again} <= {Outcome.UNCHANGED, Outcome.SKIPPED}
    names = {r.name for r in again if r.kind == "index_templates"}
    assert {
        "duskwatch-events-cloudtrail",
        "duskwatch-events-vpcflow",
        "duskwatch-events-route53",
        "duskwatch-events-eks-audit",
        "duskwatch-deadletter",
    } <= names


def test_a_changed_template_is_updated_and_stamped(client: OpenSearch, tmp_path: Path) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(mappings_dir(), root)
    path = root / "index_templates" / "duskwatch-state.json"
    body = json.loads(path.read_text())
    body["_meta"]["description"] += " (changed)"
    path.write_text(json.dumps(body))
    try:
        results = {(r.kind, r.name): r.outcome for r in bootstrap(client, root)}
        assert results[("index_templates", "duskwatch-state")] is Outcome.UPDATED
        assert results[("index_templates", "duskwatch-events-cloudtrail")] is Outcome.UNCHANGED
        stored = client.indices.get_index_template(name="duskwatch-state")
        meta = stored["index_templates"][0]["index_template"]["_meta"]
        assert meta["description"].endswith("(changed)")
        assert meta[HASH_KEY]
    finally:
        restored = {(r.kind, r.name): r.outcome for r in bootstrap(client)}
        assert restored[("index_templates", "duskwatch-state")] is Outcome.UPDATED


def test_event_indices_get_their_alias_and_mapping(client: OpenSearch) -> None:
    index = "duskwatch-events-vpcflow-2001.01.01"
    client.indices.create(index=index)
    try:
        assert "duskwatch-events-vpcflow" in client.indices.get_alias(index=index)[index]["aliases"]
        mapping = client.indices.get_mapping(index=index)[index]["mappings"]
        assert mapping["properties"]["source"]["properties"]["ip"]["type"] == "ip"
        assert mapping["dynamic"] == "false"
    finally:
        client.indices.delete(index=index)


def test_existing_indices_get_fields_added_to_their_template(
    client: OpenSearch, tmp_path: Path
) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(mappings_dir(), root)
    index = "duskwatch-events-route53-2001.01.02"
    client.indices.create(index=index)
    path = root / "component_templates" / "duskwatch-events-route53.json"
    body = json.loads(path.read_text())
    body["template"]["mappings"]["properties"]["added_by_test"] = {"type": "keyword"}
    path.write_text(json.dumps(body))
    try:
        results = {(r.kind, r.name): r.outcome for r in bootstrap(client, root)}
        assert results[("mappings", index)] is Outcome.UPDATED
        mapping = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
        assert mapping["added_by_test"] == {"type": "keyword"}
    finally:
        client.indices.delete(index=index)
        bootstrap(client)
