"""Labelled threat-list and trusted-list scenarios (GuardDuty's ``*.Custom`` finding types).

Each label declares the list entries it relies on; ``labels.json`` lists their union under
``lists`` (threat list ``sim-threats``, trusted list ``sim-trusted``), to be loaded before the
logs are ingested. 203.0.113.99 is on both lists: the trusted list wins, so it yields nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random

from exporter.simulate.cloudtrail_catalog import EC2, IAM
from exporter.simulate.ids import stable_key
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.labels import IpList
from exporter.simulate.model import Instance, Model, Vpc
from exporter.simulate.scenarios_signatures import (
    UBUNTU_CLI,
    Outcome,
    Step,
    cli_calls,
    labelled,
    last_day,
)
from exporter.simulate.vpcflow import PATH_IGW, PATH_VPC, TCP, WINDOW, End, exchange

LISTED_IP = "203.0.113.66"
TRUSTED_IP = "203.0.113.99"
TRUSTED = IpList("sim-trusted", "trusted", (TRUSTED_IP,))
EC2_FINDING = "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
RECON_FINDING = "Recon:IAMUser/MaliciousIPCaller.Custom"
DESCRIBE: list[Step] = [
    ((EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}), None),
    ((EC2, "DescribeSecurityGroups", True, {"securityGroupSet": {}, "filterSet": {}}), None),
]
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def threats(*entries: str) -> IpList:
    """Entries of the simulated custom threat list."""
    return IpList("sim-threats", "threat", entries, category="custom")


def conversations(
    writer: ScenarioWriter,
    rng: Random,
    vpc: Vpc,
    talk: tuple[Instance, End, bool],
    starts: list[int],
) -> list[float]:
    """Accepted HTTPS conversations of an instance with an internet peer (the peer is the
    client when ``talk[2]``), one starting at each of ``starts``; the flows' start and end."""
    instance, peer, inbound = talk
    path = PATH_IGW if instance.public_ip else PATH_VPC
    times: list[float] = []
    for start in starts:
        if inbound:
            client, server = (
                peer._replace(port=rng.randint(1024, 65535)),
                End(instance.ip, 443, instance.iface, path),
            )
        else:
            client, server = End(instance.ip, rng.randint(32768, 60999), instance.iface, path), peer
        volume = (rng.randint(500, 4_000), rng.randint(1_500, 60_000))
        end = min(start + rng.randint(1, 30), start - start % WINDOW + WINDOW - 1)
        for flow in exchange(client, server, TCP, volume, (start, end)):
            writer.vpcflow(vpc, flow)
        times += [start, end]
    return times


def _every(first: int, count: int, period: int, rng: Random) -> list[int]:
    """``count`` moments ``period`` seconds apart from ``first``, each up to 10 % late."""
    return [first + n * period + rng.randint(0, period // 10) for n in range(count)]


@labelled("threat-list-inbound", EC2_FINDING, "positive", threats(LISTED_IP))
def listed_inbound(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A web server accepts 5 HTTPS connections from threat-listed 203.0.113.66."""
    account = model.accounts[0]
    vpc = account.vpcs[0]
    web = vpc.of_kind("web")[0]
    starts = _every(last_day(model, rng), 5, 150, rng)
    times = conversations(writer, rng, vpc, (web, End(LISTED_IP, 0), True), starts)
    return Outcome(web.id, (account.id, vpc.region), times)


@labelled("threat-list-outbound", EC2_FINDING, "positive", threats("203.0.113.128/28"))
def listed_outbound(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server beacons to 203.0.113.130:443 (in listed 203.0.113.128/28) every 5 min."""
    account = model.accounts[0]
    vpc = account.vpcs[-1]
    app = vpc.of_kind("app")[0]
    starts = _every(last_day(model, rng), 6, 300, rng)
    times = conversations(writer, rng, vpc, (app, End("203.0.113.130", 443), False), starts)
    return Outcome(app.id, (account.id, vpc.region), times)


@labelled("threat-list-iam-recon", RECON_FINDING, "positive", threats(LISTED_IP))
def listed_recon(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key describes instances and security groups from 203.0.113.66 (count 2)."""
    account = model.accounts[-1]
    user = account.users_of("developer")[-1]
    who = (account, user, LISTED_IP)
    times = cli_calls(writer, rng, who, DESCRIBE, last_day(model, rng), UBUNTU_CLI)
    return Outcome(user.access_key, (account.id, account.home_region), times)


def _iam_date(ts: float) -> str:
    """A date as IAM responses in CloudTrail write it (``Mar 3, 2025 2:04:17 PM``)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return f"{moment:%b} {moment.day}, {moment.year} {moment.hour % 12 or 12}:{moment:%M:%S %p}"


@labelled(
    "threat-list-iam-persistence",
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
    "positive",
    threats(LISTED_IP),
    # the developer never created users or keys nor attached policies before
    also=("Persistence:IAMUser/AnomalousBehavior", "PrivilegeEscalation:IAMUser/AnomalousBehavior"),
)
def listed_writes(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """From 203.0.113.66 a developer's key creates an admin user with an access key (count 3)."""
    account, ts = model.accounts[-1], last_day(model, rng)
    user, name = account.users_of("developer")[-1], "svc-backup-sync"
    who, new = (account, user, LISTED_IP), {"userName": name}
    created = {"path": "/", **new, "userId": stable_key("AIDA", 17, model.seed, account.id, name)}
    created |= {"arn": f"arn:aws:iam::{account.id}:user/{name}", "createDate": _iam_date(ts)}
    steps: list[Step] = [((IAM, "CreateUser", False, new), {"user": created})]
    steps.append(((IAM, "AttachUserPolicy", False, {**new, "policyArn": ADMIN_POLICY}), None))
    times = cli_calls(writer, rng, who, steps, ts, UBUNTU_CLI)
    key = stable_key("AKIA", 16, model.seed, account.id, name, "key")
    at = times[-1] + rng.randint(5, 30)
    issued = {**new, "accessKeyId": key, "status": "Active", "createDate": _iam_date(at)}
    steps = [((IAM, "CreateAccessKey", False, new), {"accessKey": issued})]
    times += cli_calls(writer, rng, who, steps, at, UBUNTU_CLI)
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("trusted-ip-traffic", EC2_FINDING, "negative", threats("203.0.113.96/28"), TRUSTED)
def trusted_traffic(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the office VPN egress 203.0.113.99, threat-listed (203.0.113.96/28) but
    trusted, checks a web server over HTTPS every minute for 10 minutes."""
    account = model.accounts[0]
    vpc = account.vpcs[0]
    web = vpc.of_kind("web")[-1]
    starts = _every(last_day(model, rng, account), 10, 60, rng)
    times = conversations(writer, rng, vpc, (web, End(TRUSTED_IP, 0), True), starts)
    return Outcome(web.id, (account.id, vpc.region), times)


@labelled("trusted-ip-api-calls", RECON_FINDING, "negative", threats("203.0.113.96/28"), TRUSTED)
def trusted_calls(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer on the trusted (and threat-listed) VPN egress 203.0.113.99
    describes instances and security groups."""
    account = model.accounts[0]
    user = account.users_of("developer")[-1]
    who = (account, user, TRUSTED_IP)
    times = cli_calls(writer, rng, who, DESCRIBE, last_day(model, rng, account))
    return Outcome(user.access_key, (account.id, account.home_region), times)
