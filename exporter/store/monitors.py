"""Install the OpenSearch Alerting monitors of ``mappings/monitors/``, idempotently.

Each JSON file is the body of one monitor (``POST _plugins/_alerting/monitors``); its
``name`` is the file name. A monitor is found by name; its content hash is kept in
``ui_metadata.duskwatch_hash``, so an unchanged monitor is left alone and a changed one is
updated in place (same id, so its alerts and history stay). Without the alerting plugin
every monitor is reported as skipped, with the reason; nothing fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opensearchpy import NotFoundError, OpenSearch, TransportError

from exporter.errors import ConfigError
from exporter.store.bootstrap import (
    Outcome,
    Result,
    _read,
    content_hash,
    installed_plugins,
    mappings_dir,
)

PLUGIN = "opensearch-alerting"
FOLDER = "monitors"
MONITORS_API = "/_plugins/_alerting/monitors"
HASH_KEY = "duskwatch_hash"


def monitor_files(root: Path | None = None) -> list[Path]:
    """The monitor bodies under ``<root>/monitors`` (default root: :func:`mappings_dir`)."""
    return sorted(((root or mappings_dir()) / FOLDER).glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    """A monitor body; ConfigError when its ``name`` is not its file name."""
    body = _read(path)
    if body.get("name") != path.stem:
        raise ConfigError(f"{path}: monitor name {body.get('name')!r} must be {path.stem!r}")
    return body


def find(client: OpenSearch, name: str) -> dict[str, Any] | None:
    """The stored monitor called ``name`` (``_id``, ``_seq_no``, ``_primary_term``, monitor)."""
    query = {
        "size": 1,
        "seq_no_primary_term": True,
        "query": {"term": {"monitor.name.keyword": name}},
    }
    try:
        found = client.transport.perform_request("POST", f"{MONITORS_API}/_search", body=query)
    except NotFoundError:
        return None
    hits = found.get("hits", {}).get("hits", [])
    return hits[0] if hits else None


def install(client: OpenSearch, root: Path | None = None) -> list[Result]:
    """Create or update every monitor; skipped (with the reason) without the alerting plugin."""
    files = monitor_files(root)
    if files and PLUGIN not in installed_plugins(client):
        reason = (
            f"plugin {PLUGIN} is not installed; monitors not installed "
            "(install the plugin, then run duskwatch bootstrap again)"
        )
        return [Result(FOLDER, path.stem, Outcome.SKIPPED, reason) for path in files]
    return [_install_one(client, path) for path in files]


def _install_one(client: OpenSearch, path: Path) -> Result:
    body = load(path)
    digest = content_hash(body)
    stamped = {**body, "ui_metadata": {**body.get("ui_metadata", {}), HASH_KEY: digest}}
    try:
        current = find(client, path.stem)
        if current is None:
            client.transport.perform_request("POST", MONITORS_API, body=stamped)
            return Result(FOLDER, path.stem, Outcome.CREATED)
        stored = current.get("_source", {}).get("monitor", current.get("_source", {}))
        if (stored.get("ui_metadata") or {}).get(HASH_KEY) == digest:
            return Result(FOLDER, path.stem, Outcome.UNCHANGED)
        params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
        client.transport.perform_request(
            "PUT", f"{MONITORS_API}/{current['_id']}", params=params, body=stamped
        )
    except TransportError as exc:
        return Result(FOLDER, path.stem, Outcome.FAILED, str(exc.info or exc)[:300])
    return Result(FOLDER, path.stem, Outcome.UPDATED)
