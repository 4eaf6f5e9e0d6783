from __future__ import annotations

from pathlib import Path

from exporter.server import provision
from exporter.server.distribution import MODULES, OPENSEARCH_VERSION, PLUGINS


def test_versioned_jar_base_names() -> None:
    assert provision._base_name("jackson-core-2.18.8.jar") == "jackson-core"
    assert provision._base_name("percolator-client-2.19.6.jar") == "percolator-client"
    assert provision._base_name("log4j-api-2.25.4.jar") == "log4j-api"
    assert provision._base_name("antlr4-runtime-4.13.1.jar") == "antlr4-runtime"


def test_module_assembly_skips_jars_already_in_lib(tmp_path: Path) -> None:
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("reindex-client-2.19.6.jar", "httpclient-4.5.14.jar", "jackson-core-2.18.8.jar"):
        (jars / name).write_bytes(b"PK")
    module = next(m for m in MODULES if m.name == "reindex")
    target = tmp_path / "modules" / "reindex"
    provision._install_module(module, jars, target, {"jackson-core"})
    assert sorted(p.name for p in target.glob("*.jar")) == [
        "httpclient-4.5.14.jar",
        "reindex-client-2.19.6.jar",
    ]
    descriptor = dict(
        line.split("=", 1)
        for line in (target / "plugin-descriptor.properties").read_text().splitlines()
    )
    assert descriptor["name"] == "reindex"
    assert descriptor["opensearch.version"] == OPENSEARCH_VERSION
    assert descriptor["classname"] == "org.opensearch.index.reindex.ReindexPlugin"
    assert "SocketPermission" in (target / "plugin-security.policy").read_text()


def test_analysis_common_extends_painless() -> None:
    by_name = {m.name: m for m in MODULES}
    assert by_name["analysis-common"].extended == "lang-painless"
    assert "createClassLoader" in by_name["lang-painless"].policy


def test_half_built_distribution_is_not_reused(tmp_path: Path) -> None:
    home = tmp_path / "dist" / f"opensearch-{OPENSEARCH_VERSION}"
    (home / "bin").mkdir(parents=True)
    assert provision.Distribution.read(home) is None
    dist = provision.Distribution(home, OPENSEARCH_VERSION, ["percolator"], ["x"], {})
    dist.write()
    assert provision.Distribution.read(home) == dist


def test_job_scheduler_is_required_and_plugin_versions_match() -> None:
    required = {p.name for p in PLUGINS if p.required}
    assert "opensearch-job-scheduler" in required
    assert all(p.coordinate.endswith(f":{OPENSEARCH_VERSION}.0:zip") for p in PLUGINS)
