"""The project's own node: what it runs, and that provisioning reuses and repairs its cache."""

from __future__ import annotations

import shutil
from pathlib import Path

from opensearchpy import OpenSearch

from exporter import config
from exporter.server import node, provision
from exporter.server.distribution import OPENSEARCH_VERSION

NEEDED_MODULES = {
    "lang-painless",
    "percolator",
    "mapper-extras",
    "analysis-common",
    "reindex",
    "parent-join",
    "lang-mustache",
    "aggs-matrix-stats",
}


def test_node_runs_the_pinned_version_with_modules(client: OpenSearch) -> None:
    assert client.info()["version"]["number"] == OPENSEARCH_VERSION
    nodes = client.nodes.info(metric="plugins")["nodes"]
    modules = {m["name"] for n in nodes.values() for m in n["modules"]}
    plugins = {p["name"] for n in nodes.values() for p in n["plugins"]}
    assert modules >= NEEDED_MODULES
    assert "opensearch-job-scheduler" in plugins


def test_provisioning_reuses_the_cache(settings: config.Settings, client: OpenSearch) -> None:
    steps: list[str] = []
    cache = node.cache_dir(settings.server)
    dist = provision.ensure_distribution(cache, node.java_home(settings.server), steps)
    assert steps == [f"reusing {dist.home}"]


def test_half_finished_assembly_is_redone(
    settings: config.Settings, tmp_path: Path, client: OpenSearch
) -> None:
    cache = node.cache_dir(settings.server)
    downloads = cache / "downloads" / OPENSEARCH_VERSION
    assert (downloads / ".complete").is_file()
    scratch = tmp_path / "cache"
    shutil.copytree(downloads, scratch / "downloads" / OPENSEARCH_VERSION)
    half = scratch / "dist" / f"opensearch-{OPENSEARCH_VERSION}"
    (half / "lib").mkdir(parents=True)  # no manifest: an interrupted assembly
    (half.with_name(half.name + ".partial") / "junk").mkdir(parents=True)
    steps: list[str] = []
    dist = provision.ensure_distribution(scratch, node.java_home(settings.server), steps)
    assert steps[0].startswith("assembled")
    assert provision.Distribution.read(dist.home) == dist
    assert set(dist.modules) == NEEDED_MODULES
    assert (dist.home / "modules" / "percolator" / "plugin-descriptor.properties").is_file()
    assert (dist.home / "plugins" / "opensearch-job-scheduler").is_dir()
    assert not half.with_name(half.name + ".partial").exists()
