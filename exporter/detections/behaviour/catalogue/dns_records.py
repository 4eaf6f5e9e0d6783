"""Raw Route 53 Resolver query log records (JSON lines) for the DNS detectors' cases."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from datetime import datetime

from exporter.detections.behaviour.catalogue.documents import from_raw, lines
from exporter.detections.behaviour.model import Document

ACCOUNT, REGION, VPC = "111122223333", "us-east-1", "vpc-0a1b2c3d"
ORIGIN = f"AWSLogs/{ACCOUNT}/vpcdnsquerylogs/{VPC}/2026/01/14/case.log"
INSTANCE = ("i-0b1c2d3e4f5a60719", "10.20.1.20")
"""(instance id, private address) of the querying instance in every case."""
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Lookup:
    """One query of the watched instance; ``answer`` is the A record of a NOERROR answer."""

    at: datetime
    name: str
    rcode: str = "NOERROR"
    answer: str = "198.51.100.140"


def record(lookup: Lookup) -> str:
    """The query log line of ``lookup``."""
    answers = [{"Rdata": lookup.answer, "Type": "A", "Class": "IN"}]
    return json.dumps(
        {
            "version": "1.100000",
            "account_id": ACCOUNT,
            "region": REGION,
            "vpc_id": VPC,
            "query_timestamp": lookup.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "query_name": f"{lookup.name}.",
            "query_type": "A",
            "query_class": "IN",
            "rcode": lookup.rcode,
            "answers": answers if lookup.rcode == "NOERROR" else [],
            "srcaddr": INSTANCE[1],
            "srcport": "53211",
            "transport": "UDP",
            "srcids": {"instance": INSTANCE[0]},
        }
    )


def documents(lookups: list[Lookup]) -> list[Document]:
    """The ECS documents of ``lookups``."""
    return from_raw("route53", lines(map(record, lookups)), ORIGIN)


def encoded_label(rng: random.Random, size: int) -> str:
    """A base32 label of ``size`` characters, as DNS tunnels encode data (lowercase)."""
    raw = base64.b32encode(rng.randbytes(size)).decode().lower()
    return raw[:size]


def random_label(rng: random.Random, size: int) -> str:
    """A label of uniformly random letters, as domain generation algorithms produce."""
    return "".join(rng.choice(LETTERS) for _ in range(size))
