"""VPC Flow Log records: the two formats, a flow tuple, and conversation helpers.

The first account's flow logs use a custom version-5 format (:data:`HEADER_V5`), the others the
default version-2 format (:data:`HEADER_V2`). One stream per VPC flow log, one file per
10-minute aggregation window. Each interface reports both directions of a conversation as two
records; traffic between two instances of the VPC therefore appears four times. ``-`` marks a
field that does not apply; an interface without traffic in a window reports ``NODATA``.
"""

from __future__ import annotations

from typing import NamedTuple

from exporter.simulate.model import Interface, Vpc

WINDOW = 600
HEADER_V2 = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
HEADER_V5 = (
    f"{HEADER_V2} vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region "
    "az-id flow-direction traffic-path"
)
TCP, UDP = 6, 17
SYN, FIN, SYN_ACK = 2, 1, 18
PATH_VPC, PATH_ENDPOINT, PATH_IGW = "1", "7", "8"


class Flow(NamedTuple):
    """One flow record as seen by one interface."""

    iface: Interface
    src: str
    dst: str
    sport: int
    dport: int
    proto: int
    packets: int
    nbytes: int
    start: int
    end: int
    action: str = "ACCEPT"
    flags: int = 0
    direction: str = "ingress"
    path: str = "-"


class End(NamedTuple):
    """One side of a conversation; ``iface`` is set when the side is one of our interfaces."""

    ip: str
    port: int
    iface: Interface | None = None
    path: str = PATH_IGW


def header(vpc: Vpc) -> str:
    """The first line of every file of the VPC's flow log."""
    return HEADER_V5 if vpc.flow_version == 5 else HEADER_V2


def format_flow(vpc: Vpc, flow: Flow) -> str:
    """The record text in the VPC's flow log format."""
    f = flow
    text = (
        f"{vpc.flow_version} {vpc.account} {f.iface.eni} {f.src} {f.dst} {f.sport} {f.dport} "
        f"{f.proto} {f.packets} {f.nbytes} {f.start} {f.end} {f.action} OK"
    )
    if vpc.flow_version == 2:
        return text
    return (
        f"{text} {vpc.id} {f.iface.subnet} {f.iface.instance_id} {f.flags} IPv4 {f.src} {f.dst} "
        f"{vpc.region} {f.iface.az_id} {f.direction} {f.path}"
    )


def nodata(vpc: Vpc, iface: Interface, start: int, end: int) -> str:
    """The NODATA record of an interface that saw no traffic in [start, end)."""
    text = f"{vpc.flow_version} {vpc.account} {iface.eni} - - - - - - - {start} {end} - NODATA"
    if vpc.flow_version == 2:
        return text
    return (
        f"{text} {vpc.id} {iface.subnet} {iface.instance_id} - - - - {vpc.region} {iface.az_id} - -"
    )


def _packets(nbytes: int, proto: int) -> int:
    return max(1 if proto == UDP else 3, nbytes // 1100)


def exchange(
    client: End, server: End, proto: int, volume: tuple[int, int], span: tuple[int, int]
) -> list[Flow]:
    """The records of one accepted conversation: ``volume`` is (bytes sent, bytes returned)."""
    start, end = span
    tcp = proto == TCP
    legs = ((client, server, volume[0], SYN | FIN), (server, client, volume[1], SYN_ACK | FIN))
    flows = []
    for src, dst, nbytes, flags in legs:
        packets = _packets(nbytes, proto)
        nbytes = max(nbytes, packets * (40 if tcp else 28))
        common = (src.ip, dst.ip, src.port, dst.port, proto, packets, nbytes, start, end)
        if src.iface is not None:
            flows.append(
                Flow(src.iface, *common, "ACCEPT", flags if tcp else 0, "egress", src.path)
            )
        if dst.iface is not None:
            flows.append(Flow(dst.iface, *common, "ACCEPT", flags if tcp else 0, "ingress", "-"))
    return flows


def probe(iface: Interface, scanner: str, sport: int, dport: int, at: int) -> Flow:
    """A rejected single-SYN probe from the internet to ``iface``."""
    return Flow(iface, scanner, iface.ip, sport, dport, TCP, 1, 44, at, at + 1, "REJECT", SYN)
