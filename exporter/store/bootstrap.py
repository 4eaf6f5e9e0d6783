"""Put everything under ``mappings/`` into the cluster, idempotently and version-stamped.

Each JSON file is the body of one object, named after the file. A content hash is stamped
into the object (``_meta.duskwatch_hash``, or the ISM policy description), so an unchanged
object is left alone and a changed one is updated. Objects that need a plugin the cluster
lacks are reported as skipped, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from opensearchpy import NotFoundError, OpenSearch, RequestError

from exporter.errors import ConfigError

HASH_KEY = "duskwatch_hash"
MAPPINGS_ENV = "DUSKWATCH_MAPPINGS"


class Outcome(StrEnum):
    """What bootstrap did with one object."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    """One object's outcome."""

    kind: str
    name: str
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True)
class ObjectKind:
    """A folder of ``mappings/`` and how its objects are read and written."""

    folder: str
    plugin: str | None
    current_hash: Callable[[OpenSearch, str], str | None]
    put: Callable[[OpenSearch, str, dict[str, Any], str], None]


def mappings_dir() -> Path:
    """The ``mappings/`` folder: $DUSKWATCH_MAPPINGS, or the one beside the package."""
    configured = os.environ.get(MAPPINGS_ENV)
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "mappings"
    if not path.is_dir():
        raise ConfigError(f"mappings folder {path} not found", hint=f"set {MAPPINGS_ENV}")
    return path


def content_hash(body: dict[str, Any]) -> str:
    """A short, stable hash of an object's body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _template_hash(path: str) -> Callable[[OpenSearch, str], str | None]:
    def read(client: OpenSearch, name: str) -> str | None:
        try:
            found = client.transport.perform_request("GET", f"/{path}/{name}")
        except NotFoundError:
            return None
        key = "component_templates" if path == "_component_template" else "index_templates"
        entry = found[key][0][key[:-1]]
        stamped: str | None = (entry.get("_meta") or {}).get(HASH_KEY)
        return stamped or ""

    return read


def _template_put(path: str) -> Callable[[OpenSearch, str, dict[str, Any], str], None]:
    def put(client: OpenSearch, name: str, body: dict[str, Any], digest: str) -> None:
        stamped = {**body, "_meta": {**body.get("_meta", {}), HASH_KEY: digest}}
        client.transport.perform_request("PUT", f"/{path}/{name}", body=stamped)

    return put


def _index_exists(client: OpenSearch, name: str) -> str | None:
    return "present" if client.indices.exists(index=name) else None


def _index_create(client: OpenSearch, name: str, body: dict[str, Any], digest: str) -> None:
    client.indices.create(index=name, body=body)


def _policy_hash(client: OpenSearch, name: str) -> str | None:
    try:
        found = client.transport.perform_request("GET", f"/_plugins/_ism/policies/{name}")
    except NotFoundError:
        return None
    description: str = found["policy"].get("description", "")
    return (
        description.rsplit("[duskwatch:", 1)[-1].rstrip("]") if "[duskwatch:" in description else ""
    )


def _policy_put(client: OpenSearch, name: str, body: dict[str, Any], digest: str) -> None:
    policy = dict(body["policy"])
    policy["description"] = f"{policy.get('description', '')} [duskwatch:{digest}]".strip()
    params: dict[str, Any] = {}
    try:
        found = client.transport.perform_request("GET", f"/_plugins/_ism/policies/{name}")
        params = {"if_seq_no": found["_seq_no"], "if_primary_term": found["_primary_term"]}
    except NotFoundError:
        pass
    client.transport.perform_request(
        "PUT", f"/_plugins/_ism/policies/{name}", params=params, body={"policy": policy}
    )


KINDS: tuple[ObjectKind, ...] = (
    ObjectKind(
        "component_templates",
        None,
        _template_hash("_component_template"),
        _template_put("_component_template"),
    ),
    ObjectKind(
        "index_templates", None, _template_hash("_index_template"), _template_put("_index_template")
    ),
    ObjectKind("ism_policies", "opensearch-index-management", _policy_hash, _policy_put),
    ObjectKind("indices", None, _index_exists, _index_create),
)


def installed_plugins(client: OpenSearch) -> set[str]:
    """Names of the plugins installed on every node."""
    rows = client.cat.plugins(format="json")
    return {row["component"] for row in rows}


def bootstrap(client: OpenSearch, root: Path | None = None) -> list[Result]:
    """Install every object under ``root`` (default: :func:`mappings_dir`) in dependency order."""
    root = root or mappings_dir()
    plugins = installed_plugins(client)
    results: list[Result] = []
    for kind in KINDS:
        for path in sorted((root / kind.folder).glob("*.json")):
            results.append(_install(client, kind, path, plugins))
    templates_changed = any(
        r.kind.endswith("templates") and r.outcome in (Outcome.CREATED, Outcome.UPDATED)
        for r in results
    )
    if templates_changed:
        results.extend(_sync_existing_indices(client, root))
    return results


def _sync_existing_indices(client: OpenSearch, root: Path) -> list[Result]:
    """Give indices created before a template change the fields the template now maps.

    Mapping changes are additive: a new field is added; a changed type cannot be and is
    reported as failed (reindex to apply it).
    """
    results = []
    for path in sorted((root / "index_templates").glob("*.json")):
        patterns = ",".join(_read(path).get("index_patterns", []))
        existing = client.indices.get(index=patterns, allow_no_indices=True) if patterns else {}
        for index, current in sorted(existing.items()):
            simulated = client.transport.perform_request(
                "POST", f"/_index_template/_simulate_index/{index}"
            )
            wanted = simulated["template"].get("mappings", {}).get("properties", {})
            if _covers(current.get("mappings", {}).get("properties", {}), wanted):
                continue
            try:
                client.indices.put_mapping(index=index, body={"properties": wanted})
            except RequestError as exc:
                results.append(Result("mappings", index, Outcome.FAILED, str(exc.info)[:300]))
                continue
            results.append(Result("mappings", index, Outcome.UPDATED, f"synced with {path.stem}"))
    return results


def _covers(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when every field of ``wanted`` is already mapped in ``current``."""
    for name, spec in wanted.items():
        have = current.get(name)
        if have is None:
            return False
        if "properties" in spec and not _covers(have.get("properties", {}), spec["properties"]):
            return False
    return True


def _install(client: OpenSearch, kind: ObjectKind, path: Path, plugins: set[str]) -> Result:
    name = path.stem
    if kind.plugin and kind.plugin not in plugins:
        return Result(kind.folder, name, Outcome.SKIPPED, f"plugin {kind.plugin} is not installed")
    body = _read(path)
    digest = content_hash(body)
    current = kind.current_hash(client, name)
    if current is not None and (current == digest or kind.folder == "indices"):
        return Result(kind.folder, name, Outcome.UNCHANGED)
    kind.put(client, name, body, digest)
    return Result(kind.folder, name, Outcome.CREATED if current is None else Outcome.UPDATED)


def _read(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return body
