"""Normal VPC traffic, one flow-log stream per VPC (rates per hour at scale 1).

Web servers serve HTTPS to many internet clients and call the app servers on 8080; app servers
hold pooled connections to Postgres on 5432; every instance reaches the names it resolves in DNS
(AWS endpoints, CDN, code hosting) over HTTPS, NTP over UDP and the Ubuntu mirrors once a day;
admins SSH to the bastion from the offices in working hours and hop on to internal hosts; EKS
nodes talk to the cluster endpoint's private addresses and to each other; the database uploads
its nightly backup (gigabytes, 02:00 UTC) to S3 through the gateway endpoint. Public instances
receive a few rejected probes per hour; the idle interface reports NODATA every window.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from functools import partial

from exporter.simulate.activity import Activity, Line, daily, diurnal, office_hours, poisson
from exporter.simulate.ids import between, pick
from exporter.simulate.model import Account, Instance, Interface, Model, Vpc, backup_plan
from exporter.simulate.net import internet_ip, resolve
from exporter.simulate.route53 import APT_LOCAL_TIME, answer, apt_names, destinations
from exporter.simulate.vpcflow import (
    PATH_ENDPOINT,
    PATH_IGW,
    PATH_VPC,
    TCP,
    UDP,
    WINDOW,
    End,
    Flow,
    exchange,
    format_flow,
    header,
    nodata,
    probe,
)
from exporter.simulate.writers import StreamSpec, vpcflow_name

SCAN_PORTS = (22, 23, 80, 443, 445, 1433, 2375, 3306, 3389, 5900, 6379, 8080, 8443, 9200)
BACKUP_STREAMS = 3


def streams(model: Model) -> list[StreamSpec]:
    """One flow-log stream per VPC."""
    return [
        StreamSpec(
            source="vpcflow",
            key=vpc.flow_log_id,
            window=WINDOW,
            name=partial(vpcflow_name, account.id, vpc.region, vpc.flow_log_id),
            activities=tuple(_activities(model, account, vpc)),
            header=header(vpc),
        )
        for account in model.accounts
        for vpc in account.vpcs
    ]


def _activities(model: Model, account: Account, vpc: Vpc) -> Iterator[Activity]:
    scale, busy = model.scale, diurnal(account.utc_offset)
    office = office_hours(account.utc_offset)
    for web in vpc.of_kind("web"):
        yield poisson(20, partial(_visit, vpc, web), busy, scale)
        yield poisson(3, partial(_probe, vpc, web), scale=scale)
    apps, internal = vpc.of_kind("app"), vpc.of_kind("app", "db")
    yield poisson(10, partial(_web_to_app, vpc, vpc.of_kind("web"), apps), busy, scale)
    for app in apps:
        for db in vpc.of_kind("db"):
            yield poisson(6, partial(_pooled, vpc, app, db), scale=scale)
    for instance in vpc.instances:
        names = destinations(account, vpc, instance)
        yield poisson(4, partial(_egress, vpc, instance, names), scale=scale)
        yield poisson(1, partial(_ntp, vpc, instance), scale=scale)
        yield daily(
            APT_LOCAL_TIME,
            partial(_apt, vpc, instance),
            jitter=1800,
            key=(model.seed, instance.id, "apt"),
        )
    for bastion in vpc.of_kind("bastion"):
        yield poisson(2, partial(_ssh_in, vpc, bastion, account.office_ips), office, scale)
        yield poisson(1, partial(_ssh_hop, vpc, bastion, internal), office, scale)
        yield poisson(3, partial(_probe, vpc, bastion), scale=scale)
    yield from _cluster_traffic(model, account, vpc)
    for db in vpc.of_kind("db"):
        yield partial(_backup, model, account, vpc, db)
    for iface in vpc.idle:
        yield partial(_idle, vpc, iface)


def _lines(vpc: Vpc, flows: Iterable[Flow]) -> list[Line]:
    return [(flow.start, format_flow(vpc, flow)) for flow in flows]


def _span(rng: random.Random, ts: float, longest: int) -> tuple[int, int]:
    start = int(ts)
    return start, min(start + between(rng, 1, longest), start - start % WINDOW + WINDOW - 1)


def _ephemeral(rng: random.Random) -> int:
    return between(rng, 32768, 60999)


def _local(instance: Instance, port: int, path: str = PATH_VPC) -> End:
    return End(instance.ip, port, instance.iface, path)


def _visit(vpc: Vpc, web: Instance, rng: random.Random, ts: float) -> list[Line]:
    client = End(internet_ip(rng), between(rng, 1024, 65535))
    volume = (between(rng, 500, 4_000), between(rng, 2_000, 300_000))
    flows = exchange(client, _local(web, 443, PATH_IGW), TCP, volume, _span(rng, ts, 90))
    return _lines(vpc, flows)


def _probe(vpc: Vpc, target: Instance, rng: random.Random, ts: float) -> list[Line]:
    port = pick(rng, SCAN_PORTS) if rng.random() < 0.7 else between(rng, 1, 65535)
    flow = probe(target.iface, internet_ip(rng), between(rng, 1024, 65535), port, int(ts))
    return _lines(vpc, (flow,))


def _web_to_app(
    vpc: Vpc, webs: tuple[Instance, ...], apps: tuple[Instance, ...], rng: random.Random, ts: float
) -> list[Line]:
    client = _local(pick(rng, webs), _ephemeral(rng))
    volume = (between(rng, 2_000, 20_000), between(rng, 5_000, 200_000))
    flows = exchange(client, _local(pick(rng, apps), 8080), TCP, volume, _span(rng, ts, 30))
    return _lines(vpc, flows)


def _pooled(vpc: Vpc, app: Instance, db: Instance, rng: random.Random, ts: float) -> list[Line]:
    client = _local(app, between(rng, 40000, 40015))
    volume = (between(rng, 10_000, 500_000), between(rng, 50_000, 5_000_000))
    flows = exchange(client, _local(db, 5432), TCP, volume, _span(rng, ts, WINDOW))
    return _lines(vpc, (f._replace(flags=0) for f in flows))


def _egress(
    vpc: Vpc, instance: Instance, names: tuple[str, ...], rng: random.Random, ts: float
) -> list[Line]:
    _, answers = answer(pick(rng, names), "A", vpc.region)
    peer = End(pick(rng, answers)["Rdata"], 443)
    path = PATH_IGW if instance.public_ip else PATH_VPC
    volume = (between(rng, 800, 20_000), between(rng, 2_000, 400_000))
    flows = exchange(_local(instance, _ephemeral(rng), path), peer, TCP, volume, _span(rng, ts, 60))
    return _lines(vpc, flows)


def _ntp(vpc: Vpc, instance: Instance, rng: random.Random, ts: float) -> list[Line]:
    path = PATH_IGW if instance.public_ip else PATH_VPC
    server = End(pick(rng, resolve("ntp.ubuntu.com.")), 123)
    flows = exchange(_local(instance, _ephemeral(rng), path), server, UDP, (76, 76), (int(ts),) * 2)
    return _lines(vpc, flows)


def _apt(vpc: Vpc, instance: Instance, rng: random.Random, ts: float) -> list[Line]:
    path = PATH_IGW if instance.public_ip else PATH_VPC
    flows: list[Flow] = []
    for n, name in enumerate(apt_names(vpc.region)):
        _, answers = answer(name, "A", vpc.region)
        mirror = End(answers[0]["Rdata"], 80)
        volume = (between(rng, 2_000, 10_000), between(rng, 100_000, 20_000_000))
        flows += exchange(
            _local(instance, _ephemeral(rng), path), mirror, TCP, volume, _span(rng, ts + n, 120)
        )
    return _lines(vpc, flows)


def _ssh_in(
    vpc: Vpc, bastion: Instance, offices: tuple[str, ...], rng: random.Random, ts: float
) -> list[Line]:
    client = End(pick(rng, offices), between(rng, 49152, 65535))
    volume = (between(rng, 5_000, 300_000), between(rng, 20_000, 2_000_000))
    flows = exchange(client, _local(bastion, 22, PATH_IGW), TCP, volume, _span(rng, ts, 500))
    return _lines(vpc, flows)


def _ssh_hop(
    vpc: Vpc, bastion: Instance, targets: tuple[Instance, ...], rng: random.Random, ts: float
) -> list[Line]:
    volume = (between(rng, 3_000, 100_000), between(rng, 10_000, 1_000_000))
    flows = exchange(
        _local(bastion, _ephemeral(rng)),
        _local(pick(rng, targets), 22),
        TCP,
        volume,
        _span(rng, ts, 400),
    )
    return _lines(vpc, flows)


def _cluster_traffic(model: Model, account: Account, vpc: Vpc) -> Iterator[Activity]:
    for cluster in account.clusters:
        if cluster.vpc.id != vpc.id:
            continue
        for node in cluster.nodes:
            peers = tuple(n for n in cluster.nodes if n.id != node.id)
            yield poisson(
                6, partial(_to_endpoint, vpc, node, cluster.endpoint_ips), scale=model.scale
            )
            yield poisson(4, partial(_node_to_node, vpc, node, peers), scale=model.scale)


def _to_endpoint(
    vpc: Vpc, node: Instance, endpoint: tuple[str, ...], rng: random.Random, ts: float
) -> list[Line]:
    volume = (between(rng, 5_000, 200_000), between(rng, 10_000, 800_000))
    flows = exchange(
        _local(node, _ephemeral(rng)),
        End(pick(rng, endpoint), 443),
        TCP,
        volume,
        _span(rng, ts, WINDOW),
    )
    return _lines(vpc, flows)


def _node_to_node(
    vpc: Vpc, node: Instance, peers: tuple[Instance, ...], rng: random.Random, ts: float
) -> list[Line]:
    volume = (between(rng, 1_000, 50_000), between(rng, 2_000, 300_000))
    flows = exchange(
        _local(node, _ephemeral(rng)),
        _local(pick(rng, peers), 8080),
        TCP,
        volume,
        _span(rng, ts, 60),
    )
    return _lines(vpc, flows)


def _backup(
    model: Model,
    account: Account,
    vpc: Vpc,
    db: Instance,
    rng: random.Random,
    start: int,
    end: int,
) -> list[Line]:
    plan = backup_plan(model.seed, vpc, start - start % 86_400)
    overlap = min(end, plan.end) - max(start, plan.start)
    if overlap <= 0:
        return []
    host = f"{account.bucket('backups', vpc.region).name}.s3.{vpc.region}.amazonaws.com."
    s3 = answer(host, "A", vpc.region)[1][-1]["Rdata"]
    total = sum(size for _, size in plan.objects) * overlap // (plan.end - plan.start)
    flows: list[Flow] = []
    for n in range(BACKUP_STREAMS):
        sent = total // BACKUP_STREAMS
        client = _local(db, 41000 + n, PATH_ENDPOINT)
        span = (max(start, plan.start), min(end, plan.end) - 1)
        flows += exchange(client, End(s3, 443), TCP, (sent, sent // 40), span)
    return _lines(vpc, flows)


def _idle(vpc: Vpc, iface: Interface, _rng: random.Random, start: int, end: int) -> list[Line]:
    return [(start, nodata(vpc, iface, start, end))]
