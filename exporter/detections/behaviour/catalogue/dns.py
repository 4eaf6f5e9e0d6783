"""Scoring and fields shared by the behaviour detectors over DNS lookups.

Entropy cannot be computed inside an aggregation cheaply, so the queries group a window's
lookups (per querying address, and per registered domain for tunnelling), count the distinct
names with ``cardinality`` and return a ``terms`` sample of them; the pure ``evaluate`` scores
the sample (length, Shannon entropy, digit and vowel shares). Well-known provider domains
(``allowed_domains``: AWS endpoints, CloudFront's hashed names, big CDNs) are never scored.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta

from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.model import (
    Bucket,
    Params,
)
from exporter.findings.fields import text

NAME, DOMAIN = "dns.question.name", "dns.question.registered_domain"
VPC, SOURCE = "aws.route53.vpc_id", "source.ip"
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
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


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
