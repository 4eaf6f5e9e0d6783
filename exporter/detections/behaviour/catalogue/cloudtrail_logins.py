"""``UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B``: successful console sign-ins of one
principal from places too far apart for one person within ``max_gap_minutes``.

Two addresses are far apart when both have a country (offline RIR data,
:mod:`exporter.normalize.geo`) and the countries differ; when either has none (private,
documentation or unassigned addresses) their networks (IPv4 /16, IPv6 /32) are compared
instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue import cloudtrail_records as ct
from exporter.detections.behaviour.catalogue.cloudtrail import (
    ACTION,
    PRINCIPAL,
    SOURCE_IP,
    bucket_keys,
    who,
)
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
    buckets,
    keyed,
)
from exporter.findings.fields import text
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity
from exporter.normalize.ecs import parse_timestamp
from exporter.normalize.geo import country_code

US_EAST, US_WEST, JAPAN = "54.210.10.20", "8.8.8.8", "1.0.16.1"
"""Public addresses of the cases: two US networks (different /16s), one Japanese."""
LOGIN = (Q("term", **{ACTION: "ConsoleLogin"}), Q("term", **{"event.outcome": "success"}))


def network(address: str, params: Params) -> str:
    """The network of ``address`` that "distant" compares (IPv4 /16, IPv6 /32 by default)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = params["ipv6_prefix"] if ip.version == 6 else params["ipv4_prefix"]
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def far_apart(first: str, second: str, params: Params) -> bool:
    """Different countries when both addresses have one, else different networks."""
    countries = country_code(first), country_code(second)
    if countries[0] and countries[1]:
        return countries[0] != countries[1]
    return network(first, params) != network(second, params)


def _logins(bucket: Bucket) -> list[Document]:
    return [
        dict(hit["_source"]) for hit in bucket.get("logins", {}).get("hits", {}).get("hits", [])
    ]


def _when(login: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(parse_timestamp(login["@timestamp"], "@timestamp"))


def distant_pairs(
    earlier: Sequence[Document], current: Sequence[Document], params: Params
) -> list[tuple[Document, Document]]:
    """(earlier, later) sign-ins :func:`far_apart` and at most ``max_gap_minutes`` apart,
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
            if ips[0] and ips[1] and far_apart(ips[0], ips[1], params):
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
        users = bucket_keys(bucket, "users")
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
            "Successful ConsoleLogin events of one principal from two countries (offline RIR "
            "data) or, when an address has no country, two networks (IPv4 `ipv4_prefix`, IPv6 "
            "`ipv6_prefix`), at most `max_gap_minutes` apart, the later one in the window; the "
            "earlier may be in the `baseline_days` (1 h) before it."
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
        severity=default_severity(finding_type),
        title=f"Multiple worldwide successful console logins were observed for {name}.",
        description=(
            f"{name} signed in to the console from {', '.join(addresses)}: places too far "
            f"apart to be the same person, {minutes} minutes apart."
        ),
        tactic="Initial Access",
        technique="T1078.004",
        additional_info={
            "loginAddresses": addresses,
            "networks": sorted({network(a, params) for a in addresses}),
            "countries": sorted({code for a in addresses if (code := country_code(a))}),
            "minutesApart": minutes,
            "maxGapMinutes": params["max_gap_minutes"],
            **window.info,
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
        Case("two countries", logins((5, US_EAST), (25, JAPAN)), expected),
        Case("two networks in one country", logins((5, US_EAST), (25, US_WEST))),
    ]


register(console_logins())
