"""Pure accessors for the parts of a GuardDuty finding that exporters and remediation read.

The remote party of a finding sits in a different place per action type; these helpers find
it (and the local side) wherever the action keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

ACTION_KEYS = {
    "NETWORK_CONNECTION": "networkConnectionAction",
    "AWS_API_CALL": "awsApiCallAction",
    "KUBERNETES_API_CALL": "kubernetesApiCallAction",
    "DNS_REQUEST": "dnsRequestAction",
    "PORT_PROBE": "portProbeAction",
}
"""``service.action.actionType`` -> the key of its details."""


def path(value: Any, dotted: str) -> Any:
    """``value`` at a dotted path; integer parts index lists; None when any part is missing."""
    for part in dotted.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def action(finding: Mapping[str, Any]) -> Mapping[str, Any]:
    """The details of the finding's action (``networkConnectionAction`` etc.), or {}."""
    service_action = path(finding, "service.action") or {}
    details = service_action.get(ACTION_KEYS.get(service_action.get("actionType", ""), ""))
    if service_action.get("actionType") == "PORT_PROBE":
        probes = (details or {}).get("portProbeDetails") or [{}]
        return {**probes[0], "protocol": None}
    return details or {}


def remote_ip(finding: Mapping[str, Any]) -> str | None:
    """The remote IPv4 (or IPv6) address of the finding's action."""
    details = action(finding).get("remoteIpDetails") or {}
    found = details.get("ipAddressV4") or details.get("ipAddressV6")
    return str(found) if found else None


def local_ip(finding: Mapping[str, Any]) -> str | None:
    """The local address of a network action."""
    found = path(action(finding), "localIpDetails.ipAddressV4")
    return str(found) if found else None


def remote_port(finding: Mapping[str, Any]) -> int | None:
    """The remote port of a network connection."""
    found = path(action(finding), "remotePortDetails.port")
    return int(found) if found is not None else None


def local_port(finding: Mapping[str, Any]) -> int | None:
    """The local port of a network connection or port probe."""
    found = path(action(finding), "localPortDetails.port")
    return int(found) if found is not None else None


def epoch_ms(timestamp: str | None) -> int | None:
    """An ISO-8601 timestamp as milliseconds since the epoch."""
    if not timestamp:
        return None
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
