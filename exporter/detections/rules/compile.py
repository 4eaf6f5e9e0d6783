"""Rules -> percolator documents in the rules index, and events -> the rules they match.

:func:`install` is idempotent: a rule is written only when its hash changed, and rules no
longer given are deleted. The long-lived rules index first gains any field the rules template
maps since it was created. A rule reading a field the index still does not map is not written
(the percolator would refuse it): it is reported as skipped, with the fields.
:func:`match_rules` returns every matching rule, however many (pages are sized).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import RequestError

from exporter.detections.percolate import percolate
from exporter.detections.rules.model import Rule
from exporter.detections.rules.query import query_fields
from exporter.errors import StoreError

RULES_INDEX = "duskwatch-rules"
FLAT_OBJECT = "flat_object"


@dataclass(frozen=True)
class InstallResult:
    """What :func:`install` did, by rule id."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    skipped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every rule given is installed."""
        return not self.skipped and not self.failed


def percolator_doc(rule: Rule) -> dict[str, Any]:
    """The rules-index document of ``rule``: its query plus what a match must tell."""
    body: dict[str, Any] = {
        "query": rule.query,
        "rule_id": rule.id,
        "finding_type": rule.finding_type,
        "log_types": list(rule.log_types),
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return {**body, "rule_hash": hashlib.sha256(canonical.encode()).hexdigest()}


def install(client: OpenSearch, rules: Iterable[Rule], index: str = RULES_INDEX) -> InstallResult:
    """Make ``index`` hold exactly ``rules`` (minus those whose fields it does not map)."""
    ensure_index(client, index)
    mapped = mapped_fields(client, index)
    wanted: dict[str, dict[str, Any]] = {}
    skipped: dict[str, tuple[str, ...]] = {}
    for rule in rules:
        missing = unmapped_fields(rule, mapped)
        if missing:
            skipped[rule.id] = missing
        else:
            wanted[rule.id] = percolator_doc(rule)
    current = _installed_hashes(client, index)
    created = sorted(set(wanted) - set(current))
    updated = sorted(i for i in wanted if i in current and current[i] != wanted[i]["rule_hash"])
    deleted = sorted(set(current) - set(wanted))
    failed = _write(client, index, {i: wanted[i] for i in (*created, *updated)}, deleted)
    client.indices.refresh(index=index)
    return InstallResult(
        created=tuple(i for i in created if i not in failed),
        updated=tuple(i for i in updated if i not in failed),
        unchanged=tuple(sorted(set(wanted) - set(created) - set(updated))),
        deleted=tuple(deleted),
        skipped=skipped,
        failed=failed,
    )


def match_rules(
    client: OpenSearch,
    documents: Sequence[Mapping[str, Any]],
    index: str = RULES_INDEX,
    *,
    log_type: str | None = None,
) -> list[list[str]]:
    """For each document, the ids of every rule it matches (sorted); ``log_type`` narrows."""
    query_filter = {"term": {"log_types": log_type}} if log_type else None
    matches: list[list[str]] = [[] for _ in documents]
    for match in percolate(client, [index], documents, query_filter=query_filter):
        matches[match.slot].append(str(match.source.get("rule_id", match.query_id)))
    return [sorted(found) for found in matches]


def ensure_index(client: OpenSearch, index: str) -> None:
    """Create ``index`` from the rules template, or add the fields the template gained since."""
    if not client.indices.exists(index=index):
        try:
            client.indices.create(index=index)
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        return
    template = client.indices.simulate_index_template(name=index).get("template", {})
    properties = template.get("mappings", {}).get("properties")
    if not properties:
        return
    try:
        client.indices.put_mapping(index=index, body={"properties": properties})
    except RequestError as exc:
        raise StoreError(
            f"{index}: its mapping conflicts with the rules template ({exc.error})",
            hint=f"delete the index {index} and install the rules again",
        ) from exc


def mapped_fields(client: OpenSearch, index: str) -> dict[str, str]:
    """Every mapped field of ``index`` as dotted path -> type."""
    response = client.indices.get_mapping(index=index)
    properties: dict[str, str] = {}
    for index_mapping in response.values():
        properties.update(_flatten(index_mapping["mappings"].get("properties", {}), ""))
    return properties


def unmapped_fields(rule: Rule, mapped: Mapping[str, str]) -> tuple[str, ...]:
    """The fields ``rule`` queries that ``mapped`` lacks (a flat_object covers its subfields)."""
    flat = [name + "." for name, kind in mapped.items() if kind == FLAT_OBJECT]
    return tuple(
        sorted(
            name
            for name in query_fields(rule.query)
            if name not in mapped and not any(name.startswith(prefix) for prefix in flat)
        )
    )


def _flatten(properties: Mapping[str, Any], prefix: str) -> Iterable[tuple[str, str]]:
    for name, spec in properties.items():
        path = prefix + name
        if "properties" in spec:
            yield from _flatten(spec["properties"], path + ".")
        else:
            yield path, spec.get("type", "object")


def _installed_hashes(client: OpenSearch, index: str) -> dict[str, str]:
    hits = helpers.scan(client, index=index, query={"_source": ["rule_hash"]})
    return {hit["_id"]: hit["_source"].get("rule_hash", "") for hit in hits}


def _write(
    client: OpenSearch, index: str, docs: Mapping[str, dict[str, Any]], deleted: Sequence[str]
) -> dict[str, str]:
    """Index ``docs`` and delete ``deleted``; the reason of each refused rule, by id."""
    actions: list[dict[str, Any]] = [
        {"_op_type": "index", "_index": index, "_id": rule_id, "_source": doc}
        for rule_id, doc in docs.items()
    ]
    actions += [{"_op_type": "delete", "_index": index, "_id": rule_id} for rule_id in deleted]
    if not actions:
        return {}
    _, errors = helpers.bulk(client, actions, raise_on_error=False, stats_only=False)
    failed: dict[str, str] = {}
    for error in errors if isinstance(errors, list) else []:
        (item,) = error.values()
        failed[item["_id"]] = _reason(item.get("error"))
    return failed


def _reason(error: Any) -> str:
    if not isinstance(error, Mapping):
        return str(error)
    cause = error.get("caused_by")
    reason = str(error.get("reason", error.get("type", "refused")))
    return f"{reason}: {_reason(cause)}" if isinstance(cause, Mapping) else reason
