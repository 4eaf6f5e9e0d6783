"""What a finding looks like by default for each Duskwatch log type (GuardDuty data source)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exporter.findings.fields import Event
from exporter.normalize.ecs import get_path
from exporter.registry import Registry


@dataclass(frozen=True)
class DataSource:
    """A log type's GuardDuty feature name, default resource type and default action type."""

    feature_name: Callable[[Event], str]
    resource_type: Callable[[Event], str]
    action_type: str


DATA_SOURCES: Registry[DataSource] = Registry("finding data source")


def is_s3_data_event(event: Event) -> bool:
    """True for a CloudTrail data event (``eventCategory: Data`` or ``managementEvent: false``)."""
    category = get_path(event, "aws.cloudtrail.event_category")
    return category == "Data" or get_path(event, "aws.cloudtrail.management_event") is False


def _constant(value: str) -> Callable[[Event], str]:
    return lambda _event: value


DATA_SOURCES.add(
    "cloudtrail",
    DataSource(
        lambda e: "S3DataEvents" if is_s3_data_event(e) else "CloudTrail",
        lambda e: "S3Bucket" if is_s3_data_event(e) else "AccessKey",
        "AWS_API_CALL",
    ),
)
DATA_SOURCES.add(
    "vpcflow", DataSource(_constant("FlowLogs"), _constant("Instance"), "NETWORK_CONNECTION")
)
DATA_SOURCES.add("route53", DataSource(_constant("DnsLogs"), _constant("Instance"), "DNS_REQUEST"))
DATA_SOURCES.add(
    "eks-audit",
    DataSource(_constant("KubernetesAuditLogs"), _constant("EKSCluster"), "KUBERNETES_API_CALL"),
)
