"""The log types Duskwatch reads: one entry per GuardDuty data source.

A log type ties a parser (bytes -> records) to its ECS normalizer (record -> document), the
record identity used for deterministic document ids, and the index it lands in. To add a
source: write ``parsers/<name>.py`` and ``normalize/<name>.py`` and add one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exporter.parsers.base import LogParser, Record
from exporter.registry import Registry

EVENTS_INDEX_PREFIX = "duskwatch-events-"


@dataclass(frozen=True)
class LogType:
    """A data source: how to read it, how to normalize it, where it is stored."""

    name: str
    parser: LogParser
    normalize: Callable[[Record], dict[str, Any]]
    identity: Callable[[Record], str | None]

    @property
    def index(self) -> str:
        """The data stream / alias its documents are written to."""
        return EVENTS_INDEX_PREFIX + self.name


LOG_TYPES: Registry[LogType] = Registry("log type")


def _register_builtin() -> None:
    from exporter.normalize import cloudtrail as cloudtrail_ecs
    from exporter.normalize import eks_audit as eks_audit_ecs
    from exporter.normalize import route53 as route53_ecs
    from exporter.normalize import vpcflow as vpcflow_ecs
    from exporter.parsers import cloudtrail, eks_audit, route53, vpcflow

    # Detection order: the most specific sniffers first.
    LOG_TYPES.add(
        "cloudtrail",
        LogType("cloudtrail", cloudtrail.PARSER, cloudtrail_ecs.normalize, cloudtrail_ecs.identity),
    )
    LOG_TYPES.add(
        "eks-audit",
        LogType("eks-audit", eks_audit.PARSER, eks_audit_ecs.normalize, eks_audit_ecs.identity),
    )
    LOG_TYPES.add(
        "route53", LogType("route53", route53.PARSER, route53_ecs.normalize, route53_ecs.identity)
    )
    LOG_TYPES.add(
        "vpcflow", LogType("vpcflow", vpcflow.PARSER, vpcflow_ecs.normalize, vpcflow_ecs.identity)
    )


_register_builtin()
