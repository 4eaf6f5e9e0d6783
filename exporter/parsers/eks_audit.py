"""Amazon EKS (Kubernetes) audit log reader.

Reads ``audit.k8s.io/v1`` Event objects: one per line, an ``EventList``, a JSON array, CloudWatch
Logs subscription envelopes from EKS control-plane logging, and CloudWatch export lines
(``<timestamp> <event JSON>``). Kubernetes audit events of other clouds (a GKE LogEntry, an AKS
diagnostic-log wrapper, a Panther row of another log type) become dead letters: Duskwatch
watches EKS only.

A record read from a CloudWatch envelope carries the envelope's ``owner``, ``logGroup`` and
``logStream`` under the reserved key :data:`CLOUDWATCH_KEY` of its fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from exporter.parsers.base import DeadLetter, ParseResult, Position, Record
from exporter.parsers.jsonpayload import (
    is_cloudwatch_envelope,
    iter_json,
    iter_log_events,
    loads_message,
    original_text,
    with_index,
)

CLOUDWATCH_KEY = "@cloudwatch"
"""Fields key holding the CloudWatch envelope's owner/logGroup/logStream (never an audit key)."""
AUDIT_API_PREFIX = "audit.k8s.io/"
EKS_LOG_TYPE = "Amazon.EKS.Audit"
AUDIT_STREAM_PREFIX = "kube-apiserver-audit"
ENVELOPE_KEYS = ("owner", "logGroup", "logStream")

_SNIFF = re.compile(
    rb'\\?"apiVersion\\?"\s*:\s*\\?"audit\.k8s\.io/'
    rb'|"kind"\s*:\s*"Event(?:List)?"\s*,[^\n]*"verb"\s*:'
    rb'|"verb"\s*:[^\n]*"kind"\s*:\s*"Event"'
    rb'|"serviceName"\s*:\s*"k8s\.io"'
    rb'|"category"\s*:\s*"kube-audit'
    rb'|"logGroup"\s*:\s*"/aws/eks/'
)
_EXPORT_PREFIX = re.compile(rb"^\d{4}-\d\d-\d\dT[\d:.]+Z? +(?=[{\[])")


def foreign_reason(event: Mapping[str, Any]) -> str | None:
    """Why ``event`` is not an EKS/Kubernetes audit event, or None when it is one."""
    log_type = event.get("p_log_type")
    if log_type is not None and log_type != EKS_LOG_TYPE:
        return f"not an EKS/Kubernetes audit event: Panther p_log_type is {log_type!r}"
    if "protoPayload" in event or "logName" in event:
        return "not an EKS/Kubernetes audit event: looks like a GKE LogEntry (protoPayload)"
    category = event.get("category")
    if (isinstance(category, str) and category.startswith("kube-audit")) or "properties" in event:
        return "not an EKS/Kubernetes audit event: looks like an AKS diagnostic log (kube-audit)"
    kind, api = event.get("kind"), event.get("apiVersion")
    audit_api = isinstance(api, str) and api.startswith(AUDIT_API_PREFIX)
    if (kind == "Event" and (api is None or audit_api)) or (kind is None and audit_api):
        return None
    return f"not a Kubernetes audit event: kind {kind!r}, apiVersion {api!r}"


def split_export_line(line: bytes) -> bytes:
    """The JSON part of a CloudWatch export line (``<ISO timestamp> <message>``)."""
    match = _EXPORT_PREFIX.match(line)
    return line[match.end() :] if match else line.strip()


class EksAuditParser:
    """Reads EKS audit events from JSON lines, EventLists and CloudWatch Logs envelopes."""

    name = "eks-audit"

    def sniff(self, head: bytes) -> bool:
        """True for Kubernetes audit events (EKS or wrapped by another cloud) and EKS envelopes."""
        return _SNIFF.search(head) is not None

    def parse(self, data: bytes, origin: str) -> Iterator[ParseResult]:
        """Every EKS audit event of a decompressed payload, or dead letters."""
        return iter_json(data, origin, self._dispatch, split_export_line)

    def _dispatch(self, value: Any, raw: bytes, position: Position) -> Iterator[ParseResult]:
        """Route one JSON value: envelope, EventList or single event."""
        if isinstance(value, dict) and is_cloudwatch_envelope(value):
            if _is_audit_stream(value):
                yield from iter_log_events(value, raw, position, self._message)
        elif isinstance(value, dict) and value.get("kind") == "EventList":
            yield from self._items(value.get("items"), raw, position)
        else:
            yield _event(value, original_text(raw, value), position)

    def _items(self, items: Any, raw: bytes, position: Position) -> Iterator[ParseResult]:
        """The events of an ``EventList``."""
        if not isinstance(items, list):
            yield DeadLetter.of("EventList: items is not an array", position, raw)
            return
        for index, item in enumerate(items):
            yield _event(item, original_text(b"", item), with_index(position, index))

    def _message(
        self, message: str, position: Position, envelope: Mapping[str, Any]
    ) -> Iterator[ParseResult]:
        """A CloudWatch log event whose message is one audit event."""
        value = loads_message(message, position)
        if isinstance(value, dict):
            value[CLOUDWATCH_KEY] = {key: envelope[key] for key in ENVELOPE_KEYS if key in envelope}
        yield value if isinstance(value, DeadLetter) else _event(value, message, position)


def _is_audit_stream(envelope: Mapping[str, Any]) -> bool:
    """False for the other EKS control-plane streams (api, authenticator, scheduler...)."""
    stream, group = envelope.get("logStream"), envelope.get("logGroup")
    if not isinstance(group, str) or not group.startswith("/aws/eks/"):
        return True
    return not isinstance(stream, str) or stream.startswith(AUDIT_STREAM_PREFIX)


def _event(value: Any, original: str, position: Position) -> ParseResult:
    """A record for an audit event, a dead letter for anything else."""
    if not isinstance(value, dict):
        return DeadLetter.of(
            f"expected a JSON object, got {type(value).__name__}", position, original
        )
    reason = foreign_reason(value)
    if reason:
        return DeadLetter.of(reason, position, original)
    return Record(fields=value, position=position, original=original)


PARSER = EksAuditParser()
