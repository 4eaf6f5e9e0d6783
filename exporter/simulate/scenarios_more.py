"""More labelled signature scenarios: S3 data and bucket-policy events, Bedrock, DNS lists.

Same conventions as :mod:`.scenarios_signatures` (whose helpers they use): a short burst of
records on the last simulated day, ``positive`` or ``negative`` (a benign near miss), the
docstring as the label's note and attacker addresses from
:data:`~exporter.simulate.net.SCENARIO_NETWORK`. The DNS scenarios query the GuardDuty tester
domains of Duskwatch's built-in ``duskwatch-guardduty-tester`` list, so they need no list of
their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from random import Random
from typing import Any

from exporter.simulate.cloudtrail import Caller, api_call, s3_object_event, user_identity
from exporter.simulate.cloudtrail_catalog import S3
from exporter.simulate.ids import DAY, day_text, hex_id
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.model import Account, Bucket, Instance, Model, Vpc, backup_plan
from exporter.simulate.route53 import query
from exporter.simulate.scenarios_signatures import (
    BLOCK_FLAGS,
    KALI_CLI,
    MAC_CLI,
    S3_XMLNS,
    TERRAFORM,
    UBUNTU_CLI,
    BucketChange,
    Outcome,
    Step,
    bucket_call,
    cli_calls,
    labelled,
    last_day,
)

BEDROCK = "bedrock.amazonaws.com"
S3_CONTROL_XMLNS = "http://awss3control.amazonaws.com/doc/2018-08-20/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
C2_DOMAIN = "c2.guarddutyc2activityb.com."
DROP_POINT_DOMAIN = "guarddutydroppointactivity.com."
S3Op = tuple[str, str, int]  # eventName, object key or list prefix, bytes


def canonical_id(account: Account) -> str:
    """The account's S3 canonical user ID (64 hex digits, stable)."""
    return hashlib.sha256(f"canonical-user:{account.id}".encode()).hexdigest()


def acl(account: Account, grantee: dict[str, str], permission: str) -> BucketChange:
    """``PutBucketAcl`` with an ACL body: the owner's FULL_CONTROL plus ``grantee``'s grant."""
    owner = canonical_id(account)
    owner_grantee = {"xsi:type": "CanonicalUser", "xmlns:xsi": XSI, "ID": owner}
    grants: list[dict[str, Any]] = [
        {"Grantee": owner_grantee, "Permission": "FULL_CONTROL"},
        {"Grantee": {**grantee, "xmlns:xsi": XSI}, "Permission": permission},
    ]
    body = {"AccessControlList": {"Grant": grants}, "xmlns": S3_XMLNS, "Owner": {"ID": owner}}
    return BucketChange("PutBucketAcl", "acl", {"AccessControlPolicy": body})


def canned_acl(name: str) -> BucketChange:
    """``PutBucketAcl`` with a canned ACL (the ``x-amz-acl`` header)."""
    return BucketChange("PutBucketAcl", "acl", {"x-amz-acl": [name]})


def bucket_policy(*statements: dict[str, Any]) -> BucketChange:
    """``PutBucketPolicy`` with ``statements``."""
    body = {"Version": "2012-10-17", "Statement": list(statements)}
    return BucketChange("PutBucketPolicy", "policy", {"bucketPolicy": body})


def s3_calls(
    writer: ScenarioWriter,
    rng: Random,
    ts: float,
    target: tuple[Caller, Bucket],
    ops: Sequence[S3Op],
) -> list[float]:
    """S3 data events of ``ops`` on a bucket, 20 to 90 seconds apart; their times.

    The caller's agent is completed with ``s3.ls`` for listings and ``s3.cp`` otherwise."""
    caller, bucket = target
    times = []
    for name, key, size in ops:
        agent = caller.agent + ("s3.ls" if name == "ListObjects" else "s3.cp")
        op = (name, bucket.name, key, size)
        record = s3_object_event(rng, ts, replace(caller, agent=agent), bucket.region, op)
        writer.cloudtrail(record, bucket.region)
        times.append(ts)
        ts += rng.randint(20, 90)
    return times


def account_block(
    writer: ScenarioWriter, rng: Random, ts: float, who: tuple[Account, Caller], blocked: bool
) -> list[float]:
    """``PutAccountPublicAccessBlock`` (S3 Control, in the home Region): the account-wide
    Block Public Access flags all set to ``blocked``."""
    account, caller = who
    region = account.home_region
    host = f"{caller.account}.s3-control.{region}.amazonaws.com"
    flags = {"xmlns": S3_CONTROL_XMLNS, **dict.fromkeys(BLOCK_FLAGS, blocked)}
    params = {"PublicAccessBlockConfiguration": flags, "x-amz-account-id": caller.account}
    call = (S3, "PutAccountPublicAccessBlock", False, {**params, "Host": host})
    record = api_call(rng, ts, replace(caller, agent=f"[{caller.agent}]"), region, call)
    record["requestID"] = hex_id(rng, 16).upper()
    record["tlsDetails"] = {**record["tlsDetails"], "clientProvidedHostHeader": host}
    writer.cloudtrail(record)
    return [ts]


def lookups(
    writer: ScenarioWriter, rng: Random, source: tuple[Vpc, Instance], name: str, starts: list[int]
) -> list[float]:
    """A-record queries of ``name`` by an instance, one at each of ``starts``."""
    vpc, instance = source
    for ts in starts:
        writer.route53(query(rng, ts, vpc, instance, name))
    return [float(ts) for ts in starts]


@labelled("kali-linux-s3-download", "PenTest:S3/KaliLinux", "positive")
def kali_s3_download(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """From Kali (exe/x86_64.kali.2024) at 203.0.113.84 a developer's key lists the backups
    bucket and downloads two parts of the previous night's database backup (count 3)."""
    account = model.accounts[0]
    vpc = account.vpcs[0]
    user, bucket = account.users_of("developer")[-1], account.bucket("backups", vpc.region)
    night = model.end - 2 * DAY
    prefix = f"postgres/{day_text(night // DAY)}/"
    parts = backup_plan(model.seed, vpc, night).objects[:2]
    ops = [("ListObjects", prefix, rng.randint(900, 1_800)), *(("GetObject", *p) for p in parts)]
    caller = Caller(user_identity(account.id, user), account.id, "203.0.113.84", KALI_CLI)
    times = s3_calls(writer, rng, last_day(model, rng), (caller, bucket), ops)
    return Outcome(bucket.name, (account.id, bucket.region), times)


@labelled(
    "account-public-access-unblocked", "Policy:S3/AccountBlockPublicAccessDisabled", "positive"
)
def account_block_off(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin turns all four account-wide S3 Block Public Access settings off (S3 Control)."""
    account = model.accounts[0]
    user = account.users_of("admin")[0]
    agent = MAC_CLI + "s3control.put-public-access-block"
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], agent)
    times = account_block(writer, rng, last_day(model, rng, account), (account, caller), False)
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("account-public-access-blocked", "Policy:S3/AccountBlockPublicAccessDisabled", "negative")
def account_block_on(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin turns all four account-wide Block Public Access settings on."""
    account = model.accounts[-1]
    user = account.users_of("admin")[0]
    agent = MAC_CLI + "s3control.put-public-access-block"
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], agent)
    times = account_block(writer, rng, last_day(model, rng, account), (account, caller), True)
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("bucket-acl-public-read", "Policy:S3/BucketAnonymousAccessGranted", "positive")
def acl_public_read(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's ACL grants READ on an app-data bucket to AllUsers (everyone may list it)."""
    account = model.accounts[-1]
    vpc = account.vpcs[-1]
    user, bucket = account.users_of("developer")[0], account.bucket("app-data", vpc.region)
    agent = MAC_CLI + "s3api.put-bucket-acl"
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], agent)
    everyone = {"xsi:type": "Group", "URI": ALL_USERS}
    target = (bucket, acl(account, everyone, "READ"))
    times = bucket_call(writer, rng, last_day(model, rng, account), caller, target)
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bucket-policy-public-read", "Policy:S3/BucketAnonymousAccessGranted", "positive")
def policy_public_read(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A stolen admin key, from 203.0.113.173, lets Principal "*" GetObject the backups bucket."""
    account = model.accounts[0]
    user, bucket = account.users_of("admin")[-1], account.bucket("backups")
    agent = UBUNTU_CLI + "s3api.put-bucket-policy"
    caller = Caller(user_identity(account.id, user), account.id, "203.0.113.173", agent)
    statement = {"Sid": "Mirror", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    change = bucket_policy({**statement, "Resource": f"arn:aws:s3:::{bucket.name}/*"})
    times = bucket_call(writer, rng, last_day(model, rng), caller, (bucket, change))
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bucket-acl-private", "Policy:S3/BucketAnonymousAccessGranted", "negative")
def acl_private(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user's Terraform run sets the artifacts bucket's canned ACL to private."""
    account = model.accounts[0]
    user, bucket = account.users_of("ci")[0], account.bucket("artifacts")
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], TERRAFORM)
    times = bucket_call(writer, rng, last_day(model, rng), caller, (bucket, canned_acl("private")))
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bucket-policy-tls-only", "Policy:S3/BucketAnonymousAccessGranted", "negative")
def policy_tls_only(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: Terraform sets the usual policy: Deny "*" without TLS, Allow the app role."""
    account = model.accounts[-1]
    user, bucket = account.users_of("ci")[0], account.bucket("app-data")
    objects = f"arn:aws:s3:::{bucket.name}/*"
    deny: dict[str, Any] = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*"}
    deny |= {"Action": "s3:*", "Resource": objects}
    deny["Condition"] = {"Bool": {"aws:SecureTransport": "false"}}
    role = {"AWS": f"arn:aws:iam::{account.id}:role/app-role"}
    allow = {"Sid": "AppRole", "Effect": "Allow", "Principal": role, "Action": "s3:GetObject"}
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], TERRAFORM)
    change = bucket_policy(deny, {**allow, "Resource": objects})
    times = bucket_call(writer, rng, last_day(model, rng), caller, (bucket, change))
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bucket-acl-authenticated-read", "Policy:S3/BucketPublicAccessGranted", "positive")
def acl_authenticated_read(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer sets the artifacts bucket's canned ACL to authenticated-read (any AWS user)."""
    account = model.accounts[-1]
    user, bucket = account.users_of("developer")[-1], account.bucket("artifacts")
    agent = MAC_CLI + "s3api.put-bucket-acl"
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], agent)
    target = (bucket, canned_acl("authenticated-read"))
    times = bucket_call(writer, rng, last_day(model, rng, account), caller, target)
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bedrock-logging-disabled", "DefenseEvasion:IAMUser/BedrockLoggingDisabled", "positive")
def bedrock_logging_off(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A stolen admin key deletes the Bedrock model invocation logging configuration from
    203.0.113.201, then lists the foundation models."""
    account = model.accounts[-1]
    user = account.users_of("admin")[-1]
    names = ("DeleteModelInvocationLoggingConfiguration", "ListFoundationModels")
    steps: list[Step] = [((BEDROCK, name, name.startswith("List"), None), None) for name in names]
    who = (account, user, "203.0.113.201")
    times = cli_calls(writer, rng, who, steps, last_day(model, rng), UBUNTU_CLI)
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("bedrock-logging-enabled", "DefenseEvasion:IAMUser/BedrockLoggingDisabled", "negative")
def bedrock_logging_on(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin turns Bedrock invocation logging on (to CloudWatch Logs)."""
    account = model.accounts[0]
    user = account.users_of("admin")[0]
    role = f"arn:aws:iam::{account.id}:role/bedrock-invocation-logging"
    cloudwatch = {"logGroupName": "/aws/bedrock/model-invocations", "roleArn": role}
    config = {"cloudWatchConfig": cloudwatch, "textDataDeliveryEnabled": True}
    config |= {"imageDataDeliveryEnabled": False, "embeddingDataDeliveryEnabled": False}
    call = (BEDROCK, "PutModelInvocationLoggingConfiguration", False, {"loggingConfig": config})
    who = (account, user, user.ips[0])
    times = cli_calls(writer, rng, who, [(call, None)], last_day(model, rng, account))
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("c2-domain-beacon", "Backdoor:EC2/C&CActivity.B!DNS", "positive")
def c2_beacon(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server's implant looks up its C&C name c2.guarddutyc2activityb.com every ~5 min
    (8 A queries)."""
    account = model.accounts[-1]
    vpc = account.vpcs[0]
    app = vpc.of_kind("app")[0]
    first = last_day(model, rng)
    starts = [first + n * 300 + rng.randint(0, 20) for n in range(8)]
    times = lookups(writer, rng, (vpc, app), C2_DOMAIN, starts)
    return Outcome(app.id, (account.id, vpc.region), times)


@labelled("drop-point-lookups", "Trojan:EC2/DropPoint!DNS", "positive")
def drop_point(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """The database server resolves the drop point guarddutydroppointactivity.com 3 times."""
    account = model.accounts[0]
    vpc = account.vpcs[-1]
    db = vpc.of_kind("db")[0]
    first = last_day(model, rng)
    starts = [first + n * 60 + rng.randint(0, 30) for n in range(3)]
    times = lookups(writer, rng, (vpc, db), DROP_POINT_DOMAIN, starts)
    return Outcome(db.id, (account.id, vpc.region), times)
