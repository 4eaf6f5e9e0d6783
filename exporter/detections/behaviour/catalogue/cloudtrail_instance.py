"""``UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS``: an EC2
instance-profile session (``ec2RoleDelivery``) used from a public address that the role's
sessions never used in the baseline.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue import cloudtrail_records as ct
from exporter.detections.behaviour.catalogue.cloudtrail import (
    EC2_DELIVERY,
    PRINCIPAL,
    ROLE,
    SINCE,
    SOURCE_IP,
    bucket_keys,
    learned,
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
    bounds,
    buckets,
    keyed,
    sample,
    span,
    with_evidence,
)
from exporter.findings.fields import text
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

INTERNAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128",
    )
)  # fmt: skip
"""Addresses a call can come from inside a VPC (gateway/interface endpoints) or the host."""


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
                if any(external(a) for a in bucket_keys(session, "addresses"))
                for role in bucket_keys(session, "role")
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
            role = roles.get(next(iter(bucket_keys(session, "role")), ""))
            if role is None or not learned(role, window, params):
                continue
            known = set(bucket_keys(role, "addresses"))
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
    addresses = sorted(str(address["key"]) for address in foreign)
    role = text(event, "user.name") or "unknown"
    spec = FindingSpec(
        type=finding_type,
        severity=default_severity(finding_type),
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
            **window.info,
        },
    )
    return Hit(spec, event, *span(foreign))


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


register(instance_credentials())
