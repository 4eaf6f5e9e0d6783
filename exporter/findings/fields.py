"""Reading ECS events for findings: dotted lookups, the two ends of a flow, compact objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from exporter.normalize.ecs import as_int, as_ip, get_path
from exporter.normalize.geo import country_details

Event = Mapping[str, Any]
Direction = Literal["INBOUND", "OUTBOUND", "UNKNOWN"]
UNKNOWN = "unknown"
"""Placeholder for an identifier the event does not carry (account, region, resource id)."""

_DIRECTIONS: dict[str, Direction] = {
    "ingress": "INBOUND",
    "inbound": "INBOUND",
    "egress": "OUTBOUND",
    "outbound": "OUTBOUND",
}


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection."""

    ip: str | None
    port: int | None


def text(event: Event, *paths: str) -> str | None:
    """The first non-empty string (or number, as text) found at ``paths``."""
    for path in paths:
        value = get_path(event, path)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def strings(event: Event, path: str) -> list[str]:
    """The strings at ``path`` (a list, or one value), empty when absent."""
    value = get_path(event, path)
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str) and item]


def compact(**values: Any) -> dict[str, Any]:
    """The keyword arguments without None, empty strings, lists and objects."""
    return {k: v for k, v in values.items() if v is not None and v != "" and v != [] and v != {}}


def ip_details(ip: str | None) -> dict[str, Any] | None:
    """GuardDuty's ``remoteIpDetails``: ``ipAddressV4`` or ``ipAddressV6``, and ``country``
    when the address has one (offline, :mod:`exporter.normalize.geo`); None when ``ip`` is not
    an address."""
    address = as_ip(ip)
    if address is None:
        return None
    return compact(
        **{"ipAddressV6" if ":" in address else "ipAddressV4": address},
        country=country_details(address),
    )


def sides(event: Event) -> tuple[Direction, Endpoint, Endpoint]:
    """(direction, local end, remote end) of a flow, as GuardDuty sees the watched instance.

    ``network.direction`` says which end is ours (VPC ``flow-direction`` ingress/egress, or
    the normalizer's inbound/outbound); for anything else the destination is taken as local.
    """
    source = Endpoint(text(event, "source.ip"), as_int(get_path(event, "source.port")))
    destination = Endpoint(
        text(event, "destination.ip"), as_int(get_path(event, "destination.port"))
    )
    direction = _DIRECTIONS.get(str(get_path(event, "network.direction")), "UNKNOWN")
    if direction == "OUTBOUND":
        return direction, source, destination
    return direction, destination, source
