"""Trusted IP lists silence behaviour findings whose remote address they contain."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from exporter.detections.threatintel.queries import THREATINTEL_INDEX
from exporter.findings.fields import sides, text

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PAGE = 10_000


@dataclass(frozen=True)
class Trusted:
    """The networks of every trusted list."""

    networks: tuple[Network, ...] = ()

    def __contains__(self, address: object) -> bool:
        try:
            ip = ipaddress.ip_address(str(address))
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    @classmethod
    def of(cls, entries: Iterable[str]) -> Trusted:
        """The networks of ``entries`` (addresses or CIDRs; anything else is ignored)."""
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                continue
        return cls(tuple(networks))


def load_trusted(client: OpenSearch, index: str = THREATINTEL_INDEX) -> Trusted:
    """Every trusted entry stored in ``index`` (GuardDuty caps them at 2,000)."""
    body = {"query": {"term": {"list_kind": "trusted"}}, "size": PAGE, "_source": ["indicator"]}
    found = client.search(index=index, body=body, ignore_unavailable=True)
    return Trusted.of(str(hit["_source"]["indicator"]) for hit in found["hits"]["hits"])


def remote_address(event: Mapping[str, Any], log_type: str) -> str | None:
    """The address on the far side of the behaviour: the remote end of a flow, else the
    caller (``source.ip``)."""
    if log_type == "vpcflow":
        return sides(event)[2].ip
    return text(event, "source.ip")
