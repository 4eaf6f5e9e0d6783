"""``Trojan:EC2/DNSDataExfiltration``: many long, encoded-looking names under one registered
domain from one instance within a window (DNS tunnelling).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.dns import (
    ALLOWED_DOMAINS,
    DOMAIN,
    MINUTE,
    NAME,
    SOURCE,
    VPC,
    encoded,
    entropy,
    instance_of,
    not_allowed,
    subdomain,
)
from exporter.detections.behaviour.catalogue.dns_records import (
    Lookup,
    encoded_label,
)
from exporter.detections.behaviour.catalogue.dns_records import documents as dns_documents
from exporter.detections.behaviour.model import (
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
    sample,
    top_keys,
    with_evidence,
)
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

CASE_DOMAIN = "qz7-relay-sync.top"
"""A made-up registered domain for the tunnelling cases."""

EXFILTRATION = "Trojan:EC2/DNSDataExfiltration"


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
            severity=default_severity(EXFILTRATION),
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
                **window.info,
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
