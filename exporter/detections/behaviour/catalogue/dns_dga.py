"""``Trojan:EC2/DGADomainRequest.B``: one instance looking up many random-looking registered
domains, most of them answered NXDOMAIN (a domain generation algorithm).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q

from exporter.detections.behaviour.catalogue.dns import (
    ALLOWED_DOMAINS,
    DOMAIN,
    MINUTE,
    SOURCE,
    VPC,
    generated,
    instance_of,
    not_allowed,
)
from exporter.detections.behaviour.catalogue.dns_records import (
    Lookup,
    random_label,
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

DGA = "Trojan:EC2/DGADomainRequest.B"


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
            severity=default_severity(DGA),
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
                **window.info,
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
