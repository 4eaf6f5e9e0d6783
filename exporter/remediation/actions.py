"""Remediation actions: plan from a finding (pure), execute and undo through boto3 clients.

- ``block-ip-nacl``: a DENY entry for the remote address (``/32``) in the network ACL of the
  instance's subnet, inbound and (by default) outbound, with the lowest rule number free in
  a configured range (default 1-99, so it precedes the usual allow rules at 100);
- ``deactivate-access-key``: sets a long-term IAM access key (``AKIA…``) ``Inactive``.

``plan`` raises :class:`NotApplicable` when the finding lacks what the action needs (no
remote IP, a private address, temporary credentials). ``execute`` returns the undo record;
``undo`` reverts exactly that, and leaves alone what someone changed since.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from exporter.export.finding_fields import path, remote_ip
from exporter.registry import Registry


class ClientFactory(Protocol):
    """Makes a boto3 client of ``service`` in ``region`` (None: the default region)."""

    def __call__(self, service: str, region: str | None) -> Any: ...


class NotApplicable(Exception):
    """The action cannot act on this finding; the message says why."""


class RemediationFailed(Exception):
    """AWS refused or the resource is not in the state the action needs."""


@dataclass(frozen=True)
class Plan:
    """What an action would change, decided from the finding alone."""

    action: str
    summary: str
    target: dict[str, Any]
    region: str | None


@dataclass(frozen=True)
class Action:
    """A kind of remediation: its options, how it plans, executes and undoes."""

    name: str
    description: str
    options_schema: Mapping[str, Any]
    plan: Callable[[Mapping[str, Any], Mapping[str, Any]], Plan]
    execute: Callable[[Plan, ClientFactory, Mapping[str, Any]], dict[str, Any]]
    undo: Callable[[Mapping[str, Any], Mapping[str, Any], ClientFactory, str | None], str]


ACTIONS: Registry[Action] = Registry("remediation action")

NEVER_BLOCK = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip
"""Networks never blocked: private, shared, loopback, link-local (IMDS), multicast, reserved."""

DIRECTIONS = {"ingress": False, "egress": True}
"""Direction name -> the ``Egress`` flag of a network ACL entry."""


def blockable(address: str) -> ipaddress.IPv4Address:
    """The IPv4 address to block; NotApplicable for IPv6, malformed or internal addresses."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise NotApplicable(f"{address!r} is not an IP address") from None
    if not isinstance(ip, ipaddress.IPv4Address):
        raise NotApplicable(f"{address} is IPv6; network ACL blocking covers IPv4 only")
    if any(ip in net for net in NEVER_BLOCK):
        raise NotApplicable(f"{address} is a private or reserved address; not blocked")
    return ip


def plan_block_ip(finding: Mapping[str, Any], options: Mapping[str, Any]) -> Plan:
    """DENY the finding's remote IP on the subnet of the instance it concerns."""
    if path(finding, "resource.resourceType") != "Instance":
        raise NotApplicable("the finding's resource is not an EC2 instance")
    address = remote_ip(finding)
    if address is None:
        raise NotApplicable("the finding names no remote IP address")
    ip = blockable(address)
    subnet = path(finding, "resource.instanceDetails.networkInterfaces.0.subnetId")
    if not subnet:
        raise NotApplicable("the finding names no subnet for the instance")
    directions = list(options.get("directions", ["ingress", "egress"]))
    instance = path(finding, "resource.instanceDetails.instanceId")
    return Plan(
        "block-ip-nacl",
        f"deny {ip}/32 ({'+'.join(directions)}) in the network ACL of {subnet} ({instance})",
        {
            "cidr": f"{ip}/32",
            "subnet_id": subnet,
            "instance_id": instance,
            "directions": directions,
        },
        str(finding.get("region") or "") or None,
    )


def _acl_of(ec2: Any, subnet: str) -> dict[str, Any]:
    found = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["NetworkAcls"]
    if not found:
        raise RemediationFailed(f"no network ACL is associated with {subnet}")
    acl: dict[str, Any] = found[0]
    return acl


def free_rule_number(entries: list[Mapping[str, Any]], first: int, last: int) -> int:
    """The lowest rule number in ``first..last`` that no entry uses."""
    used = {int(e["RuleNumber"]) for e in entries}
    for number in range(first, last + 1):
        if number not in used:
            return number
    raise RemediationFailed(f"no free network ACL rule number in {first}-{last}")


def _denies(entry: Mapping[str, Any], cidr: str, egress: bool) -> bool:
    return bool(
        entry.get("CidrBlock") == cidr
        and entry.get("RuleAction") == "deny"
        and entry.get("Egress") == egress
    )


def execute_block_ip(
    plan: Plan, clients: ClientFactory, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Add the DENY entries not already there; the undo record names those added."""
    ec2 = clients("ec2", plan.region)
    acl = _acl_of(ec2, plan.target["subnet_id"])
    cidr = plan.target["cidr"]
    entries = list(acl.get("Entries", []))
    first, last = options.get("rule_range", [1, 99])
    added: list[dict[str, Any]] = []
    for direction in plan.target["directions"]:
        egress = DIRECTIONS[direction]
        if any(_denies(e, cidr, egress) for e in entries):
            continue
        same_side = [e for e in entries if e.get("Egress") == egress]
        number = free_rule_number(same_side, int(first), int(last))
        ec2.create_network_acl_entry(
            NetworkAclId=acl["NetworkAclId"],
            RuleNumber=number,
            Protocol="-1",
            RuleAction="deny",
            Egress=egress,
            CidrBlock=cidr,
        )
        entries.append({"RuleNumber": number, "Egress": egress, "CidrBlock": cidr})
        added.append({"rule_number": number, "egress": egress})
    return {"network_acl_id": acl["NetworkAclId"], "cidr": cidr, "entries": added}


def undo_block_ip(
    target: Mapping[str, Any], undo: Mapping[str, Any], clients: ClientFactory, region: str | None
) -> str:
    """Delete the entries the action added, if they still deny the same address."""
    ec2 = clients("ec2", region)
    acl_id = undo["network_acl_id"]
    acls = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"]
    entries = acls[0].get("Entries", []) if acls else []
    removed = []
    for added in undo.get("entries", []):
        match = [
            e
            for e in entries
            if int(e["RuleNumber"]) == added["rule_number"]
            and _denies(e, undo["cidr"], added["egress"])
        ]
        if match:
            ec2.delete_network_acl_entry(
                NetworkAclId=acl_id, RuleNumber=added["rule_number"], Egress=added["egress"]
            )
            removed.append(str(added["rule_number"]))
    return f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'} from {acl_id}"


def plan_deactivate_key(finding: Mapping[str, Any], options: Mapping[str, Any]) -> Plan:
    """Deactivate the long-term access key the finding names."""
    details = path(finding, "resource.accessKeyDetails") or {}
    key_id, user = details.get("accessKeyId"), details.get("userName")
    if not key_id:
        raise NotApplicable("the finding names no access key")
    if not str(key_id).startswith("AKIA"):
        raise NotApplicable(f"{key_id} is not a long-term IAM user key (temporary credentials)")
    if details.get("userType", "IAMUser") != "IAMUser" or not user:
        raise NotApplicable("the access key does not belong to a named IAM user")
    return Plan(
        "deactivate-access-key",
        f"set access key {key_id} of IAM user {user} Inactive",
        {"access_key_id": key_id, "user_name": user},
        None,
    )


def _key_status(iam: Any, user: str, key_id: str) -> str:
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    for key in keys:
        if key["AccessKeyId"] == key_id:
            return str(key["Status"])
    raise RemediationFailed(f"IAM user {user} has no access key {key_id}")


def execute_deactivate_key(
    plan: Plan, clients: ClientFactory, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Set the key Inactive; the undo record keeps the status it had."""
    iam = clients("iam", plan.region)
    user, key_id = plan.target["user_name"], plan.target["access_key_id"]
    previous = _key_status(iam, user, key_id)
    if previous != "Inactive":
        iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
    return {"previous_status": previous}


def undo_deactivate_key(
    target: Mapping[str, Any], undo: Mapping[str, Any], clients: ClientFactory, region: str | None
) -> str:
    """Give the key back the status it had before."""
    iam = clients("iam", region)
    user, key_id = target["user_name"], target["access_key_id"]
    previous = str(undo["previous_status"])
    if previous == "Inactive":
        return f"{key_id} was already Inactive; left as is"
    iam.update_access_key(UserName=user, AccessKeyId=key_id, Status=previous)
    return f"set {key_id} {previous} again"


ACTIONS.add(
    "block-ip-nacl",
    Action(
        "block-ip-nacl",
        "network ACL DENY entry for the remote IP on the instance's subnet",
        {
            "rule_range": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 32766},
                "minItems": 2,
                "maxItems": 2,
                "default": [1, 99],
                "description": "[first, last] rule numbers the action may use",
            },
            "directions": {
                "type": "array",
                "items": {"enum": sorted(DIRECTIONS)},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["ingress", "egress"],
            },
        },
        plan_block_ip,
        execute_block_ip,
        undo_block_ip,
    ),
)
ACTIONS.add(
    "deactivate-access-key",
    Action(
        "deactivate-access-key",
        "set the finding's long-term IAM access key Inactive",
        {},
        plan_deactivate_key,
        execute_deactivate_key,
        undo_deactivate_key,
    ),
)
