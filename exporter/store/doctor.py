"""Health checks of the configured cluster, one row each, with the fix for what fails.

A check that fails means Duskwatch cannot work (exit code 1). A check that warns means an
optional feature is unavailable: alerting monitors need the alerting plugin, retention
policies need index-management (ISM).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opensearchpy import OpenSearch, TransportError
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

SUPPORTED_MAJOR = 2


class Status(StrEnum):
    """The result of one check."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One row of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""


CheckFn = Callable[[OpenSearch], Check]


def _reachable(client: OpenSearch) -> Check:
    info = client.info()
    return Check("reachable", Status.OK, f"cluster {info['cluster_name']}")


def _version(client: OpenSearch) -> Check:
    info = client.info()
    number: str = info["version"]["number"]
    distribution = info["version"].get("distribution", "opensearch")
    if distribution != "opensearch" or int(number.split(".")[0]) != SUPPORTED_MAJOR:
        return Check(
            "version",
            Status.FAIL,
            f"{distribution} {number}",
            "Duskwatch needs OpenSearch 2.x (tested on 2.19)",
        )
    return Check("version", Status.OK, f"OpenSearch {number}")


@contextmanager
def _scratch_index(client: OpenSearch, mappings: dict[str, Any]) -> Iterator[str]:
    name = f"duskwatch-doctor-{uuid.uuid4().hex[:8]}"
    client.indices.create(
        index=name,
        body={"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": mappings},
    )
    try:
        yield name
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)


def _write(client: OpenSearch) -> Check:
    with _scratch_index(client, {"properties": {"n": {"type": "long"}}}) as index:
        client.index(index=index, id="1", body={"n": 1}, refresh=True)
        client.delete(index=index, id="1", refresh=True)
    return Check("write permission", Status.OK, "created an index, wrote and deleted a document")


def _percolator(client: OpenSearch) -> Check:
    mappings = {
        "properties": {
            "query": {"type": "percolator"},
            "source": {"properties": {"ip": {"type": "ip"}}},
        }
    }
    with _scratch_index(client, mappings) as index:
        client.index(
            index=index,
            id="cidr",
            refresh=True,
            body={"query": {"term": {"source.ip": "198.51.100.0/24"}}},
        )
        found = client.search(
            index=index,
            body={
                "query": {
                    "percolate": {"field": "query", "document": {"source": {"ip": "198.51.100.7"}}}
                }
            },
        )
    if [hit["_id"] for hit in found["hits"]["hits"]] != ["cidr"]:
        return Check(
            "percolator",
            Status.FAIL,
            "a stored CIDR query did not match",
            "the percolator module is missing or broken",
        )
    return Check("percolator", Status.OK, "a stored CIDR query matched a document")


def _painless(client: OpenSearch) -> Check:
    with _scratch_index(client, {"properties": {"count": {"type": "long"}}}) as index:
        client.index(index=index, id="1", body={"count": 1}, refresh=True)
        client.update(
            index=index,
            id="1",
            refresh=True,
            body={
                "script": {
                    "lang": "painless",
                    "source": "ctx._source.count += params.n",
                    "params": {"n": 2},
                }
            },
        )
        count = client.get(index=index, id="1")["_source"]["count"]
    if count != 3:
        return Check(
            "painless",
            Status.FAIL,
            f"scripted update gave {count}, expected 3",
            "the lang-painless module is missing or broken",
        )
    return Check("painless", Status.OK, "a scripted update ran")


_DRY_RUN_MONITOR = {
    "type": "monitor",
    "monitor_type": "query_level_monitor",
    "name": "duskwatch-doctor",
    "enabled": False,
    "schedule": {"period": {"interval": 1, "unit": "MINUTES"}},
    "inputs": [
        {
            "search": {
                "indices": [".kibana*", "duskwatch-*"],
                "query": {"size": 0, "query": {"match_all": {}}},
            }
        }
    ],
    "triggers": [
        {
            "name": "always",
            "severity": "1",
            "condition": {"script": {"source": "return true", "lang": "painless"}},
            "actions": [],
        }
    ],
}


def _alerting(client: OpenSearch) -> Check:
    try:
        result = client.transport.perform_request(
            "POST",
            "/_plugins/_alerting/monitors/_execute",
            params={"dryrun": "true"},
            body=_DRY_RUN_MONITOR,
        )
    except TransportError as exc:
        if exc.status_code in (400, 404, 405) and "no handler" in str(exc.info).lower():
            return _missing_plugin("alerting API", "opensearch-alerting", "alerting monitors")
        raise
    triggered = result["trigger_results"]
    if not any(t.get("triggered") for t in triggered.values()):
        return Check(
            "alerting API",
            Status.FAIL,
            "dry-run monitor did not trigger",
            "check the alerting plugin's logs",
        )
    return Check("alerting API", Status.OK, "a monitor _execute dry run triggered")


def _ism(client: OpenSearch) -> Check:
    try:
        client.transport.perform_request("GET", "/_plugins/_ism/policies")
    except TransportError as exc:
        if exc.status_code in (400, 404, 405) and "no handler" in str(exc.info).lower():
            return _missing_plugin("ISM API", "opensearch-index-management", "retention policies")
        raise
    return Check("ISM API", Status.OK, "policies can be listed")


def _missing_plugin(name: str, plugin: str, feature: str) -> Check:
    return Check(
        name,
        Status.WARN,
        f"{plugin} not installed: no {feature}",
        f"install the {plugin} plugin (the official images and Amazon OpenSearch Service have it)",
    )


CHECKS: tuple[tuple[str, CheckFn], ...] = (
    ("reachable", _reachable),
    ("version", _version),
    ("write permission", _write),
    ("percolator", _percolator),
    ("painless", _painless),
    ("alerting API", _alerting),
    ("ISM API", _ism),
)


def run_checks(client: OpenSearch) -> list[Check]:
    """Every check in order; an unreachable cluster stops the run after its row."""
    results: list[Check] = []
    for name, check in CHECKS:
        try:
            results.append(check(client))
        except OpenSearchConnectionError as exc:
            results.append(
                Check(
                    name,
                    Status.FAIL,
                    f"cannot connect: {exc.info or exc}",
                    "start the node (duskwatch server start) or fix opensearch.url",
                )
            )
            break
        except TransportError as exc:
            results.append(
                Check(
                    name,
                    Status.FAIL,
                    f"HTTP {exc.status_code}: {exc.error}",
                    _fix_for(exc.status_code),
                )
            )
    return results


def _fix_for(status: Any) -> str:
    if status in (401, 403):
        return "check opensearch.username/password or the role's permissions"
    return "see the cluster's log"
