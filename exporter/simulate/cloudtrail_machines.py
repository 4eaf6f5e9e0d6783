"""CloudTrail activity of EC2 instances: instance-profile sessions, agents, SDKs, backups.

Instance credentials rotate every :data:`SESSION` seconds at a per-instance phase; each rotation
is an ``AssumeRole`` by ``ec2.amazonaws.com`` and a new ``ASIA`` key, used from the instance's
egress address (its Elastic IP or the NAT gateway) or, for S3, from its private address through
the VPC gateway endpoint.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from functools import lru_cache, partial

from exporter.simulate.activity import Activity, Line, diurnal, every, flat, poisson
from exporter.simulate.cloudtrail import (
    Caller,
    Record,
    api_call,
    dumps,
    role_identity,
    s3_object_event,
    service_identity,
)
from exporter.simulate.cloudtrail_catalog import (
    APP_CALLS,
    BACKUP_AGENT,
    CNI_AGENT,
    JAVA_AGENT,
    NODE_CALLS,
    SSM_AGENT,
    SSM_CALLS,
    WEB_CALLS,
    Call,
)
from exporter.simulate.ids import DAY, HOUR, alnum, between, pick, stable_int, stable_key
from exporter.simulate.model import Account, Instance, Model, Role, Vpc, backup_plan

SESSION = 6 * HOUR
RETENTION_DAYS = 7
PROFILES: dict[str, tuple[float, tuple[Call, ...], str]] = {
    "app": (7, APP_CALLS, JAVA_AGENT),
    "web": (3, WEB_CALLS, JAVA_AGENT),
    "node": (3, NODE_CALLS, CNI_AGENT),
}
OBJECT_RATES = {"app": 12.0, "web": 4.0}


def instance_activities(model: Model, account: Account, vpc: Vpc) -> Iterator[Activity]:
    """Everything the instances of ``vpc`` do in CloudTrail."""
    for instance in vpc.instances:
        phase = _phase(model.seed, instance.id)
        yield every(SESSION, phase, partial(_deliver, model, account, vpc, instance))
        ssm = partial(_call, model, account, vpc, instance, SSM_CALLS, SSM_AGENT)
        yield poisson(2, ssm, flat, model.scale)
        if instance.kind in PROFILES:
            rate, calls, agent = PROFILES[instance.kind]
            sdk = partial(_call, model, account, vpc, instance, calls, agent)
            yield poisson(rate, sdk, flat, model.scale)
        if instance.kind in OBJECT_RATES:
            objects = partial(_objects, model, account, vpc, instance)
            shape = diurnal(account.utc_offset)
            yield poisson(OBJECT_RATES[instance.kind], objects, shape, model.scale)
    for db in vpc.of_kind("db"):
        yield partial(_backup, model, account, vpc, db)


def instance_caller(
    model: Model,
    account: Account,
    vpc: Vpc,
    instance: Instance,
    ts: float,
    agent: str,
    *,
    endpoint: bool = False,
) -> Caller:
    """The instance's role session at ``ts`` (S3 through the gateway endpoint if ``endpoint``)."""
    phase = _phase(model.seed, instance.id)
    slot = (int(ts) - phase) // SESSION
    role = account.role(instance.role)
    identity = _session(model.seed, account.id, role, instance.id, slot * SESSION + phase)
    if endpoint:
        return Caller(identity, account.id, instance.ip, agent, vpc.s3_endpoint)
    return Caller(identity, account.id, instance.egress_ip, agent)


@lru_cache(maxsize=1024)
def _phase(seed: int, instance_id: str) -> int:
    return stable_int(seed, instance_id) % SESSION


@lru_cache(maxsize=1024)
def _session(seed: int, account_id: str, role: Role, instance_id: str, created: int) -> Record:
    """One credential delivery's identity (shared by every record of that session)."""
    key = stable_key("ASIA", 16, seed, instance_id, created)
    return role_identity(account_id, role, instance_id, key, created, ec2=True)


def _expiration(ts: float) -> str:
    return time.strftime("%b %d, %Y, %I:%M:%S %p", time.gmtime(ts))


def _deliver(
    model: Model, account: Account, vpc: Vpc, instance: Instance, rng: random.Random, ts: float
) -> list[Line]:
    caller = instance_caller(model, account, vpc, instance, ts + 1, "ec2.amazonaws.com")
    role_arn = f"arn:aws:iam::{account.id}:role/{instance.role}"
    service = "ec2.amazonaws.com"
    credentials = {
        "accessKeyId": caller.identity["accessKeyId"],
        "sessionToken": "IQoJb3JpZ2luX2VjE" + alnum(rng, 48),
        "expiration": _expiration(ts + SESSION + HOUR),
    }
    response = {
        "credentials": credentials,
        "assumedRoleUser": {
            "assumedRoleId": caller.identity["principalId"],
            "arn": caller.identity["arn"],
        },
    }
    call = (
        "sts.amazonaws.com",
        "AssumeRole",
        False,
        {"roleArn": role_arn, "roleSessionName": instance.id},
    )
    resources = [{"accountId": account.id, "type": "AWS::IAM::Role", "ARN": role_arn}]
    source = Caller(service_identity(service), account.id, service, service)
    record = api_call(rng, ts, source, vpc.region, call, response, resources)
    return [(ts, dumps(record))]


def _call(
    model: Model,
    account: Account,
    vpc: Vpc,
    instance: Instance,
    calls: tuple[Call, ...],
    agent: str,
    rng: random.Random,
    ts: float,
) -> list[Line]:
    caller = instance_caller(model, account, vpc, instance, ts, agent)
    return [(ts, dumps(api_call(rng, ts, caller, vpc.region, pick(rng, calls))))]


def _objects(
    model: Model, account: Account, vpc: Vpc, instance: Instance, rng: random.Random, ts: float
) -> list[Line]:
    caller = instance_caller(model, account, vpc, instance, ts, JAVA_AGENT, endpoint=True)
    bucket = account.bucket("app-data", vpc.region).name
    draw = rng.random()
    name = "GetObject" if draw < 0.6 else "PutObject" if draw < 0.9 else "ListObjects"
    if name == "ListObjects":
        op = (name, bucket, "uploads/", between(rng, 2_000, 40_000))
    else:
        op = (
            name,
            bucket,
            f"uploads/img-{between(rng, 1, 5000):05d}.jpg",
            between(rng, 20_000, 2_000_000),
        )
    return [(ts, dumps(s3_object_event(rng, ts, caller, vpc.region, op)))]


def _backup(
    model: Model,
    account: Account,
    vpc: Vpc,
    db: Instance,
    rng: random.Random,
    start: int,
    end: int,
) -> Iterator[Line]:
    day = start - start % DAY
    plan = backup_plan(model.seed, vpc, day)
    if end <= plan.start or start > plan.end + 60:
        return
    bucket = account.bucket("backups", vpc.region).name
    ops = [(plan.start, ("ListObjects", bucket, "postgres/", 18_000))]
    done = plan.start
    for key, size in plan.objects:
        done += size // 2_000_000
        ops.append((done, ("PutObject", bucket, key, size)))
    expired = backup_plan(model.seed, vpc, day - RETENTION_DAYS * DAY)
    ops += [
        (plan.end + 5 + i, ("DeleteObject", bucket, k, 0))
        for i, (k, _) in enumerate(expired.objects)
    ]
    for ts, op in ops:
        if start <= ts < end:
            caller = instance_caller(model, account, vpc, db, ts, BACKUP_AGENT, endpoint=True)
            yield ts, dumps(s3_object_event(rng, ts, caller, vpc.region, op))
