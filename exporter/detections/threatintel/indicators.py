"""One list value -> a normalized indicator: an IP address, a CIDR network or a domain.

PURE. Normalization, so that the same indicator written two ways is one entry:

- IP addresses in canonical form (``ipaddress``: IPv6 compressed, lowercase);
- a CIDR network with host bits set (``203.0.113.7/24``) is **rejected**, not silently
  widened: the intent is ambiguous, the error names the network meant;
  ``/32`` (``/128``) is the address itself;
- addresses and networks wholly inside non-public space (RFC 1918, CGNAT ``100.64/10``,
  loopback, link-local, multicast, unspecified, reserved, ``fc00::/7``) are rejected: lists
  apply to public addresses only. The documentation ranges (TEST-NET-1/2/3, ``2001:db8::/32``)
  count as public: examples, tests and the simulator use them for internet peers;
- domains lowercased, trailing dot and a leading ``*.`` removed (a listed domain matches
  itself and every subdomain anyway), internationalized names as IDNA A-labels (``xn--``),
  the form DNS logs carry; at least two labels, a non-numeric top-level label, letters,
  digits, ``-`` and ``_`` only.
"""

from __future__ import annotations

import ipaddress
import re

import idna

from exporter.detections.threatintel.model import Entry, EntryKind

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NON_PUBLIC: tuple[IpNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "::ffff:0:0/96",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_MAX_DOMAIN = 253


def is_public(address: IpAddress | IpNetwork) -> bool:
    """False for an address (or a network wholly) inside a non-public range."""
    if isinstance(address, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return not any(
            address.version == n.version and address.subnet_of(n)  # type: ignore[arg-type]
            for n in NON_PUBLIC
        )
    return not any(address in n for n in NON_PUBLIC)


def parse_address(value: str) -> IpAddress | None:
    """The IP address ``value`` names, or None."""
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def classify(value: str, kind: EntryKind = "auto") -> Entry:
    """The normalized entry ``value`` names; ValueError (the reason) when it names none."""
    text = value.strip()
    if not text:
        raise ValueError("empty value")
    if "://" in text:
        raise ValueError("a URL, not an IP address, CIDR or domain")
    looks_ip = ":" in text or "/" in text or _is_dotted_numeric(text)
    entry = _ip_entry(text) if looks_ip else Entry(normalize_domain(text), "domain")
    if kind == "ip" and entry.indicator_type == "domain":
        raise ValueError("expected an IP address or CIDR, not a domain")
    if kind == "domain" and entry.indicator_type != "domain":
        raise ValueError("expected a domain, not an IP address")
    return entry


def _is_dotted_numeric(text: str) -> bool:
    return all(part.isdigit() for part in text.split("."))


def _ip_entry(text: str) -> Entry:
    if "/" not in text:
        address = parse_address(text)
        if address is None:
            raise ValueError("not an IP address, CIDR or domain")
        if not is_public(address):
            raise ValueError("not a public address (lists apply to public IPs only)")
        return Entry(str(address), "ip")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(_network_reason(text, exc)) from None
    if not is_public(network):
        raise ValueError("not a public network (lists apply to public IPs only)")
    if network.num_addresses == 1:
        return Entry(str(network.network_address), "ip")
    return Entry(str(network), "cidr")


def _network_reason(text: str, exc: ValueError) -> str:
    try:
        meant = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"not a CIDR network ({exc})"
    return f"host bits set (did you mean {meant}?)"


def normalize_domain(text: str) -> str:
    """``text`` as a lowercase A-label domain; ValueError when it is not a domain name."""
    name = text.strip().rstrip(".").lower()
    name = name.removeprefix("*.")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueError(f"not a valid internationalized domain ({exc})") from None
    labels = name.split(".")
    if len(name) > _MAX_DOMAIN or len(labels) < 2:
        raise ValueError("not an IP address, CIDR or domain (a domain needs 2+ labels)")
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValueError("not an IP address, CIDR or domain")
    return name
