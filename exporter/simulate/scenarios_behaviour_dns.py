"""Labelled DNS behaviour scenarios: tunnelling, generated domains, an unusual resolver.

Each burst runs on the last simulated day inside one hour (the detectors' window) and uses its
own instance. Attacker domains are made up (``qz7-relay-sync.top`` for the tunnel, random
letters for the DGA); the unusual resolver is a public one (8.8.8.8) reached over UDP 53 in
the flow logs. Near misses: a page load resolving many hashed CloudFront names, long but
readable tenant names, a link checker hitting dead readable domains, and an instance that
sends DNS to 1.1.1.1 every day (its routine is written on every simulated day).
"""

from __future__ import annotations

import base64
from random import Random

from exporter.simulate.ids import DAY, HOUR
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.model import Instance, Model, Vpc
from exporter.simulate.route53 import Answers, query
from exporter.simulate.scenarios_signatures import Outcome, labelled, last_day
from exporter.simulate.vpcflow import PATH_IGW, PATH_VPC, UDP, End, exchange

EXFILTRATION = "Trojan:EC2/DNSDataExfiltration"
DGA = "Trojan:EC2/DGADomainRequest.B"
RESOLVER = "DefenseEvasion:EC2/UnusualDNSResolver"
TUNNEL_DOMAIN = "qz7-relay-sync.top"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
DGA_SUFFIXES = ("com", "net", "org", "info", "biz", "ru")
WORDS = (
    "billing", "reports", "archive", "customer", "gateway", "frontend", "analytics", "orders",
    "payments", "catalog", "search", "support",
)  # fmt: skip
MINUTE = 60
Site = tuple[Vpc, Instance]
Result = tuple[str, Answers]


def site(model: Model, account: int, vpc: int, name: str) -> Site:
    """The VPC and instance ``name`` of the ``account``-th account's ``vpc``-th VPC."""
    chosen = model.accounts[account].vpcs[vpc]
    return chosen, next(i for i in chosen.instances if i.name == name)


def start_of_hour(model: Model, rng: Random) -> int:
    """A minute after an hour starts on the last day (a burst then fits one window)."""
    ts = last_day(model, rng)
    return ts - ts % HOUR + MINUTE


def lookups(
    writer: ScenarioWriter,
    rng: Random,
    where: Site,
    names: list[tuple[str, str, Result]],
    start: int,
) -> Outcome:
    """Queries of (name, type, result) from ``where``, a few seconds apart, from ``start``."""
    vpc, instance = where
    times: list[float] = []
    ts = start
    for name, qtype, result in names:
        writer.route53(query(rng, ts, vpc, instance, name, qtype, result))
        times.append(float(ts))
        ts += rng.randint(1, 12)
    return Outcome(instance.id, (vpc.account, vpc.region), times)


def answered(address: str) -> Result:
    """A NOERROR answer with one A record."""
    return "NOERROR", ({"Rdata": address, "Type": "A", "Class": "IN"},)


def tunnel_names(rng: Random, count: int) -> list[tuple[str, str, Result]]:
    """``count`` chunks of base32 data under the tunnel domain (TXT queries, as iodine/dnscat
    style tools send), each ``<seq>.<52 chars>.<20 chars>.<domain>``."""
    names: list[tuple[str, str, Result]] = []
    for seq in range(count):
        data = base64.b32encode(rng.randbytes(45)).decode().lower().rstrip("=")
        name = f"{seq:x}.{data[:52]}.{data[52:72]}.{TUNNEL_DOMAIN}."
        txt = {"Rdata": f'"{base64.b32encode(rng.randbytes(10)).decode()}"', "Type": "TXT"}
        names.append((name, "TXT", ("NOERROR", ({**txt, "Class": "IN"},))))
    return names


@labelled("dns-tunnel-exfiltration", EXFILTRATION, "positive")
def dns_tunnel(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A database server tunnels data out in base32 chunks under the made-up attacker domain
    qz7-relay-sync.top: 120 TXT queries of distinct 75-character names in about 12 minutes."""
    where = site(model, 0, 0, "db-1")
    return lookups(writer, rng, where, tunnel_names(rng, 120), start_of_hour(model, rng))


@labelled("dns-cdn-burst", EXFILTRATION, "negative")
def cdn_burst(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a web server's page render resolves 60 distinct hashed CloudFront names
    (d<13 hex>.cloudfront.net) within minutes: many names under one domain, but short."""
    names = [
        (f"d{rng.getrandbits(52):013x}.cloudfront.net.", "A", answered(f"13.224.{n}.{n + 7}"))
        for n in range(60)
    ]
    return lookups(writer, rng, site(model, 1, 0, "web-2"), names, start_of_hour(model, rng))


@labelled("dns-long-readable-names", EXFILTRATION, "negative")
def readable_names(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a status poller resolves 60 distinct long but readable tenant names
    (tenant-<word>-<word>-production.status-tenants.io): long labels, low entropy."""
    names = [
        (
            f"tenant-{WORDS[n % 12]}-{WORDS[n // 12 % 12]}-production.status-tenants.io.",
            "A",
            answered("198.51.100.200"),
        )
        for n in range(60)
    ]
    return lookups(writer, rng, site(model, 0, 1, "app-1"), names, start_of_hour(model, rng))


@labelled("dns-dga-burst", DGA, "positive")
def dga_burst(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Malware on an EKS node walks its domain generation algorithm: 45 random-letter domains
    (10-18 letters, six suffixes), all but two NXDOMAIN, in about five minutes."""
    names = []
    for n in range(45):
        label = "".join(rng.choice(LETTERS) for _ in range(rng.randint(10, 18)))
        result = answered("203.0.113.71") if n in (17, 38) else ("NXDOMAIN", ())
        names.append((f"{label}.{DGA_SUFFIXES[n % 6]}.", "A", result))
    return lookups(writer, rng, site(model, 1, 0, "node-1"), names, start_of_hour(model, rng))


@labelled("dns-link-checker", DGA, "negative")
def link_checker(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a documentation link checker resolves 40 readable domains, half of them dead
    (NXDOMAIN): many domains, many failures, but words, not random letters."""
    names = [
        (
            f"{WORDS[n % 12]}-{WORDS[(n // 12 + n) % 12]}-docs.org.",
            "A",
            answered("198.51.100.201") if n % 2 else ("NXDOMAIN", ()),
        )
        for n in range(40)
    ]
    return lookups(writer, rng, site(model, 0, 1, "web-1"), names, start_of_hour(model, rng))


def minutes(start: int, count: int) -> list[float]:
    """``count`` moments a minute apart from ``start``."""
    return [float(start + n * MINUTE) for n in range(count)]


def send_dns(
    writer: ScenarioWriter, rng: Random, where: Site, resolver: str, times: list[float]
) -> None:
    """The flow records of one UDP port-53 exchange with ``resolver`` at each of ``times``."""
    vpc, instance = where
    path = PATH_IGW if instance.public_ip else PATH_VPC
    for ts in times:
        client = End(instance.ip, rng.randint(32768, 60999), instance.iface, path)
        volume = (rng.randint(60, 90), rng.randint(90, 300))
        for flow in exchange(client, End(resolver, 53), UDP, volume, (int(ts), int(ts) + 1)):
            writer.vpcflow(vpc, flow)


@labelled("unusual-dns-resolver", RESOLVER, "positive")
def unusual_resolver(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server that always used the VPC resolver sends 8 DNS queries to 8.8.8.8 over
    UDP 53 (malware bypassing the Resolver's query logs)."""
    where = site(model, 0, 0, "app-2")
    times = minutes(start_of_hour(model, rng), 8)
    send_dns(writer, rng, where, "8.8.8.8", times)
    vpc, instance = where
    return Outcome(instance.id, (vpc.account, vpc.region), times)


@labelled("usual-dns-resolver", RESOLVER, "negative")
def usual_resolver(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a bastion's DNS health check queries 1.1.1.1 over UDP 53 every day at
    about 07:00 (written on every simulated day, the last one labelled)."""
    where = site(model, 0, 1, "bastion-1")
    times: list[float] = []
    for day in range(model.start, model.end, DAY):
        times = minutes(day + 7 * HOUR + rng.randint(0, 600), 3)
        send_dns(writer, rng, where, "1.1.1.1", times)
    vpc, instance = where
    return Outcome(instance.id, (vpc.account, vpc.region), times)
