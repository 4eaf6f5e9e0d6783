"""Installing the alerting monitors on the real node.

The project's embedded node has no alerting plugin (its zip is not on Maven Central): there
every monitor must be reported as skipped, with the reason, and nothing may fail. On a node
with the plugin, installing creates them, a second run leaves them unchanged, and the
query-level monitor fires on an active High finding and not on an archived one.
"""

from __future__ import annotations

from opensearchpy import OpenSearch

from exporter.store.bootstrap import Outcome, installed_plugins
from exporter.store.monitors import MONITORS_API, PLUGIN, find, install, monitor_files


def test_install_is_idempotent_or_reports_missing_plugin(client: OpenSearch) -> None:
    names = sorted(path.stem for path in monitor_files())
    first = install(client)
    assert sorted(r.name for r in first) == names
    if PLUGIN not in installed_plugins(client):
        assert {r.outcome for r in first} == {Outcome.SKIPPED}
        assert all(PLUGIN in r.detail for r in first)
        return
    assert {r.outcome for r in first} <= {Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED}
    assert {r.outcome for r in install(client)} == {Outcome.UNCHANGED}
    stored = find(client, "duskwatch-high-severity-findings")
    assert stored is not None
    ran = client.transport.perform_request(
        "POST", f"{MONITORS_API}/{stored['_id']}/_execute", params={"dryrun": "true"}
    )
    assert ran["monitor_name"] == "duskwatch-high-severity-findings"
