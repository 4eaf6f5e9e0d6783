"""Sample findings, as GuardDuty's CreateSampleFindings makes them: one per requested type.

Each sample is built by :func:`build_finding` from a placeholder event of the type's data
source, so samples have exactly the shape real findings have. Titles start with
``[SAMPLE] ``, ``additionalInfo.sample`` is true and identifiers are GuardDuty's
``GeneratedFinding...`` placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from exporter.findings.build import build_finding
from exporter.findings.spec import FindingSpec, ThreatDetail
from exporter.findings.types import FINDING_TYPES, FindingType
from exporter.normalize.ecs import iso_timestamp

TITLE_PREFIX = "[SAMPLE] "
SAMPLE_RULE = "sample"

_IDENTITY = {
    "type": "IAMUser",
    "access_key_id": "GeneratedFindingAccessKeyId",
    "account_id": "GeneratedFindingAccountId",
}
_USER = {"id": "GeneratedFindingPrincipalId", "name": "GeneratedFindingUserName"}
_API_CALL = {
    "event": {"action": "GeneratedFindingAPIName", "provider": "GeneratedFindingAPIServiceName"},
    "source": {"ip": "198.51.100.1", "address": "198.51.100.1"},
    "user": _USER,
    "user_agent": {"original": "GeneratedFindingUserAgent"},
}
_FLOW = {
    "source": {"ip": "198.51.100.1", "port": 49822},
    "destination": {"ip": "10.0.0.23", "port": 22},
    "network": {"transport": "tcp", "direction": "ingress"},
    "cloud": {"instance": {"id": "i-99999999"}},
    "aws": {
        "vpcflow": {
            "interface_id": "eni-abcdef00",
            "vpc_id": "GeneratedFindingVPCId",
            "subnet_id": "GeneratedFindingSubnetId",
            "action": "ACCEPT",
        }
    },
}
_DNS = {
    "source": {"ip": "10.0.0.23", "port": 53122},
    "network": {"transport": "udp"},
    "dns": {"question": {"name": "generatedfindingdomainname.example.com"}},
    "cloud": {"instance": {"id": "i-99999999"}},
    "aws": {"route53": {"vpc_id": "GeneratedFindingVPCId"}},
}
_K8S = {
    "orchestrator": {"cluster": {"name": "GeneratedFindingEKSClusterName"}},
    "source": {"ip": "198.51.100.1"},
    "kubernetes": {
        "audit": {
            "verb": "get",
            "requestURI": "GeneratedFindingRequestURI",
            "sourceIPs": ["198.51.100.1"],
            "userAgent": "GeneratedFindingUserAgent",
            "user": {"username": "GeneratedFindingUserName", "groups": ["GeneratedFindingGroup"]},
            "objectRef": {
                "resource": "pods",
                "namespace": "default",
                "name": "GeneratedFindingPod",
            },
            "responseStatus": {"code": 200},
        }
    },
}

SAMPLE_EVENTS: dict[tuple[str, str], dict[str, Any]] = {
    ("cloudtrail", "AccessKey"): {
        **_API_CALL,
        "aws": {"cloudtrail": {"event_category": "Management", "user_identity": _IDENTITY}},
    },
    ("cloudtrail", "S3Bucket"): {
        **_API_CALL,
        "aws": {
            "cloudtrail": {
                "event_category": "Data",
                "user_identity": _IDENTITY,
                "request_parameters": {"bucketName": "generatedfindingbucketname"},
            }
        },
    },
    ("vpcflow", "Instance"): _FLOW,
    ("route53", "Instance"): _DNS,
    ("eks-audit", "EKSCluster"): _K8S,
}
"""Placeholder ECS events, by (log type, resource type)."""


def sample_findings(
    types: Sequence[str] | None,
    *,
    now: datetime,
    detector_id: str,
    account: str,
    region: str,
) -> list[dict[str, Any]]:
    """One sample finding per type in ``types`` (every known type when None or empty).

    KeyError names an unknown type.
    """
    kinds = [FINDING_TYPES.get(name) for name in types or FINDING_TYPES.names()]
    return [_sample(kind, now, detector_id, account, region) for kind in kinds]


def _sample(
    kind: FindingType, now: datetime, detector_id: str, account: str, region: str
) -> dict[str, Any]:
    event = {
        **SAMPLE_EVENTS[kind.log_type, kind.resource_type],
        "@timestamp": iso_timestamp(now),
        "cloud": {
            **SAMPLE_EVENTS[kind.log_type, kind.resource_type].get("cloud", {}),
            "account": {"id": account},
            "region": region,
        },
    }
    threat = (
        ThreatDetail("GeneratedFindingThreatListName", ("GeneratedFindingThreatName",))
        if kind.uses_threat_list
        else None
    )
    spec = FindingSpec(
        type=kind.name,
        severity=kind.severity,
        title=f"{TITLE_PREFIX}{kind.summary[0].upper()}{kind.summary[1:]}.",
        description=f"Sample {kind.name} finding ({kind.summary}); no real activity.",
        threat=threat,
        rule=SAMPLE_RULE,
        additional_info={"sample": True},
    )
    return build_finding(spec, event, log_type=kind.log_type, now=now, detector_id=detector_id)
