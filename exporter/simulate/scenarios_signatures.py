"""Labelled rule ("signature") scenarios: CloudTrail, S3 bucket settings, EKS audit and DNS.

Each scenario writes a short burst of records on the last simulated day and is labelled
``positive`` (a GuardDuty signature reports it) or ``negative`` (a benign near miss that must not
be reported); a scenario's docstring is its label's note. Attacker addresses come from
:data:`~exporter.simulate.net.SCENARIO_NETWORK` but are never the threat-listed ones of
:mod:`.scenarios_lists`, which shares the helpers defined here.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from random import Random
from typing import Any, NamedTuple

import orjson

from exporter.simulate.cloudtrail import CIPHER, Caller, Record, api_call, user_identity
from exporter.simulate.cloudtrail_catalog import CLI_AGENT, EC2, GLOBAL_SOURCES, IAM, S3, Call
from exporter.simulate.eks_audit import Event, ObjectRef, audit_event, iam_user
from exporter.simulate.eks_audit_background import KUBECTL, LIST
from exporter.simulate.ids import DAY, HOUR, hex_id, parse_iso
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.labels import SCENARIOS, Expected, IpList, Scenario
from exporter.simulate.model import NAMESPACES, Account, Bucket, Cluster, IamUser, Model
from exporter.simulate.route53 import query

TRAIL = "cloudtrail.amazonaws.com"
MAC_CLI = f"{CLI_AGENT} command/"
KALI_CLI = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/"
)
UBUNTU_CLI = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0-105-generic exe/x86_64.ubuntu.22 prompt/off "
    "command/"
)
TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/"
    "5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0 "
    "os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.0"
)
S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
BLOCK_FLAGS = ("RestrictPublicBuckets", "BlockPublicPolicy", "BlockPublicAcls", "IgnorePublicAcls")
ANONYMOUS = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
EXEC_QUERY = "command=sh&container={}&stdin=true&stdout=true&tty=true"
HEALTH_PATHS = ("/healthz", "/livez", "/readyz", "/version")
MINING_POOLS = (
    "pool.supportxmr.com.",
    "xmr.pool.minergate.com.",
    "xmr-eu1.nanopool.org.",
    "xmr.2miners.com.",
)
Step = tuple[Call, Any]  # an API call and its responseElements
Request = tuple[str, ObjectRef, str, int]  # verb, object, query, response code


class Outcome(NamedTuple):
    """What a scenario did: the finding's resource, (account, Region) and the records' times."""

    resource: str
    where: tuple[str, str]
    times: list[float]


OutcomeFn = Callable[[Model, Random, ScenarioWriter], Outcome]


def labelled(
    name: str, finding: str, expected: Expected, *lists: IpList, also: tuple[str, ...] = ()
) -> Callable[[OutcomeFn], OutcomeFn]:
    """Register a scenario; its label covers the outcome's times to the second, carries the
    threat/trusted ``lists`` it relies on and has the function's docstring as note. ``also``
    names further finding types the same records rightly produce on the same resource
    (labelled positive as well)."""

    def decorate(fn: OutcomeFn) -> OutcomeFn:
        notes = " ".join((fn.__doc__ or "").split())

        @functools.wraps(fn)
        def run(model: Model, rng: Random, writer: ScenarioWriter) -> list[Scenario]:
            resource, (account, region), times = fn(model, rng, writer)
            start = datetime.fromtimestamp(math.floor(min(times)), UTC)
            end = datetime.fromtimestamp(math.ceil(max(times)), UTC)
            facts = (name, finding, resource, account, region, expected, start, end)
            extra = [
                Scenario(name, more, resource, account, region, "positive", start, end, notes)
                for more in also
            ]
            return [Scenario(*facts, notes, lists), *extra]

        SCENARIOS.add(name, run)
        return fn

    return decorate


def last_day(model: Model, rng: Random, office: Account | None = None) -> int:
    """A moment on the last simulated day: a random UTC hour from 01 to 20 (or in ``office``
    hours, 09 to 16 local time, within the UTC day), plus < 30 min."""
    first, last = (1, 20) if office is None else (9 - office.utc_offset, 16 - office.utc_offset)
    hour = rng.randint(max(first, 1), min(last, 20))
    return model.end - DAY + hour * HOUR + rng.randint(0, 1799)


def cli_calls(
    writer: ScenarioWriter,
    rng: Random,
    who: tuple[Account, IamUser, str],
    steps: Sequence[Step],
    ts: float,
    cli: str = MAC_CLI,
) -> list[float]:
    """(account, user, source IP) ``who`` runs ``steps`` with aws-cli from ``ts``, seconds
    apart, in the account's home Region (IAM as ``us-east-1``); returns the call times."""
    account, user, ip = who
    times: list[float] = []
    for call, response in steps:
        region = "us-east-1" if call[0] in GLOBAL_SOURCES else account.home_region
        kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", call[1]).lower()
        agent = f"{cli}{call[0].split('.')[0]}.{kebab}"
        caller = Caller(user_identity(account.id, user), account.id, ip, agent)
        writer.cloudtrail(api_call(rng, ts, caller, region, call, response), account.home_region)
        times.append(ts)
        ts += rng.randint(3, 40)
    return times


class BucketChange(NamedTuple):
    """An S3 bucket-configuration call: eventName, subresource key, XML body as logged."""

    name: str
    subresource: str
    body: dict[str, Any]


def public_access_block(blocked: bool) -> BucketChange:
    """``PutBucketPublicAccessBlock`` setting all four Block Public Access flags to ``blocked``."""
    flags = {"xmlns": S3_XMLNS, **dict.fromkeys(BLOCK_FLAGS, blocked)}
    body = {"PublicAccessBlockConfiguration": flags}
    return BucketChange("PutBucketPublicAccessBlock", "publicAccessBlock", body)


def bucket_call(
    writer: ScenarioWriter,
    rng: Random,
    ts: float,
    caller: Caller,
    target: tuple[Bucket, BucketChange],
) -> list[float]:
    """Write an S3 bucket-configuration management event (agent bracketed, as S3 logs it)."""
    bucket, change = target
    host = f"{bucket.name}.s3.{bucket.region}.amazonaws.com"
    params = {change.subresource: "", "bucketName": bucket.name, **change.body, "Host": host}
    arn = f"arn:aws:s3:::{bucket.name}"
    resources = [{"accountId": caller.account, "type": "AWS::S3::Bucket", "ARN": arn}]
    call = (S3, change.name, False, params)
    bracketed = replace(caller, agent=f"[{caller.agent}]")
    record = api_call(rng, ts, bracketed, bucket.region, call, None, resources)
    transfer: Record = {"SignatureVersion": "SigV4", "CipherSuite": CIPHER}
    transfer |= {"bytesTransferredIn": len(orjson.dumps(change.body))}
    transfer |= {"AuthenticationMethod": "AuthHeader", "bytesTransferredOut": 0}
    ordered: Record = {}
    for key, value in record.items():
        ordered[key] = value
        if key == "responseElements":
            ordered["additionalEventData"] = transfer
    ordered["requestID"] = hex_id(rng, 16).upper()
    ordered["tlsDetails"] = {**record["tlsDetails"], "clientProvidedHostHeader": host}
    writer.cloudtrail(ordered, bucket.region)
    return [ts]


def kube_calls(writer: ScenarioWriter, cluster: Cluster, events: Sequence[Event]) -> list[float]:
    """Write audit ``events`` of ``cluster``; their request times."""
    for event in events:
        writer.eks_audit(cluster, event)
    return [parse_iso(event["requestReceivedTimestamp"]) for event in events]


def kube_events(
    rng: Random,
    ts: float,
    user: Mapping[str, Any],
    client: tuple[str, str],
    requests: Sequence[Request],
) -> list[Event]:
    """Audit events of (verb, objectRef, query, status code) requests, a moment apart."""
    events = []
    for verb, ref, query_text, code in requests:
        events.append(audit_event(rng, ts, user, verb, ref, client, query_text, code))
        ts += rng.uniform(0.05, 2.5)
    return events


def rbac_allowed(binding: str, role: str, subject: str) -> dict[str, str]:
    """Audit annotations of a request allowed by an RBAC cluster role binding."""
    reason = f'RBAC: allowed by ClusterRoleBinding "{binding}" of ClusterRole "{role}" to {subject}'
    return {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": reason}


@labelled("cloudtrail-logging-disabled", "Stealth:IAMUser/CloudTrailLoggingDisabled", "positive")
def trail_stopped(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A stolen admin key stops, then deletes, the org trail from 203.0.113.23 (count 2)."""
    account = model.accounts[0]
    user = account.users_of("admin")[-1]
    trail = f"arn:aws:cloudtrail:{account.home_region}:{account.id}:trail/org-trail"
    steps = [
        ((TRAIL, name, False, {"name": trail}), None) for name in ("StopLogging", "DeleteTrail")
    ]
    who = (account, user, "203.0.113.23")
    times = cli_calls(writer, rng, who, steps, last_day(model, rng), UBUNTU_CLI)
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("trail-logging-started", "Stealth:IAMUser/CloudTrailLoggingDisabled", "negative")
def trail_started(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin turns a trail's logging back on (StartLogging) from the office."""
    account = model.accounts[-1]
    user = account.users_of("admin")[0]
    trail = f"arn:aws:cloudtrail:{account.home_region}:{account.id}:trail/management-events"
    steps = [((TRAIL, "StartLogging", False, {"name": trail}), None)]
    times = cli_calls(
        writer, rng, (account, user, user.ips[0]), steps, last_day(model, rng, account)
    )
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled(
    "kali-linux-recon",
    "PenTest:IAMUser/KaliLinux",
    "positive",
    also=("Discovery:IAMUser/AnomalousBehavior",),  # a developer never enumerated IAM before
)
def kali_recon(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's key enumerates IAM with aws-cli on Kali (exe/x86_64.kali.2024), count 3."""
    account = model.accounts[-1]
    user = account.users_of("developer")[0]
    names = ("ListUsers", "ListRoles", "GetAccountAuthorizationDetails")
    steps = [((IAM, name, True, None), None) for name in names]
    who = (account, user, "203.0.113.14")
    times = cli_calls(writer, rng, who, steps, last_day(model, rng), KALI_CLI)
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("kali-ami-lookup", "PenTest:IAMUser/KaliLinux", "negative")
def kali_ami_lookup(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin looks up kali-linux-2024* AMIs; "kali" is a parameter, not the agent."""
    account = model.accounts[0]
    user = account.users_of("admin")[0]
    kali = {"name": "name", "valueSet": {"items": [{"value": "kali-linux-2024*"}]}}
    owners = {"items": [{"owner": "aws-marketplace"}]}
    request = {"executableBySet": {}, "imagesSet": {}, "ownersSet": owners}
    steps = [((EC2, "DescribeImages", True, {**request, "filterSet": {"items": [kali]}}), None)]
    times = cli_calls(
        writer, rng, (account, user, user.ips[0]), steps, last_day(model, rng, account)
    )
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("password-policy-weakened", "Stealth:IAMUser/PasswordPolicyChange", "positive")
def password_policy(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin lowers the password policy to 6 characters, no symbols, numbers or upper case."""
    account = model.accounts[-1]
    user = account.users_of("admin")[0]
    policy = {"minimumPasswordLength": 6, "requireSymbols": False, "requireNumbers": False}
    policy |= {"requireUppercaseCharacters": False, "requireLowercaseCharacters": True}
    steps = [((IAM, "UpdateAccountPasswordPolicy", False, policy), None)]
    times = cli_calls(
        writer, rng, (account, user, user.ips[0]), steps, last_day(model, rng, account)
    )
    return Outcome(user.access_key, (account.id, account.home_region), times)


@labelled("bucket-public-access-unblocked", "Policy:S3/BucketBlockPublicAccessDisabled", "positive")
def public_access_off(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer sets all four Block Public Access flags of the app-data bucket to false."""
    account = model.accounts[0]
    user, bucket = account.users_of("developer")[0], account.buckets[0]
    agent = MAC_CLI + "s3api.put-public-access-block"
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], agent)
    target = (bucket, public_access_block(False))
    times = bucket_call(writer, rng, last_day(model, rng, account), caller, target)
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bucket-public-access-blocked", "Policy:S3/BucketBlockPublicAccessDisabled", "negative")
def public_access_on(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user's Terraform run sets all four Block Public Access flags to true."""
    account = model.accounts[-1]
    user, bucket = account.users_of("ci")[0], account.buckets[0]
    caller = Caller(user_identity(account.id, user), account.id, user.ips[0], TERRAFORM)
    target = (bucket, public_access_block(True))
    times = bucket_call(writer, rng, last_day(model, rng), caller, target)
    return Outcome(user.access_key, (account.id, bucket.region), times)


@labelled("bucket-access-logging-disabled", "Stealth:S3/ServerAccessLoggingDisabled", "positive")
def access_logging_off(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A stolen admin key empties the backups bucket's BucketLoggingStatus from 203.0.113.45."""
    account = model.accounts[-1]
    user, bucket = account.users_of("admin")[-1], account.bucket("backups")
    agent = UBUNTU_CLI + "s3api.put-bucket-logging"
    caller = Caller(user_identity(account.id, user), account.id, "203.0.113.45", agent)
    body = {"BucketLoggingStatus": {"xmlns": S3_XMLNS}}
    target = (bucket, BucketChange("PutBucketLogging", "logging", body))
    times = bucket_call(writer, rng, last_day(model, rng), caller, target)
    return Outcome(user.access_key, (account.id, bucket.region), times)


def _exec(namespace: str, pod: str, container: str) -> list[Request]:
    """``kubectl exec -it`` into a pod's container: get the pod, then create ``exec`` (101)."""
    exec_ref = ObjectRef("pods", namespace, pod, subresource="exec")
    get = ("get", ObjectRef("pods", namespace, pod), "", 200)
    return [get, ("create", exec_ref, EXEC_QUERY.format(container), 101)]


@labelled("exec-in-kube-system-pod", "Execution:Kubernetes/ExecInKubeSystemPod", "positive")
def exec_kube_system(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin's IAM identity, used from 203.0.113.51, execs a shell in a kube-system pod."""
    account = model.accounts[0]
    cluster = account.clusters[0]
    user = iam_user(account, account.users_of("admin")[0], ["system:masters"])
    client = ("203.0.113.51", KUBECTL.format("linux/amd64"))
    requests = _exec("kube-system", f"coredns-{hex_id(rng, 9)}-{hex_id(rng, 5)}", "coredns")
    events = kube_events(rng, last_day(model, rng), user, client, requests)
    return Outcome(cluster.name, (account.id, cluster.region), kube_calls(writer, cluster, events))


@labelled("exec-in-team-pod", "Execution:Kubernetes/ExecInKubeSystemPod", "negative")
def exec_team_pod(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer execs into a pod of their team's namespace from the office."""
    account = model.accounts[-1]
    cluster, namespace = account.clusters[0], NAMESPACES[0]
    dev = account.users_of("developer")[0]
    user = iam_user(account, dev, [f"{namespace}-developers"])
    pod = next(name for ns, name in cluster.pods if ns == namespace)
    client = (dev.ips[0], KUBECTL.format("darwin/arm64"))
    requests = _exec(namespace, pod, pod.split("-")[0])
    events = kube_events(rng, last_day(model, rng, account), user, client, requests)
    return Outcome(cluster.name, (account.id, cluster.region), kube_calls(writer, cluster, events))


@labelled("anonymous-api-access", "Discovery:Kubernetes/SuccessfulAnonymousAccess", "positive")
def anonymous_access(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """system:anonymous lists namespaces and pods from 203.0.113.77 through a careless binding."""
    account = model.accounts[-1]
    cluster = account.clusters[0]
    client = ("203.0.113.77", KUBECTL.format("linux/amd64"))
    requests = [("list", ObjectRef(kind), LIST, 200) for kind in ("namespaces", "pods")]
    allowed = rbac_allowed("anonymous-view", "view", 'User "system:anonymous"')
    events = kube_events(rng, last_day(model, rng), ANONYMOUS, client, requests)
    times = kube_calls(writer, cluster, [{**event, "annotations": allowed} for event in events])
    return Outcome(cluster.name, (account.id, cluster.region), times)


def _health_checks(rng: Random, ts: float, client: tuple[str, str]) -> list[Event]:
    """Three rounds, a minute apart, of anonymous GETs of the health and version endpoints."""
    subject = 'Group "system:unauthenticated"'
    allowed = rbac_allowed("system:public-info-viewer", "system:public-info-viewer", subject)
    events = []
    for at in (ts, ts + 60, ts + 120):
        for n, path in enumerate(HEALTH_PATHS):
            event = audit_event(rng, at + n * 0.2, ANONYMOUS, "get", ObjectRef(""), client)
            del event["objectRef"]  # a non-resource URL has none
            events.append({**event, "requestURI": path, "annotations": allowed})
    return events


@labelled("anonymous-health-checks", "Discovery:Kubernetes/SuccessfulAnonymousAccess", "negative")
def anonymous_health(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an uptime monitor GETs /healthz, /livez, /readyz and /version anonymously."""
    account = model.accounts[0]
    cluster = account.clusters[0]
    client = (account.office_ips[1], "Blackbox-Exporter/0.25.0")
    times = kube_calls(writer, cluster, _health_checks(rng, last_day(model, rng), client))
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("metadata-dns-rebind", "UnauthorizedAccess:EC2/MetadataDNSRebind", "positive")
def dns_rebind(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A web server resolves a rebinding name: 203.0.113.33 first, then 169.254.169.254."""
    account = model.accounts[0]
    vpc = account.vpcs[0]
    web = vpc.of_kind("web")[0]
    ts = last_day(model, rng)
    times = [ts, ts + rng.randint(1, 5)]
    for at, ip in zip(times, ("203.0.113.33", "169.254.169.254"), strict=True):
        answers = ({"Rdata": ip, "Type": "A", "Class": "IN"},)
        writer.route53(
            query(rng, at, vpc, web, "a9fea9fe.cb007121.rbndr.us.", result=("NOERROR", answers))
        )
    return Outcome(web.id, (account.id, vpc.region), [float(t) for t in times])


@labelled("mining-pool-lookups", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "positive")
def mining_pools(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An app server's Monero miner looks up its four pools in turn, 12 A queries in all."""
    account = model.accounts[-1]
    vpc = account.vpcs[-1]
    app = vpc.of_kind("app")[-1]
    ts, times = last_day(model, rng), []
    for n in range(12):
        writer.route53(query(rng, ts, vpc, app, MINING_POOLS[n % len(MINING_POOLS)]))
        times.append(float(ts))
        ts += rng.randint(30, 150)
    return Outcome(app.id, (account.id, vpc.region), times)
