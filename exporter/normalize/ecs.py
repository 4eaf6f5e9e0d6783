"""Small pure helpers shared by every ECS normalizer."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import tldextract

from exporter.errors import ParseError

Doc = dict[str, Any]
FieldMap = Mapping[str, str]
"""ECS dotted path -> source dotted path: the data-first part of every normalizer."""


def get_path(source: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of nested mappings, or None."""
    node: Any = source
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
        if node is None:
            return None
    return node


def set_path(doc: Doc, path: str, value: Any) -> None:
    """Set ``value`` at dotted ``path``, creating objects on the way; None and "" are skipped."""
    if value is None or value == "" or value == [] or value == {}:
        return
    keys = path.split(".")
    node = doc
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def apply_field_map(doc: Doc, source: Mapping[str, Any], field_map: FieldMap) -> Doc:
    """Copy every mapped source value present in ``source`` into ``doc``."""
    for target, src in field_map.items():
        set_path(doc, target, get_path(source, src))
    return doc


def iso_timestamp(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds, as ``@timestamp`` is stored."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: Any, field: str) -> str:
    """An ISO 8601 string or epoch seconds as a normalized ``@timestamp``; ParseError otherwise."""
    if isinstance(value, bool):
        raise ParseError(f"{field}: expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        try:
            return iso_timestamp(datetime.fromtimestamp(value, UTC))
        except (OverflowError, OSError, ValueError) as exc:
            raise ParseError(f"{field}: epoch {value!r} is out of range") from exc
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ParseError(f"{field}: {value!r} is not an ISO 8601 timestamp") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            return iso_timestamp(parsed)
        except OverflowError as exc:
            raise ParseError(f"{field}: {value!r} is out of range") from exc
    raise ParseError(f"{field}: expected a timestamp, got {value!r}")


def as_ip(value: Any) -> str | None:
    """``value`` as a canonical IP address string, or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def as_int(value: Any) -> int | None:
    """``value`` as an int ("-" and non-numbers give None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def unique(values: Iterable[Any]) -> list[Any]:
    """Values without None/empty and without repeats, in first-seen order."""
    seen: list[Any] = []
    for value in values:
        if value not in (None, "") and value not in seen:
            seen.append(value)
    return seen


def add_related(doc: Doc, *, ips: Iterable[Any] = (), users: Iterable[Any] = ()) -> None:
    """Fill ``related.ip`` (valid addresses only) and ``related.user``."""
    set_path(doc, "related.ip", unique(ip for ip in map(as_ip, ips) if ip))
    set_path(doc, "related.user", unique(users))


_PSL = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(name: str) -> str | None:
    """The registrable domain per the bundled Public Suffix List (a.b.evil.co.uk -> evil.co.uk)."""
    domain = _PSL(name.rstrip(".").lower()).top_domain_under_public_suffix
    return domain or None


def parent_domains(name: str) -> list[str]:
    """The name and every parent with at least two labels, most specific first."""
    labels = [label for label in name.rstrip(".").lower().split(".") if label]
    return [".".join(labels[i:]) for i in range(0, max(len(labels) - 1, 0))]


INDEXED_TEXT_LIMIT = 8192
"""Longest string kept in an indexed free-form object (flat_object refuses > 32 KiB values)."""


def bounded(value: Any, limit: int = INDEXED_TEXT_LIMIT) -> Any:
    """``value`` with every string cut to ``limit`` characters, nested objects and lists too."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, Mapping):
        return {key: bounded(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [bounded(item, limit) for item in value]
    return value
