"""Flow behaviour detector: outbound denial of service (``Backdoor:EC2/DenialOfService.*``).

An instance sends at least ``min_packets`` packets of one protocol to one remote host within a
window, averaging at most ``max_bytes_per_packet`` bytes (bulk transfers such as backups fill
their packets; floods do not). The type follows the protocol and the port that received most
packets: port 53 is ``.Dns``, TCP ``.Tcp``, UDP to a port of ``tcp_ports`` ``.UdpOnTcpPorts``,
other UDP ``.Udp``, any other protocol ``.UnusualProtocol``.
"""

from __future__ import annotations

from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Query

from exporter.detections.behaviour.catalogue.flow_fields import (
    INTERFACE,
    OUTBOUND,
    directed,
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
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

PREFIX = "Backdoor:EC2/DenialOfService."
KINDS = ("Dns", "Tcp", "Udp", "UdpOnTcpPorts", "UnusualProtocol")
TRANSPORT_KINDS = {"tcp": "Tcp", "udp": "Udp"}
DNS_PORT = 53
TARGET = "198.51.100.99"


def kind_of(transport: str, port: int | None, params: Params) -> str:
    """The DenialOfService subtype of a flood by ``transport`` to ``port``."""
    if port == DNS_PORT:
        return "Dns"
    kind = TRANSPORT_KINDS.get(transport, "UnusualProtocol")
    return "UdpOnTcpPorts" if kind == "Udp" and port in params["tcp_ports"] else kind


def _query(_: Params) -> Query:
    return where(directed(OUTBOUND))


def _aggs(params: Params) -> dict[str, Agg]:
    floods = A(
        "multi_terms",
        terms=[{"field": INTERFACE}, {"field": "destination.ip"}, {"field": "network.iana_number"}],
        size=params["max_findings"],
        order={"packets": "desc"},
    )
    floods.metric("packets", A("sum", field="network.packets"))
    floods.metric("bytes", A("sum", field="network.bytes"))
    floods.bucket("ports", A("terms", field="destination.port", size=1, order={"load": "desc"}))
    floods.aggs["ports"].metric("load", A("sum", field="network.packets"))
    return {"floods": with_evidence(floods)}


def is_flood(flood: Bucket, params: Params) -> bool:
    """Enough packets, and small ones."""
    packets = value(flood, "packets")
    small = value(flood, "bytes") <= params["max_bytes_per_packet"] * packets
    return bool(packets >= params["min_packets"] and small)


def _evaluate(bucket: Bucket, _: Bucket | None, window: Window, params: Params) -> list[Hit]:
    hits = []
    for flood in buckets(bucket, "floods"):
        if not is_flood(flood, params):
            continue
        event = sample(flood)
        ports = buckets(flood, "ports")
        port = int(ports[0]["key"]) if ports else None
        transport = str(event.get("network", {}).get("transport", ""))
        finding_type = PREFIX + kind_of(transport, port, params)
        remote, packets = str(flood["key"][1]), int(value(flood, "packets"))
        spec = FindingSpec(
            type=finding_type,
            severity=default_severity(finding_type),
            title=f"The EC2 instance is behaving as if it is performing a DoS attack on {remote}.",
            description=(
                f"The EC2 instance sent {packets} packets ({transport or 'protocol'} "
                f"{flood['key'][2]}, port {port}) to {remote} in the window."
            ),
            resource_role="ACTOR",
            key=(remote,),
            tactic="Impact",
            technique="T1498",
            additional_info={"packets": packets, "outBytes": int(value(flood, "bytes")),
                             "port": port, **window.info},
        )  # fmt: skip
        hits.append(Hit(spec, event, *bounds(flood)))
    return hits


def _cases(window: Window) -> list[Case]:
    def flood(protocol: str, port: int, packets: int, size: int = 60) -> list[Flow]:
        return [Flow(at, TARGET, port, 40000 + n, inbound=False, protocol=protocol,
                     packets=packets, nbytes=packets * size)
                for n, at in enumerate(spread(window, 20))]  # fmt: skip

    return [
        Case("UDP flood", documents(flood("udp", 3074, 20_000)), (PREFIX + "Udp",)),
        Case("SYN flood", documents(flood("tcp", 80, 20_000)), (PREFIX + "Tcp",)),
        Case("UDP on 443", documents(flood("udp", 443, 20_000)), (PREFIX + "UdpOnTcpPorts",)),
        Case("DNS flood", documents(flood("udp", 53, 20_000)), (PREFIX + "Dns",)),
        Case("ICMP flood", documents(flood("icmp", 0, 20_000)), (PREFIX + "UnusualProtocol",)),
        Case("a bulk upload", documents(flood("tcp", 443, 20_000, 1100))),
        Case("a busy client", documents(flood("udp", 3074, 2_000))),
    ]  # fmt: skip


register(
    Detector(
        name="denial-of-service",
        log_type="vpcflow",
        finding_types=tuple(PREFIX + kind for kind in KINDS),
        logic=(
            "An instance sends at least `min_packets` packets of one protocol to one remote "
            "host within a window, at most `max_bytes_per_packet` bytes each on average; the "
            "subtype follows the protocol and the busiest port (53: Dns; UDP to `tcp_ports`: "
            "UdpOnTcpPorts; TCP; UDP; anything else: UnusualProtocol)."
        ),
        query=_query,
        aggs=_aggs,
        evaluate=_evaluate,
        params={
            "min_packets": 200_000,
            "max_bytes_per_packet": 600,
            "tcp_ports": [21, 22, 23, 25, 80, 110, 143, 443, 445, 1433, 3306, 3389, 8080],
            "max_findings": 50,
        },
        interval=timedelta(minutes=10),
        cases=_cases,
    )
)
