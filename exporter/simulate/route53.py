"""Route 53 Resolver query logs: record builder, the names instances look up, background.

One stream per VPC (5-minute files of JSON lines). Instances resolve the AWS endpoints of their
agents and SDKs, their buckets (CNAME to the regional S3 front end), CDN, package, NTP and code
hosting names; add AAAA lookups, reverse lookups of internal addresses and NXDOMAIN answers for
names tried with the VPC search domain. Answers come from :func:`net.resolve`, so the addresses
in DNS answers are the peers in the flow logs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from functools import lru_cache, partial
from typing import Any

import orjson

from exporter.simulate.activity import Activity, Line, daily, poisson
from exporter.simulate.ids import HOUR, between, iso_seconds, pick, stable_int
from exporter.simulate.model import Account, Instance, Model, Vpc
from exporter.simulate.net import private_dns, ptr_name, resolve, s3_ip
from exporter.simulate.writers import StreamSpec, route53_name

WINDOW = 300
VERSION = "1.100000"
APT_LOCAL_TIME = 6 * HOUR
LOOKUP_RATES = {"app": 10.0, "web": 4.0, "node": 14.0, "db": 3.0, "bastion": 2.0}
PUBLIC_NAMES = {
    "app": ("github.com.", "api.github.com.", "pypi.org.", "files.pythonhosted.org."),
    "web": (),
    "node": ("registry-1.docker.io.", "auth.docker.io.", "production.cloudflare.docker.com."),
    "db": (),
    "bastion": ("github.com.",),
}
AGENT_SERVICES = ("ssm", "ec2messages", "ssmmessages", "logs", "monitoring")
SDK_SERVICES = {"app": ("kms", "secretsmanager", "sts", "sqs"), "web": ("sts",), "node": ("sts",)}
Answers = tuple[dict[str, str], ...]


def apt_names(region: str) -> tuple[str, ...]:
    """The Ubuntu mirror names every instance looks up for its daily package refresh."""
    return f"{region}.ec2.archive.ubuntu.com.", "security.ubuntu.com."


def cdn_names(account: Account) -> tuple[str, ...]:
    """The account's CloudFront distribution names (``d1a2b3c4d5e6f7.cloudfront.net.``)."""
    return tuple(
        f"d{stable_int(account.id, 'cdn', i) % 16**13:013x}.cloudfront.net." for i in range(3)
    )


def destinations(account: Account, vpc: Vpc, instance: Instance) -> tuple[str, ...]:
    """The public names an instance connects to over HTTPS (its lookups, minus S3 and EKS)."""
    region = vpc.region
    aws = (*AGENT_SERVICES, *SDK_SERVICES.get(instance.kind, ()))
    names = [f"{service}.{region}.amazonaws.com." for service in aws]
    names += PUBLIC_NAMES[instance.kind]
    if instance.kind in ("app", "web"):
        names += cdn_names(account)
    if instance.kind == "node":
        names += [
            f"api.ecr.{region}.amazonaws.com.",
            f"{account.id}.dkr.ecr.{region}.amazonaws.com.",
        ]
    return tuple(names)


def search_domain(region: str) -> str:
    """The VPC's DNS search domain (trailing dot included)."""
    return "ec2.internal." if region == "us-east-1" else f"{region}.compute.internal."


@lru_cache(maxsize=4096)
def answer(name: str, qtype: str, region: str) -> tuple[str, Answers]:
    """The (rcode, answers) the Resolver gives for ``name`` in ``region``."""
    if name.endswith(".in-addr.arpa."):
        address = ".".join(reversed(name[: -len(".in-addr.arpa.")].split(".")))
        if not address.startswith("10."):
            return "NXDOMAIN", ()
        return "NOERROR", (_rr(private_dns(address, region) + ".", "PTR"),)
    if name.endswith(".internal."):
        return "NXDOMAIN", ()
    if qtype == "AAAA":
        return "NOERROR", ()
    if ".s3." in name:
        return "NOERROR", (
            _rr(f"s3-r-w.{region}.amazonaws.com.", "CNAME"),
            _rr(s3_ip(region, name), "A"),
        )
    count = 4 if name.endswith(".cloudfront.net.") else 2 if "amazonaws" in name else 1
    return "NOERROR", tuple(_rr(ip, "A") for ip in resolve(name, count))


def _rr(data: str, rtype: str) -> dict[str, str]:
    return {"Rdata": data, "Type": rtype, "Class": "IN"}


def query(
    rng: random.Random,
    ts: float,
    vpc: Vpc,
    instance: Instance,
    name: str,
    qtype: str = "A",
    result: tuple[str, Answers] | None = None,
) -> dict[str, Any]:
    """A query log record; ``result`` (rcode, answers) defaults to :func:`answer`."""
    rcode, answers = result or answer(name, qtype, vpc.region)
    return {
        "version": VERSION,
        "account_id": vpc.account,
        "region": vpc.region,
        "vpc_id": vpc.id,
        "query_timestamp": iso_seconds(ts),
        "query_name": name,
        "query_type": qtype,
        "query_class": "IN",
        "rcode": rcode,
        "answers": answers,
        "srcaddr": instance.ip,
        "srcport": str(between(rng, 1024, 65535)),
        "transport": "UDP" if rng.random() < 0.97 else "TCP",
        "srcids": {"instance": instance.id},
    }


def dumps(record: Mapping[str, Any]) -> str:
    """Compact JSON text of a query log record."""
    return orjson.dumps(record).decode()


def streams(model: Model) -> list[StreamSpec]:
    """One query-log stream per VPC."""
    return [
        StreamSpec(
            source="route53",
            key=vpc.id,
            window=WINDOW,
            name=partial(route53_name, account.id, vpc.id),
            activities=tuple(_activities(model, account, vpc)),
        )
        for account in model.accounts
        for vpc in account.vpcs
    ]


def _activities(model: Model, account: Account, vpc: Vpc) -> Iterator[Activity]:
    private = {f"{c.endpoint}.": c.endpoint_ips for c in account.clusters if c.vpc.id == vpc.id}
    for instance in vpc.instances:
        endpoint = tuple(private) if instance.kind == "node" else ()
        names = destinations(account, vpc, instance) + endpoint
        lookup = partial(_lookup, vpc, instance, names, private)
        yield poisson(LOOKUP_RATES[instance.kind], lookup, scale=model.scale)
        yield poisson(
            0.5, partial(_lookup, vpc, instance, ("ntp.ubuntu.com.",), {}), scale=model.scale
        )
        yield daily(
            APT_LOCAL_TIME,
            partial(_apt, vpc, instance),
            jitter=1800,
            key=(model.seed, instance.id, "apt"),
        )
        if instance.kind in ("app", "node"):
            yield poisson(0.5, partial(_search_miss, vpc, instance, names), scale=model.scale)
        if instance.kind in ("app", "web", "db"):
            kind = "backups" if instance.kind == "db" else "app-data"
            bucket = f"{account.bucket(kind, vpc.region).name}.s3.{vpc.region}.amazonaws.com."
            yield poisson(3, partial(_lookup, vpc, instance, (bucket,), {}), scale=model.scale)
    for db in vpc.of_kind("db"):
        peers = tuple(ptr_name(i.ip) for i in vpc.of_kind("app", "web"))
        yield poisson(1, partial(_lookup, vpc, db, peers, {}), scale=model.scale)


def _lookup(
    vpc: Vpc,
    instance: Instance,
    names: tuple[str, ...],
    private: Mapping[str, tuple[str, ...]],
    rng: random.Random,
    ts: float,
) -> list[Line]:
    name = pick(rng, names)
    if name in private:
        result = ("NOERROR", tuple(_rr(ip, "A") for ip in private[name]))
        return [(ts, dumps(query(rng, ts, vpc, instance, name, result=result)))]
    lines = [(ts, dumps(query(rng, ts, vpc, instance, name)))]
    if not name.endswith((".amazonaws.com.", ".arpa.")) and rng.random() < 0.5:
        lines.append((ts, dumps(query(rng, ts, vpc, instance, name, "AAAA"))))
    return lines


def _search_miss(
    vpc: Vpc, instance: Instance, names: tuple[str, ...], rng: random.Random, ts: float
) -> list[Line]:
    name = pick(rng, names) + search_domain(vpc.region)
    return [(ts, dumps(query(rng, ts, vpc, instance, name)))]


def _apt(vpc: Vpc, instance: Instance, rng: random.Random, ts: float) -> list[Line]:
    return [
        (ts + n, dumps(query(rng, ts + n, vpc, instance, name, qtype)))
        for n, name in enumerate(apt_names(vpc.region))
        for qtype in ("A", "AAAA")
    ]
