"""What a detection asserts about an event: the input of the finding builder.

Rules, threat lists and behaviour detectors all produce :class:`FindingSpec`; only
:mod:`exporter.findings.build` turns one (plus the triggering ECS event) into GuardDuty's
finding JSON, so every detection yields the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ResourceRole = Literal["TARGET", "ACTOR"]


@dataclass(frozen=True)
class ThreatDetail:
    """One entry of ``service.evidence.threatIntelligenceDetails``."""

    list_name: str
    threat_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class FindingSpec:
    """A typed, severity-ranked statement about the resource of one event.

    ``key`` holds the type-specific parts of the aggregation key (remote port, domain, list
    name ...) beyond account, region, type, primary resource and resource role.
    """

    type: str
    severity: float
    title: str
    description: str
    resource_role: ResourceRole = "TARGET"
    key: tuple[str, ...] = ()
    threat: ThreatDetail | None = None
    tactic: str | None = None
    technique: str | None = None
    rule: str | None = None
    additional_info: Mapping[str, Any] = field(default_factory=dict)
    count: int = 1
