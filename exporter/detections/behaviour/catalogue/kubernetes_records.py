"""Raw EKS audit events (``audit.k8s.io/v1``, one per line) for the Kubernetes detectors' cases."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from exporter.detections.behaviour.catalogue.documents import from_raw, lines
from exporter.detections.behaviour.model import Document

ACCOUNT, REGION, CLUSTER = "111122223333", "us-east-1", "case-cluster"
ORIGIN = f"eks-audit/{ACCOUNT}/{REGION}/{CLUSTER}/2026/01/14/kube-apiserver-audit-{'0' * 32}-12.log"
OPERATOR = f"arn:aws:iam::{ACCOUNT}:user/operator"
"""The IAM user every case is about."""


@dataclass(frozen=True)
class Request:
    """One allowed Kubernetes API request of ``user``."""

    at: datetime
    verb: str
    resource: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    group: str = ""
    code: int = 200
    user: str = OPERATOR
    body: Mapping[str, Any] | None = field(default=None)


def _uri(request: Request) -> str:
    path = f"/apis/{request.group}/v1" if request.group else "/api/v1"
    parts = [
        f"namespaces/{request.namespace}" if request.namespace else None,
        request.resource,
        request.name,
        request.subresource,
    ]
    return "/".join([path, *(part for part in parts if part)])


def record(request: Request) -> str:
    """The audit Event line of ``request``."""
    ref = {
        "resource": request.resource,
        "namespace": request.namespace,
        "name": request.name,
        "subresource": request.subresource,
        "apiGroup": request.group,
        "apiVersion": "v1",
    }
    event: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Request" if request.body else "Metadata",
        "auditID": hashlib.sha256(repr(request).encode()).hexdigest()[:32],
        "stage": "ResponseComplete",
        "requestURI": _uri(request),
        "verb": request.verb,
        "user": {"username": request.user, "groups": ["system:authenticated"]},
        "sourceIPs": ["192.0.2.40"],
        "userAgent": "kubectl/v1.29.2 (darwin/arm64) kubernetes/4b8e819",
        "objectRef": {key: value for key, value in ref.items() if value is not None},
        "responseStatus": {"metadata": {}, "code": request.code},
        "requestReceivedTimestamp": request.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "stageTimestamp": request.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "annotations": {"authorization.k8s.io/decision": "allow"},
    }
    if request.body:
        event["requestObject"] = dict(request.body)
    return json.dumps(event)


def documents(requests: list[Request]) -> list[Document]:
    """The ECS documents of ``requests``."""
    return from_raw("eks-audit", lines(map(record, requests)), ORIGIN)
