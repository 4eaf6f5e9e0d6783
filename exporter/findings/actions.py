"""The ``service.action`` of a finding, per GuardDuty action type, read from the event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exporter.findings.fields import Endpoint, Event, compact, ip_details, sides, strings, text
from exporter.normalize.ecs import as_int, get_path
from exporter.registry import Registry

Action = dict[str, Any]

ACTIONS: Registry[Callable[[Event], Action]] = Registry("action type")
"""Builders of the action object, keyed by ``actionType``."""

ACTION_KEYS: dict[str, str] = {
    "AWS_API_CALL": "awsApiCallAction",
    "NETWORK_CONNECTION": "networkConnectionAction",
    "PORT_PROBE": "portProbeAction",
    "DNS_REQUEST": "dnsRequestAction",
    "KUBERNETES_API_CALL": "kubernetesApiCallAction",
}

PORT_NAMES: dict[int, str] = {
    20: "FTP",
    21: "FTP",
    22: "SSH",
    23: "Telnet",
    25: "SMTP",
    53: "DNS",
    80: "HTTP",
    110: "POP3",
    123: "NTP",
    143: "IMAP",
    389: "LDAP",
    443: "HTTPS",
    445: "SMB",
    465: "SMTPS",
    587: "SMTP",
    853: "DNS over TLS",
    993: "IMAPS",
    995: "POP3S",
    1433: "MSSQL",
    1521: "Oracle",
    2049: "NFS",
    2375: "Docker",
    2376: "Docker",
    3306: "MySQL",
    3389: "RDP",
    5432: "PostgreSQL",
    5900: "VNC",
    5985: "WinRM",
    5986: "WinRM",
    6379: "Redis",
    6443: "Kubernetes API",
    8080: "HTTP",
    8088: "Hadoop YARN",
    8443: "HTTPS",
    9200: "Elasticsearch",
    9300: "Elasticsearch",
    11211: "Memcached",
    27017: "MongoDB",
}
"""Well-known ports as GuardDuty names them in ``portName``; any other port is ``Unknown``."""


def action(action_type: str, event: Event) -> Action:
    """``service.action``: ``{"actionType": T, "<t>Action": {...}}`` for ``event``."""
    return {"actionType": action_type, ACTION_KEYS[action_type]: ACTIONS.get(action_type)(event)}


def port_details(port: int | None) -> dict[str, Any] | None:
    """``{"port": 22, "portName": "SSH"}``, None without a (valid) port."""
    if port is None or not 0 <= port <= 65535:
        return None
    return {"port": port, "portName": PORT_NAMES.get(port, "Unknown")}


def _blocked(event: Event) -> bool:
    return text(event, "aws.vpcflow.action", "event.action") == "REJECT"


def _protocol(event: Event) -> str:
    return (text(event, "network.transport") or "Unknown").upper()


@ACTIONS.register("AWS_API_CALL")
def aws_api_call(event: Event) -> Action:
    """The API call: name, service, error, user agent and the caller (an IP or a service)."""
    ip = ip_details(text(event, "source.ip"))
    domain = None if ip else text(event, "source.address")
    caller_account = text(event, "aws.cloudtrail.user_identity.account_id")
    foreign = caller_account and caller_account != text(event, "cloud.account.id")
    return compact(
        api=text(event, "event.action") or "unknown",
        serviceName=text(event, "event.provider"),
        callerType="Remote IP" if ip else ("Domain" if domain else None),
        errorCode=text(event, "error.code", "aws.cloudtrail.error_code"),
        userAgent=text(event, "user_agent.original"),
        remoteIpDetails=ip,
        domainDetails=compact(domain=domain),
        remoteAccountDetails=compact(accountId=caller_account) if foreign else None,
    )


@ACTIONS.register("NETWORK_CONNECTION")
def network_connection(event: Event) -> Action:
    """The flow seen from the instance: direction, protocol, both ends, blocked (REJECT)."""
    direction, local, remote = sides(event)
    return compact(
        connectionDirection=direction,
        protocol=_protocol(event),
        blocked=_blocked(event),
        localNetworkInterface=text(event, "aws.vpcflow.interface_id"),
        localIpDetails=ip_details(local.ip),
        localPortDetails=port_details(local.port),
        remoteIpDetails=ip_details(remote.ip),
        remotePortDetails=port_details(remote.port),
    )


@ACTIONS.register("PORT_PROBE")
def port_probe(event: Event) -> Action:
    """An inbound probe of a local port."""
    _, local, remote = sides(event)
    return {"blocked": _blocked(event), "portProbeDetails": [_probe(local, remote)]}


def _probe(local: Endpoint, remote: Endpoint) -> dict[str, Any]:
    return compact(
        localPortDetails=port_details(local.port),
        localIpDetails=ip_details(local.ip),
        remoteIpDetails=ip_details(remote.ip),
    )


@ACTIONS.register("DNS_REQUEST")
def dns_request(event: Event) -> Action:
    """The query: name, registered domain, transport, blocked by DNS Firewall."""
    domain = text(event, "dns.question.name") or "unknown"
    return compact(
        domain=domain,
        domainWithSuffix=text(event, "dns.question.registered_domain") or domain,
        protocol=_protocol(event),
        blocked=text(event, "aws.route53.firewall.action") == "BLOCK",
        vpcOwnerAccountId=text(event, "cloud.account.id"),
    )


@ACTIONS.register("KUBERNETES_API_CALL")
def kubernetes_api_call(event: Event) -> Action:
    """The Kubernetes API request: URI, verb, object, caller, response code."""
    audit = "kubernetes.audit"
    sources = strings(event, f"{audit}.sourceIPs")
    return compact(
        requestUri=text(event, f"{audit}.requestURI", "url.original"),
        verb=text(event, f"{audit}.verb", "event.action"),
        resource=text(event, f"{audit}.objectRef.resource"),
        subresource=text(event, f"{audit}.objectRef.subresource"),
        namespace=text(event, f"{audit}.objectRef.namespace"),
        resourceName=text(event, f"{audit}.objectRef.name"),
        sourceIPs=sources,
        userAgent=text(event, f"{audit}.userAgent", "user_agent.original"),
        statusCode=_status(get_path(event, f"{audit}.responseStatus.code")),
        remoteIpDetails=ip_details(text(event, "source.ip")),
    )


def _status(value: Any) -> int | None:
    code = as_int(value)
    return code if code is not None and 0 <= code <= 999 else None
