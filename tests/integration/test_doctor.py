from __future__ import annotations

import dataclasses

from opensearchpy import OpenSearch

from exporter.config import OpenSearchSettings, Settings
from exporter.store.client import connect
from exporter.store.doctor import Status, run_checks


def test_doctor_core_checks_pass(client: OpenSearch) -> None:
    checks = {c.name: c for c in run_checks(client)}
    for name in ("reachable", "version", "write permission", "percolator", "painless"):
        assert checks[name].status is Status.OK, checks[name]
    assert not client.indices.get(index="duskwatch-doctor-*")  # scratch indices cleaned up


def test_doctor_reports_plugins_as_the_cluster_has_them(client: OpenSearch) -> None:
    plugins = {row["component"] for row in client.cat.plugins(format="json")}
    checks = {c.name: c for c in run_checks(client)}
    for check, plugin in (
        ("alerting API", "opensearch-alerting"),
        ("ISM API", "opensearch-index-management"),
    ):
        expected = Status.OK if plugin in plugins else Status.WARN
        assert checks[check].status is expected, checks[check]
        if expected is Status.WARN:
            assert plugin in checks[check].detail
            assert checks[check].fix


def test_doctor_fails_with_a_fix_when_unreachable(settings: Settings) -> None:
    cluster: OpenSearchSettings = dataclasses.replace(settings.opensearch, url="http://127.0.0.1:9")
    checks = run_checks(connect(cluster, max_retries=0))
    assert [c.status for c in checks] == [Status.FAIL]
    assert "duskwatch server start" in checks[0].fix
