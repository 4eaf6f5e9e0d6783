"""CloudTrail record builders: identities, API calls, console sign-ins and S3 data events.

The builders return plain dicts in the field order CloudTrail uses; scenarios build their
records with them and hand them to :meth:`ScenarioWriter.cloudtrail`. Management events carry
``eventVersion`` 1.09 (1.08 when an AWS service acts), ``eventCategory`` "Management" and
``managementEvent`` true; S3 object calls carry ``eventCategory`` "Data", ``managementEvent``
false, ``resources`` and ``additionalEventData.bytesTransferredIn/Out``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from exporter.simulate.ids import hex_id, iso_seconds, uuid4
from exporter.simulate.model import IamUser, Role

CIPHER = "TLS_AES_128_GCM_SHA256"
READ_OBJECT_CALLS = frozenset({"GetObject", "HeadObject", "ListObjects"})
GLOBAL_HOSTS = {"iam.amazonaws.com": "iam.amazonaws.com", "s3.amazonaws.com": "s3.amazonaws.com"}
SESSION_FIELDS = frozenset({"accessKeyId", "sessionContext"})
Record = dict[str, Any]


@dataclass(frozen=True)
class Caller:
    """Who makes a call and from where: ``identity`` is the userIdentity block."""

    identity: Mapping[str, Any]
    account: str
    ip: str
    agent: str
    vpc_endpoint: str | None = None
    from_console: bool = False


def user_identity(account: str, user: IamUser, console_key: str | None = None) -> Record:
    """An IAMUser identity: its AKIA key, or a console session (ASIA key, MFA) when given."""
    identity: Record = {
        "type": "IAMUser",
        "principalId": user.user_id,
        "arn": f"arn:aws:iam::{account}:user/{user.name}",
        "accountId": account,
        "accessKeyId": console_key or user.access_key,
        "userName": user.name,
    }
    if console_key is not None:
        identity["sessionContext"] = {"attributes": {"mfaAuthenticated": "true"}}
    return identity


def role_identity(
    account: str, role: Role, session: str, key: str, created: float, *, ec2: bool = False
) -> Record:
    """An AssumedRole identity (ASIA key, sessionIssuer); ``ec2`` marks instance credentials."""
    context: Record = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role.role_id,
            "arn": f"arn:aws:iam::{account}:role/{role.name}",
            "accountId": account,
            "userName": role.name,
        },
        "attributes": {"creationDate": iso_seconds(created), "mfaAuthenticated": "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"{role.role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role.name}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": context,
    }


def service_identity(service: str) -> Record:
    """An AWSService identity (``invokedBy`` the service principal)."""
    return {"type": "AWSService", "invokedBy": service}


def root_identity(account: str, console_key: str | None = None) -> Record:
    """The account root user (with a console session key when given)."""
    identity: Record = {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
    }
    if console_key is not None:
        identity["accessKeyId"] = console_key
        identity["sessionContext"] = {"attributes": {"mfaAuthenticated": "true"}}
    return identity


@lru_cache(maxsize=1024)
def _host(source: str, region: str) -> str:
    return GLOBAL_HOSTS.get(source) or f"{source.split('.')[0]}.{region}.amazonaws.com"


def api_call(
    rng: random.Random,
    ts: float,
    caller: Caller,
    region: str,
    call: tuple[str, str, bool, Any],
    response: Any = None,
    resources: list[Record] | None = None,
) -> Record:
    """A management event; ``call`` is (eventSource, eventName, readOnly, requestParameters)."""
    source, name, read_only, request = call
    service = caller.identity.get("type") == "AWSService" or caller.ip.endswith(".amazonaws.com")
    record: Record = {
        "eventVersion": "1.08" if service else "1.09",
        "userIdentity": caller.identity,
        "eventTime": iso_seconds(ts),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": caller.ip,
        "userAgent": caller.agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": uuid4(rng),
        "eventID": uuid4(rng),
        "readOnly": read_only,
    }
    if resources:
        record["resources"] = resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = caller.account
    record["eventCategory"] = "Management"
    if not service:
        record["tlsDetails"] = _tls(_host(source, region))
    if caller.from_console:
        record["sessionCredentialFromConsole"] = "true"
    return record


@lru_cache(maxsize=4096)
def _tls(host: str) -> Record:
    return {"tlsVersion": "TLSv1.3", "cipherSuite": CIPHER, "clientProvidedHostHeader": host}


def console_login(
    rng: random.Random, ts: float, identity: Mapping[str, Any], ip: str, agent: str
) -> Record:
    """A successful ConsoleLogin with MFA (signin events are recorded in us-east-1)."""
    account = identity["accountId"]
    mfa = f"arn:aws:iam::{account}:mfa/{identity.get('userName', 'root-account-mfa-device')}"
    return {
        "eventVersion": "1.09",
        "userIdentity": {k: v for k, v in identity.items() if k not in SESSION_FIELDS},
        "eventTime": iso_seconds(ts),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23",
            "MobileVersion": "No",
            "MFAIdentifier": mfa,
            "MFAUsed": "Yes",
        },
        "eventID": uuid4(rng),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": _tls("signin.aws.amazon.com"),
    }


def _s3_target(
    name: str, bucket: str, key: str, host: str, account: str
) -> tuple[Record, list[Record]]:
    bucket_arn = f"arn:aws:s3:::{bucket}"
    resources: list[Record] = [{"type": "AWS::S3::Bucket", "ARN": bucket_arn, "accountId": account}]
    if name == "ListObjects":
        return {"bucketName": bucket, "Host": host, "list-type": "2", "prefix": key}, resources
    request = {"bucketName": bucket, "Host": host, "key": key}
    return request, [{"type": "AWS::S3::Object", "ARN": f"{bucket_arn}/{key}"}, *resources]


def _transfer(inbound: int, outbound: int) -> Record:
    return {
        "SignatureVersion": "SigV4",
        "CipherSuite": CIPHER,
        "bytesTransferredIn": inbound,
        "AuthenticationMethod": "AuthHeader",
        "bytesTransferredOut": outbound,
    }


def s3_object_event(
    rng: random.Random, ts: float, caller: Caller, region: str, op: tuple[str, str, str, int]
) -> Record:
    """An S3 data event; ``op`` is (eventName, bucket, key or list prefix, object bytes)."""
    name, bucket, key, size = op
    host = f"{bucket}.s3.{region}.amazonaws.com"
    request, resources = _s3_target(name, bucket, key, host, caller.account)
    inbound = size if name == "PutObject" else 0
    outbound = 0 if inbound or name == "DeleteObject" else size
    record: Record = {
        "eventVersion": "1.09",
        "userIdentity": caller.identity,
        "eventTime": iso_seconds(ts),
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": caller.ip,
        "userAgent": f"[{caller.agent}]",
        "requestParameters": request,
        "responseElements": {"x-amz-server-side-encryption": "AES256"} if inbound else None,
        "additionalEventData": _transfer(inbound, outbound),
        "requestID": hex_id(rng, 16).upper(),
        "eventID": uuid4(rng),
        "readOnly": name in READ_OBJECT_CALLS,
        "resources": resources,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": caller.account,
    }
    if caller.vpc_endpoint:
        record["vpcEndpointId"] = caller.vpc_endpoint
        record["vpcEndpointAccountId"] = caller.account
    record["eventCategory"] = "Data"
    record["tlsDetails"] = _tls(host)
    return record


def dumps(record: Record) -> str:
    """Compact JSON text of a record."""
    return orjson.dumps(record).decode()
