"""Labelled flow behaviour scenarios (brute force, scans, unusual traffic, floods, spam).

Attacks run on the last simulated day, each inside one detector window (they start a minute
after an aligned window start); attackers come from 203.0.113.150-.160, the hosts our
instances attack from 45.76.0.0/16 (neither is ever used by the background). Each scenario
uses its own instance. The finding's resource is the instance id where the VPC logs flows in
version 5, else (version 2 has no instance id) the network interface id. Near misses with
history (a mail relay, a nightly export) write their routine on every simulated day.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from exporter.simulate.ids import DAY, HOUR
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.model import Instance, Model, Vpc
from exporter.simulate.scenarios_signatures import Outcome, labelled, last_day
from exporter.simulate.vpcflow import (
    PATH_IGW,
    PATH_VPC,
    SYN,
    TCP,
    UDP,
    End,
    Flow,
    exchange,
    probe,
)

SSH, RDP, WINRM = 22, 3389, 5985
MINUTE = 60
Site = tuple[Vpc, Instance]


def site(model: Model, account: int, vpc: int, name: str) -> Site:
    """The VPC and instance ``name`` of the ``account``-th account's ``vpc``-th VPC."""
    chosen = model.accounts[account].vpcs[vpc]
    return chosen, next(i for i in chosen.instances if i.name == name)


def outcome(where: Site, times: list[float]) -> Outcome:
    """The label facts: the finding's resource id (instance, or ENI in v2 logs) and times."""
    vpc, instance = where
    resource = instance.id if vpc.flow_version == 5 else instance.iface.eni
    return Outcome(resource, (vpc.account, vpc.region), times)


def slot(model: Model, rng: Random, minutes: int = 30) -> int:
    """A minute after the start of an aligned ``minutes`` window on the last day."""
    ts = last_day(model, rng)
    return ts - ts % (minutes * MINUTE) + MINUTE


def local(where: Site, port: int) -> End:
    """The instance's end of a connection."""
    _, instance = where
    return End(instance.ip, port, instance.iface, PATH_IGW if instance.public_ip else PATH_VPC)


def sent(where: Site, remote: str, dport: int, shape: tuple[int, int, int], at: int) -> Flow:
    """One outbound record: ``shape`` is (protocol, packets, bytes per packet)."""
    proto, packets, size = shape
    _, instance = where
    flags = SYN if proto == TCP else 0
    path = PATH_IGW if instance.public_ip else PATH_VPC
    common = (instance.ip, remote, 50000 + at % 9000, dport, proto, packets, packets * size)
    return Flow(instance.iface, *common, at, at + 1, "ACCEPT", flags, "egress", path)


def write(writer: ScenarioWriter, vpc: Vpc, flows: list[Flow]) -> list[float]:
    """Write ``flows``; their start and end times."""
    for flow in flows:
        writer.vpcflow(vpc, flow)
    return [t for flow in flows for t in (flow.start, flow.end)]


def sessions(
    pair: tuple[End, End], count: int, start: int, gap: int, volume: tuple[int, int]
) -> Iterator[Flow]:
    """``count`` short TCP conversations of (client, server) ``pair``, ``gap`` s apart."""
    client, server = pair
    for n in range(count):
        at = start + n * gap
        yield from exchange(client._replace(port=40000 + n * 13), server, TCP, volume, (at, at + 2))


def brute(
    model: Model, rng: Random, writer: ScenarioWriter, where: Site, spec: tuple[str, int, bool, int]
) -> Outcome:
    """(remote, port, outbound, count) ``spec``: short connections to ``port`` between the
    instance and ``remote`` (the instance starts them when ``outbound``), 20 s apart."""
    remote, port, outbound, count = spec
    pair = (
        (local(where, 0), End(remote, port)) if outbound else (End(remote, 0), local(where, port))
    )
    flows = list(sessions(pair, count, slot(model, rng), 20, (1_800, 2_600)))
    return outcome(where, write(writer, where[0], flows))


@labelled("flow-ssh-brute-force", "UnauthorizedAccess:EC2/SSHBruteForce", "positive")
def ssh_brute_force(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """203.0.113.150 tries 45 SSH logins on a bastion within 15 minutes."""
    return brute(
        model, rng, writer, site(model, 0, 0, "bastion-1"), ("203.0.113.150", SSH, False, 45)
    )


@labelled("flow-ssh-brute-force-actor", "UnauthorizedAccess:EC2/SSHBruteForce", "positive")
def ssh_brute_force_actor(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A compromised app server (v2 logs) tries 45 SSH logins on 203.0.113.153."""
    return brute(model, rng, writer, site(model, 1, 1, "app-1"), ("203.0.113.153", SSH, True, 45))


@labelled("flow-rdp-brute-force", "UnauthorizedAccess:EC2/RDPBruteForce", "positive")
def rdp_brute_force(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """203.0.113.151 tries 40 RDP logins on a web server (v2 logs)."""
    return brute(model, rng, writer, site(model, 1, 0, "web-1"), ("203.0.113.151", RDP, False, 40))


@labelled("flow-winrm-brute-force", "Impact:EC2/WinRMBruteForce", "positive")
def winrm_brute_force(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """203.0.113.152 tries 40 WinRM logins on a web server."""
    return brute(
        model, rng, writer, site(model, 0, 1, "web-2"), ("203.0.113.152", WINRM, False, 40)
    )


@labelled("flow-ssh-failed-logins", "UnauthorizedAccess:EC2/SSHBruteForce", "negative")
def ssh_failed_logins(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: 203.0.113.159 fails 6 SSH logins on a bastion (v2 logs)."""
    return brute(
        model, rng, writer, site(model, 1, 1, "bastion-1"), ("203.0.113.159", SSH, False, 6)
    )


def probes(where: Site, scanner: str, ports: list[int], start: int) -> list[Flow]:
    """A scanner's SYNs to ``ports`` of the instance, 5 s apart: the instance's open HTTPS
    port answers (accepted conversation), every other port rejects."""
    instance = where[1]
    flows: list[Flow] = []
    for n, port in enumerate(ports):
        at = start + 5 * n
        if port == 443:
            flows += exchange(
                End(scanner, 61000 + n), local(where, 443), TCP, (60, 40), (at, at + 1)
            )
        else:
            flows.append(probe(instance.iface, scanner, 61000 + n, port, at))
    return flows


SCANNED = [21, 23, 25, 80, 110, 135, 139, 443, 445, 1433, 3306, 3389, 5432, 5900, 6379, 8080,
           8443, 9200, 11211, 27017]  # fmt: skip


@labelled("flow-port-probe", "Recon:EC2/PortProbeUnprotectedPort", "positive")
def port_probe(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """203.0.113.154 probes 20 ports of a web server; HTTPS (443) is open and answers."""
    where = site(model, 0, 0, "web-1")
    return outcome(
        where, write(writer, where[0], probes(where, "203.0.113.154", SCANNED, slot(model, rng)))
    )


@labelled("flow-port-probe-all-closed", "Recon:EC2/PortProbeUnprotectedPort", "negative")
def port_probe_closed(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: 203.0.113.160 probes 19 ports of a bastion (v2 logs); all are rejected."""
    where = site(model, 1, 0, "bastion-1")
    ports = [p for p in SCANNED if p != 443]
    return outcome(
        where, write(writer, where[0], probes(where, "203.0.113.160", ports, slot(model, rng)))
    )


@labelled("flow-portscan", "Recon:EC2/Portscan", "positive")
def portscan(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server SYN-scans 120 ports of 203.0.113.155 within 4 minutes."""
    where, start = site(model, 0, 1, "app-2"), slot(model, rng)
    flows = [sent(where, "203.0.113.155", port, (TCP, 1, 44), start + 2 * n)
             for n, port in enumerate(range(1, 121))]  # fmt: skip
    return outcome(where, write(writer, where[0], flows))


@labelled("flow-port-check", "Recon:EC2/Portscan", "negative")
def port_check(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a web server (v2 logs) checks 6 ports of 45.76.60.6, one SYN each."""
    where, start = site(model, 1, 1, "web-1"), slot(model, rng)
    flows = [sent(where, "45.76.60.6", port, (TCP, 1, 44), start + 3 * n)
             for n, port in enumerate((80, 443, 8080, 8443, 9000, 9090))]  # fmt: skip
    return outcome(where, write(writer, where[0], flows))


@labelled("flow-port-sweep", "Impact:EC2/PortSweep", "positive")
def port_sweep(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server (v2 logs) probes MySQL (3306) on 60 hosts of 45.76.12.0/24."""
    where, start = site(model, 1, 0, "app-2"), slot(model, rng)
    flows = [
        sent(where, f"45.76.12.{n + 10}", 3306, (TCP, 1, 44), start + 4 * n) for n in range(60)
    ]
    return outcome(where, write(writer, where[0], flows))


def talks(where: Site, remote: End, starts: list[int], volume: tuple[int, int]) -> list[Flow]:
    """Accepted TCP conversations of the instance (client) with ``remote``."""
    flows: list[Flow] = []
    for n, at in enumerate(starts):
        me = local(where, 50000 + n * 7 % 9000)
        flows += exchange(me, remote, TCP, volume, (at, at + 60))
    return flows


@labelled("flow-network-port-unusual", "Behavior:EC2/NetworkPortUnusual", "positive")
def network_port_unusual(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server opens IRC (6667) sessions to 203.0.113.156, a port it never used."""
    where, start = site(model, 0, 0, "app-1"), slot(model, rng, 60)
    flows = talks(
        where, End("203.0.113.156", 6667), [start + 600 * n for n in range(4)], (30_000, 8_000)
    )
    return outcome(where, write(writer, where[0], flows))


@labelled("flow-traffic-volume-unusual", "Behavior:EC2/TrafficVolumeUnusual", "positive")
def traffic_volume_unusual(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A web server uploads 3 GB to 203.0.113.157:443 in 40 minutes."""
    where, start = site(model, 0, 1, "web-1"), slot(model, rng, 60)
    flows = talks(
        where,
        End("203.0.113.157", 443),
        [start + 600 * n for n in range(4)],
        (750_000_000, 2_000_000),
    )
    return outcome(where, write(writer, where[0], flows))


@labelled("flow-nightly-export", "Behavior:EC2/TrafficVolumeUnusual", "negative")
def nightly_export(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an app server (v2 logs) exports ~400 MB to partner 45.76.50.5:443 at 03:30
    every night; the last night's export is half as large again."""
    where = site(model, 1, 1, "app-2")
    nights = range(model.start - model.start % DAY, model.end - DAY + 1, DAY)
    flows: list[Flow] = []
    for night in nights:
        size = 300_000_000 if night < model.end - DAY else 300_000_000 * 3 // 2
        at = night + 3 * HOUR + 30 * MINUTE + rng.randint(0, 300)
        if at >= model.start:
            flows += talks(where, End("45.76.50.5", 443), [at, at + 900], (size // 2, 200_000))
    return outcome(where, write(writer, where[0], flows))


def flood(
    where: Site, target: str, shape: tuple[int, int, int], ports: tuple[int, int], start: int
) -> list[Flow]:
    """A flood of ``shape`` (protocol, packets per record, bytes per packet) records to
    ``target`` port ``ports[1]`` from source ports around ``ports[0]``, every 5 s for 8 min."""
    flows = []
    for n in range(96):
        record = sent(where, target, ports[1], shape, start + 5 * n)
        flows.append(record._replace(sport=ports[0] + n * 101 % 20_000))
    return flows


@labelled("flow-dos-udp", "Backdoor:EC2/DenialOfService.Udp", "positive")
def dos_udp(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A web server (v2 logs) floods 45.76.200.10:3074 with 2.9 M small UDP packets."""
    where = site(model, 1, 1, "web-2")
    flows = flood(where, "45.76.200.10", (UDP, 30_000, 64), (20000, 3074), slot(model, rng, 10))
    return outcome(where, write(writer, where[0], flows))


@labelled("flow-dos-tcp", "Backdoor:EC2/DenialOfService.Tcp", "positive")
def dos_tcp(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A web server SYN-floods 45.76.200.20:80 with 2.9 M packets."""
    where = site(model, 0, 0, "web-2")
    flows = flood(where, "45.76.200.20", (TCP, 30_000, 44), (33000, 80), slot(model, rng, 10))
    return outcome(where, write(writer, where[0], flows))


def mails(where: Site, hosts: list[str], start: int, gap: int) -> list[Flow]:
    """One SMTP conversation to port 25 of each of ``hosts``, ``gap`` s apart."""
    flows: list[Flow] = []
    for n, host in enumerate(hosts):
        flows += talks(where, End(host, 25), [start + n * gap], (12_000, 1_500))
    return flows


@labelled(
    "flow-spambot",
    "Backdoor:EC2/Spambot",
    "positive",
    also=("Behavior:EC2/NetworkPortUnusual",),  # port 25 was never used by it either
)
def spambot(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server (v2 logs) that never sent mail connects to port 25 of 40 hosts."""
    where = site(model, 1, 0, "app-1")
    hosts = [f"45.76.25.{n + 10}" for n in range(40)]
    return outcome(where, write(writer, where[0], mails(where, hosts, slot(model, rng, 60), 60)))


@labelled("flow-mail-relay", "Backdoor:EC2/Spambot", "negative")
def mail_relay(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an app server relays mail through 2 smart hosts every 6 hours all week,
    and on the last day delivers a newsletter to 8 hosts."""
    where = site(model, 0, 1, "app-1")
    relays = ["45.76.30.5", "45.76.30.6"]
    flows: list[Flow] = []
    for at in range(model.start + HOUR, model.end - DAY, 6 * HOUR):
        flows += mails(where, relays, at + rng.randint(0, 600), 30)
    newsletter = [f"45.76.31.{n + 10}" for n in range(8)]
    flows += mails(where, newsletter, slot(model, rng, 60), 120)
    return outcome(where, write(writer, where[0], flows))
