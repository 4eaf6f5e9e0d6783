"""Normal CloudTrail activity, one stream per account and Region (5-minute files).

Who acts (rates are per hour at scale 1):

* admins: a console sign-in before 08:00 each weekday, console and CLI calls in office hours;
* developers: CLI calls and S3 downloads in office hours; the CI user: steady API calls and
  artifact uploads round the clock;
* instances: credentials delivered by ``ec2.amazonaws.com`` every 6 h, SSM agent calls, app/web
  SDK calls from their egress IP, S3 object calls through the VPC gateway endpoint, and the
  database's nightly backup upload (02:00 UTC) with retention deletes;
* Lambda functions, AWS Config (service-linked role) and CloudTrail's own KMS calls.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from exporter.simulate.activity import Activity, Line, daily, diurnal, office_hours, poisson
from exporter.simulate.cloudtrail import (
    Caller,
    Record,
    api_call,
    console_login,
    dumps,
    role_identity,
    s3_object_event,
    service_identity,
    user_identity,
)
from exporter.simulate.cloudtrail_catalog import (
    ADMIN_CLI_CALLS,
    BOTO_AGENT,
    BROWSERS,
    CI_CALLS,
    CLI_COPY_AGENT,
    CONFIG_CALLS,
    CONSOLE_CALLS,
    DEVELOPER_CALLS,
    LAMBDA_AGENT,
    LAMBDA_CALLS,
    Call,
    cli_agent,
    regional,
)
from exporter.simulate.cloudtrail_machines import instance_activities
from exporter.simulate.ids import DAY, HOUR, between, pick, stable_int, stable_key
from exporter.simulate.model import Account, Function, IamUser, Model, Vpc
from exporter.simulate.writers import StreamSpec, cloudtrail_name

WINDOW = 300


@dataclass(frozen=True)
class Ctx:
    """The account and Region a CloudTrail stream belongs to."""

    model: Model
    account: Account
    vpc: Vpc

    @property
    def region(self) -> str:
        """The stream's Region."""
        return self.vpc.region

    @property
    def home(self) -> bool:
        """True in the Region where global-service and console events are recorded."""
        return self.vpc.region == self.account.home_region

    @property
    def share(self) -> float:
        """The share of a person's activity that happens in this Region."""
        return 0.7 if self.home else 0.3


def stream_key(account: str, region: str) -> str:
    """The key of the CloudTrail stream of ``account`` in ``region``."""
    return f"{account}/{region}"


def streams(model: Model) -> list[StreamSpec]:
    """One CloudTrail stream per account and Region."""
    return [
        StreamSpec(
            source="cloudtrail",
            key=stream_key(account.id, vpc.region),
            window=WINDOW,
            name=partial(cloudtrail_name, account.id, vpc.region),
            activities=tuple(_activities(Ctx(model, account, vpc))),
            json_records=True,
        )
        for account in model.accounts
        for vpc in account.vpcs
    ]


def _activities(ctx: Ctx) -> Iterator[Activity]:
    yield from _people(ctx)
    yield from _automation(ctx)
    yield from instance_activities(ctx.model, ctx.account, ctx.vpc)
    if ctx.home:
        for function in ctx.account.functions:
            yield from _function(ctx, function)


def _line(ts: float, record: Record) -> list[Line]:
    return [(ts, dumps(record))]


def _people(ctx: Ctx) -> Iterator[Activity]:
    account, scale = ctx.account, ctx.model.scale
    shape, signed_in = office_hours(account.utc_offset), office_hours(account.utc_offset, 0.0)
    console, cli = regional(CONSOLE_CALLS, ctx.home), regional(ADMIN_CLI_CALLS, ctx.home)
    for user in account.users_of("admin"):
        if ctx.home:
            login = partial(_login, ctx, user)
            key = (ctx.model.seed, account.id, user.name)
            yield daily(
                7 * HOUR + 40 * 60,
                login,
                utc_offset=account.utc_offset,
                jitter=20 * 60,
                key=key,
                weekdays=True,
            )
        yield poisson(25 * ctx.share, partial(_console_call, ctx, user, console), signed_in, scale)
        yield poisson(8 * ctx.share, partial(_cli_call, ctx, user, cli), shape, scale)
    for user in account.users_of("developer"):
        yield poisson(6 * ctx.share, partial(_cli_call, ctx, user, DEVELOPER_CALLS), shape, scale)
        yield poisson(2 * ctx.share, partial(_user_download, ctx, user), shape, scale)


def _browser(user: IamUser) -> str:
    return BROWSERS[stable_int(user.name) % len(BROWSERS)]


def _user_ip(rng: random.Random, user: IamUser) -> str:
    draw = rng.random()
    return user.ips[0] if draw < 0.7 else user.ips[1] if draw < 0.97 else user.ips[2]


def _login(ctx: Ctx, user: IamUser, rng: random.Random, ts: float) -> list[Line]:
    identity = user_identity(ctx.account.id, user)
    return _line(ts, console_login(rng, ts, identity, user.ips[0], _browser(user)))


def _console_call(
    ctx: Ctx, user: IamUser, calls: tuple[Call, ...], rng: random.Random, ts: float
) -> list[Line]:
    key = stable_key("ASIA", 16, ctx.model.seed, ctx.account.id, user.name, int(ts) // DAY)
    identity = user_identity(ctx.account.id, user, console_key=key)
    caller = Caller(identity, ctx.account.id, user.ips[0], _browser(user), from_console=True)
    return _line(ts, api_call(rng, ts, caller, ctx.region, pick(rng, calls)))


def _cli_call(
    ctx: Ctx, user: IamUser, calls: tuple[Call, ...], rng: random.Random, ts: float
) -> list[Line]:
    call = pick(rng, calls)
    ip = _user_ip(rng, user)
    caller = Caller(user_identity(ctx.account.id, user), ctx.account.id, ip, cli_agent(*call[:2]))
    return _line(ts, api_call(rng, ts, caller, ctx.region, call))


def _user_download(ctx: Ctx, user: IamUser, rng: random.Random, ts: float) -> list[Line]:
    ip = _user_ip(rng, user)
    caller = Caller(user_identity(ctx.account.id, user), ctx.account.id, ip, CLI_COPY_AGENT)
    bucket = ctx.account.bucket("app-data", ctx.region).name
    key = f"exports/report-{between(rng, 1, 400):04d}.csv"
    op = ("GetObject", bucket, key, between(rng, 10_000, 5_000_000))
    return _line(ts, s3_object_event(rng, ts, caller, ctx.region, op))


def _automation(ctx: Ctx) -> Iterator[Activity]:
    scale = ctx.model.scale
    ci = ctx.account.users_of("ci")[0]
    yield poisson(20 * ctx.share, partial(_ci_call, ctx, ci), scale=scale)
    yield poisson(12, partial(_config_call, ctx), scale=scale)
    if ctx.home:
        yield poisson(5, partial(_ci_upload, ctx, ci), scale=scale)
        yield poisson(12, partial(_trail_kms, ctx), scale=scale)


def _ci_call(ctx: Ctx, ci: IamUser, rng: random.Random, ts: float) -> list[Line]:
    caller = Caller(
        user_identity(ctx.account.id, ci), ctx.account.id, pick(rng, ci.ips), BOTO_AGENT
    )
    return _line(ts, api_call(rng, ts, caller, ctx.region, pick(rng, CI_CALLS)))


def _ci_upload(ctx: Ctx, ci: IamUser, rng: random.Random, ts: float) -> list[Line]:
    caller = Caller(
        user_identity(ctx.account.id, ci), ctx.account.id, pick(rng, ci.ips), BOTO_AGENT
    )
    bucket = ctx.account.bucket("artifacts").name
    name = pick(rng, ("PutObject", "PutObject", "GetObject"))
    op = (
        name,
        bucket,
        f"builds/{rng.getrandbits(40):010x}/app.zip",
        between(rng, 20_000_000, 80_000_000),
    )
    return _line(ts, s3_object_event(rng, ts, caller, ctx.region, op))


def _config_call(ctx: Ctx, rng: random.Random, ts: float) -> list[Line]:
    hour = int(ts) // HOUR
    key = stable_key("ASIA", 16, ctx.model.seed, ctx.account.id, "config", hour)
    role = ctx.account.role("AWSServiceRoleForConfig")
    identity = role_identity(ctx.account.id, role, "AWSConfig-Describe", key, hour * HOUR)
    caller = Caller(identity, ctx.account.id, "config.amazonaws.com", "config.amazonaws.com")
    return _line(ts, api_call(rng, ts, caller, ctx.region, pick(rng, CONFIG_CALLS)))


def _trail_kms(ctx: Ctx, rng: random.Random, ts: float) -> list[Line]:
    account = ctx.account.id
    key_arn = f"arn:aws:kms:{ctx.region}:{account}:key/{ctx.account.kms_key}"
    context = {"aws:cloudtrail:arn": f"arn:aws:cloudtrail:{ctx.region}:{account}:trail/org-trail"}
    call = (
        "kms.amazonaws.com",
        "GenerateDataKey",
        True,
        {"keyId": key_arn, "encryptionContext": context, "keySpec": "AES_256"},
    )
    service = "cloudtrail.amazonaws.com"
    caller = Caller(service_identity(service), account, service, service)
    resources: list[Record] = [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}]
    return _line(ts, api_call(rng, ts, caller, ctx.region, call, resources=resources))


def _function(ctx: Ctx, function: Function) -> Iterator[Activity]:
    scale = ctx.model.scale
    yield poisson(5, partial(_lambda_call, ctx, function), scale=scale)
    if function.name == "thumbnailer":
        shape = diurnal(ctx.account.utc_offset)
        yield poisson(10, partial(_lambda_objects, ctx, function, 1), shape, scale)
    else:
        key = (ctx.model.seed, function.name)
        yield daily(3 * HOUR + 600, partial(_lambda_objects, ctx, function, 5), jitter=300, key=key)


def _lambda_caller(ctx: Ctx, function: Function, ts: float) -> Caller:
    hour = int(ts) // HOUR
    key = stable_key("ASIA", 16, ctx.model.seed, ctx.account.id, function.name, hour)
    role = ctx.account.role(function.role)
    identity = role_identity(ctx.account.id, role, function.name, key, hour * HOUR)
    return Caller(identity, ctx.account.id, function.ips[hour % 2], LAMBDA_AGENT)


def _lambda_call(ctx: Ctx, function: Function, rng: random.Random, ts: float) -> list[Line]:
    caller = _lambda_caller(ctx, function, ts)
    return _line(ts, api_call(rng, ts, caller, ctx.region, pick(rng, LAMBDA_CALLS)))


def _lambda_objects(
    ctx: Ctx, function: Function, reads: int, rng: random.Random, ts: float
) -> list[Line]:
    caller = _lambda_caller(ctx, function, ts)
    bucket = ctx.account.bucket("app-data", ctx.region).name
    lines = []
    for n in range(reads):
        key = f"uploads/img-{between(rng, 1, 5000):05d}.jpg"
        op = ("GetObject", bucket, key, between(rng, 50_000, 4_000_000))
        lines.append(s3_object_event(rng, ts + n, caller, ctx.region, op))
    out = (
        "PutObject",
        bucket,
        f"derived/{rng.getrandbits(48):012x}.webp",
        between(rng, 10_000, 300_000),
    )
    lines.append(s3_object_event(rng, ts + reads, caller, ctx.region, out))
    return [(ts + n, dumps(record)) for n, record in enumerate(lines)]
