"""Flow behaviour detectors that compare a window with the instance's own history.

The baseline covers ``baseline_days`` before the window; an instance whose history there
starts less than ``learning_days`` before the window is still learning and stays silent.

- ``Behavior:EC2/NetworkPortUnusual``: the instance starts connections (local port
  ephemeral, records of at least ``min_connection_packets``: scans and probes do not count)
  carrying at least ``min_packets`` packets to a remote port it never started a connection
  to in its baseline.
- ``Behavior:EC2/TrafficVolumeUnusual``: the instance sends at least ``min_bytes`` to one
  remote host in the window, more than ``factor`` times its busiest hour (all hosts) of the
  baseline.

The Spambot detector, which shares these helpers, is in :mod:`.flow_mail`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.flow_fields import (
    EPHEMERAL_FROM,
    INTERFACE,
    OUTBOUND,
    among,
    directed,
    first_seen,
    learned,
    pair_keys,
    started,
    where,
)
from exporter.detections.behaviour.catalogue.flow_records import Flow, documents, spread
from exporter.detections.behaviour.model import (
    Baseline,
    Bucket,
    Case,
    Detector,
    Hit,
    Params,
    Window,
    register,
)
from exporter.detections.behaviour.results import bounds, buckets, sample, value, with_evidence
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

PORT_UNUSUAL = "Behavior:EC2/NetworkPortUnusual"
VOLUME_UNUSUAL = "Behavior:EC2/TrafficVolumeUnusual"
LEARNING = {"baseline_days": 7, "learning_days": 3}
PEER, DROP = "198.51.100.30", "203.0.113.151"
GB = 1_000_000_000


def seen_agg() -> Agg:
    """``seen``: per interface, the earliest record (``first``)."""
    seen: Agg = A("terms", field=INTERFACE, size=1000)
    seen.metric("first", A("min", field="@timestamp"))
    return seen


def history(flows: list[Flow], days: float = 4) -> list[Flow]:
    """``flows`` moved ``days`` back (before the window)."""
    return [replace(f, at=f.at - timedelta(days=days)) for f in flows]


# --- NetworkPortUnusual -------------------------------------------------------------------


def _port_query(params: Params) -> Query:
    sized = Q("range", **{"network.packets": {"gte": params["min_connection_packets"]}})
    return where(*started(params), sized)


def _port_aggs(params: Params) -> dict[str, Agg]:
    pairs = A(
        "multi_terms",
        terms=[{"field": INTERFACE}, {"field": "destination.port"}],
        size=params["max_candidates"],
    )
    pairs.metric("packets", A("sum", field="network.packets"))
    return {"pairs": with_evidence(pairs)}


def _port_candidates(bucket: Bucket, params: Params) -> list[Bucket]:
    return [p for p in buckets(bucket, "pairs") if value(p, "packets") >= params["min_packets"]]


def _port_baseline(bucket: Bucket, params: Params) -> Baseline | None:
    candidates = _port_candidates(bucket, params)
    if not candidates:
        return None
    interfaces = {str(p["key"][0]) for p in candidates}
    ports = {int(p["key"][1]) for p in candidates}
    used = A(
        "multi_terms",
        terms=[{"field": INTERFACE}, {"field": "destination.port"}],
        size=len(interfaces) * len(ports),
    )
    ported = A("filter", terms={"destination.port": sorted(ports)})
    ported.bucket("used", used)
    return Baseline(
        where(*started(params), among(INTERFACE, interfaces)), {"seen": seen_agg(), "ports": ported}
    )


def _port_evaluate(
    bucket: Bucket, history: Bucket | None, window: Window, params: Params
) -> list[Hit]:
    seen = first_seen(history)
    used = pair_keys(history.get("ports") if history else None, "used")
    hits = []
    for pair in _port_candidates(bucket, params):
        interface, port = str(pair["key"][0]), str(pair["key"][1])
        if (interface, port) in used or not learned(seen, interface, window, params):
            continue
        spec = FindingSpec(
            type=PORT_UNUSUAL,
            severity=default_severity(PORT_UNUSUAL),
            title=f"Unusual outbound communication on remote port {port}.",
            description=(
                f"The EC2 instance started connections to remote port {port}, which it did not "
                f"use in the previous {params['baseline_days']} days."
            ),
            resource_role="ACTOR",
            key=(port,),
            tactic="Command and Control",
            technique="T1571",
            additional_info={"unusual": {"port": int(port)}, "packets": int(value(pair, "packets")),
                             **window.info},
        )  # fmt: skip
        hits.append(Hit(spec, sample(pair), *bounds(pair)))
    return hits


def _port_cases(window: Window) -> list[Case]:
    usual = [Flow(at, PEER, 443, 50000, inbound=False, packets=12) for at in spread(window, 3)]
    odd = [Flow(at, PEER, 6667, 50001, inbound=False, packets=12) for at in spread(window, 3)]
    early = history(usual, days=1)
    return [
        Case("a new remote port", documents(odd), (PORT_UNUSUAL,), documents(history(usual))),
        Case("a port of the baseline", documents(usual), (), documents(history(usual))),
        Case("still learning", documents(odd), (), documents(early)),
        Case("replies from a service port", documents(
            [Flow(f.at, f.remote, 6667, 443, inbound=False, packets=12) for f in odd]
        ), (), documents(history(usual))),
    ]  # fmt: skip


register(
    Detector(
        name="network-port-unusual",
        log_type="vpcflow",
        finding_types=(PORT_UNUSUAL,),
        logic=(
            "An instance starts connections (local port >= `ephemeral_from`; records of at "
            "least `min_connection_packets` packets, so probes do not count) of at least "
            "`min_packets` packets in total to a remote port it started none to in the "
            "`baseline_days` before the window (history of at least `learning_days`)."
        ),
        query=_port_query,
        aggs=_port_aggs,
        baseline=_port_baseline,
        evaluate=_port_evaluate,
        params={
            **LEARNING,
            "min_packets": 10,
            "min_connection_packets": 4,
            "ephemeral_from": EPHEMERAL_FROM,
            "max_candidates": 1000,
        },
        interval=timedelta(hours=1),
        cases=_port_cases,
    )
)


# --- TrafficVolumeUnusual -----------------------------------------------------------------


def _volume_aggs(params: Params) -> dict[str, Agg]:
    pairs = A(
        "multi_terms",
        terms=[{"field": INTERFACE}, {"field": "destination.ip"}],
        size=params["max_candidates"],
        order={"sent": "desc"},
    )
    pairs.metric("sent", A("sum", field="network.bytes"))
    return {"pairs": with_evidence(pairs)}


def _volume_candidates(bucket: Bucket, params: Params) -> list[Bucket]:
    return [p for p in buckets(bucket, "pairs") if value(p, "sent") >= params["min_bytes"]]


def _volume_baseline(bucket: Bucket, params: Params) -> Baseline | None:
    candidates = _volume_candidates(bucket, params)
    if not candidates:
        return None
    interfaces = {str(p["key"][0]) for p in candidates}
    peaks = A("terms", field=INTERFACE, size=len(interfaces))
    peaks.metric("first", A("min", field="@timestamp"))
    peaks.bucket("hours", A("date_histogram", field="@timestamp", fixed_interval="1h")).metric(
        "sent", A("sum", field="network.bytes")
    )
    peaks.pipeline("peak", A("max_bucket", buckets_path="hours>sent"))
    return Baseline(where(directed(OUTBOUND), among(INTERFACE, interfaces)), {"seen": peaks})


def _volume_evaluate(
    bucket: Bucket, history: Bucket | None, window: Window, params: Params
) -> list[Hit]:
    seen = first_seen(history)
    peaks = {str(b["key"]): value(b, "peak") for b in buckets(history, "seen")}
    hits = []
    for pair in _volume_candidates(bucket, params):
        interface, remote = str(pair["key"][0]), str(pair["key"][1])
        sent, peak = value(pair, "sent"), peaks.get(interface, 0.0)
        if sent <= params["factor"] * peak or not learned(seen, interface, window, params):
            continue
        spec = FindingSpec(
            type=VOLUME_UNUSUAL,
            severity=default_severity(VOLUME_UNUSUAL),
            title=f"Unusual outbound traffic volume to {remote}.",
            description=(
                f"The EC2 instance sent {int(sent)} bytes to {remote} in the window; its busiest "
                f"hour of the previous {params['baseline_days']} days sent {int(peak)} bytes."
            ),
            resource_role="ACTOR",
            key=(remote,),
            tactic="Exfiltration",
            technique="T1048",
            additional_info={"outBytes": int(sent), "baselinePeakHourBytes": int(peak),
                             **window.info},
        )  # fmt: skip
        hits.append(Hit(spec, sample(pair), *bounds(pair)))
    return hits


def _volume_cases(window: Window) -> list[Case]:
    def sent(nbytes: int, remote: str = DROP, count: int = 4) -> list[Flow]:
        return [Flow(at, remote, 443, 50000 + n, inbound=False, packets=nbytes // 1100,
                     nbytes=nbytes) for n, at in enumerate(spread(window, count))]  # fmt: skip

    routine = documents(history(sent(5_000_000, PEER)))
    backups = documents(history(sent(2 * GB, PEER)))
    return [
        Case("gigabytes to a new host", documents(sent(GB)), (VOLUME_UNUSUAL,), routine),
        Case("as much as the nightly backup", documents(sent(GB)), (), backups),
        Case("below the floor", documents(sent(20_000_000)), (), routine),
    ]


register(
    Detector(
        name="traffic-volume-unusual",
        log_type="vpcflow",
        finding_types=(VOLUME_UNUSUAL,),
        logic=(
            "An instance sends at least `min_bytes` to one remote host within a window, more "
            "than `factor` times the bytes of its busiest hour (to all hosts) in the "
            "`baseline_days` before the window (history of at least `learning_days`)."
        ),
        query=lambda _: where(directed(OUTBOUND)),
        aggs=_volume_aggs,
        baseline=_volume_baseline,
        evaluate=_volume_evaluate,
        params={**LEARNING, "min_bytes": 200_000_000, "factor": 10.0, "max_candidates": 50},
        interval=timedelta(hours=1),
        cases=_volume_cases,
    )
)
