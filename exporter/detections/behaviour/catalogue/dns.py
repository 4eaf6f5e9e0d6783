"""Behaviour detectors over DNS: tunnelling, generated domains and unusual resolvers.

Entropy cannot be computed inside an aggregation cheaply, so the queries group a window's
lookups (per querying address, and per registered domain for tunnelling), count the distinct
names with ``cardinality`` and return a ``terms`` sample of them; the pure ``evaluate`` scores
the sample (length, Shannon entropy, digit and vowel shares). Well-known provider domains
(``allowed_domains``: AWS endpoints, CloudFront's hashed names, big CDNs) are never scored.

Route 53 Resolver query logs only show queries sent to the VPC resolver, so the unusual
resolver detector reads VPC flow logs instead: port-53 traffic from an instance to an address
outside the private ranges that the instance never used as a resolver in its baseline.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.dns_records import (
    Lookup,
    encoded_label,
    random_label,
)
from exporter.detections.behaviour.catalogue.dns_records import documents as dns_documents
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
    top_keys,
    with_evidence,
)
from exporter.findings.fields import text
from exporter.findings.spec import FindingSpec
from exporter.findings.types import FINDING_TYPES

EXFILTRATION = "Trojan:EC2/DNSDataExfiltration"
DGA = "Trojan:EC2/DGADomainRequest.B"
RESOLVER = "DefenseEvasion:EC2/UnusualDNSResolver"
NAME, DOMAIN = "dns.question.name", "dns.question.registered_domain"
VPC, SOURCE = "aws.route53.vpc_id", "source.ip"
INTERFACE = "aws.vpcflow.interface_id"
VOWELS = frozenset("aeiouy")
CONSONANT_RUNS = re.compile(r"[b-df-hj-np-tv-xz]+")
"""Runs of consonants; y counts as a vowel (in names it mostly is one: python, crypto)."""
ALLOWED_DOMAINS = [
    "amazonaws.com",
    "amazon.com",
    "amazontrust.com",
    "cloudfront.net",
    "akamaiedge.net",
    "akamai.net",
    "cloudflare.net",
    "fastly.net",
    "googleapis.com",
]
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
CASE_DOMAIN = "qz7-relay-sync.top"
"""A made-up registered domain for the tunnelling cases."""
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


def severity(finding_type: str) -> float:
    """GuardDuty's severity of ``finding_type``."""
    return FINDING_TYPES.get(finding_type).severity


def entropy(chars: str) -> float:
    """Shannon entropy of ``chars`` in bits per character (0 for an empty string)."""
    total = len(chars)
    return -sum(n / total * math.log2(n / total) for n in Counter(chars).values())


def share(chars: str, members: frozenset[str] | str) -> float:
    """The fraction of ``chars`` that are in ``members`` (0 for an empty string)."""
    return sum(c in members for c in chars) / len(chars) if chars else 0.0


def subdomain(name: str, domain: str) -> str:
    """The labels of ``name`` before its registered ``domain``, without the dots."""
    return name.removesuffix(domain).rstrip(".").replace(".", "")


def encoded(chars: str, params: Params) -> bool:
    """A subdomain that looks like encoded data: long, and random (high entropy) or
    digit-dense (hex keeps entropy at <= 4 bits but mixes digits throughout)."""
    if len(chars) < params["min_subdomain_length"]:
        return False
    dense = share(chars, "0123456789") >= float(params["min_digit_share"])
    return dense or entropy(chars) >= float(params["min_entropy"])


def consonant_run(label: str) -> int:
    """The longest run of consecutive consonants in ``label``."""
    return max(map(len, CONSONANT_RUNS.findall(label)), default=0)


def generated(label: str, params: Params) -> bool:
    """A domain label that looks machine-generated: long, varied and consonant-heavy (few
    vowels, or a run of consonants no word has)."""
    letters = "".join(c for c in label if c.isalpha())
    few_vowels = share(letters, VOWELS) <= float(params["max_vowel_share"])
    clustered = consonant_run(label) >= int(params["min_consonant_run"])
    long_enough = len(label) >= int(params["min_label_length"])
    varied = entropy(label) >= float(params["min_label_entropy"])
    return long_enough and varied and (few_vowels or clustered)


def not_allowed(params: Params) -> Query:
    """Lookups of a registered domain outside ``allowed_domains``."""
    found: Query = Q(
        "bool",
        filter=[Q("exists", field=DOMAIN)],
        must_not=[Q("terms", **{DOMAIN: list(params["allowed_domains"])})],
    )
    return found


def instance_of(event: Bucket) -> str:
    """The instance (else the address) that sent a query."""
    return text(event, "cloud.instance.id", "aws.route53.srcids.resolver_endpoint", SOURCE) or (
        "unknown"
    )


def window_info(window: Window) -> dict[str, str]:
    """``windowStart``/``windowEnd`` of a finding's additional info."""
    start, end = window.label.split("/")
    return {"windowStart": start, "windowEnd": end}


# --- Trojan:EC2/DNSDataExfiltration -------------------------------------------------------


def exfiltration_query(params: Params) -> Query:
    """Lookups of names below a registered domain that is not allow-listed."""
    found: Query = not_allowed(params) & Q("exists", field="dns.question.subdomain")
    return found


def exfiltration_aggs(params: Params) -> dict[str, Agg]:
    """Per (VPC, source address, registered domain): distinct names and a sample of them."""
    pairs = A(
        "multi_terms",
        terms=[{"field": VPC, "missing": "-"}, {"field": SOURCE}, {"field": DOMAIN}],
        min_doc_count=params["min_distinct_names"],
        size=params["max_findings"],
        order={"names": "desc"},
    )
    pairs.metric("names", A("cardinality", field=NAME))
    pairs.bucket("sample_names", A("terms", field=NAME, size=params["sample_size"]))
    return {"pairs": with_evidence(pairs)}


def exfiltration_evaluate(
    bucket: Bucket, _: Bucket | None, window: Window, params: Params
) -> list[Hit]:
    """A hit per (source, domain) with enough distinct, mostly encoded-looking names."""
    hits = []
    for pair in buckets(bucket, "pairs"):
        distinct = int(pair["names"]["value"])
        domain = str(pair["key"][2])
        labels = [subdomain(name, domain) for name in top_keys(pair, "sample_names", 10_000)]
        scored = [chars for chars in labels if encoded(chars, params)]
        ratio = len(scored) / len(labels) if labels else 0.0
        if distinct < params["min_distinct_names"] or ratio < params["min_encoded_share"]:
            continue
        event = sample(pair)
        instance = instance_of(event)
        first, last = bounds(pair)
        spec = FindingSpec(
            type=EXFILTRATION,
            severity=severity(EXFILTRATION),
            title=f"Data exfiltration through DNS queries from EC2 instance {instance}.",
            description=(
                f"EC2 instance {instance} queried {distinct} distinct encoded-looking names "
                f"under {domain} within one window. Data may be leaving the network "
                f"encoded in DNS queries (DNS tunnelling)."
            ),
            key=(domain,),
            tactic="Exfiltration",
            technique="T1048",
            additional_info={
                "domain": domain,
                "distinctNames": distinct,
                "queryCount": int(pair["doc_count"]),
                "encodedShare": round(ratio, 2),
                "meanEntropy": round(sum(map(entropy, scored)) / max(len(scored), 1), 2),
                "sampleNames": [name for name in top_keys(pair, "sample_names", 5)],
                **window_info(window),
            },
        )
        hits.append(Hit(spec, event, first, last))
    return hits


def exfiltration_cases(window: Window) -> list[Case]:
    """Tunnelled chunks (positive); CDN hashes, readable tenant names, few chunks (negative)."""
    rng = random.Random(5)

    def burst(names: Sequence[str]) -> list[Lookup]:
        return [Lookup(window.start + MINUTE * (1 + n % 50), name) for n, name in enumerate(names)]

    chunks = [f"{n}.{encoded_label(rng, 52)}.{CASE_DOMAIN}" for n in range(40)]
    hexed = [f"{rng.randbytes(20).hex()}.{CASE_DOMAIN}" for _ in range(40)]
    cdn = [f"d{rng.getrandbits(52):013x}.cloudfront.net" for _ in range(40)]
    words = ("billing", "reports", "archive", "customer", "gateway", "frontend", "analytics")
    tenants = [
        f"tenant-{words[n % 7]}-{words[(n // 7) % 7]}-production-eu.status-pages.io"
        for n in range(40)
    ]
    expected = (EXFILTRATION,)
    return [
        Case("base32 chunks under one domain", dns_documents(burst(chunks)), expected),
        Case("hex chunks under one domain", dns_documents(burst(hexed)), expected),
        Case("a burst of hashed CDN names", dns_documents(burst(cdn))),
        Case("long readable names under one domain", dns_documents(burst(tenants))),
        Case("a few encoded names", dns_documents(burst(chunks[:8]))),
    ]


register(
    Detector(
        name="dns-data-exfiltration",
        log_type="route53",
        finding_types=(EXFILTRATION,),
        logic=(
            "Per querying instance and registered domain (not in `allowed_domains`) within a "
            "window: at least `min_distinct_names` distinct names, and at least "
            "`min_encoded_share` of a `sample_size` sample of them encoded-looking (subdomain of "
            "at least `min_subdomain_length` characters with Shannon entropy >= `min_entropy` "
            "bits/char or digits >= `min_digit_share`)."
        ),
        query=exfiltration_query,
        aggs=exfiltration_aggs,
        evaluate=exfiltration_evaluate,
        params={
            "min_distinct_names": 25,
            "min_subdomain_length": 24,
            "min_entropy": 4.0,
            "min_digit_share": 0.3,
            "min_encoded_share": 0.6,
            "sample_size": 50,
            "allowed_domains": ALLOWED_DOMAINS,
            "max_findings": 100,
        },
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=exfiltration_cases,
    )
)


# --- Trojan:EC2/DGADomainRequest.B --------------------------------------------------------


def dga_aggs(params: Params) -> dict[str, Agg]:
    """Per (VPC, source address): distinct registered domains, a sample of them, and the
    NXDOMAIN answers (with the latest one as the finding's event)."""
    sources = A(
        "multi_terms",
        terms=[{"field": VPC, "missing": "-"}, {"field": SOURCE}],
        min_doc_count=params["min_domains"],
        size=params["max_findings"],
        order={"domains": "desc"},
    )
    sources.metric("domains", A("cardinality", field=DOMAIN))
    sources.bucket("sample_domains", A("terms", field=DOMAIN, size=params["sample_size"]))
    failed = A("filter", Q("term", **{"dns.response_code": "NXDOMAIN"}))
    sources.bucket("nxdomain", with_evidence(failed))
    return {"sources": sources}


def dga_evaluate(bucket: Bucket, _: Bucket | None, window: Window, params: Params) -> list[Hit]:
    """A hit per source with many distinct, mostly generated-looking, mostly failing domains."""
    hits = []
    for source in buckets(bucket, "sources"):
        distinct = int(source["domains"]["value"])
        failed = source["nxdomain"]
        nx_share = int(failed["doc_count"]) / max(int(source["doc_count"]), 1)
        domains = top_keys(source, "sample_domains", 10_000)
        looking = [d for d in domains if generated(d.split(".")[0], params)]
        ratio = len(looking) / len(domains) if domains else 0.0
        if (
            distinct < params["min_domains"]
            or nx_share < params["min_nxdomain_share"]
            or ratio < params["min_generated_share"]
        ):
            continue
        event = sample(failed)
        instance = instance_of(event)
        first, last = bounds(failed)
        spec = FindingSpec(
            type=DGA,
            severity=severity(DGA),
            title=f"EC2 instance {instance} is querying algorithmically generated domains.",
            description=(
                f"EC2 instance {instance} queried {distinct} distinct domains within one window, "
                f"{round(ratio * 100)}% of them random-looking and {round(nx_share * 100)}% of "
                f"its queries unanswered (NXDOMAIN). Malware uses domain generation algorithms "
                f"to find its command-and-control server."
            ),
            tactic="Command and Control",
            technique="T1568.002",
            additional_info={
                "distinctDomains": distinct,
                "queryCount": int(source["doc_count"]),
                "nxdomainShare": round(nx_share, 2),
                "generatedShare": round(ratio, 2),
                "sampleDomains": looking[:5],
                **window_info(window),
            },
        )
        hits.append(Hit(spec, event, first, last))
    return hits


def dga_cases(window: Window) -> list[Case]:
    """Random domains failing (positive); readable domains, resolving DGA-like names (negative)."""
    rng = random.Random(7)
    tlds = ("com", "net", "org", "info", "biz")

    def burst(domains: Sequence[str], rcode: str = "NXDOMAIN") -> list[Lookup]:
        return [
            Lookup(window.start + MINUTE * (1 + n), name, rcode) for n, name in enumerate(domains)
        ]

    dga = [f"{random_label(rng, rng.randint(10, 16))}.{tlds[n % 5]}" for n in range(40)]
    words = ("status", "docs", "mirror", "download", "community", "support", "blog", "news")
    readable = [f"{words[n % 8]}-{words[n // 8 % 8]}-project.org" for n in range(40)]
    expected = (DGA,)
    return [
        Case("many random NXDOMAIN domains", dns_documents(burst(dga)), expected),
        Case("a link checker's dead readable domains", dns_documents(burst(readable))),
        Case("random domains that resolve", dns_documents(burst(dga, "NOERROR"))),
        Case("a handful of random domains", dns_documents(burst(dga[:6]))),
    ]


register(
    Detector(
        name="dns-dga-domains",
        log_type="route53",
        finding_types=(DGA,),
        logic=(
            "Per querying instance within a window: at least `min_domains` distinct registered "
            "domains (outside `allowed_domains`), at least `min_nxdomain_share` of its queries "
            "NXDOMAIN, and at least `min_generated_share` of a `sample_size` sample of the "
            "domains generated-looking (first label of at least `min_label_length` characters, "
            "entropy >= `min_label_entropy`, and vowel share <= `max_vowel_share` or a run of "
            "`min_consonant_run` consonants)."
        ),
        query=not_allowed,
        aggs=dga_aggs,
        evaluate=dga_evaluate,
        params={
            "min_domains": 15,
            "min_nxdomain_share": 0.5,
            "min_generated_share": 0.5,
            "min_label_length": 8,
            "min_label_entropy": 2.8,
            "max_vowel_share": 0.25,
            "min_consonant_run": 5,
            "sample_size": 50,
            "allowed_domains": ALLOWED_DOMAINS,
            "max_findings": 100,
        },
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=dga_cases,
    )
)


# --- DefenseEvasion:EC2/UnusualDNSResolver (VPC flow logs) --------------------------------


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
            severity=severity(RESOLVER),
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
                **window_info(window),
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
