"""AWS Security Hub: ``BatchImportFindings`` in ASFF, mapped as GuardDuty maps its findings.

The ASFF finding ``Id`` is the GuardDuty finding ARN (a later version of a finding updates the
same Security Hub finding), ``GeneratorId`` the detector ARN, ``Types`` GuardDuty's own
type table (``asff_types.txt``), ``Severity`` the label of GuardDuty's band with a
``Normalized`` score inside the matching ASFF band. ``ProductArn`` defaults to GuardDuty's
(``arn:<partition>:securityhub:<region>::product/aws/guardduty``); importing under that
product is reserved to AWS on a real hub, so set ``product_arn`` to your account's
``product/<account>/default`` ARN there. At most 100 findings per call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from exporter.export import aws
from exporter.export.destination import DESTINATION_TYPES, Delivery, DestinationType
from exporter.findings.severity import Label, band

SCHEMA_VERSION = "2018-10-08"
MAX_FINDINGS = 100
MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_PRODUCT_FIELDS = 50
MAX_FIELD_KEY = 128
MAX_FIELD_VALUE = 2048
REQUIRED = (
    "AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources",
    "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt",
)  # fmt: skip
"""ASFF's required top-level attributes."""

NORMALIZED: dict[Label, tuple[int, int]] = {
    Label.LOW: (1, 39),
    Label.MEDIUM: (40, 69),
    Label.HIGH: (70, 89),
    Label.CRITICAL: (90, 100),
}
"""The ASFF ``Normalized`` range of each severity label."""


@cache
def asff_types() -> dict[str, str]:
    """GuardDuty finding type -> ASFF type, from ``asff_types.txt``."""
    text = resources.files(__package__).joinpath("asff_types.txt").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {guardduty: asff for guardduty, asff in rows}


def asff_type(finding_type: str) -> str:
    """The ASFF type of a GuardDuty type (unlisted: ``TTPs/<type, "/" -> "-">``)."""
    return asff_types().get(finding_type) or "TTPs/" + finding_type.replace("/", "-")


def severity(value: float) -> dict[str, Any]:
    """ASFF ``Severity``: GuardDuty's value, its label, and a score inside the label's band."""
    rank = band(value)
    low, high = NORMALIZED[rank.label]
    upper = min(rank.upper, 10.0)
    fraction = (value - rank.lower) / (upper - rank.lower) if upper > rank.lower else 0.0
    return {
        "Product": value,
        "Label": rank.label.value.upper(),
        "Normalized": round(low + fraction * (high - low)),
    }


def _instance(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    details = finding["resource"].get("instanceDetails") or {}
    nics = details.get("networkInterfaces") or [{}]
    addresses = [
        ip
        for nic in nics
        for ip in (nic.get("publicIp"), nic.get("privateIpAddress"))
        if isinstance(ip, str) and ip
    ]
    ec2 = {
        "Type": details.get("instanceType"),
        "ImageId": details.get("imageId"),
        "IpV4Addresses": addresses or None,
        "VpcId": nics[0].get("vpcId"),
        "SubnetId": nics[0].get("subnetId"),
        "LaunchedAt": details.get("launchTime"),
    }
    arn = _arn(finding, "ec2", f"instance/{details.get('instanceId', 'unknown')}")
    return [_resource(finding, "AwsEc2Instance", arn, details.get("tags"), {"AwsEc2Instance": ec2})]


def _access_key(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    details = finding["resource"].get("accessKeyDetails") or {}
    key = {
        "PrincipalId": details.get("principalId"),
        "PrincipalName": details.get("userName"),
        "PrincipalType": details.get("userType"),
    }
    key_id = f"AWS::IAM::AccessKey:{details.get('accessKeyId', 'unknown')}"
    return [_resource(finding, "AwsIamAccessKey", key_id, None, {"AwsIamAccessKey": key})]


def _buckets(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    buckets = finding["resource"].get("s3BucketDetails") or []
    return [
        _resource(
            finding,
            "AwsS3Bucket",
            bucket.get("arn") or f"arn:{finding['partition']}:s3:::{bucket.get('name')}",
            bucket.get("tags"),
            {"AwsS3Bucket": {"OwnerId": (bucket.get("owner") or {}).get("id")}},
        )
        for bucket in buckets
    ]


def _cluster(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    details = finding["resource"].get("eksClusterDetails") or {}
    arn = details.get("arn") or _arn(finding, "eks", f"cluster/{details.get('name', 'unknown')}")
    eks = {"Arn": arn, "Name": details.get("name"), "Status": details.get("status")}
    return [_resource(finding, "AwsEksCluster", arn, details.get("tags"), {"AwsEksCluster": eks})]


RESOURCES: dict[str, Callable[[Mapping[str, Any]], list[dict[str, Any]]]] = {
    "Instance": _instance,
    "AccessKey": _access_key,
    "S3Bucket": _buckets,
    "EKSCluster": _cluster,
}
"""How each GuardDuty ``resourceType`` becomes ASFF ``Resources``."""


def _arn(finding: Mapping[str, Any], service: str, resource: str) -> str:
    partition, region, account = finding["partition"], finding["region"], finding["accountId"]
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def _resource(
    finding: Mapping[str, Any],
    kind: str,
    identifier: str,
    tags: Sequence[Mapping[str, str]] | None,
    details: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": kind,
        "Id": identifier,
        "Partition": finding["partition"],
        "Region": finding["region"],
    }
    if tags:
        resource["Tags"] = {t["key"]: t["value"] for t in tags if t.get("key")}
    compact = {name: _compact(values) for name, values in details.items()}
    if any(compact.values()):
        resource["Details"] = compact
    return resource


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def resources_of(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    """ASFF ``Resources``: the finding's resource, plus the buckets an S3 finding names about
    an access key (never empty: an unknown resource type becomes ``Other``)."""
    kind = str(finding["resource"].get("resourceType", ""))
    found = RESOURCES[kind](finding) if kind in RESOURCES else []
    if kind != "S3Bucket":
        found += _buckets(finding)
    return found or [_resource(finding, "Other", f"{kind or 'Unknown'}:{finding['id']}", None, {})]


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(f"{prefix}/{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(f"{prefix}/{index}", item)
    elif value is None:
        yield prefix, ""
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        yield prefix, text


def product_fields(finding: Mapping[str, Any]) -> dict[str, str]:
    """``service`` flattened to ``aws/guardduty/service/...`` strings, within ASFF's limits."""
    fields: dict[str, str] = {}
    for key, value in _flatten("aws/guardduty/service", finding.get("service", {})):
        if len(fields) == MAX_PRODUCT_FIELDS:
            break
        if len(key) <= MAX_FIELD_KEY:
            fields[key] = value[:MAX_FIELD_VALUE]
    return fields


def default_product_arn(finding: Mapping[str, Any]) -> str:
    """GuardDuty's Security Hub product ARN in the finding's partition and region."""
    return f"arn:{finding['partition']}:securityhub:{finding['region']}::product/aws/guardduty"


def to_asff(finding: Mapping[str, Any], product_arn: str | None = None) -> dict[str, Any]:
    """The ASFF finding GuardDuty would import into Security Hub for ``finding``."""
    service = finding.get("service", {})
    asff: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding["arn"],
        "ProductArn": product_arn or default_product_arn(finding),
        "GeneratorId": finding["arn"].split("/finding/", 1)[0],
        "AwsAccountId": finding["accountId"],
        "Types": [asff_type(finding["type"])],
        "FirstObservedAt": service.get("eventFirstSeen"),
        "LastObservedAt": service.get("eventLastSeen"),
        "CreatedAt": finding["createdAt"],
        "UpdatedAt": finding["updatedAt"],
        "Severity": severity(float(finding["severity"])),
        "Title": finding["title"][:MAX_TITLE],
        "Description": (finding.get("description") or finding["title"])[:MAX_DESCRIPTION],
        "ProductFields": product_fields(finding),
        "Resources": resources_of(finding),
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }
    return {k: v for k, v in asff.items() if v is not None}


def missing_required(asff: Mapping[str, Any]) -> list[str]:
    """ASFF's required attributes that ``asff`` lacks or leaves empty."""
    return [name for name in REQUIRED if asff.get(name) in (None, "", [], {})]


@dataclass
class SecurityHubDestination:
    """Imports findings into Security Hub."""

    name: str
    securityhub: Any
    product_arn: str | None = None
    max_batch: int = MAX_FINDINGS

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """BatchImportFindings; the latest version of each finding in the batch is imported."""
        latest: dict[str, dict[str, Any]] = {}
        event_ids: dict[str, list[str]] = {}
        for delivery in batch:
            asff = to_asff(delivery.finding, self.product_arn)
            current = latest.get(asff["Id"])
            if current is None or asff["UpdatedAt"] >= current["UpdatedAt"]:
                latest[asff["Id"]] = asff
            event_ids.setdefault(asff["Id"], []).append(delivery.event_id)
        try:
            response = self.securityhub.batch_import_findings(Findings=list(latest.values()))
        except Exception as exc:  # noqa: BLE001 - boto3 raises many types; classified
            raise aws.delivery_error("BatchImportFindings", exc) from exc
        failures: dict[str, str | None] = {}
        messages: dict[str, str] = {}
        for failed in response.get("FailedFindings", []):
            for event_id in event_ids.get(failed.get("Id", ""), []):
                failures[event_id] = failed.get("ErrorCode")
                messages[event_id] = failed.get("ErrorMessage", "")
        if failures:
            raise aws.item_failures("BatchImportFindings", failures, messages)


OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **aws.AWS_OPTIONS,
        "product_arn": {
            "type": "string",
            "pattern": "^arn:[a-z-]+:securityhub:[a-z0-9-]+:[0-9]*:product/.+$",
            "description": "default: GuardDuty's product ARN in the finding's region",
        },
    },
}


def build(name: str, options: Mapping[str, Any]) -> SecurityHubDestination:
    """A Security Hub destination from its options."""
    return SecurityHubDestination(
        name=name,
        securityhub=aws.client("securityhub", options),
        product_arn=options.get("product_arn"),
    )


DESTINATION_TYPES.add(
    "securityhub",
    DestinationType(
        "securityhub",
        "AWS Security Hub BatchImportFindings in ASFF (GuardDuty's type and severity mapping)",
        OPTIONS_SCHEMA,
        build,
    ),
)
