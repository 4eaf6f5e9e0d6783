"""Raw CloudTrail records (as AWS writes them) for the CloudTrail and S3 detectors' cases."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from exporter.detections.behaviour.catalogue.documents import from_raw
from exporter.detections.behaviour.model import Document

ACCOUNT, REGION = "111122223333", "us-east-1"
ORIGIN = (
    f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/01/14/"
    f"{ACCOUNT}_CloudTrail_{REGION}_20260114T1200Z_case.json.gz"
)
OFFICE, ATTACKER = "192.0.2.20", "203.0.113.160"
Record = dict[str, Any]


def _id(prefix: str, *parts: str, length: int = 16) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest().upper()
    return prefix + digest[: length - len(prefix)]


def iam_user(name: str) -> Record:
    """The userIdentity of IAM user ``name`` calling with its long-term (AKIA) key."""
    return {
        "type": "IAMUser",
        "principalId": _id("AIDA", name, length=21),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": _id("AKIA", name, "key", length=20),
        "userName": name,
    }


def instance_session(role: str, instance: str) -> Record:
    """The userIdentity of an EC2 instance-profile session (``ec2RoleDelivery``)."""
    role_id = _id("AROA", role, length=21)
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{instance}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{instance}",
        "accountId": ACCOUNT,
        "accessKeyId": _id("ASIA", role, instance, length=20),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-01-14T06:00:00Z", "mfaAuthenticated": "false"},
            "ec2RoleDelivery": "2.0",
        },
    }


def principal_id(identity: Record) -> str:
    """The identity's principalId (an AccessKey finding's primary resource id)."""
    return str(identity["principalId"])


def _base(at: datetime, identity: Record, name: str, source: str, ip: str) -> Record:
    moment = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": moment,
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0 exe/x86_64.ubuntu.22",
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{moment}/{name}/{ip}/{identity}")),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }


def api_call(
    at: datetime, identity: Record, name: str, ip: str = OFFICE, source: str = "iam.amazonaws.com"
) -> Record:
    """A successful management event ``name`` of ``source`` by ``identity`` from ``ip``."""
    record = _base(at, identity, name, source, ip)
    return {**record, "managementEvent": True, "eventCategory": "Management", "readOnly": False}


def console_login(at: datetime, identity: Record, ip: str, *, success: bool = True) -> Record:
    """A console sign-in of ``identity`` (its access key left out, as CloudTrail does)."""
    who = {k: v for k, v in identity.items() if k != "accessKeyId"}
    record = _base(at, who, "ConsoleLogin", "signin.amazonaws.com", ip)
    outcome = "Success" if success else "Failure"
    return {
        **record,
        "eventType": "AwsConsoleSignIn",
        "responseElements": {"ConsoleLogin": outcome},
        "additionalEventData": {"MFAUsed": "Yes", "MobileVersion": "No"},
        "managementEvent": True,
        "eventCategory": "Management",
    }


def object_call(
    at: datetime, identity: Record, name: str, target: tuple[str, str], ip: str = OFFICE
) -> Record:
    """An S3 data event ``name`` on (bucket, object key) ``target``."""
    bucket, key = target
    record = _base(at, identity, name, "s3.amazonaws.com", ip)
    arn = f"arn:aws:s3:::{bucket}"
    return {
        **record,
        "requestParameters": {"bucketName": bucket, "key": key},
        "resources": [
            {"type": "AWS::S3::Object", "ARN": f"{arn}/{key}"},
            {"type": "AWS::S3::Bucket", "ARN": arn, "accountId": ACCOUNT},
        ],
        "managementEvent": False,
        "eventCategory": "Data",
        "readOnly": name.startswith(("Get", "Head", "List")),
    }


def documents(records: Iterable[Record]) -> list[Document]:
    """The ECS documents of ``records`` (one CloudTrail log file)."""
    return from_raw("cloudtrail", json.dumps({"Records": list(records)}), ORIGIN)
