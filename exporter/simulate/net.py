"""Address spaces for simulated peers, and a stable name -> address "resolver".

Instances live in ``10.0.0.0/8``. Internet peers come from generic public unicast space (first
octets held by regional registries; no private, shared, loopback, link-local, multicast or
famous resolver blocks) plus the documentation ranges TEST-NET-1 and TEST-NET-2 (hosts .10-.120
for the simulated offices, .128-.254 for random peers). TEST-NET-3 (:data:`SCENARIO_NETWORK`) is
never used by background activity: attack scenarios draw their attacker addresses from it, so a
labelled address can never collide with normal use.

Note: Python's ``ipaddress`` reports the documentation ranges as ``is_private``; treat
"internet peer" as "outside the VPC CIDRs", not as ``is_global``.
"""

from __future__ import annotations

import random

from exporter.simulate.ids import between, pick, stable_int

SCENARIO_NETWORK = "203.0.113.0/24"
DOCUMENTATION_PREFIXES = ("192.0.2", "198.51.100")
GENERIC_FIRST_OCTETS = (
    *(2, 5, 31, 37, 41, 46, 49, 58, 59, 61, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87),
    *(88, 89, 90, 91, 92, 93, 94, 95, 101, 103, 109, 110, 112, 113, 115, 116, 117, 118, 119),
    *(121, 122, 123, 124, 125, 141, 145, 146, 151, 176, 177, 178, 179, 180, 181, 182, 183),
    *(185, 186, 187, 188, 189, 190, 191, 193, 194, 195, 197, 200, 201, 212, 213, 217),
)
AWS_FIRST_OCTETS = (3, 18, 52, 54)
S3_PREFIXES = {
    "us-east-1": ("52.216", "52.217", "3.5"),
    "eu-west-1": ("52.218", "3.5"),
}
DEFAULT_S3_PREFIXES = ("52.92", "3.5")


def internet_ip(rng: random.Random, documentation: float = 0.1) -> str:
    """A random public IPv4 address (a ``documentation`` share from TEST-NET-1/2)."""
    if rng.random() < documentation:
        return f"{pick(rng, DOCUMENTATION_PREFIXES)}.{between(rng, 128, 254)}"
    first = pick(rng, GENERIC_FIRST_OCTETS)
    return f"{first}.{between(rng, 0, 255)}.{between(rng, 0, 255)}.{between(rng, 1, 254)}"


def _hashed_ip(first_octets: tuple[int, ...], *parts: object) -> str:
    value = stable_int(*parts)
    first = first_octets[value % len(first_octets)]
    return f"{first}.{value >> 8 & 255}.{value >> 16 & 255}.{(value >> 24) % 254 + 1}"


def resolve(name: str, count: int = 1) -> tuple[str, ...]:
    """The A records of ``name``: stable across streams, so DNS answers match flow peers."""
    octets = AWS_FIRST_OCTETS if name.endswith(".amazonaws.com.") else GENERIC_FIRST_OCTETS
    return tuple(_hashed_ip(octets, "resolve", name, i) for i in range(count))


def aws_ip(*parts: object) -> str:
    """A stable address in AWS-owned public space (Lambda egress, EKS endpoint, NAT EIPs)."""
    return _hashed_ip(AWS_FIRST_OCTETS, "aws", *parts)


def s3_ip(region: str, *parts: object) -> str:
    """A stable address in the region's S3 prefix list."""
    prefixes = S3_PREFIXES.get(region, DEFAULT_S3_PREFIXES)
    value = stable_int("s3", region, *parts)
    return f"{prefixes[value % len(prefixes)]}.{value >> 8 & 255}.{(value >> 16) % 254 + 1}"


def ptr_name(ip: str) -> str:
    """The reverse-lookup query name of an IPv4 address (``25.3.0.10.in-addr.arpa.``)."""
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."


def private_dns(ip: str, region: str) -> str:
    """The EC2 private DNS name of ``ip`` (no trailing dot)."""
    host = "ip-" + ip.replace(".", "-")
    if region == "us-east-1":
        return f"{host}.ec2.internal"
    return f"{host}.{region}.compute.internal"
