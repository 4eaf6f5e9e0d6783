"""Raw VPC flow log records (version 5, AWS's field order) for the flow detectors' cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from exporter.detections.behaviour.catalogue.documents import from_raw, lines
from exporter.detections.behaviour.model import Document, Window

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr "
    "pkt-dstaddr region az-id flow-direction traffic-path"
)
ACCOUNT, REGION = "111122223333", "us-east-1"
ORIGIN = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2026/01/14/case.log"
INSTANCE = ("i-0a1b2c3d4e5f60718", "eni-0a1b2c3d4e5f60718", "10.20.1.10")
"""(instance id, interface id, private address) of the watched instance in every case."""
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1}


@dataclass(frozen=True)
class Flow:
    """One flow record as the watched instance's interface reports it.

    ``remote``/``remote_port`` is the far end; ``inbound`` says who started it (ingress: the
    remote end is the source)."""

    at: datetime
    remote: str
    remote_port: int
    local_port: int
    inbound: bool = True
    protocol: str = "tcp"
    packets: int = 3
    nbytes: int = 180
    action: str = "ACCEPT"
    local: str = INSTANCE[2]


def record(flow: Flow) -> str:
    """The version-5 line of ``flow``."""
    instance, interface, _ = INSTANCE
    start = int(flow.at.timestamp())
    if flow.inbound:
        src, dst, sport, dport = flow.remote, flow.local, flow.remote_port, flow.local_port
    else:
        src, dst, sport, dport = flow.local, flow.remote, flow.local_port, flow.remote_port
    return " ".join(
        str(part)
        for part in (
            5, ACCOUNT, interface, src, dst, sport, dport, PROTOCOLS[flow.protocol],
            flow.packets, flow.nbytes, start, start + 30, flow.action, "OK",
            "vpc-0a1b2c3d", "subnet-0a1b2c3d", instance, 2, "IPv4", src, dst, REGION,
            "use1-az1", "ingress" if flow.inbound else "egress", "-" if flow.inbound else 8,
        )
    )  # fmt: skip


def documents(flows: list[Flow]) -> list[Document]:
    """The ECS documents of ``flows``."""
    return from_raw("vpcflow", lines(map(record, flows), HEADER), ORIGIN)


def spread(window: Window, count: int) -> list[datetime]:
    """``count`` moments evenly spaced inside ``window``."""
    step = (window.end - window.start) / (count + 1)
    return [window.start + step * (n + 1) for n in range(count)]
