"""Labelled behaviour scenarios for the CloudTrail and S3 data-event detectors.

Attacks happen on the last simulated day from :data:`~exporter.simulate.net.SCENARIO_NETWORK`
(203.0.113.150-.169: no threat or trusted list holds them, and no signature rule matches their
calls). An AccessKey finding's resource is the caller's ``principalId`` (an IAM user's
``AIDA…``, an instance session's ``AROA…:<instance id>``), an S3 finding's the bucket name.

Near misses of the IAMUser/AnomalousBehavior family are *routines*: the same calls, made by
the same principal at the same time every simulated day, so the baseline knows them. The
others stay under a threshold: S3 volumes below the floor, console sign-ins hours apart,
instance credentials forwarded by an AWS service. The nightly database backup (uploads and
retention deletes on the backups bucket) is background; two labels say it must stay silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from random import Random
from typing import Any

from exporter.simulate.cloudtrail import Caller, api_call, console_login, s3_object_event
from exporter.simulate.cloudtrail import user_identity as identity_of
from exporter.simulate.cloudtrail_catalog import BROWSERS, EC2, IAM, S3, Call
from exporter.simulate.cloudtrail_machines import instance_caller
from exporter.simulate.ids import DAY, HOUR
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.model import Account, Bucket, IamUser, Model, backup_plan
from exporter.simulate.scenarios_signatures import (
    MAC_CLI,
    UBUNTU_CLI,
    Outcome,
    Step,
    cli_calls,
    labelled,
    last_day,
)

STS = "sts.amazonaws.com"
RDS = "rds.amazonaws.com"
CONFIG = "config.amazonaws.com"
GUARDDUTY = "guardduty.amazonaws.com"
CLOUDWATCH = "monitoring.amazonaws.com"
LOGS = "logs.amazonaws.com"
SECRETS = "secretsmanager.amazonaws.com"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
FOREIGN_ACCOUNT = "999988887777"
ANOMALY = "{}:IAMUser/AnomalousBehavior"
S3Op = tuple[str, str, int]  # eventName, object key, bytes


def attacker(n: int) -> str:
    """The ``n``-th attacker address of these scenarios (203.0.113.150 + n)."""
    return f"203.0.113.{150 + n}"


def _steps(source: str, *calls: tuple[str, Any]) -> list[Step]:
    """(call, no response) steps of ``source`` from (eventName, requestParameters)."""
    return [
        ((source, name, name.startswith(("List", "Get", "Describe")), params), None)
        for name, params in calls
    ]


def _user(account: Account, kind: str, index: int = 0) -> IamUser:
    return account.users_of(kind)[index]


def _attack(
    model: Model,
    rng: Random,
    writer: ScenarioWriter,
    who: tuple[Account, IamUser, str],
    steps: Sequence[Step],
) -> Outcome:
    """A stolen key runs ``steps`` (aws-cli on Ubuntu) on the last day, labelled by principal."""
    account, user, _ = who
    times = cli_calls(writer, rng, who, steps, last_day(model, rng), UBUNTU_CLI)
    return Outcome(user.user_id, (account.id, account.home_region), times)


def _routine(
    model: Model,
    rng: Random,
    writer: ScenarioWriter,
    who: tuple[Account, IamUser],
    steps: Sequence[Step],
) -> Outcome:
    """``steps`` from the user's usual address at 09:xx local on every simulated day; the
    label covers the last day's run."""
    account, user = who
    ip = user.ips[0]
    times: list[float] = []
    for day in range(model.start, model.end, DAY):
        ts = day + (9 - account.utc_offset) * HOUR + rng.randint(0, 1200)
        times = cli_calls(writer, rng, (account, user, ip), steps, ts, MAC_CLI)
    return Outcome(user.user_id, (account.id, account.home_region), times)


# -- IAMUser/AnomalousBehavior: positives -----------------------------------------------------


@labelled("iam-discovery-enumeration", ANOMALY.format("Discovery"), "positive")
def discovery(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key, from 203.0.113.150, enumerates IAM users, roles, policies, access
    keys and buckets: six discovery APIs it never called."""
    account = model.accounts[0]
    steps = _steps(
        IAM,
        ("ListUsers", None),
        ("ListRoles", {"maxItems": 1000}),
        ("ListPolicies", {"scope": "Local"}),
        ("GetAccountAuthorizationDetails", {"filter": ["User", "Role", "LocalManagedPolicy"]}),
        ("ListAccessKeys", {"userName": "alice.admin"}),
    ) + _steps(S3, ("ListBuckets", {"Host": "s3.amazonaws.com"}))
    return _attack(model, rng, writer, (account, _user(account, "developer"), attacker(0)), steps)


@labelled("iam-persistence-access-keys", ANOMALY.format("Persistence"), "positive")
def persistence(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin's key, from 203.0.113.151, creates access keys for two other users and a new
    user with a console password."""
    account = model.accounts[-1]
    steps = _steps(
        IAM,
        ("CreateAccessKey", {"userName": "alice.admin"}),
        ("CreateAccessKey", {"userName": "ci-deploy"}),
        ("CreateUser", {"userName": "support-ops"}),
        ("CreateLoginProfile", {"userName": "support-ops", "passwordResetRequired": False}),
    )
    return _attack(model, rng, writer, (account, _user(account, "admin", 1), attacker(1)), steps)


@labelled("iam-privilege-escalation", ANOMALY.format("PrivilegeEscalation"), "positive")
def privilege_escalation(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key, from 203.0.113.152, attaches AdministratorAccess to its own user and
    adds an inline allow-all policy."""
    account = model.accounts[0]
    user = _user(account, "developer", 1)
    inline = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    steps = _steps(
        IAM,
        ("AttachUserPolicy", {"userName": user.name, "policyArn": ADMIN_POLICY}),
        ("PutUserPolicy", {"userName": user.name, "policyName": "ops", "policyDocument": inline}),
    )
    return _attack(model, rng, writer, (account, user, attacker(2)), steps)


@labelled("iam-defense-evasion", ANOMALY.format("DefenseEvasion"), "positive")
def defense_evasion(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin's key, from 203.0.113.153, deletes the VPC flow logs, stops AWS Config's
    recorder and deletes the GuardDuty detector (the trail is left alone: no signature fires)."""
    account = model.accounts[-1]
    flow_log = account.vpcs[0].flow_log_id
    steps = (
        _steps(EC2, ("DeleteFlowLogs", {"flowLogIds": [flow_log]}))
        + _steps(CONFIG, ("StopConfigurationRecorder", {"configurationRecorderName": "default"}))
        + _steps(GUARDDUTY, ("DeleteDetector", {"detectorId": "c" * 32}))
    )
    return _attack(model, rng, writer, (account, _user(account, "admin"), attacker(3)), steps)


@labelled("iam-credential-access", ANOMALY.format("CredentialAccess"), "positive")
def credential_access(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key, from 203.0.113.154, reads the production secrets and a Windows
    instance's administrator password."""
    account = model.accounts[-1]
    instance = account.vpcs[0].of_kind("bastion")[0].id
    steps = _steps(
        SECRETS,
        ("GetSecretValue", {"secretId": "prod/app/db"}),
        ("GetSecretValue", {"secretId": "prod/api/keys"}),
    ) + _steps(EC2, ("GetPasswordData", {"instanceId": instance}))
    return _attack(model, rng, writer, (account, _user(account, "developer"), attacker(4)), steps)


@labelled("iam-exfiltration-snapshot", ANOMALY.format("Exfiltration"), "positive")
def exfiltration(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin's key, from 203.0.113.155, snapshots the database volume and shares the
    snapshot with a foreign account."""
    account = model.accounts[0]
    share = {"createVolumePermission": {"add": {"items": [{"userId": FOREIGN_ACCOUNT}]}}}
    steps = _steps(
        EC2,
        ("CreateSnapshot", {"volumeId": "vol-0db0000000000001", "description": "tmp"}),
        ("ModifySnapshotAttribute", {"snapshotId": "snap-0db0000000000001", **share}),
    )
    return _attack(model, rng, writer, (account, _user(account, "admin", 1), attacker(5)), steps)


@labelled("iam-impact-destruction", ANOMALY.format("Impact"), "positive")
def impact(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """The CI user's key, from 203.0.113.156, terminates the app servers, deletes the database
    instance and an empty bucket."""
    account = model.accounts[-1]
    apps = [{"instanceId": app.id} for app in account.vpcs[0].of_kind("app")]
    steps = (
        _steps(EC2, ("TerminateInstances", {"instancesSet": {"items": apps}}))
        + _steps(
            RDS, ("DeleteDBInstance", {"dBInstanceIdentifier": "app-db", "skipFinalSnapshot": True})
        )
        + _steps(
            S3,
            ("DeleteBucket", {"bucketName": f"{account.name}-scratch", "Host": "s3.amazonaws.com"}),
        )
    )
    return _attack(model, rng, writer, (account, _user(account, "ci"), attacker(6)), steps)


@labelled("iam-initial-access-tokens", ANOMALY.format("InitialAccess"), "positive")
def initial_access(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """The CI user's key, from 203.0.113.157, mints a session token and a federation token
    (a console session for the stolen key)."""
    account = model.accounts[0]
    steps = _steps(
        STS,
        ("GetSessionToken", {"durationSeconds": 129600}),
        ("GetFederationToken", {"name": "console", "durationSeconds": 43200}),
    )
    return _attack(model, rng, writer, (account, _user(account, "ci"), attacker(7)), steps)


# -- IAMUser/AnomalousBehavior: routines (negative) -------------------------------------------


@labelled("iam-discovery-routine", ANOMALY.format("Discovery"), "negative")
def discovery_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin's daily IAM access review lists users, roles, policies and
    authorization details every morning, the last day included."""
    account = model.accounts[0]
    steps = _steps(
        IAM,
        ("ListUsers", None),
        ("ListRoles", {"maxItems": 1000}),
        ("ListPolicies", {"scope": "Local"}),
        ("GetAccountAuthorizationDetails", {"filter": ["User", "Role"]}),
        ("ListAccessKeys", {"userName": "ci-deploy"}),
    )
    return _routine(model, rng, writer, (account, _user(account, "admin")), steps)


@labelled("iam-persistence-routine", ANOMALY.format("Persistence"), "negative")
def persistence_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin rotates the CI user's access key every morning."""
    account = model.accounts[0]
    steps = _steps(
        IAM,
        ("CreateAccessKey", {"userName": "ci-deploy"}),
        ("UpdateAccessKey", {"userName": "ci-deploy"}),
    )
    return _routine(model, rng, writer, (account, _user(account, "admin", 1)), steps)


@labelled("iam-privilege-routine", ANOMALY.format("PrivilegeEscalation"), "negative")
def privilege_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the nightly Terraform apply of the CI user re-attaches the app role's
    policies, as every day."""
    account = model.accounts[0]
    policy = f"arn:aws:iam::{account.id}:policy/app-s3-access"
    steps = _steps(
        IAM,
        ("AttachRolePolicy", {"roleName": "app-role", "policyArn": policy}),
        ("PutRolePolicy", {"roleName": "app-role", "policyName": "kms-decrypt"}),
    )
    return _routine(model, rng, writer, (account, _user(account, "ci")), steps)


@labelled("iam-defense-evasion-routine", ANOMALY.format("DefenseEvasion"), "negative")
def defense_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user's Terraform run replaces the test stack's log group and alarms
    every day (delete, then set retention)."""
    account = model.accounts[-1]
    group = {"logGroupName": "/test/app"}
    steps = _steps(
        LOGS,
        ("DeleteLogGroup", group),
        ("PutRetentionPolicy", {**group, "retentionInDays": 7}),
    ) + _steps(CLOUDWATCH, ("DeleteAlarms", {"alarmNames": ["test-app-5xx"]}))
    return _routine(model, rng, writer, (account, _user(account, "ci")), steps)


@labelled("iam-credential-routine", ANOMALY.format("CredentialAccess"), "negative")
def credential_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer reads the dev database secret and parameters every morning."""
    account = model.accounts[0]
    steps = _steps(SECRETS, ("GetSecretValue", {"secretId": "dev/app/db"})) + _steps(
        "ssm.amazonaws.com", ("GetParametersByPath", {"path": "/dev/app", "withDecryption": True})
    )
    return _routine(model, rng, writer, (account, _user(account, "developer")), steps)


@labelled("iam-exfiltration-routine", ANOMALY.format("Exfiltration"), "negative")
def exfiltration_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin's daily disaster-recovery job snapshots the database volume and
    shares it with the organisation's other account."""
    account = model.accounts[-1]
    other = model.accounts[0].id
    share = {"createVolumePermission": {"add": {"items": [{"userId": other}]}}}
    steps = _steps(
        EC2,
        ("CreateSnapshot", {"volumeId": "vol-0db0000000000002", "description": "dr"}),
        ("ModifySnapshotAttribute", {"snapshotId": "snap-0db0000000000002", **share}),
    )
    return _routine(model, rng, writer, (account, _user(account, "admin", 1)), steps)


@labelled("iam-impact-routine", ANOMALY.format("Impact"), "negative")
def impact_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer tears down yesterday's test instance and its volume every
    morning."""
    account = model.accounts[0]
    steps = _steps(
        EC2,
        (
            "TerminateInstances",
            {"instancesSet": {"items": [{"instanceId": "i-0test000000000001"}]}},
        ),
        ("DeleteVolume", {"volumeId": "vol-0test000000000001"}),
    )
    return _routine(model, rng, writer, (account, _user(account, "developer", 1)), steps)


@labelled("iam-initial-access-routine", ANOMALY.format("InitialAccess"), "negative")
def initial_routine(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer gets an MFA session token every morning."""
    account = model.accounts[-1]
    mfa = {"durationSeconds": 43200, "serialNumber": f"arn:aws:iam::{account.id}:mfa/carol.dev"}
    steps = _steps(STS, ("GetSessionToken", mfa))
    return _routine(model, rng, writer, (account, _user(account, "developer")), steps)


# -- instance credentials, console sign-ins ---------------------------------------------------

INSTANCE_EXFIL = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
CONSOLE = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"


@labelled("instance-credentials-outside-aws", INSTANCE_EXFIL, "positive")
def instance_outside(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A web server's instance-role credentials (stolen through the metadata service) are used
    from 203.0.113.158: who am I, list buckets, describe instances."""
    account = model.accounts[0]
    vpc = account.vpcs[0]
    web = vpc.of_kind("web")[0]
    ts = last_day(model, rng)
    calls: tuple[Call, ...] = (
        (STS, "GetCallerIdentity", True, None),
        (S3, "ListBuckets", True, {"Host": "s3.amazonaws.com"}),
        (EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}),
    )
    times = []
    for call in calls:
        caller = replace(instance_caller(model, account, vpc, web, ts, UBUNTU_CLI), ip=attacker(8))
        writer.cloudtrail(api_call(rng, ts, caller, vpc.region, call), vpc.region)
        times.append(float(ts))
        ts += rng.randint(5, 60)
    principal = caller.identity["principalId"]
    return Outcome(principal, (account.id, vpc.region), times)


@labelled("instance-credentials-forwarded", INSTANCE_EXFIL, "negative")
def instance_forwarded(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: S3 calls KMS on an app server's behalf (SSE-KMS upload): the instance's
    session, source ``s3.amazonaws.com``, not the instance's address."""
    account = model.accounts[-1]
    vpc = account.vpcs[0]
    app = vpc.of_kind("app")[0]
    ts = last_day(model, rng)
    session = instance_caller(model, account, vpc, app, ts, "s3.amazonaws.com")
    forwarded = {**session.identity, "invokedBy": "s3.amazonaws.com"}
    caller = Caller(forwarded, account.id, "s3.amazonaws.com", "s3.amazonaws.com")
    key = f"arn:aws:kms:{vpc.region}:{account.id}:key/{account.kms_key}"
    call = ("kms.amazonaws.com", "GenerateDataKey", True, {"keyId": key, "keySpec": "AES_256"})
    writer.cloudtrail(api_call(rng, ts, caller, vpc.region, call), vpc.region)
    return Outcome(session.identity["principalId"], (account.id, vpc.region), [float(ts)])


def _logins(
    writer: ScenarioWriter,
    rng: Random,
    who: tuple[Account, IamUser],
    seen: Sequence[tuple[float, str]],
) -> Outcome:
    account, user = who
    identity = identity_of(account.id, user)
    browser = BROWSERS[0]
    for ts, ip in seen:
        writer.cloudtrail(console_login(rng, ts, identity, ip, browser), "us-east-1")
    return Outcome(user.user_id, (account.id, "us-east-1"), [float(ts) for ts, _ in seen])


@labelled("console-login-two-networks", CONSOLE, "positive")
def console_two_networks(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin signs in to the console from the office, and 17 minutes later the same user
    signs in from 203.0.113.159 (another /16)."""
    account = model.accounts[-1]
    user = _user(account, "admin")
    ts = last_day(model, rng, account)
    return _logins(
        writer,
        rng,
        (account, user),
        [(ts, user.ips[0]), (ts + 17 * 60 + rng.randint(0, 59), attacker(9))],
    )


@labelled("console-login-office-then-home", CONSOLE, "negative")
def console_office_home(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin signs in at the office at 09:00 and from home at 20:00 local."""
    account = model.accounts[0]
    user = _user(account, "admin")
    day = model.end - DAY - account.utc_offset * HOUR
    seen = [
        (day + 9 * HOUR + rng.randint(0, 900), user.ips[0]),
        (day + 20 * HOUR + rng.randint(0, 900), user.ips[2]),
    ]
    return _logins(
        writer,
        rng,
        (account, user),
        [(ts, ip) for ts, ip in seen if model.end - DAY <= ts < model.end],
    )


# -- S3 data events -----------------------------------------------------------------------------


def _objects(
    writer: ScenarioWriter,
    rng: Random,
    ts: float,
    target: tuple[Caller, Bucket],
    ops: Sequence[S3Op],
) -> list[float]:
    """S3 data events of ``ops`` on a bucket, about a second apart; their times."""
    caller, bucket = target
    times = []
    for name, key, size in ops:
        record = s3_object_event(rng, ts, caller, bucket.region, (name, bucket.name, key, size))
        if name == "PutObjectAcl":
            record["requestParameters"] |= {"acl": "", "x-amz-acl": ["public-read"]}
        writer.cloudtrail(record, bucket.region)
        times.append(ts)
        ts += rng.uniform(0.3, 1.6)
    return times


def _s3(
    model: Model,
    rng: Random,
    writer: ScenarioWriter,
    who: tuple[Account, IamUser, str, str],
    ops: Sequence[S3Op],
) -> Outcome:
    """(account, user, source IP, bucket kind[@Region]) ``who`` runs ``ops`` on the last day."""
    account, user, ip, kind = who
    name, _, region = kind.partition("@")
    bucket = account.bucket(name, region or None)
    caller = Caller(identity_of(account.id, user), account.id, ip, f"{UBUNTU_CLI}s3.cp")
    times = _objects(writer, rng, last_day(model, rng), (caller, bucket), ops)
    return Outcome(bucket.name, (account.id, bucket.region), times)


def _keys(rng: Random, prefix: str, count: int) -> list[str]:
    return [f"{prefix}{rng.randint(1, 99999):05d}.jpg" for _ in range(count)]


@labelled("s3-bulk-download", "Exfiltration:S3/AnomalousBehavior", "positive")
def bulk_download(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key, from 203.0.113.160, downloads 1,500 objects of the app-data bucket
    in about 25 minutes (its usual: a report or two an hour)."""
    account = model.accounts[-1]
    ops = [
        ("GetObject", key, rng.randint(20_000, 2_000_000))
        for key in _keys(rng, "uploads/img-", 1500)
    ]
    who = (account, _user(account, "developer", 1), attacker(10), "app-data@us-east-1")
    return _s3(model, rng, writer, who, ops)


@labelled("s3-report-sync", "Exfiltration:S3/AnomalousBehavior", "negative")
def report_sync(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer syncs 150 exported reports from the office (under the floor)."""
    account = model.accounts[0]
    user = _user(account, "developer")
    ops = [
        ("GetObject", f"exports/report-{n:04d}.csv", rng.randint(10_000, 900_000))
        for n in range(150)
    ]
    return _s3(model, rng, writer, (account, user, user.ips[0], "app-data@us-east-1"), ops)


@labelled("s3-mass-delete", "Impact:S3/AnomalousBehavior.Delete", "positive")
def mass_delete(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key, from 203.0.113.161, deletes 400 objects of the app-data bucket."""
    account = model.accounts[0]
    ops = [("DeleteObject", key, 0) for key in _keys(rng, "uploads/img-", 400)]
    who = (account, _user(account, "developer", 1), attacker(11), "app-data@eu-west-1")
    return _s3(model, rng, writer, who, ops)


@labelled("s3-object-overwrite", "Impact:S3/AnomalousBehavior.Write", "positive")
def overwrite(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key, from 203.0.113.162, overwrites 500 images with encrypted copies."""
    account = model.accounts[-1]
    ops = [
        ("PutObject", key, rng.randint(20_000, 2_000_000))
        for key in _keys(rng, "uploads/img-", 500)
    ]
    who = (account, _user(account, "developer"), attacker(12), "app-data@eu-west-1")
    return _s3(model, rng, writer, who, ops)


@labelled("s3-object-acls-public", "Impact:S3/AnomalousBehavior.Permission", "positive")
def acls_public(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """The CI user's key, from 203.0.113.163, makes 60 exported reports public-read."""
    account = model.accounts[0]
    ops = [("PutObjectAcl", f"exports/report-{n:04d}.csv", 0) for n in range(60)]
    return _s3(
        model, rng, writer, (account, _user(account, "ci"), attacker(13), "app-data@us-east-1"), ops
    )


@labelled("s3-object-acls-owner", "Impact:S3/AnomalousBehavior.Permission", "negative")
def acls_owner(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user sets the ACLs of 12 build artifacts (under the floor)."""
    account = model.accounts[-1]
    user = _user(account, "ci")
    ops = [("PutObjectAcl", f"builds/{n:010x}/app.zip", 0) for n in range(12)]
    return _s3(model, rng, writer, (account, user, user.ips[0], "artifacts"), ops)


@labelled("s3-bucket-crawl", "Discovery:S3/AnomalousBehavior", "positive")
def bucket_crawl(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin's key, from 203.0.113.164, lists and probes 500 objects of the backups bucket."""
    account = model.accounts[-1]
    ops = [
        (name, f"postgres/{n:05d}/", 18_000)
        for n in range(250)
        for name in ("ListObjects", "HeadObject")
    ]
    who = (account, _user(account, "admin", 1), attacker(14), "backups@us-east-1")
    return _s3(model, rng, writer, who, ops)


@labelled("s3-prefix-listing", "Discovery:S3/AnomalousBehavior", "negative")
def prefix_listing(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer lists 60 prefixes of the app-data bucket (under the floor)."""
    account = model.accounts[0]
    user = _user(account, "developer", 1)
    ops = [("ListObjects", f"uploads/{n:02d}/", 12_000) for n in range(60)]
    return _s3(model, rng, writer, (account, user, user.ips[0], "app-data@eu-west-1"), ops)


def _nightly_backup(model: Model) -> Outcome:
    """The last night's backup run of the first account's first VPC (background: nothing is
    written)."""
    account = model.accounts[0]
    vpc = account.vpcs[0]
    plan = backup_plan(model.seed, vpc, model.end - DAY)
    bucket = account.bucket("backups", vpc.region)
    return Outcome(bucket.name, (account.id, vpc.region), [plan.start, plan.end + 60])


@labelled("s3-nightly-backup-uploads", "Impact:S3/AnomalousBehavior.Write", "negative")
def backup_uploads(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss from the background: the nightly database backup uploads its parts to the
    backups bucket, as every night."""
    return _nightly_backup(model)


@labelled("s3-nightly-backup-deletes", "Impact:S3/AnomalousBehavior.Delete", "negative")
def backup_deletes(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss from the background: the nightly database backup deletes the parts past
    retention from the backups bucket, as every night."""
    return _nightly_backup(model)
