"""Flow behaviour detectors: scans and probes.

- ``Recon:EC2/PortProbeUnprotectedPort``: a remote scanner (one address touching at least
  ``min_targets`` distinct local ports or hosts in the window, at least ``min_rejected_share``
  of its records REJECTed) also reaches a port that ACCEPTs: one finding per instance and
  open port (High on Elasticsearch's 9200/9300, else Low).
- ``Recon:EC2/Portscan``: an instance starts small connections (at most
  ``max_packets_per_probe`` packets) to at least ``min_ports`` distinct ports of one host.
- ``Impact:EC2/PortSweep``: an instance starts small connections to one port of at least
  ``min_hosts`` distinct hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.flow_fields import (
    EPHEMERAL_FROM,
    INBOUND,
    INTERFACE,
    directed,
    distinct,
    started,
    where,
)
from exporter.detections.behaviour.catalogue.flow_records import Flow, documents, spread
from exporter.detections.behaviour.model import (
    Bucket,
    Case,
    Detector,
    Hit,
    Params,
    Window,
    register,
)
from exporter.detections.behaviour.results import bounds, buckets, sample, value, with_evidence
from exporter.findings.fields import sides
from exporter.findings.severity import HIGH
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

PROBE = "Recon:EC2/PortProbeUnprotectedPort"
PORTSCAN = "Recon:EC2/Portscan"
SWEEP = "Impact:EC2/PortSweep"
HIGH_PROBE_PORTS = (9200, 9300)
SCANNER, VICTIM = "203.0.113.150", "198.51.100.77"


# --- PortProbeUnprotectedPort -------------------------------------------------------------


def _probe_query(_: Params) -> Query:
    return where(directed(INBOUND))


def _probe_aggs(params: Params) -> dict[str, Agg]:
    scanners = A(
        "terms", field="source.ip", min_doc_count=params["min_targets"], size=params["max_scanners"]
    )
    scanners.metric("ports", distinct("destination.port"))
    scanners.metric("hosts", distinct("destination.ip"))
    scanners.bucket("rejected", A("filter", term={"event.action": "REJECT"}))
    open_ports = A(
        "multi_terms",
        terms=[{"field": INTERFACE}, {"field": "destination.port"}],
        size=params["max_open_ports"],
    )
    scanners.bucket("accepted", A("filter", term={"event.action": "ACCEPT"})).bucket(
        "open", with_evidence(open_ports)
    )
    return {"scanners": scanners}


def is_scanner(scanner: Bucket, params: Params) -> bool:
    """The address touched enough distinct ports or hosts, mostly rejected."""
    targets = max(value(scanner, "ports"), value(scanner, "hosts"))
    rejected = int(scanner["rejected"]["doc_count"]) / max(int(scanner["doc_count"]), 1)
    return bool(targets >= params["min_targets"] and rejected >= params["min_rejected_share"])


def _probe_evaluate(bucket: Bucket, _: Bucket | None, window: Window, params: Params) -> list[Hit]:
    hits = []
    for scanner in buckets(bucket, "scanners"):
        if not is_scanner(scanner, params):
            continue
        for port in buckets(scanner["accepted"], "open"):
            event = sample(port)
            local, remote = sides(event)[1:]
            rank = HIGH if local.port in HIGH_PROBE_PORTS else default_severity(PROBE)
            spec = FindingSpec(
                type=PROBE,
                severity=rank,
                title="Unprotected port on EC2 instance is being probed.",
                description=(
                    f"Port {local.port} of the instance is open and was probed by {remote.ip}, "
                    f"which sent {int(scanner['doc_count'])} inbound records in the window."
                ),
                key=(str(local.port),),
                tactic="Discovery",
                technique="T1046",
                additional_info={
                    "scannerRecords": int(scanner["doc_count"]),
                    "distinctPorts": int(value(scanner, "ports")),
                    "distinctHosts": int(value(scanner, "hosts")),
                    **window.info,
                },
            )
            hits.append(Hit(spec, event, *bounds(port)))
    return hits


def _probe_cases(window: Window) -> list[Case]:
    ports = [21, 23, 25, 80, 110, 143, 445, 1433, 3306, 3389, 5432, 5900, 6379, 8080, 8443]
    times = spread(window, len(ports) + 2)

    def probes(remote: str | None, open_ports: tuple[int, ...]) -> list[Flow]:
        targets = [*ports, *open_ports]
        return [
            Flow(at, remote or f"198.51.100.{n + 10}", 50000 + n, port, packets=1, nbytes=44,
                 action="ACCEPT" if port in open_ports else "REJECT")
            for n, (at, port) in enumerate(zip(times, targets, strict=False))
        ]  # fmt: skip

    return [
        Case("a scanner reaches an open port", documents(probes(SCANNER, (22, 9200))), (PROBE,)),
        Case("a scanner finds nothing open", documents(probes(SCANNER, ()))),
        Case("background probes, one per address", documents(probes(None, (22,)))),
    ]


register(
    Detector(
        name="port-probe-unprotected-port",
        log_type="vpcflow",
        finding_types=(PROBE,),
        logic=(
            "A remote address with at least `min_targets` distinct local ports or hosts in a "
            "window, at least `min_rejected_share` of its inbound records REJECTed, also has "
            "ACCEPTed records: one finding per instance and accepted port (High on 9200/9300)."
        ),
        query=_probe_query,
        aggs=_probe_aggs,
        evaluate=_probe_evaluate,
        params={
            "min_targets": 10,
            "min_rejected_share": 0.5,
            "max_scanners": 100,
            "max_open_ports": 20,
        },
        interval=timedelta(minutes=30),
        cases=_probe_cases,
    )
)


# --- Portscan and PortSweep ---------------------------------------------------------------


def _small(params: Params) -> Query:
    return where(
        *started(params),
        Q("range", **{"network.packets": {"lte": params["max_packets_per_probe"]}}),
    )


def spread_detector(
    name: str,
    finding_type: str,
    fixed: str,
    varied: str,
    threshold: str,
    cases: Callable[[Window], list[Case]],
) -> Detector:
    """A detector of one instance starting small connections to many ``varied`` values
    (ports, hosts) that share one ``fixed`` value (host, port)."""

    def aggs(params: Params) -> dict[str, Agg]:
        pairs = A(
            "multi_terms",
            terms=[{"field": INTERFACE}, {"field": fixed}],
            min_doc_count=params[threshold],
            size=params["max_findings"],
            order={"spread": "desc"},
        )
        pairs.metric("spread", distinct(varied))
        return {"pairs": with_evidence(pairs)}

    def evaluate(bucket: Bucket, _: Bucket | None, window: Window, params: Params) -> list[Hit]:
        hits = []
        for pair in buckets(bucket, "pairs"):
            spread_count = int(value(pair, "spread"))
            if spread_count < params[threshold]:
                continue
            event = sample(pair)
            target = str(pair["key"][1])
            spec = FindingSpec(
                type=finding_type,
                severity=default_severity(finding_type),
                title=TITLES[finding_type].format(target=target),
                description=(
                    f"{TITLES[finding_type].format(target=target)} It started "
                    f"{int(pair['doc_count'])} small connections to {spread_count} distinct "
                    f"{varied.split('.')[-1]}s in the window."
                ),
                resource_role="ACTOR",
                key=(target,),
                tactic="Discovery",
                technique="T1046",
                additional_info={"connections": int(pair["doc_count"]), "distinct": spread_count,
                                 **window.info},
            )  # fmt: skip
            hits.append(Hit(spec, event, *bounds(pair)))
        return hits

    return Detector(
        name=name,
        log_type="vpcflow",
        finding_types=(finding_type,),
        logic=(
            f"An instance starts at least `{threshold}` connections of at most "
            f"`max_packets_per_probe` packets (local port >= `ephemeral_from`) to distinct "
            f"{varied} sharing one {fixed} within a window."
        ),
        query=_small,
        aggs=aggs,
        evaluate=evaluate,
        params={
            threshold: 25,
            "max_packets_per_probe": 3,
            "ephemeral_from": EPHEMERAL_FROM,
            "max_findings": 100,
        },
        interval=timedelta(minutes=30),
        cases=cases,
    )


TITLES = {
    PORTSCAN: "The EC2 instance is performing outbound port scans against {target}.",
    SWEEP: "The EC2 instance is probing port {target} on a large number of hosts.",
}


def _outbound(window: Window, targets: list[tuple[str, int]], **flow: int) -> list[Flow]:
    times = spread(window, len(targets))
    return [
        Flow(at, host, port, 50000 + n, inbound=False, **flow)  # type: ignore[arg-type]
        for n, (at, (host, port)) in enumerate(zip(times, targets, strict=True))
    ]


def _portscan_cases(window: Window) -> list[Case]:
    many = [(VICTIM, port) for port in range(20, 60)]
    replies = [
        Flow(at, VICTIM, 1024 + n * 7, 443, inbound=False, packets=2)
        for n, at in enumerate(spread(window, 40))
    ]
    return [
        Case("forty ports of one host", documents(_outbound(window, many, packets=1)), (PORTSCAN,)),
        Case("a few ports of one host", documents(_outbound(window, many[:5], packets=1))),
        Case("replies to many client ports", documents(replies)),
    ]


def _sweep_cases(window: Window) -> list[Case]:
    hosts = [(f"198.51.100.{n + 10}", 3306) for n in range(40)]
    return [
        Case("one port of forty hosts", documents(_outbound(window, hosts, packets=1)), (SWEEP,)),
        Case("one port of five hosts", documents(_outbound(window, hosts[:5], packets=1))),
        Case("real sessions to many hosts", documents(_outbound(window, hosts, packets=40))),
    ]


register(
    spread_detector(
        "portscan", PORTSCAN, "destination.ip", "destination.port", "min_ports", _portscan_cases
    )
)
register(
    spread_detector(
        "port-sweep", SWEEP, "destination.port", "destination.ip", "min_hosts", _sweep_cases
    )
)
