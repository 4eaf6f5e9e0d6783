"""Percolator hits of one event -> FindingSpecs, with GuardDuty's list semantics.

PURE. The rules, as GuardDuty documents them:

- IP lists apply to public addresses only, and to CloudTrail, VPC flow and EKS audit events;
  DNS findings come from domain entries only, whatever IP lists say.
- Trusted wins: a threat hit on an address that a trusted entry also covers makes no finding
  (other listed addresses of the same event still do). On DNS, a trusted domain entry
  matching the query name silences every threat domain entry.
- One finding per list, type and resource role: the list name is part of the aggregation
  key, plus the listed domain for DNS. The remote address is variable detail (not keyed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.detections.threatintel import resolution
from exporter.detections.threatintel.indicators import IpAddress, is_public, parse_address
from exporter.detections.threatintel.model import CATEGORIES, IntelHit
from exporter.findings.spec import FindingSpec, ResourceRole, ThreatDetail

Event = Mapping[str, Any]


@dataclass(frozen=True)
class _Match:
    """A threat hit, its finding type and the rendered wording."""

    hit: IntelHit
    finding_type: str
    title: str
    description: str
    role: ResourceRole = "TARGET"


def intel_findings(event: Event, log_type: str, hits: Sequence[IntelHit]) -> list[FindingSpec]:
    """The findings the list hits of one ECS ``event`` of ``log_type`` make."""
    handler = _HANDLERS.get(log_type)
    if handler is None:
        return []
    specs: dict[tuple[str, tuple[str, ...], str], FindingSpec] = {}
    for match in handler(event, hits):
        spec = _spec(match)
        specs.setdefault((spec.type, spec.key, spec.resource_role), spec)
    return list(specs.values())


def _spec(match: _Match) -> FindingSpec:
    hit = match.hit
    info = resolution.type_info(match.finding_type)
    key = (hit.list_name, hit.indicator) if hit.indicator_type == "domain" else (hit.list_name,)
    extra = {"threatName": hit.threat_name} if hit.threat_name else {}
    return FindingSpec(
        type=match.finding_type,
        severity=info.severity,
        title=match.title,
        description=match.description,
        resource_role=match.role,
        key=key,
        threat=ThreatDetail(hit.list_name, (hit.threat_name,) if hit.threat_name else ()),
        tactic=info.tactic,
        technique=info.technique,
        rule=f"threatlist:{hit.list_name}",
        additional_info={"threatListName": hit.list_name, **extra},
    )


# --- event fields -------------------------------------------------------------------------


def values(event: Event, path: str) -> list[str]:
    """Every scalar at a dotted ``path`` of a nested document, as text."""
    current: Any = event
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return []
        current = current[part]
    items = current if isinstance(current, list) else [current]
    return [str(item) for item in items if isinstance(item, str | int | float)]


def first(event: Event, *paths: str, default: str = "unknown") -> str:
    """The first value found at any of ``paths``."""
    for path in paths:
        found = values(event, path)
        if found:
            return found[0]
    return default


# --- trusted wins -------------------------------------------------------------------------


def _covers(hit: IntelHit, address: IpAddress) -> bool:
    try:
        return address in ipaddress.ip_network(hit.indicator, strict=False)
    except ValueError:
        return False


def _listed(hit: IntelHit, addresses: Iterable[str], trusted: Sequence[IntelHit]) -> str | None:
    """The first public address ``hit`` covers and no trusted entry does."""
    for text in addresses:
        address = parse_address(text)
        if address is None or not is_public(address) or not _covers(hit, address):
            continue
        if not any(_covers(t, address) for t in trusted):
            return str(address)
    return None


def _split(hits: Sequence[IntelHit], domains: bool) -> tuple[list[IntelHit], list[IntelHit]]:
    """(threat hits, trusted hits) on domains, or on IPs and CIDRs."""
    chosen = [h for h in hits if (h.indicator_type == "domain") == domains]
    return (
        [h for h in chosen if h.list_kind == "threat"],
        [h for h in chosen if h.list_kind == "trusted"],
    )


def _on(hit: IntelHit, address: str) -> str:
    label = CATEGORIES.get(hit.category, "threat list")
    return f"IP address {address} on {label} {hit.list_name}"


def _because(hit: IntelHit) -> str:
    label = CATEGORIES.get(hit.category, "threat list")
    named = f" ({hit.threat_name})" if hit.threat_name else ""
    return f"it matches entry {hit.indicator}{named} of {label} {hit.list_name}."


# --- per data source ------------------------------------------------------------------------


def _cloudtrail(event: Event, hits: Sequence[IntelHit]) -> Iterable[_Match]:
    api = first(event, "event.action")
    provider = first(event, "event.provider")
    data = first(event, "aws.cloudtrail.event_category", default="") == "Data"
    if data and provider != "s3.amazonaws.com":
        return
    threats, trusted = _split(hits, domains=False)
    caller = first(event, "user.name", "aws.cloudtrail.user_identity.arn")
    bucket = first(event, "aws.cloudtrail.request_parameters.bucketName")
    for hit in threats:
        address = _listed(hit, values(event, "related.ip") or values(event, "source.ip"), trusted)
        if address is None:
            continue
        if data:
            finding_type = resolution.s3_type(hit.category, api)
            title = f"S3 API {api} on bucket {bucket} was invoked from {_on(hit, address)}."
        else:
            finding_type = resolution.iam_type(hit.category, api)
            title = f"API {api} was invoked from {_on(hit, address)}."
        text = f"API {api} of {provider} was invoked by {caller} from {address}; {_because(hit)}"
        yield _Match(hit, finding_type, title, text)


def _eks_audit(event: Event, hits: Sequence[IntelHit]) -> Iterable[_Match]:
    verb = first(event, "kubernetes.audit.verb", "event.action", default="")
    resource = first(
        event, "kubernetes.audit.objectRef.resource", "orchestrator.resource.type", default=""
    )
    subresource = first(event, "kubernetes.audit.objectRef.subresource", default="")
    uri = first(event, "kubernetes.audit.requestURI", "url.original", default="")
    tactic = resolution.eks_tactic(verb, resource, subresource, uri)
    if tactic is None:
        return
    cluster = first(event, "orchestrator.cluster.name")
    user = first(event, "user.name")
    threats, trusted = _split(hits, domains=False)
    for hit in threats:
        address = _listed(hit, values(event, "related.ip") or values(event, "source.ip"), trusted)
        if address is None:
            continue
        what = f"{verb} {resource}" + (f"/{subresource}" if subresource else "")
        title = f"Kubernetes API {what} in cluster {cluster} was invoked from {_on(hit, address)}."
        text = f"{user} called {uri or what} in cluster {cluster} from {address}; {_because(hit)}"
        yield _Match(hit, resolution.eks_type(hit.category, tactic), title, text)


_FLOW_SIDES = (
    (True, ("source.ip", "aws.vpcflow.pkt_srcaddr")),
    (False, ("destination.ip", "aws.vpcflow.pkt_dstaddr")),
)
_ROLES: Mapping[resolution.Direction, ResourceRole] = {"INBOUND": "TARGET", "OUTBOUND": "ACTOR"}


def connection_direction(event: Event, remote_is_source: bool) -> resolution.Direction:
    """Who opened the connection a flow record belongs to: the side with the higher port is
    the client (a reply record of an outbound connection is still OUTBOUND); without two
    distinct ports, the record's own direction."""
    ports = [values(event, f"{side}.port") for side in ("source", "destination")]
    if all(found and found[0].isdigit() for found in ports) and ports[0][0] != ports[1][0]:
        source_is_client = int(ports[0][0]) > int(ports[1][0])
        return "INBOUND" if source_is_client == remote_is_source else "OUTBOUND"
    return "INBOUND" if remote_is_source else "OUTBOUND"


def _vpcflow(event: Event, hits: Sequence[IntelHit]) -> Iterable[_Match]:
    instance = first(event, "cloud.instance.id", "aws.vpcflow.interface_id")
    threats, trusted = _split(hits, domains=False)
    for hit in threats:
        for remote_is_source, paths in _FLOW_SIDES:
            address = _listed(hit, [v for path in paths for v in values(event, path)], trusted)
            direction = connection_direction(event, remote_is_source)
            finding_type = resolution.FLOW_TYPES.get((hit.category, direction))
            if address is None or finding_type is None:
                continue
            if direction == "OUTBOUND":
                title = f"EC2 instance {instance} is communicating with {_on(hit, address)}."
                text = f"EC2 instance {instance} opened connections to {address}; "
            else:
                title = f"EC2 instance {instance} is receiving traffic from {_on(hit, address)}."
                text = f"{address} opened connections to EC2 instance {instance}; "
            yield _Match(hit, finding_type, title, text + _because(hit), _ROLES[direction])


def _route53(event: Event, hits: Sequence[IntelHit]) -> Iterable[_Match]:
    threats, trusted = _split(hits, domains=True)
    if trusted:
        return
    query = first(event, "dns.question.name")
    instance = first(event, "cloud.instance.id", "source.ip")
    parents = set(values(event, "duskwatch.dns.parent_domains"))
    for hit in threats:
        finding_type = resolution.DNS_TYPES.get(hit.category)
        if finding_type is None or hit.indicator not in parents:
            continue
        label = CATEGORIES.get(hit.category, "threat list")
        title = f"EC2 instance {instance} queried domain {query} on {label} {hit.list_name}."
        text = f"EC2 instance {instance} queried {query}; {_because(hit)}"
        yield _Match(hit, finding_type, title, text, "ACTOR")


_HANDLERS: Mapping[str, Callable[[Event, Sequence[IntelHit]], Iterable[_Match]]] = {
    "cloudtrail": _cloudtrail,
    "eks-audit": _eks_audit,
    "vpcflow": _vpcflow,
    "route53": _route53,
}
