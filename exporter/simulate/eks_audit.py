"""EKS audit log records (Kubernetes ``audit.k8s.io/v1`` Events) and their layout.

EKS sends the API server's audit log to CloudWatch Logs, group ``/aws/eks/<cluster>/cluster``,
stream ``kube-apiserver-audit-<32 hex>``; each log event is one audit Event as JSON. The
simulator writes what an export of that stream looks like, one gzip file per hour::

    eks-audit/<account>/<region>/<cluster>/YYYY/MM/DD/kube-apiserver-audit-<32 hex>-<HH>.log.gz

with one Event per line (``level`` Metadata, ``stage`` ResponseComplete, ``annotations``
``authorization.k8s.io/decision: allow``), sorted by ``requestReceivedTimestamp``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from exporter.simulate.ids import iso_micros, uuid4
from exporter.simulate.model import Account, Cluster, IamUser

WINDOW = 3600
Event = dict[str, Any]
ALLOWED = {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}


class ObjectRef(NamedTuple):
    """What a request is about; ``group`` empty for the core API."""

    resource: str
    namespace: str | None = None
    name: str | None = None
    group: str = ""
    version: str = "v1"
    subresource: str | None = None

    def uri(self, query: str = "") -> str:
        """The request URI of a call on this object (``?query`` appended when given)."""
        return _uri(self, query)

    def as_dict(self) -> dict[str, str]:
        """The Event's ``objectRef`` block (shared: do not modify)."""
        return _ref(self)


@lru_cache(maxsize=4096)
def _uri(ref: ObjectRef, query: str) -> str:
    path = "/api/v1" if not ref.group else f"/apis/{ref.group}/{ref.version}"
    if ref.namespace:
        path += f"/namespaces/{ref.namespace}"
    path += f"/{ref.resource}"
    if ref.name:
        path += f"/{ref.name}"
    if ref.subresource:
        path += f"/{ref.subresource}"
    return f"{path}?{query}" if query else path


@lru_cache(maxsize=4096)
def _ref(ref: ObjectRef) -> dict[str, str]:
    block = {"resource": ref.resource}
    if ref.namespace:
        block["namespace"] = ref.namespace
    if ref.name:
        block["name"] = ref.name
    block["apiGroup"] = ref.group
    block["apiVersion"] = ref.version
    if ref.subresource:
        block["subresource"] = ref.subresource
    return block


def system_user(username: str, groups: Sequence[str] = ()) -> dict[str, Any]:
    """A control-plane or node identity (certificate based: no uid)."""
    return {"username": username, "groups": [*groups, "system:authenticated"]}


def service_account(namespace: str, name: str, uid: str) -> dict[str, Any]:
    """A pod's service-account identity."""
    return {
        "username": f"system:serviceaccount:{namespace}:{name}",
        "uid": uid,
        "groups": [
            "system:serviceaccounts",
            f"system:serviceaccounts:{namespace}",
            "system:authenticated",
        ],
    }


def iam_user(account: Account, user: IamUser, groups: Sequence[str]) -> dict[str, Any]:
    """An IAM user authenticated through aws-iam-authenticator (EKS access entries)."""
    arn = f"arn:aws:iam::{account.id}:user/{user.name}"
    return {
        "username": arn,
        "uid": f"aws-iam-authenticator:{account.id}:{user.user_id}",
        "groups": [*groups, "system:authenticated"],
        "extra": {
            "accessKeyId": [user.access_key],
            "arn": [arn],
            "canonicalArn": [arn],
            "principalId": [user.user_id],
            "sessionName": [""],
        },
    }


def audit_event(
    rng: random.Random,
    ts: float,
    user: Mapping[str, Any],
    verb: str,
    ref: ObjectRef,
    client: tuple[str, str],
    query: str = "",
    code: int | None = None,
) -> Event:
    """A ResponseComplete Event; ``client`` is (source IP, user agent)."""
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": uuid4(rng),
        "stage": "ResponseComplete",
        "requestURI": ref.uri(query),
        "verb": verb,
        "user": user,
        "sourceIPs": [client[0]],
        "userAgent": client[1],
        "objectRef": ref.as_dict(),
        "responseStatus": _status(code or (201 if verb == "create" else 200)),
        "requestReceivedTimestamp": iso_micros(ts),
        "stageTimestamp": iso_micros(ts + rng.uniform(0.001, 0.03)),
        "annotations": ALLOWED,
    }


@lru_cache(maxsize=64)
def _status(code: int) -> dict[str, Any]:
    return {"metadata": {}, "code": code}


def stream_key(cluster: Cluster) -> str:
    """The key of a cluster's audit stream."""
    return f"{cluster.account}/{cluster.region}/{cluster.name}"


def dumps(event: Mapping[str, Any]) -> str:
    """Compact JSON text of an Event."""
    return orjson.dumps(event).decode()
