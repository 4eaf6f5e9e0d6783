"""CloudTrail record -> ECS document.

Data first: :data:`FIELD_MAP` copies the plain fields, :data:`RAW_MAP` keeps the bulky objects
(stored, never indexed) and :data:`CATEGORIES` gives the ECS categorization per API call. The
small functions below fill what needs logic: timestamp, outcome, user, TLS, resources.

Speed: the field map is compiled once into a tree over source keys (:class:`FieldTree`), so a
record's shared prefixes (``userIdentity.sessionContext...``) are walked once, with plain dict
lookups; ``ecs.apply_field_map`` re-splits every path and makes ABC checks for each field.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from exporter.errors import ParseError
from exporter.normalize.ecs import Doc, FieldMap, as_ip, bounded, parse_timestamp, unique
from exporter.parsers.base import Record

DATASET = "aws.cloudtrail"

_IDENTITY = "aws.cloudtrail.user_identity"
_SESSION = f"{_IDENTITY}.session_context"
_SOURCE_SESSION = "userIdentity.sessionContext"

FIELD_MAP: FieldMap = {
    "event.action": "eventName",
    "event.provider": "eventSource",
    "event.id": "eventID",
    "cloud.region": "awsRegion",
    "user_agent.original": "userAgent",
    "user.id": "userIdentity.principalId",
    "user.target.name": "requestParameters.userName",
    "user.target.id": "responseElements.user.userId",
    "user.changes.name": "requestParameters.newUserName",
    "group.name": "requestParameters.groupName",
    "group.id": "responseElements.group.groupId",
    "error.code": "errorCode",
    "error.message": "errorMessage",
    "tls.cipher": "tlsDetails.cipherSuite",
    "tls.client.server_name": "tlsDetails.clientProvidedHostHeader",
    "aws.cloudtrail.event_version": "eventVersion",
    "aws.cloudtrail.event_type": "eventType",
    "aws.cloudtrail.event_category": "eventCategory",
    "aws.cloudtrail.recipient_account_id": "recipientAccountId",
    "aws.cloudtrail.request_id": "requestID",
    "aws.cloudtrail.shared_event_id": "sharedEventID",
    "aws.cloudtrail.vpc_endpoint_id": "vpcEndpointId",
    "aws.cloudtrail.api_version": "apiVersion",
    "aws.cloudtrail.error_code": "errorCode",
    f"{_IDENTITY}.type": "userIdentity.type",
    f"{_IDENTITY}.arn": "userIdentity.arn",
    f"{_IDENTITY}.account_id": "userIdentity.accountId",
    f"{_IDENTITY}.access_key_id": "userIdentity.accessKeyId",
    f"{_IDENTITY}.invoked_by": "userIdentity.invokedBy",
    f"{_IDENTITY}.credential_id": "userIdentity.credentialId",
    f"{_IDENTITY}.on_behalf_of.user_id": "userIdentity.onBehalfOf.userId",
    f"{_IDENTITY}.on_behalf_of.identity_store_arn": "userIdentity.onBehalfOf.identityStoreArn",
    f"{_SESSION}.mfa_authenticated": f"{_SOURCE_SESSION}.attributes.mfaAuthenticated",
    f"{_SESSION}.source_identity": f"{_SOURCE_SESSION}.sourceIdentity",
    f"{_SESSION}.ec2_role_delivery": f"{_SOURCE_SESSION}.ec2RoleDelivery",
    f"{_SESSION}.assumed_root": f"{_SOURCE_SESSION}.assumedRoot",
    f"{_SESSION}.session_issuer.type": f"{_SOURCE_SESSION}.sessionIssuer.type",
    f"{_SESSION}.session_issuer.arn": f"{_SOURCE_SESSION}.sessionIssuer.arn",
    f"{_SESSION}.session_issuer.principal_id": f"{_SOURCE_SESSION}.sessionIssuer.principalId",
    f"{_SESSION}.session_issuer.account_id": f"{_SOURCE_SESSION}.sessionIssuer.accountId",
    f"{_SESSION}.session_issuer.user_name": f"{_SOURCE_SESSION}.sessionIssuer.userName",
}
"""ECS path <- CloudTrail path for plain values (objects and arrays there are not copied)."""

RAW_MAP: FieldMap = {
    "response_elements": "responseElements",
    "additional_eventdata": "additionalEventData",
    "service_event_details": "serviceEventDetails",
    "insight_details": "insightDetails",
}
"""aws.cloudtrail.* <- bulky free-form objects, kept as they are in ``_source``, never indexed."""

BOOL_MAP: FieldMap = {"read_only": "readOnly", "management_event": "managementEvent"}
"""aws.cloudtrail.* <- JSON booleans (or their "true"/"false" spelling)."""

_IAM_USER = (("iam",), ("user", "change"))
_IAM_USER_INFO = (("iam",), ("user", "info"))
_IAM_GROUP = (("iam",), ("group", "change"))
_IAM_GROUP_INFO = (("iam",), ("group", "info"))
_IAM_ADMIN = (("iam",), ("admin", "change"))
_AUTH = (("authentication",), ("info",))
_API = (("api",), ("info",))

CATEGORIES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **dict.fromkeys(("ConsoleLogin", "AssumeRole", "GetSessionToken"), _AUTH),
    **dict.fromkeys(("AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"), _AUTH),
    **dict.fromkeys(("GetFederationToken",), _AUTH),
    "CreateUser": (("iam",), ("user", "creation")),
    "DeleteUser": (("iam",), ("user", "deletion")),
    "CreateGroup": (("iam",), ("group", "creation")),
    "DeleteGroup": (("iam",), ("group", "deletion")),
    "CreateKeyPair": (("iam",), ("admin", "creation")),
    "CreateRole": (("iam",), ("admin", "creation")),
    "DeleteRole": (("iam",), ("admin", "deletion")),
    "CreatePolicy": (("iam",), ("admin", "creation")),
    "CreatePolicyVersion": (("iam",), ("admin", "creation")),
    **dict.fromkeys(
        (
            "AttachUserPolicy", "ChangePassword", "CreateAccessKey", "CreateLoginProfile",
            "CreateVirtualMFADevice", "DeactivateMFADevice", "DeleteAccessKey",
            "DeleteSSHPublicKey", "DeleteUserPermissionsBoundary", "DeleteUserPolicy",
            "DeleteVirtualMFADevice", "DetachUserPolicy", "EnableMFADevice",
            "PutUserPermissionsBoundary", "PutUserPolicy", "TagUser", "UntagUser",
            "UpdateAccessKey", "UpdateLoginProfile", "UpdateSSHPublicKey", "UpdateUser",
        ),
        _IAM_USER,
    ),
    **dict.fromkeys(
        (
            "GetUser", "GetUserPolicy", "ListAttachedUserPolicies", "ListGroupsForUser",
            "ListUserPolicies", "ListUsers", "ListUserTags",
        ),
        _IAM_USER_INFO,
    ),
    **dict.fromkeys(
        (
            "AddUserToGroup", "AttachGroupPolicy", "DeleteGroupPolicy", "DetachGroupPolicy",
            "PutGroupPolicy", "RemoveUserFromGroup", "UpdateGroup",
        ),
        _IAM_GROUP,
    ),
    **dict.fromkeys(
        (
            "GetGroup", "GetGroupPolicy", "ListAttachedGroupPolicies", "ListGroupPolicies",
            "ListGroups",
        ),
        _IAM_GROUP_INFO,
    ),
    **dict.fromkeys(
        (
            "SetDefaultPolicyVersion", "SetSecurityTokenServicePreferences",
            "UpdateAccountPasswordPolicy", "UpdateRole", "AttachRolePolicy",
            "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "UpdateAssumeRolePolicy",
        ),
        _IAM_ADMIN,
    ),
    **dict.fromkeys(("CreateBucket", "PutObject", "CopyObject"), (("file",), ("creation",))),
    **dict.fromkeys(("DeleteBucket", "DeleteObject", "DeleteObjects"), (("file",), ("deletion",))),
    "GetObject": (("file",), ("access",)),
}  # fmt: skip
"""ECS (event.category, event.type) per eventName; every other call is ``api``/``info``."""

_LAKE_KEYS = (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "vpcEndpointId", "eventCategory", "tlsDetails", "serviceEventDetails", "insightDetails",
    "type", "principalId", "arn", "accountId", "accessKeyId", "userName", "sessionContext",
    "attributes", "creationDate", "mfaAuthenticated", "sessionIssuer", "invokedBy",
    "sourceIdentity", "ec2RoleDelivery", "onBehalfOf", "userId", "identityStoreArn",
    "credentialId",
)  # fmt: skip
RESOURCE_KEYS = (("arn", "ARN"), ("account_id", "accountId"), ("type", "type"))
FAST_TIME_LEN = len("2025-03-02T11:04:17Z")
SCALARS = (str, int, float)

CANONICAL_KEYS: Mapping[str, str] = {key.lower(): key for key in _LAKE_KEYS}
"""Lower-cased key (CloudTrail Lake / Athena exports) -> CloudTrail's own spelling."""


@dataclass(slots=True)
class _SourceNode:
    """One source key: the (ECS parent slot, ECS key) its value goes to, and the keys below it."""

    targets: list[tuple[int, str]] = field(default_factory=list)
    children: dict[str, _SourceNode] = field(default_factory=dict)


class FieldTree:
    """A field map compiled for speed.

    Source paths become a tree of keys, so shared prefixes are walked once per record; ECS parent
    objects are numbered, so each is looked up or created once per document.
    """

    def __init__(self, field_map: FieldMap) -> None:
        self.root = _SourceNode()
        slots: dict[tuple[str, ...], int] = {}
        for target, source in field_map.items():
            node = self.root
            for key in source.split("."):
                node = node.children.setdefault(key, _SourceNode())
            *parents, leaf = target.split(".")
            node.targets.append((slots.setdefault(tuple(parents), len(slots)), leaf))
        self.parents = tuple(slots)

    def copy(self, doc: Doc, source: dict[str, Any]) -> None:
        """Copy every mapped string, number or boolean of ``source`` (never objects or arrays)."""
        self._copy(self.root, source, doc, [None] * len(self.parents))

    def _copy(
        self, node: _SourceNode, source: dict[str, Any], doc: Doc, branches: list[Doc | None]
    ) -> None:
        """Copy the values under ``node``; ``branches`` caches the ECS parents made so far."""
        for key, child in node.children.items():
            value = source.get(key)
            if value is None or value == "":
                continue
            if child.targets and isinstance(value, SCALARS):
                for slot, leaf in child.targets:
                    branch = branches[slot]
                    if branch is None:
                        branch = branches[slot] = _branch(doc, self.parents[slot])
                    branch[leaf] = value
            if child.children and isinstance(value, dict):
                self._copy(child, value, doc, branches)


FIELD_TREE = FieldTree(FIELD_MAP)


def identity(record: Record) -> str | None:
    """The CloudTrail ``eventID`` (unique per event across delivery paths), or None."""
    event_id = record.fields.get("eventID", record.fields.get("eventid"))
    return event_id if isinstance(event_id, str) and event_id else None


def _request_parameters(doc: Doc, trail: Doc, parameters: Any, name: str) -> None:
    """aws.cloudtrail.request_parameters (indexed as flat_object: an object, strings bounded)
    and duskwatch.s3.public_policy for a bucket policy that grants everyone access."""
    if not isinstance(parameters, Mapping):
        return
    trail["request_parameters"] = bounded(parameters)
    if name == "PutBucketPolicy":
        doc.setdefault("duskwatch", {})["s3"] = {
            "public_policy": is_public_policy(parameters.get("bucketPolicy"))
        }


def is_public_policy(policy: Any) -> bool:
    """True when a bucket policy has an unconditional Allow for every principal."""
    if isinstance(policy, str):
        try:
            policy = orjson.loads(policy)
        except orjson.JSONDecodeError:
            return False
    statements = policy.get("Statement") if isinstance(policy, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return False
    return any(_public_statement(s) for s in statements if isinstance(s, Mapping))


def _public_statement(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        principal = principal.get("AWS")
    principals = principal if isinstance(principal, list) else [principal]
    return "*" in principals


def normalize(record: Record) -> Doc:
    """The ECS document for one CloudTrail record; ParseError when it is not one."""
    fields = canonical(record.fields)
    name = fields.get("eventName")
    if not isinstance(name, str) or not name:
        raise ParseError("not a CloudTrail record: eventName is missing")
    doc: Doc = {
        "@timestamp": timestamp(fields.get("eventTime"), "eventTime"),
        "event": {"kind": "event", "module": "aws", "dataset": DATASET},
        "cloud": {"provider": "aws"},
    }
    FIELD_TREE.copy(doc, fields)
    trail = _branch(doc, ("aws", "cloudtrail"))
    for target, source in RAW_MAP.items():
        if fields.get(source) is not None:
            trail[target] = fields[source]
    for target, source in BOOL_MAP.items():
        if (flag := as_bool(fields.get(source))) is not None:
            trail[target] = flag
    _request_parameters(doc, trail, fields.get("requestParameters"), name)
    doc["event"]["original"] = record.original
    _categorize(doc["event"], fields, name)
    _account(doc, fields)
    related = {"ip": [ip]} if (ip := _source(doc, fields)) else {}
    if users := _user(doc, fields):
        related["user"] = users
    if related:
        doc["related"] = related
    _details(trail, doc, fields, name)
    if not trail:
        del doc["aws"]
    return doc


def timestamp(value: Any, field: str) -> str:
    """``@timestamp`` text of a CloudTrail time; the usual ``...:SSZ`` form without rework."""
    if isinstance(value, str) and len(value) == FAST_TIME_LEN and value[-1] == "Z":
        try:
            fast = datetime.fromisoformat(value[:-1]).isoformat() == value[:-1]
        except ValueError:
            fast = False
        if fast:
            return f"{value[:-1]}.000Z"
    return parse_timestamp(value, field)


def canonical(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with lower-cased CloudTrail Lake keys restored to CloudTrail's spelling."""
    if "eventTime" in fields or "eventtime" not in fields:
        return fields if isinstance(fields, dict) else dict(fields)
    renamed = {CANONICAL_KEYS.get(key, key): value for key, value in fields.items()}
    if isinstance(renamed.get("userIdentity"), dict):
        renamed["userIdentity"] = _rename_deep(renamed["userIdentity"])
    return renamed


def _rename_deep(value: dict[str, Any]) -> dict[str, Any]:
    """A dict (and the dicts it holds) with canonical key spelling."""
    return {
        CANONICAL_KEYS.get(key, key): _rename_deep(item) if isinstance(item, dict) else item
        for key, item in value.items()
    }


def as_bool(value: Any) -> bool | None:
    """A JSON boolean, or its "true"/"false" spelling; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _branch(doc: Doc, keys: tuple[str, ...]) -> Doc:
    """The object at ``keys`` of ``doc``, created on the way."""
    node = doc
    for key in keys:
        node = node.setdefault(key, {})
    return node


def _dig(value: Any, *keys: str) -> Any:
    """The value at ``keys`` of nested dicts, or None."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _categorize(event: Doc, fields: dict[str, Any], name: str) -> None:
    """event.category/type from the API call, event.outcome from the error or sign-in result."""
    category, kinds = CATEGORIES.get(name, _API)
    event["category"] = list(category)
    event["type"] = list(kinds)
    failed = fields.get("errorCode") or fields.get("errorMessage")
    outcome = "failure" if failed else "success"
    result = _dig(fields, "responseElements", "ConsoleLogin")
    if name == "ConsoleLogin" and isinstance(result, str):
        outcome = {"success": "success", "failure": "failure"}.get(result.lower(), outcome)
    event["outcome"] = outcome


def _account(doc: Doc, fields: dict[str, Any]) -> None:
    """cloud.account.id: the account that logged the event, else the caller's account."""
    for value in (fields.get("recipientAccountId"), _dig(fields, "userIdentity", "accountId")):
        if isinstance(value, str) and value:
            doc["cloud"]["account"] = {"id": value}
            return


def _source(doc: Doc, fields: dict[str, Any]) -> str | None:
    """source.address as logged (an IP or a service name), source.ip when it is an address."""
    address = fields.get("sourceIPAddress")
    if not isinstance(address, str) or not address:
        return None
    ip = ip_address(address)
    doc["source"] = {"address": address, "ip": ip} if ip else {"address": address}
    return ip


def _user(doc: Doc, fields: dict[str, Any]) -> list[str]:
    """user.name (a session's role, else the IAM user) and user.email; names for related.user."""
    user_name = _dig(fields, "userIdentity", "userName")
    issuer = _dig(fields, "userIdentity", "sessionContext", "sessionIssuer", "userName")
    names = [name for name in (issuer, user_name) if isinstance(name, str) and name]
    user = doc.get("user") or {}
    if names:
        user["name"] = names[0]
    if isinstance(user_name, str) and _looks_like_email(user_name):
        user["email"] = user_name
    if user:
        doc["user"] = user
    targets = (_dig(user, "target", "name"), _dig(user, "changes", "name"))
    return unique([*names, *(name for name in targets if isinstance(name, str))])


def ip_address(value: str) -> str | None:
    """``value`` as a canonical IP address, or None; dotted quads skip ``ipaddress`` (slow)."""
    try:
        socket.inet_pton(socket.AF_INET, value)  # strict: 4 decimal octets, no leading zeros
    except (OSError, ValueError):
        return as_ip(value)
    return value


def _looks_like_email(name: str) -> bool:
    """True for ``local@domain.tld``."""
    local, at, domain = name.partition("@")
    return bool(local and at and "." in domain.strip(".") and "@" not in domain)


def _details(trail: Doc, doc: Doc, fields: dict[str, Any], name: str) -> None:
    """The fields of rarer parts of a record: TLS, resources, session start, console sign-in."""
    if "tlsDetails" in fields:
        _tls(doc, fields["tlsDetails"])
    if "resources" in fields:
        _resources(trail, fields["resources"])
    created = _dig(fields, "userIdentity", "sessionContext", "attributes", "creationDate")
    if created is not None:
        _session_created(trail, created)
    if name == "ConsoleLogin":
        _console_login(trail, fields.get("additionalEventData"))


def _tls(doc: Doc, details: Any) -> None:
    """tls.version_protocol and tls.version from ``TLSv1.3``."""
    version = _dig(details, "tlsVersion")
    if isinstance(version, str) and "v" in version:
        protocol, _, number = version.partition("v")
        tls = doc.setdefault("tls", {})
        tls["version_protocol"] = protocol.lower()
        tls["version"] = number


def _resources(trail: Doc, resources: Any) -> None:
    """aws.cloudtrail.resources: the ARNs, types and accounts touched, without repeats."""
    entries = []
    for resource in resources if isinstance(resources, list) else ():
        if isinstance(resource, dict):
            entry = {
                target: resource[key]
                for target, key in RESOURCE_KEYS
                if isinstance(resource.get(key), str) and resource[key]
            }
            entries.append(entry)
    if kept := unique(entry for entry in entries if entry):
        trail["resources"] = kept


def _session_created(trail: Doc, value: Any) -> None:
    """aws.cloudtrail.user_identity.session_context.creation_date, when it is a date."""
    try:
        created = timestamp(value, "creationDate")
    except ParseError:
        return
    _branch(trail, ("user_identity", "session_context"))["creation_date"] = created


def _console_login(trail: Doc, data: Any) -> None:
    """aws.cloudtrail.console_login.additional_eventdata: MFA used, mobile, login target."""
    if not isinstance(data, dict):
        return
    details: Doc = {}
    for target, key in (("mfa_used", "MFAUsed"), ("mobile_version", "MobileVersion")):
        if isinstance(data.get(key), str):
            details[target] = data[key] != "No"
    if isinstance(data.get("LoginTo"), str) and data["LoginTo"]:
        details["login_to"] = data["LoginTo"]
    if details:
        trail["console_login"] = {"additional_eventdata": details}
