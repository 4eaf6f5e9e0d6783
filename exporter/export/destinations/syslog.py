"""Syslog: RFC 5424 messages over UDP (RFC 5426), TCP (RFC 6587) or TLS (RFC 5425).

The message is CEF (default) or LEEF 2.0, the formats SIEMs parse without configuration:

- ``CEF:0|Amazon|GuardDuty|<schemaVersion>|<type>|<title>|<severity 0-10>|<extension>``;
  ``\\`` and ``|`` are escaped in the header, ``\\``, ``=`` and newlines in values;
- ``LEEF:2.0|Amazon|GuardDuty|<schemaVersion>|<type>|x09|<tab-separated key=value>``
  (``devTime`` in epoch milliseconds, LEEF's default; tabs and newlines in values become
  spaces).

TCP and TLS use octet-counting framing (``<length> <message>``), which survives newlines in
a message. The transport is injectable: :class:`UdpTransport` and :class:`StreamTransport`
are the real ones; tests point them at a real rsyslog.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from exporter.export.destination import DESTINATION_TYPES, Delivery, DeliveryError, DestinationType
from exporter.export.finding_fields import (
    epoch_ms,
    local_ip,
    local_port,
    path,
    remote_ip,
    remote_port,
)
from exporter.findings.severity import Label, label

APP_NAME = "duskwatch"
MSG_ID = "finding"
VENDOR, PRODUCT = "Amazon", "GuardDuty"
FACILITIES = {
    name: number
    for number, name in enumerate(
        ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
         "authpriv", "ftp", "ntp", "audit", "alert", "clock")
    )
} | {f"local{n}": 16 + n for n in range(8)}  # fmt: skip
"""RFC 5424 facility names and codes."""

SYSLOG_SEVERITY = {Label.CRITICAL: 2, Label.HIGH: 3, Label.MEDIUM: 4, Label.LOW: 5}
"""Finding label -> syslog severity (crit, err, warning, notice)."""

Extract = Callable[[Mapping[str, Any], str], Any]


def _at(dotted: str) -> Extract:
    return lambda finding, _event_id: path(finding, dotted)


def _ms(dotted: str) -> Extract:
    return lambda finding, _event_id: epoch_ms(path(finding, dotted))


def _remote_ip(finding: Mapping[str, Any], _event_id: str) -> Any:
    return remote_ip(finding)


def _local_ip(finding: Mapping[str, Any], _event_id: str) -> Any:
    return local_ip(finding)


def _remote_port(finding: Mapping[str, Any], _event_id: str) -> Any:
    return remote_port(finding)


def _local_port(finding: Mapping[str, Any], _event_id: str) -> Any:
    return local_port(finding)


def _protocol(finding: Mapping[str, Any], _event_id: str) -> Any:
    return path(finding, "service.action.networkConnectionAction.protocol")


def _event_id(_finding: Mapping[str, Any], event_id: str) -> Any:
    return event_id


FIELDS: tuple[tuple[str, str, Extract], ...] = (
    ("rt", "devTime", _ms("updatedAt")),
    ("start", "startTime", _ms("service.eventFirstSeen")),
    ("end", "endTime", _ms("service.eventLastSeen")),
    ("cat", "cat", _at("type")),
    ("externalId", "findingId", _at("id")),
    ("cnt", "count", _at("service.count")),
    ("src", "src", _remote_ip),
    ("spt", "srcPort", _remote_port),
    ("dst", "dst", _local_ip),
    ("dpt", "dstPort", _local_port),
    ("proto", "proto", _protocol),
    ("dhost", "instanceId", _at("resource.instanceDetails.instanceId")),
    ("duser", "usrName", _at("resource.accessKeyDetails.userName")),
    ("destinationDnsDomain", "domain", _at("service.action.dnsRequestAction.domain")),
    ("msg", "msg", _at("description")),
    ("cs1", "accountId", _at("accountId")),
    ("cs2", "region", _at("region")),
    ("cs3", "findingArn", _at("arn")),
    ("cs4", "resourceType", _at("resource.resourceType")),
    ("cs5", "resourceRole", _at("service.resourceRole")),
    ("cs6", "eventId", _event_id),
    ("cfp1", "severity", _at("severity")),
)
"""(CEF key, LEEF key, extractor) of every attribute sent; a CEF ``csN``/``cfpN`` key gets a
``<key>Label`` naming it (the LEEF key)."""


def cef_header(text: str) -> str:
    """A CEF header field: ``\\`` and ``|`` escaped, newlines flattened."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|")
    return escaped.replace("\r", " ").replace("\n", " ")


def cef_value(text: str) -> str:
    """A CEF extension value: ``\\``, ``=`` and newlines escaped."""
    escaped = text.replace("\\", "\\\\").replace("=", "\\=")
    return escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def cef_severity(severity: float) -> int:
    """GuardDuty's 1.0-10.0 severity as CEF's integer 0-10."""
    return max(0, min(10, int(severity)))


def _values(finding: Mapping[str, Any], event_id: str) -> Iterator[tuple[str, str, str]]:
    for cef_key, leef_key, extract in FIELDS:
        value = extract(finding, event_id)
        if value is not None and value != "":
            yield cef_key, leef_key, str(value)


def cef(finding: Mapping[str, Any], event_id: str) -> str:
    """The CEF record of a finding."""
    pairs: list[str] = []
    for cef_key, leef_key, value in _values(finding, event_id):
        if cef_key.startswith(("cs", "cfp")):
            pairs.append(f"{cef_key}Label={leef_key}")
        pairs.append(f"{cef_key}={cef_value(value)}")
    header = [
        "CEF:0",
        *(cef_header(str(part)) for part in (VENDOR, PRODUCT, finding["schemaVersion"])),
        cef_header(str(finding["type"])),
        cef_header(str(finding["title"])),
        str(cef_severity(float(finding["severity"]))),
    ]
    return "|".join(header) + "|" + " ".join(pairs)


def leef_value(text: str) -> str:
    """A LEEF value: tabs and newlines (the delimiter and record separators) become spaces."""
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def leef(finding: Mapping[str, Any], event_id: str) -> str:
    """The LEEF 2.0 record of a finding (tab-delimited attributes)."""
    attributes = [
        f"{leef_key}={leef_value(value)}" for _, leef_key, value in _values(finding, event_id)
    ]
    attributes.append(f"sev={cef_severity(float(finding['severity']))}")
    header = [
        "LEEF:2.0",
        *(cef_header(str(part)) for part in (VENDOR, PRODUCT, finding["schemaVersion"])),
        cef_header(str(finding["type"])),
        "x09",
    ]
    return "|".join(header) + "|" + "\t".join(attributes)


FORMATS: dict[str, Callable[[Mapping[str, Any], str], str]] = {"cef": cef, "leef": leef}
"""Payload formats by option value."""


def _token(text: str, limit: int) -> str:
    """An RFC 5424 header token: printable US-ASCII without spaces, ``-`` when empty."""
    kept = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return kept or "-"


def rfc5424(
    payload: str,
    *,
    severity: float,
    timestamp: str,
    hostname: str,
    facility: str = "local0",
    app_name: str = APP_NAME,
) -> bytes:
    """An RFC 5424 syslog message carrying ``payload`` (no structured data)."""
    pri = FACILITIES[facility] * 8 + SYSLOG_SEVERITY[label(severity)]
    header = " ".join(
        (
            f"<{pri}>1",
            _token(timestamp, 32),
            _token(hostname, 255),
            _token(app_name, 48),
            "-",
            MSG_ID,
            "-",
        )
    )
    return f"{header} {payload}".encode()


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 octet-counting framing: ``<length> <message>``."""
    return str(len(message)).encode() + b" " + message


class SyslogTransport(Protocol):
    """Sends syslog messages; raises OSError when it cannot."""

    def send(self, messages: Sequence[bytes]) -> None:
        """Send every message, in order."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@dataclass
class UdpTransport:
    """One datagram per message (RFC 5426)."""

    host: str
    port: int
    _socket: socket.socket | None = field(default=None, init=False, repr=False)

    def send(self, messages: Sequence[bytes]) -> None:
        """Send each message as one datagram."""
        if self._socket is None:
            family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0][0]
            self._socket = socket.socket(family, socket.SOCK_DGRAM)
        for message in messages:
            self._socket.sendto(message, (self.host, self.port))

    def close(self) -> None:
        """Close the socket."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


@dataclass
class StreamTransport:
    """A TCP or TLS connection with octet-counting framing, reconnected after an error."""

    host: str
    port: int
    tls: ssl.SSLContext | None = None
    server_name: str | None = None
    timeout: float = 10.0
    _socket: socket.socket | None = field(default=None, init=False, repr=False)

    def send(self, messages: Sequence[bytes]) -> None:
        """Send the framed messages; on error the connection is dropped (and redone next time)."""
        data = b"".join(octet_frame(m) for m in messages)
        try:
            self._connected().sendall(data)
        except OSError:
            self.close()
            raise

    def _connected(self) -> socket.socket:
        if self._socket is None:
            raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
            if self.tls is not None:
                try:
                    raw = self.tls.wrap_socket(raw, server_hostname=self.server_name or self.host)
                except OSError:
                    raw.close()
                    raise
            self._socket = raw
        return self._socket

    def close(self) -> None:
        """Close the connection."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


@dataclass
class SyslogDestination:
    """Sends findings as syslog messages."""

    name: str
    transport: SyslogTransport
    format: str = "cef"
    facility: str = "local0"
    hostname: str = field(default_factory=socket.gethostname)
    app_name: str = APP_NAME
    max_batch: int = 100

    def message(self, delivery: Delivery) -> bytes:
        """The framed-to-be syslog message of one delivery."""
        finding = delivery.finding
        return rfc5424(
            FORMATS[self.format](finding, delivery.event_id),
            severity=float(finding["severity"]),
            timestamp=str(finding["updatedAt"]),
            hostname=self.hostname,
            facility=self.facility,
            app_name=self.app_name,
        )

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """Send the batch; a socket error fails the whole batch (retryable)."""
        try:
            self.transport.send([self.message(d) for d in batch])
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"syslog: {exc}", retryable=True) from exc

    def close(self) -> None:
        """Close the transport's socket."""
        self.transport.close()


def tls_context(options: Mapping[str, Any]) -> ssl.SSLContext:
    """The client TLS context: CA file, verification and an optional client certificate."""
    context = ssl.create_default_context(cafile=options.get("ca_file"))
    if not options.get("verify", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.get("cert_file"):
        context.load_cert_chain(options["cert_file"], options.get("key_file"))
    return context


DEFAULT_PORTS = {"udp": 514, "tcp": 514, "tls": 6514}


def transport(options: Mapping[str, Any]) -> SyslogTransport:
    """The transport the options ask for."""
    protocol = options.get("protocol", "udp")
    host, port = options["host"], int(options.get("port", DEFAULT_PORTS[protocol]))
    if protocol == "udp":
        return UdpTransport(host, port)
    return StreamTransport(
        host,
        port,
        tls=tls_context(options) if protocol == "tls" else None,
        server_name=options.get("server_name"),
        timeout=float(options.get("timeout_seconds", 10)),
    )


OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["host"],
    "properties": {
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "protocol": {"enum": ["udp", "tcp", "tls"], "default": "udp"},
        "format": {"enum": sorted(FORMATS), "default": "cef"},
        "facility": {"enum": sorted(FACILITIES), "default": "local0"},
        "hostname": {"type": "string", "description": "HOSTNAME field (default: this host)"},
        "app_name": {"type": "string", "default": APP_NAME},
        "ca_file": {"type": "string", "description": "CA bundle that signed the server (TLS)"},
        "verify": {"type": "boolean", "default": True, "description": "verify the server (TLS)"},
        "server_name": {"type": "string", "description": "name checked in the certificate"},
        "cert_file": {"type": "string", "description": "client certificate (mutual TLS)"},
        "key_file": {"type": "string", "description": "client key (mutual TLS)"},
        "timeout_seconds": {"type": "number", "minimum": 0.1, "default": 10},
    },
}


def build(name: str, options: Mapping[str, Any]) -> SyslogDestination:
    """A syslog destination from its options."""
    return SyslogDestination(
        name=name,
        transport=transport(options),
        format=options.get("format", "cef"),
        facility=options.get("facility", "local0"),
        hostname=options.get("hostname") or socket.gethostname(),
        app_name=options.get("app_name", APP_NAME),
    )


DESTINATION_TYPES.add(
    "syslog",
    DestinationType(
        "syslog",
        "RFC 5424 syslog over UDP, TCP or TLS; CEF (default) or LEEF 2.0 payload",
        OPTIONS_SCHEMA,
        build,
    ),
)
