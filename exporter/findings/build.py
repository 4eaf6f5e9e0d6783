"""Turn a :class:`FindingSpec` and its triggering ECS event into GuardDuty's finding JSON.

Pure: ``now`` and the detector id are arguments. The finding id is deterministic (see
:func:`finding_id`), so every occurrence of the same issue lands on the same document and
the store aggregates it (``service.count``, ``eventLastSeen``). Besides GuardDuty's keys the
document carries a few ECS fields (``@timestamp``, ``event.kind: alert``, ``event.severity``,
``rule.name``, ``threat.*``) and, when asked, Duskwatch's bookkeeping (``duskwatch``);
:func:`to_guardduty` strips them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from exporter.errors import ParseError
from exporter.findings.actions import action
from exporter.findings.datasources import DATA_SOURCES, DataSource
from exporter.findings.fields import UNKNOWN, Event, compact, text
from exporter.findings.resources import RESOURCES
from exporter.findings.severity import api_bucket
from exporter.findings.spec import FindingSpec, ThreatDetail
from exporter.findings.types import FINDING_TYPES
from exporter.normalize.ecs import iso_timestamp, parse_timestamp

SCHEMA_VERSION = "2.0"
PARTITION = "aws"
EXTRA_KEYS = ("@timestamp", "event", "rule", "threat", "duskwatch")
"""Top-level keys Duskwatch adds to GuardDuty's finding JSON."""

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


def finding_id(
    account: str,
    region: str,
    finding_type: str,
    resource_id: str,
    resource_role: str,
    key: Sequence[str] = (),
) -> str:
    """32 lower-case hex digits, the same for the same issue on the same resource."""
    parts = [account, region, finding_type, resource_id, resource_role, *key]
    canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def finding_arn(region: str, account: str, detector_id: str, identifier: str) -> str:
    """``arn:aws:guardduty:<region>:<account>:detector/<detector>/finding/<id>``."""
    return (
        f"arn:{PARTITION}:guardduty:{region}:{account}:detector/{detector_id}/finding/{identifier}"
    )


def account_id(event: Event) -> str:
    """``cloud.account.id`` as 12 digits (leading zeros restored), else ``unknown``."""
    value = text(event, "cloud.account.id")
    if value and value.isdigit() and len(value) <= 12:
        return value.zfill(12)
    return UNKNOWN


def region_of(event: Event) -> str:
    """``cloud.region`` when it looks like an AWS region, else ``unknown``."""
    value = text(event, "cloud.region")
    return value if value and REGION_PATTERN.match(value) else UNKNOWN


def build_finding(
    spec: FindingSpec,
    event: Mapping[str, Any],
    *,
    log_type: str,
    now: datetime,
    detector_id: str,
    occurrence: str | None = None,
) -> dict[str, Any]:
    """The finding ``spec`` asserts about ``event``, a ``log_type`` document.

    ``occurrence`` (e.g. the event's document id) makes a repeated upsert of the same
    occurrence a no-op instead of counting it twice.
    """
    source = DATA_SOURCES.get(log_type)
    resource_type, action_type = _shape(spec.type, log_type, source, event)
    kind = RESOURCES.get(resource_type)
    resource = kind.build(event)
    account, region = account_id(event), region_of(event)
    primary = kind.primary_id(resource)
    identifier = finding_id(account, region, spec.type, primary, spec.resource_role, spec.key)
    stamp = iso_timestamp(now)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "accountId": account,
        "region": region,
        "partition": PARTITION,
        "id": identifier,
        "arn": finding_arn(region, account, detector_id, identifier),
        "type": spec.type,
        "resource": resource,
        "service": _service(spec, event, source, action_type, detector_id, stamp),
        "severity": float(spec.severity),
        "title": spec.title,
        "description": spec.description,
        "createdAt": stamp,
        "updatedAt": stamp,
        **_ecs(spec, stamp),
        **({"duskwatch": {"occurrences": [occurrence]}} if occurrence else {}),
    }


def to_guardduty(document: Mapping[str, Any]) -> dict[str, Any]:
    """GuardDuty's finding JSON: ``document`` without the keys Duskwatch adds."""
    return {k: v for k, v in document.items() if k not in EXTRA_KEYS}


def _shape(finding_type: str, log_type: str, source: DataSource, event: Event) -> tuple[str, str]:
    """(resourceType, actionType): the catalogue's for a known type of this log type, else
    the log type's defaults."""
    if finding_type in FINDING_TYPES:
        known = FINDING_TYPES.get(finding_type)
        if known.log_type == log_type:
            return known.resource_type, known.action_type
    return source.resource_type(event), source.action_type


def _service(
    spec: FindingSpec,
    event: Event,
    source: DataSource,
    action_type: str,
    detector_id: str,
    now: str,
) -> dict[str, Any]:
    seen = _event_time(event) or now
    return {
        "serviceName": "guardduty",
        "detectorId": detector_id,
        "action": action(action_type, event),
        "evidence": _evidence(spec.threat),
        "archived": False,
        "count": spec.count,
        "eventFirstSeen": seen,
        "eventLastSeen": seen,
        "resourceRole": spec.resource_role,
        "additionalInfo": _additional_info(spec),
        "featureName": source.feature_name(event),
    }


def _event_time(event: Event) -> str | None:
    value = event.get("@timestamp")
    if value is None:
        return None
    try:
        return parse_timestamp(value, "@timestamp")
    except ParseError:
        return None


def _evidence(threat: ThreatDetail | None) -> dict[str, Any] | None:
    if threat is None:
        return None
    detail = {"threatListName": threat.list_name, "threatNames": list(threat.threat_names)}
    return {"threatIntelligenceDetails": [detail]}


def _additional_info(spec: FindingSpec) -> dict[str, Any]:
    """The spec's details; a threat list match also names the list (and threat), as GuardDuty."""
    info: dict[str, Any] = {}
    if spec.threat is not None:
        info["threatListName"] = spec.threat.list_name
        if spec.threat.threat_names:
            info["threatName"] = spec.threat.threat_names[0]
    info.update(spec.additional_info)
    return info


def _ecs(spec: FindingSpec, now: str) -> dict[str, Any]:
    ecs: dict[str, Any] = {
        "@timestamp": now,
        "event": {"kind": "alert", "severity": int(api_bucket(spec.severity))},
    }
    if spec.rule:
        ecs["rule"] = {"name": spec.rule}
    threat = compact(tactic=compact(name=spec.tactic), technique=compact(id=spec.technique))
    if threat:
        ecs["threat"] = threat
    return ecs
