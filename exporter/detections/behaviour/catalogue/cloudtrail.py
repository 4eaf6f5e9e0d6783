"""Behaviour detectors over CloudTrail management events (one principal = ``user.id``, the
userIdentity ``principalId``: an IAM user's ``AIDA…``, a role session's ``AROA…:<session>``).

* ``<Tactic>:IAMUser/AnomalousBehavior`` (one detector per tactic): the calls of that tactic
  (:data:`~.api_tactics.TACTICS`) a principal makes in the window that it had not made in its
  baseline, weighted; a finding when the weights add up to ``min_score``.
* ``UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS``: an EC2
  instance-profile session (``ec2RoleDelivery``) used from a public address that the role's
  sessions never used in the baseline.
* ``UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B``: successful console sign-ins of one
  principal from two different networks (IPv4 /16, IPv6 /32) within ``max_gap_minutes``.
  Networks, not ASN or country: the simulator's addresses are documentation ranges that no
  offline geolocation database places.

Every baseline is the principal's (or role's) history before the window; one with less than
``learning_days`` of history is still learning and reports nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue import cloudtrail_records as ct
from exporter.detections.behaviour.catalogue.api_tactics import TACTIC_NAMES, TACTICS, TECHNIQUES
from exporter.detections.behaviour.model import (
    Baseline,
    Bucket,
    Case,
    Detector,
    Document,
    Hit,
    Params,
    Window,
    register,
)
from exporter.detections.behaviour.results import (
    bounds,
    buckets,
    keyed,
    moment,
    sample,
    with_evidence,
)
from exporter.findings.fields import text
from exporter.findings.spec import FindingSpec
from exporter.findings.types import FINDING_TYPES
from exporter.normalize.ecs import parse_timestamp

PRINCIPAL = "user.id"
ACTION = "event.action"
SOURCE_IP = "source.ip"
ROLE = "aws.cloudtrail.user_identity.session_context.session_issuer.arn"
EC2_DELIVERY = "aws.cloudtrail.user_identity.session_context.ec2_role_delivery"
DATA_EVENT = Q("term", **{"aws.cloudtrail.event_category": "Data"})
INTERNAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128",
    )
)  # fmt: skip
"""Addresses a call can come from inside a VPC (gateway/interface endpoints) or the host."""
SINCE, FIRST = "since", "first"


def severity(finding_type: str) -> float:
    """GuardDuty's severity of ``finding_type`` (the catalogue's)."""
    return FINDING_TYPES.get(finding_type).severity


def learned(history: Bucket, window: Window, params: Params) -> bool:
    """True when the history's earliest event is at least ``learning_days`` before the window."""
    since = moment(history, SINCE)
    return since is not None and since <= window.start - timedelta(days=params["learning_days"])


def window_info(window: Window) -> dict[str, str]:
    """``windowStart``/``windowEnd`` for a finding's additional info."""
    start, end = window.label.split("/")
    return {"windowStart": start, "windowEnd": end}


def who(event: Mapping[str, Any]) -> str:
    """How a finding names the caller: the user (or role) name, else the principal id."""
    return text(event, "user.name", PRINCIPAL) or "unknown"


def _keys(bucket: Bucket, name: str) -> list[str]:
    return [str(found["key"]) for found in buckets(bucket, name)]


# -- IAMUser/AnomalousBehavior ----------------------------------------------------------------


def principal_history(principals: list[str], actions: list[str]) -> Baseline:
    """Every event of ``principals``: when each was first seen, and which of ``actions`` it
    called (with when it first did)."""
    per = A("terms", field=PRINCIPAL, include=principals, size=len(principals))
    per.metric(SINCE, A("min", field="@timestamp"))
    calls = A("terms", field=ACTION, include=actions, size=len(actions))
    calls.metric(FIRST, A("min", field="@timestamp"))
    per.bucket("calls", calls)
    return Baseline(Q("terms", **{PRINCIPAL: principals}), {"principals": per})


def first_seen_calls(
    calls: Sequence[Bucket], history: Bucket, window: Window, params: Params
) -> list[Bucket]:
    """The window's call buckets whose API the history does not know; an API first seen in
    the ``recent_hours`` before the window still counts as new (bursts across windows)."""
    recent = window.start - timedelta(hours=params["recent_hours"])
    known = {
        name
        for name, found in keyed(history, "calls").items()
        if (moment(found, FIRST) or window.start) < recent
    }
    return [call for call in calls if str(call["key"]) not in known]


def anomalous_behaviour(tactic: str) -> Detector:
    """The ``<tactic>:IAMUser/AnomalousBehavior`` detector."""
    finding_type = f"{tactic}:IAMUser/AnomalousBehavior"
    weights = TACTICS[tactic]
    apis = sorted(weights)
    label = TACTIC_NAMES.get(tactic, tactic)

    def query(_: Params) -> Query:
        found: Query = Q(
            "bool",
            filter=[Q("terms", **{ACTION: apis}), Q("exists", field=PRINCIPAL)],
            must_not=[DATA_EVENT],
        )
        return found

    def aggs(params: Params) -> dict[str, Agg]:
        principals = A("terms", field=PRINCIPAL, size=params["max_principals"])
        principals.bucket("calls", with_evidence(A("terms", field=ACTION, size=len(apis))))
        return {"principals": principals}

    def baseline(bucket: Bucket, _: Params) -> Baseline | None:
        principals = _keys(bucket, "principals")
        return principal_history(principals, apis) if principals else None

    def evaluate(
        bucket: Bucket, history: Bucket | None, window: Window, params: Params
    ) -> list[Hit]:
        past = keyed(history, "principals")
        hits = []
        for principal in buckets(bucket, "principals"):
            known = past.get(str(principal["key"]))
            if known is None or not learned(known, window, params):
                continue
            new = first_seen_calls(buckets(principal, "calls"), known, window, params)
            score = sum(weights[str(call["key"])] for call in new)
            if new and score >= params["min_score"]:
                hits.append(_anomaly(new, score, window, params))
        return hits

    def _anomaly(new: list[Bucket], score: int, window: Window, params: Params) -> Hit:
        latest = max(new, key=lambda call: bounds(call)[1] or window.start)
        event = sample(latest)
        name = who(event)
        seen = [bounds(call) for call in new]
        first = min((s[0] for s in seen if s[0]), default=None)
        last = max((s[1] for s in seen if s[1]), default=None)
        spec = FindingSpec(
            type=finding_type,
            severity=severity(finding_type),
            title=f"User {name} is anomalously invoking APIs commonly used in {label} tactics.",
            description=(
                f"APIs commonly used in {label} tactics were invoked by {name} "
                f"({text(event, PRINCIPAL)}) for the first time in its "
                f"{params['baseline_days']}-day baseline: {', '.join(_keys_of(new))}."
            ),
            resource_role="TARGET",
            tactic=label,
            technique=TECHNIQUES[tactic],
            additional_info={
                "newApis": _keys_of(new),
                "apiCallCounts": {str(c["key"]): int(c["doc_count"]) for c in new},
                "score": score,
                "minScore": params["min_score"],
                "baselineDays": params["baseline_days"],
                **window_info(window),
            },
        )
        return Hit(spec, event, first, last)

    def cases(window: Window) -> list[Case]:
        return _anomaly_cases(window, finding_type, apis, weights)

    return Detector(
        name=f"iam-anomalous-{tactic.lower()}",
        log_type="cloudtrail",
        finding_types=(finding_type,),
        logic=(
            f"Per principal (user.id): the {tactic} API calls of the window it never made in "
            f"the `baseline_days` before (an API first seen within `recent_hours` of the window "
            f"still counts as new), each weighted 1-3 by the API table; a finding when the "
            f"weights add up to `min_score`. Principals with less than `learning_days` of "
            f"history are skipped."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        params={
            "min_score": 3,
            "baseline_days": 7,
            "learning_days": 3,
            "recent_hours": 1,
            "max_principals": 500,
        },
        baseline=baseline,
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=cases,
    )


def _keys_of(calls: Sequence[Bucket]) -> list[str]:
    return sorted(str(call["key"]) for call in calls)


def _anomaly_cases(
    window: Window, finding_type: str, apis: list[str], weights: Mapping[str, int]
) -> list[Case]:
    """History: the user makes its usual calls on each of the 5 days before the window."""
    user = ct.iam_user("dev-user")
    routine = "GetCallerIdentity"
    usual = sorted(apis, key=lambda api: (-weights[api], api))[:3]

    def at(minutes: int, days: int = 0) -> datetime:
        return window.start - timedelta(days=days) + timedelta(minutes=minutes)

    def history(extra: Sequence[str] = ()) -> list[Document]:
        calls = [routine, *extra]
        return ct.documents(
            ct.api_call(at(10 + n, day), user, api, source="sts.amazonaws.com")
            for day in range(1, 6)
            for n, api in enumerate(calls)
        )

    def calls(names: Sequence[str], ip: str = ct.ATTACKER) -> list[Document]:
        return ct.documents(ct.api_call(at(5 + n), user, api, ip) for n, api in enumerate(names))

    expected = (finding_type,)
    cases = [
        Case("first-seen calls of the tactic", calls(usual), expected, history()),
        Case("the same calls are the user's routine", calls(usual), (), history(usual)),
        Case("a new user still learning", calls(usual), (), history()[:1]),
    ]
    strong = [api for api in apis if weights[api] >= 3][:1]
    if strong:
        cases.append(Case("one first-seen call of weight 3", calls(strong), expected, history()))
    weak = [api for api in apis if weights[api] == 1][:1]
    if weak:
        cases.append(Case("one first-seen call of weight 1", calls(weak), (), history()))
    return cases


# -- InstanceCredentialExfiltration.OutsideAWS ------------------------------------------------


def external(address: str) -> bool:
    """True for a public address (an AWS service name or a VPC-internal address is not)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not any(ip in network for network in INTERNAL)


def instance_credentials() -> Detector:
    """The instance-credential exfiltration (outside AWS) detector."""
    finding_type = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"

    def query(_: Params) -> Query:
        found: Query = Q(
            "bool",
            filter=[
                Q("exists", field=EC2_DELIVERY),
                Q("exists", field=SOURCE_IP),
                Q("exists", field=PRINCIPAL),
            ],
        )
        return found

    def aggs(params: Params) -> dict[str, Agg]:
        sessions = A("terms", field=PRINCIPAL, size=params["max_principals"])
        sessions.bucket("role", A("terms", field=ROLE, size=1))
        sessions.bucket("addresses", with_evidence(A("terms", field=SOURCE_IP, size=20)))
        return {"sessions": sessions}

    def baseline(bucket: Bucket, params: Params) -> Baseline | None:
        roles = sorted(
            {
                role
                for session in buckets(bucket, "sessions")
                if any(external(a) for a in _keys(session, "addresses"))
                for role in _keys(session, "role")
            }
        )
        if not roles:
            return None
        per = A("terms", field=ROLE, include=roles, size=len(roles))
        per.metric(SINCE, A("min", field="@timestamp"))
        per.bucket("addresses", A("terms", field=SOURCE_IP, size=params["max_known_addresses"]))
        found = Q("bool", filter=[Q("terms", **{ROLE: roles}), Q("exists", field=SOURCE_IP)])
        return Baseline(found, {"roles": per})

    def evaluate(
        bucket: Bucket, history: Bucket | None, window: Window, params: Params
    ) -> list[Hit]:
        roles = keyed(history, "roles")
        hits = []
        for session in buckets(bucket, "sessions"):
            role = roles.get(next(iter(_keys(session, "role")), ""))
            if role is None or not learned(role, window, params):
                continue
            known = set(_keys(role, "addresses"))
            foreign = [
                address
                for address in buckets(session, "addresses")
                if external(str(address["key"])) and str(address["key"]) not in known
            ]
            if foreign:
                hits.append(_exfiltration(finding_type, foreign, sorted(known), window))
        return hits

    def cases(window: Window) -> list[Case]:
        return _exfiltration_cases(window, finding_type)

    return Detector(
        name="instance-credential-exfiltration",
        log_type="cloudtrail",
        finding_types=(finding_type,),
        logic=(
            "Calls made with an EC2 instance-profile session (userIdentity with "
            "ec2RoleDelivery) from a public address (not RFC 1918/CGNAT/link-local, not an AWS "
            "service name) that no session of the same role used in the `baseline_days` "
            "before the window. Roles with less than `learning_days` of history are skipped."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        params={
            "baseline_days": 7,
            "learning_days": 3,
            "max_principals": 1000,
            "max_known_addresses": 500,
        },
        baseline=baseline,
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=cases,
    )


def _exfiltration(
    finding_type: str, foreign: list[Bucket], known: list[str], window: Window
) -> Hit:
    latest = max(foreign, key=lambda address: bounds(address)[1] or window.start)
    event = sample(latest)
    seen = [bounds(address) for address in foreign]
    addresses = sorted(str(address["key"]) for address in foreign)
    role = text(event, "user.name") or "unknown"
    spec = FindingSpec(
        type=finding_type,
        severity=severity(finding_type),
        title=(
            f"Credentials for instance role {role} used from external IP address "
            f"{', '.join(addresses)}."
        ),
        description=(
            f"Credentials that were created exclusively for an EC2 instance through instance "
            f"role {role} ({text(event, PRINCIPAL)}) are being used from external IP address "
            f"{', '.join(addresses)}, which the role's sessions have not used before."
        ),
        tactic="Credential Access",
        technique="T1552.005",
        additional_info={
            "externalAddresses": addresses,
            "knownAddresses": known[:20],
            "apiCalls": sum(int(address["doc_count"]) for address in foreign),
            **window_info(window),
        },
    )
    first = min((s[0] for s in seen if s[0]), default=None)
    last = max((s[1] for s in seen if s[1]), default=None)
    return Hit(spec, event, first, last)


def _exfiltration_cases(window: Window, finding_type: str) -> list[Case]:
    session = ct.instance_session("web-role", "i-0a1b2c3d4e5f60718")
    own = "54.210.10.20"

    def at(minutes: int, days: int = 0) -> datetime:
        return window.start - timedelta(days=days) + timedelta(minutes=minutes)

    def calls(ip: str, source: str = "ec2.amazonaws.com") -> list[Document]:
        names = ("DescribeInstances", "ListBuckets")
        return ct.documents(
            ct.api_call(at(5 + n), session, name, ip, source) for n, name in enumerate(names)
        )

    history = ct.documents(
        ct.api_call(at(30, day), session, "DescribeInstances", ip, "ec2.amazonaws.com")
        for day in range(1, 6)
        for ip in (own, "10.20.1.10")
    )
    expected = (finding_type,)
    return [
        Case("instance credentials used from the internet", calls(ct.ATTACKER), expected, history),
        Case("the instance's own address", calls(own), (), history),
        Case("through a VPC endpoint", calls("10.20.1.11"), (), history),
        Case("an AWS service on the session's behalf", calls("s3.amazonaws.com"), (), history),
        Case("a role still learning", calls(ct.ATTACKER), (), history[:2]),
    ]


# -- ConsoleLoginSuccess.B --------------------------------------------------------------------


LOGIN = (Q("term", **{ACTION: "ConsoleLogin"}), Q("term", **{"event.outcome": "success"}))


def network(address: str, params: Params) -> str:
    """The network of ``address`` that "distant" compares (IPv4 /16, IPv6 /32 by default)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = params["ipv6_prefix"] if ip.version == 6 else params["ipv4_prefix"]
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _logins(bucket: Bucket) -> list[Document]:
    return [
        dict(hit["_source"]) for hit in bucket.get("logins", {}).get("hits", {}).get("hits", [])
    ]


def _when(login: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(parse_timestamp(login["@timestamp"], "@timestamp"))


def distant_pairs(
    earlier: Sequence[Document], current: Sequence[Document], params: Params
) -> list[tuple[Document, Document]]:
    """(earlier, later) sign-ins from different networks at most ``max_gap_minutes`` apart,
    the later one in ``current`` (so a pair is reported by the window of its later login)."""
    gap = timedelta(minutes=params["max_gap_minutes"])
    every = sorted([*earlier, *current], key=_when)
    pairs = []
    for later in sorted(current, key=_when):
        for before in every:
            apart = _when(later) - _when(before)
            if before is later or apart < timedelta(0) or apart > gap:
                continue
            ips = (text(before, SOURCE_IP) or "", text(later, SOURCE_IP) or "")
            if ips[0] and ips[1] and network(ips[0], params) != network(ips[1], params):
                pairs.append((before, later))
    return pairs


def console_logins() -> Detector:
    """The ConsoleLoginSuccess.B detector."""
    finding_type = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"

    def logins_agg(params: Params, users: list[str] | None = None) -> Agg:
        size = len(users) if users else params["max_principals"]
        per: Agg = A("terms", field=PRINCIPAL, size=size, **({"include": users} if users else {}))
        order = [{"@timestamp": {"order": "asc"}}]
        per.bucket("logins", A("top_hits", size=params["max_logins"], sort=order))
        return per

    def query(_: Params) -> Query:
        found: Query = Q("bool", filter=[*LOGIN, Q("exists", field=PRINCIPAL)])
        return found

    def aggs(params: Params) -> dict[str, Agg]:
        return {"users": logins_agg(params)}

    def baseline(bucket: Bucket, params: Params) -> Baseline | None:
        users = _keys(bucket, "users")
        if not users:
            return None
        found = Q("bool", filter=[*LOGIN, Q("terms", **{PRINCIPAL: users})])
        return Baseline(found, {"users": logins_agg(params, users)})

    def evaluate(
        bucket: Bucket, history: Bucket | None, window: Window, params: Params
    ) -> list[Hit]:
        before = keyed(history, "users")
        hits = []
        for user in buckets(bucket, "users"):
            earlier = _logins(before[str(user["key"])]) if str(user["key"]) in before else []
            pairs = distant_pairs(earlier, _logins(user), params)
            if pairs:
                hits.append(_far_apart(finding_type, pairs, params, window))
        return hits

    def cases(window: Window) -> list[Case]:
        return _login_cases(window, finding_type)

    return Detector(
        name="console-login-distant-networks",
        log_type="cloudtrail",
        finding_types=(finding_type,),
        logic=(
            "Successful ConsoleLogin events of one principal from two networks (IPv4 "
            "`ipv4_prefix`, IPv6 `ipv6_prefix`) at most `max_gap_minutes` apart, the later "
            "one in the window; the earlier may be in the `baseline_days` (1 h) before it."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        params={
            "max_gap_minutes": 60,
            "baseline_days": 1 / 24,
            "ipv4_prefix": 16,
            "ipv6_prefix": 32,
            "max_logins": 50,
            "max_principals": 500,
        },
        baseline=baseline,
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=cases,
    )


def _far_apart(
    finding_type: str, pairs: list[tuple[Document, Document]], params: Params, window: Window
) -> Hit:
    before, later = pairs[-1]
    addresses = sorted({text(login, SOURCE_IP) or "" for pair in pairs for login in pair})
    name = who(later)
    minutes = round((_when(later) - _when(before)).total_seconds() / 60, 1)
    spec = FindingSpec(
        type=finding_type,
        severity=severity(finding_type),
        title=f"Multiple worldwide successful console logins were observed for {name}.",
        description=(
            f"{name} signed in to the console from {', '.join(addresses)}: networks too far "
            f"apart to be the same person, {minutes} minutes apart."
        ),
        tactic="Initial Access",
        technique="T1078.004",
        additional_info={
            "loginAddresses": addresses,
            "networks": sorted({network(a, params) for a in addresses}),
            "minutesApart": minutes,
            "maxGapMinutes": params["max_gap_minutes"],
            **window_info(window),
        },
    )
    first = min(_when(login) for pair in pairs for login in pair)
    return Hit(spec, later, first, _when(later))


def _login_cases(window: Window, finding_type: str) -> list[Case]:
    user = ct.iam_user("ops-admin")

    def at(minutes: int) -> datetime:
        return window.start + timedelta(minutes=minutes)

    def logins(*seen: tuple[int, str]) -> list[Document]:
        return ct.documents(ct.console_login(at(minutes), user, ip) for minutes, ip in seen)

    earlier = ct.documents([ct.console_login(at(-20), user, ct.OFFICE)])
    expected = (finding_type,)
    failed = ct.documents([ct.console_login(at(25), user, ct.ATTACKER, success=False)])
    return [
        Case("two networks 20 minutes apart", logins((5, ct.OFFICE), (25, ct.ATTACKER)), expected),
        Case("the earlier login before the window", logins((10, ct.ATTACKER)), expected, earlier),
        Case("two offices in one network", logins((5, ct.OFFICE), (15, "192.0.200.7"))),
        Case(
            "office, then home hours later", logins((0, ct.OFFICE)), (), logins((-240, "81.2.3.4"))
        ),
        Case("a failed login elsewhere", [*logins((5, ct.OFFICE)), *failed]),
    ]


for _tactic in TACTICS:
    register(anomalous_behaviour(_tactic))
register(instance_credentials())
register(console_logins())
