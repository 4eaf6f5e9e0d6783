"""``DefenseEvasion:EC2/UnusualDNSResolver`` from VPC flow logs.

Route 53 Resolver query logs only show queries sent to the VPC resolver, so this detector
reads VPC flow logs instead: port-53 traffic from an instance to an address outside the
private ranges that the instance never used as a resolver in its baseline.
"""

from __future__ import annotations

from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.dns import (
    DAY,
    MINUTE,
)
from exporter.detections.behaviour.catalogue.flow import instance_name
from exporter.detections.behaviour.catalogue.flow_records import INSTANCE as FLOW_INSTANCE
from exporter.detections.behaviour.catalogue.flow_records import Flow
from exporter.detections.behaviour.catalogue.flow_records import documents as flow_documents
from exporter.detections.behaviour.model import (
    Baseline,
    Bucket,
    Case,
    Detector,
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
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

INTERNAL_NETWORKS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
]
"""Resolver addresses never reported: the VPC resolver (CIDR base + 2, 169.254.169.253) and
any resolver inside private address space."""

INTERFACE = "aws.vpcflow.interface_id"

RESOLVER = "DefenseEvasion:EC2/UnusualDNSResolver"


def resolver_query(params: Params) -> Query:
    """Accepted outbound port-53 flows to addresses outside ``internal_networks``: UDP, or
    TCP of at least ``min_tcp_packets`` packets (a SYN probe of a port scan is no query)."""
    tcp_session = Q("term", **{"network.transport": "tcp"}) & Q(
        "range", **{"network.packets": {"gte": params["min_tcp_packets"]}}
    )
    found: Query = Q(
        "bool",
        filter=[
            Q("term", **{"destination.port": 53}),
            Q("term", **{"network.transport": "udp"}) | tcp_session,
            Q("terms", **{"network.direction": ["egress", "outbound"]}),
            Q("term", **{"event.action": "ACCEPT"}),
        ],
        must_not=[Q("term", **{"destination.ip": net}) for net in params["internal_networks"]],
    )
    return found


def resolver_aggs(params: Params) -> dict[str, Agg]:
    """Per (interface, resolver address): the flows, with evidence."""
    pairs = A(
        "multi_terms",
        terms=[{"field": INTERFACE}, {"field": "destination.ip"}],
        size=params["max_findings"],
    )
    return {"pairs": with_evidence(pairs)}


def resolver_baseline(bucket: Bucket, params: Params) -> Baseline | None:
    """For the window's interfaces: when each was first seen, and the resolvers it used."""
    interfaces = sorted({str(pair["key"][0]) for pair in buckets(bucket, "pairs")})
    if not interfaces:
        return None
    known = A("terms", field=INTERFACE, size=len(interfaces))
    known.metric("since", A("min", field="@timestamp"))
    used = A("filter", resolver_query(params))
    used.bucket("resolvers", A("terms", field="destination.ip", size=params["max_resolvers"]))
    known.bucket("used", used)
    return Baseline(Q("terms", **{INTERFACE: interfaces}), {"interfaces": known})


def resolver_evaluate(
    bucket: Bucket, history: Bucket | None, window: Window, params: Params
) -> list[Hit]:
    """A hit per (interface, resolver) when the interface is known for ``learning_days`` and
    never sent DNS to that resolver in its baseline."""
    known = keyed(history, "interfaces")
    learned = window.start - timedelta(days=float(params["learning_days"]))
    hits = []
    for pair in buckets(bucket, "pairs"):
        interface, resolver = (str(part) for part in pair["key"])
        past = known.get(interface, {})
        since = moment(past, "since")
        if since is None or since > learned or resolver in keyed(past.get("used"), "resolvers"):
            continue
        event = sample(pair)
        instance = instance_name(event)
        first, last = bounds(pair)
        spec = FindingSpec(
            type=RESOLVER,
            severity=default_severity(RESOLVER),
            title=f"EC2 instance {instance} is communicating with an unusual DNS resolver.",
            description=(
                f"EC2 instance {instance} sent DNS traffic to {resolver}, a resolver it has not "
                f"used before. Malware may use its own resolver to evade DNS monitoring."
            ),
            key=(resolver,),
            tactic="Defense Evasion",
            technique="T1071.004",
            additional_info={
                "resolver": resolver,
                "flowCount": int(pair["doc_count"]),
                "baselineDays": params["baseline_days"],
                **window.info,
            },
        )
        hits.append(Hit(spec, event, first, last))
    return hits


def resolver_cases(window: Window) -> list[Case]:
    """New public resolvers over UDP and TCP (positive); a SYN probe of port 53, the usual
    resolver, the VPC resolver, an instance without history (negative)."""

    def queries(remote: str, ago: timedelta = timedelta(0), tcp_packets: int = 0) -> list[Flow]:
        kind = {"protocol": "tcp", "packets": tcp_packets} if tcp_packets else {"protocol": "udp"}
        at = window.start - ago
        return [
            Flow(at + MINUTE * (n + 1), remote, 53, 41000 + n, inbound=False, **kind)
            for n in range(3)
        ]

    first = [Flow(window.start - 6 * DAY, "52.94.1.10", 443, 41500, inbound=False)]
    known = flow_documents(first)
    usual = flow_documents([*first, *queries("1.1.1.1", 6 * DAY), *queries("1.1.1.1", 2 * DAY)])
    vpc_resolver = FLOW_INSTANCE[2].rsplit(".", 2)[0] + ".0.2"
    new_udp, new_tcp = (
        flow_documents(queries("8.8.8.8")),
        flow_documents(queries("9.9.9.9", tcp_packets=6)),
    )
    expected = (RESOLVER,)
    return [
        Case("a resolver never used", new_udp, expected, known),
        Case("DNS over TCP to a new resolver", new_tcp, expected, known),
        Case(
            "a SYN probe of port 53",
            flow_documents(queries("203.0.113.9", tcp_packets=1)),
            (),
            known,
        ),
        Case("the instance's usual resolver", flow_documents(queries("1.1.1.1")), (), usual),
        Case("the VPC resolver", flow_documents(queries(vpc_resolver)), (), known),
        Case("an instance without history", new_udp),
    ]


register(
    Detector(
        name="unusual-dns-resolver",
        log_type="vpcflow",
        finding_types=(RESOLVER,),
        logic=(
            "Accepted outbound port-53 flows (UDP, or TCP of at least `min_tcp_packets` packets) "
            "from an interface to an address outside "
            "`internal_networks` (the VPC resolver is never reported) that the interface did "
            "not send DNS to in the previous `baseline_days`; the interface must have flows "
            "from at least `learning_days` before the window."
        ),
        query=resolver_query,
        aggs=resolver_aggs,
        evaluate=resolver_evaluate,
        baseline=resolver_baseline,
        params={
            "baseline_days": 7,
            "learning_days": 3,
            "internal_networks": INTERNAL_NETWORKS,
            "min_tcp_packets": 4,
            "max_resolvers": 100,
            "max_findings": 200,
        },
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=resolver_cases,
    )
)
