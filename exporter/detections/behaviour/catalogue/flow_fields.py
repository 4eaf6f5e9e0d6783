"""Query fragments and small helpers shared by the flow behaviour detectors.

The watched instance of a record is its logging interface (``aws.vpcflow.interface_id``, the
only identifier both flow-log formats carry). Outbound records are those the instance sent:
``network.direction`` ``egress`` (logged, v5) or ``outbound`` (inferred from the addresses, v2;
traffic inside the VPC is ``internal`` there and left out, since either end may have logged
it). A connection the instance *started* is an outbound record whose local port is ephemeral
(``>= ephemeral_from``): a server's replies leave from its service port instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.model import Bucket, Params, Window
from exporter.detections.behaviour.results import buckets

INTERFACE = "aws.vpcflow.interface_id"
OUTBOUND = ("egress", "outbound")
INBOUND = ("ingress", "inbound")
EPHEMERAL_FROM = 32768
PRECISION = 200


def directed(directions: tuple[str, ...]) -> Query:
    """Records of the given ``network.direction`` values."""
    found: Query = Q("terms", **{"network.direction": list(directions)})
    return found


def started(params: Params) -> list[Query]:
    """Filters of outbound records of connections the instance started."""
    ephemeral = Q("range", **{"source.port": {"gte": params["ephemeral_from"]}})
    return [directed(OUTBOUND), ephemeral]


def where(*filters: Query) -> Query:
    """A ``bool`` query of ``filters``."""
    found: Query = Q("bool", filter=list(filters))
    return found


def among(field: str, values: Iterable[Any]) -> Query:
    """Records whose ``field`` is one of ``values``."""
    found: Query = Q("terms", **{field: sorted(set(values))})
    return found


def distinct(field: str) -> Agg:
    """``cardinality`` of ``field``, exact up to :data:`PRECISION` and cheap per bucket."""
    found: Agg = A("cardinality", field=field, precision_threshold=PRECISION)
    return found


def pair_keys(result: Bucket | None, name: str) -> set[tuple[str, str]]:
    """The (first, second) keys of a two-field ``multi_terms`` aggregation, as text."""
    return {(str(b["key"][0]), str(b["key"][1])) for b in buckets(result, name)}


def first_seen(result: Bucket | None, name: str = "seen") -> dict[str, float]:
    """``{interface: earliest epoch ms}`` of a ``terms`` aggregation with a ``first`` min."""
    return {
        str(b["key"]): float(b["first"]["value"])
        for b in buckets(result, name)
        if b["first"].get("value") is not None
    }


def learned(seen: Mapping[str, float], interface: str, window: Window, params: Params) -> bool:
    """The interface has history at least ``learning_days`` before the window."""
    since = seen.get(interface)
    if since is None:
        return False
    cutoff = window.start - timedelta(days=float(params["learning_days"]))
    return since <= cutoff.timestamp() * 1000
