"""EKS (Kubernetes) audit event -> ECS document.

Data first: :data:`FIELD_MAP` copies the plain fields to ECS, :data:`AUDIT_KEYS` is what is kept
under ``kubernetes.audit.*`` (Elastic's layout, so its queries work) and :data:`SHAPES` is the JSON
type every indexed audit field must have. Small functions fill what needs logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from exporter.errors import ParseError
from exporter.normalize.ecs import (
    Doc,
    FieldMap,
    add_related,
    apply_field_map,
    as_ip,
    bounded,
    get_path,
    parse_timestamp,
    set_path,
    unique,
)
from exporter.parsers.base import Record
from exporter.parsers.eks_audit import CLOUDWATCH_KEY, foreign_reason

DATASET = "kubernetes.audit_logs"

FIELD_MAP: FieldMap = {
    "event.action": "verb",
    "event.id": "auditID",
    "user.name": "user.username",
    "user.id": "user.uid",
    "user.effective.name": "impersonatedUser.username",
    "user_agent.original": "userAgent",
    "url.original": "requestURI",
    "orchestrator.namespace": "objectRef.namespace",
    "orchestrator.resource.type": "objectRef.resource",
    "orchestrator.resource.name": "objectRef.name",
    "http.response.status_code": "responseStatus.code",
}
"""ECS path <- audit event path (values are type-checked by :data:`SHAPES` first)."""

AUDIT_KEYS = (
    "kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
    "impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject",
    "responseObject", "requestReceivedTimestamp", "stageTimestamp", "annotations",
)  # fmt: skip
"""audit.k8s.io/v1 Event keys kept under kubernetes.audit (vendor extras are dropped)."""

SHAPES: Mapping[str, type] = {
    "kind": str, "apiVersion": str, "level": str, "auditID": str, "stage": str,
    "requestURI": str, "verb": str, "userAgent": str, "sourceIPs": list,
    "user": dict, "user.username": str, "user.uid": str, "user.groups": list,
    "impersonatedUser": dict, "impersonatedUser.username": str, "impersonatedUser.uid": str,
    "impersonatedUser.groups": list, "objectRef": dict, "objectRef.resource": str,
    "objectRef.subresource": str, "objectRef.namespace": str, "objectRef.name": str,
    "objectRef.apiGroup": str, "objectRef.apiVersion": str, "objectRef.uid": str,
    "responseStatus": dict, "responseStatus.code": int, "responseStatus.status": str,
    "responseStatus.reason": str, "annotations": dict, "requestObject": dict,
}  # fmt: skip
"""JSON type of every audit field that is indexed; lists must hold strings."""

VERB_TYPES: Mapping[str, tuple[str, ...]] = {
    "get": ("access",), "list": ("access",), "watch": ("access",), "create": ("creation",),
    "update": ("change",), "patch": ("change",), "delete": ("deletion",),
    "deletecollection": ("deletion",),
}  # fmt: skip
"""ECS event.type (category ``api``) per Kubernetes verb; others are ``info``."""
SESSION_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})
"""Subresources whose ``create`` opens a session into a pod (event.type ``start``)."""
DECISION_TYPES: Mapping[str, str] = {"allow": "allowed", "forbid": "denied"}
DECISION = "authorization.k8s.io/decision"
MAX_STATUS_CODE = 1000
POD_SPEC_PATHS = ("spec", "spec.template.spec", "spec.jobTemplate.spec.template.spec")
"""Where a pod spec sits in a written Pod, workload (Deployment...) or CronJob."""
CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")


def identity(record: Record) -> str | None:
    """``auditID:stage`` (one audit ID is logged once per stage), or None without an ID."""
    audit_id, stage = record.fields.get("auditID"), record.fields.get("stage")
    if not isinstance(audit_id, str) or not audit_id:
        return None
    return f"{audit_id}:{stage}" if isinstance(stage, str) and stage else audit_id


def normalize(record: Record) -> Doc:
    """The ECS document for one EKS audit event; ParseError when it is not one."""
    event = record.fields
    reason = foreign_reason(event)
    if reason:
        raise ParseError(reason)
    check_shapes(event)
    doc: Doc = {
        "@timestamp": _event_time(event),
        "event": {"kind": "event", "module": "kubernetes", "dataset": DATASET},
        "cloud": {"provider": "aws"},
        "orchestrator": {"type": "kubernetes"},
        "kubernetes": {"audit": _audit(event)},
    }
    apply_field_map(doc, event, FIELD_MAP)
    set_path(doc, "event.original", record.original)
    set_path(doc, "event.provider", "kube-apiserver")
    _categorize(doc, event)
    _period(doc, event)
    _envelope(doc, event.get(CLOUDWATCH_KEY))
    _origin(doc, record.position.origin)
    _api_version(doc, event)
    _error(doc, event)
    _images(doc, event.get("requestObject"))
    _related(doc, event)
    return doc


def check_shapes(event: Mapping[str, Any]) -> None:
    """ParseError unless every indexed audit field present has its JSON type."""
    for path, kind in SHAPES.items():
        value = get_path(event, path)
        if value is None:
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ParseError(f"audit field {path}: expected {kind.__name__}, got {value!r:.80}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ParseError(f"audit field {path}: expected a list of strings")
    annotations = event.get("annotations") or {}
    if not all(isinstance(value, str) for value in annotations.values()):
        raise ParseError("audit field annotations: values must be strings")
    code = get_path(event, "responseStatus.code")
    if code is not None and not 0 <= code < MAX_STATUS_CODE:
        raise ParseError(f"audit field responseStatus.code: {code} is not an HTTP status")


def _event_time(event: Mapping[str, Any]) -> str:
    """@timestamp: when the API server received the request (else when the stage was logged)."""
    received = event.get("requestReceivedTimestamp")
    if received is not None:
        return parse_timestamp(received, "requestReceivedTimestamp")
    if event.get("stageTimestamp") is None:
        raise ParseError("audit event without requestReceivedTimestamp or stageTimestamp")
    return parse_timestamp(event["stageTimestamp"], "stageTimestamp")


def _audit(event: Mapping[str, Any]) -> Doc:
    """kubernetes.audit: the event's own keys, annotation keys with ``.`` made ``_``."""
    audit = {key: event[key] for key in AUDIT_KEYS if key in event}
    if "requestObject" in audit:  # indexed as flat_object: strings bounded
        audit["requestObject"] = bounded(audit["requestObject"])
    annotations = audit.get("annotations")
    if isinstance(annotations, Mapping):
        audit["annotations"] = {key.replace(".", "_"): value for key, value in annotations.items()}
    return audit


def _categorize(doc: Doc, event: Mapping[str, Any]) -> None:
    """event.category ``api``; event.type from the verb and the authorization decision."""
    verb, subresource = event.get("verb"), get_path(event, "objectRef.subresource")
    kinds = list(VERB_TYPES.get(verb, ("info",)) if isinstance(verb, str) else ("info",))
    if verb == "create" and subresource in SESSION_SUBRESOURCES:
        kinds = ["start"]
    decision = (event.get("annotations") or {}).get(DECISION)
    if isinstance(decision, str) and decision in DECISION_TYPES:
        kinds.append(DECISION_TYPES[decision])
    doc["event"]["category"] = ["api"]
    doc["event"]["type"] = kinds
    doc["event"]["outcome"] = _outcome(event, decision)


def _outcome(event: Mapping[str, Any], decision: Any) -> str:
    """failure for an HTTP error or a forbid decision, success for a response, else unknown."""
    code = get_path(event, "responseStatus.code")
    if isinstance(code, int):
        return "failure" if code >= 400 else "success"
    return {"allow": "success", "forbid": "failure"}.get(decision, "unknown")


def _period(doc: Doc, event: Mapping[str, Any]) -> None:
    """event.start (request received) and event.end (stage logged), when they are dates."""
    for target, source in (
        ("event.start", "requestReceivedTimestamp"),
        ("event.end", "stageTimestamp"),
    ):
        if event.get(source) is not None:
            set_path(doc, target, parse_timestamp(event[source], source))


def _envelope(doc: Doc, envelope: Any) -> None:
    """orchestrator.cluster.name from ``/aws/eks/<cluster>/cluster``, cloud.account.id."""
    if not isinstance(envelope, Mapping):
        return
    group = envelope.get("logGroup")
    parts = group.split("/") if isinstance(group, str) else []
    if len(parts) == 5 and parts[1:3] == ["aws", "eks"] and parts[4] == "cluster":
        set_path(doc, "orchestrator.cluster.name", parts[3])
    owner = envelope.get("owner")
    if isinstance(owner, str):
        set_path(doc, "cloud.account.id", owner)


_ORIGIN_LAYOUTS = (
    re.compile(r"/aws/eks/(?P<cluster>[^/]+)/cluster(?:/|$)"),
    re.compile(r"(?:^|/)eks-audit/(?P<account>\d{12})/(?P<region>[a-z0-9-]+)/(?P<cluster>[^/]+)/"),
)


def _origin(doc: Doc, origin: str) -> None:
    """Cluster, account and region from the file's path when the records lack them.

    Two layouts: a path holding the log group ``/aws/eks/<cluster>/cluster``, and Duskwatch's
    layout for exported audit logs ``eks-audit/<account>/<region>/<cluster>/...``.
    """
    for layout in _ORIGIN_LAYOUTS:
        found = layout.search(origin)
        if found is None:
            continue
        groups = found.groupdict()
        if not get_path(doc, "orchestrator.cluster.name"):
            set_path(doc, "orchestrator.cluster.name", groups["cluster"])
        if groups.get("account") and not get_path(doc, "cloud.account.id"):
            set_path(doc, "cloud.account.id", groups["account"])
        if groups.get("region") and not get_path(doc, "cloud.region"):
            set_path(doc, "cloud.region", groups["region"])
        return


def _api_version(doc: Doc, event: Mapping[str, Any]) -> None:
    """orchestrator.api_version of the resource acted on: ``apps/v1``, core ``v1``."""
    group = get_path(event, "objectRef.apiGroup")
    version = get_path(event, "objectRef.apiVersion")
    if version:
        set_path(doc, "orchestrator.api_version", f"{group}/{version}" if group else version)


def _error(doc: Doc, event: Mapping[str, Any]) -> None:
    """error.code (the status reason) and error.message for an HTTP error response."""
    code = get_path(event, "responseStatus.code")
    if isinstance(code, int) and code >= 400:
        set_path(doc, "error.code", get_path(event, "responseStatus.reason") or str(code))
        message = get_path(event, "responseStatus.message")
        set_path(doc, "error.message", message if isinstance(message, str) else None)


def _images(doc: Doc, request: Any) -> None:
    """container.image.name: the images of a pod (or pod template) being written."""
    if not isinstance(request, Mapping):
        return
    specs = [get_path(request, path) for path in POD_SPEC_PATHS]
    images = [image for spec in specs if isinstance(spec, Mapping) for image in _spec_images(spec)]
    set_path(doc, "container.image.name", unique(images))


def _spec_images(spec: Mapping[str, Any]) -> Iterator[str]:
    """The container images named in one pod spec."""
    for key in CONTAINER_KEYS:
        containers = spec.get(key)
        for container in containers if isinstance(containers, list) else ():
            image = container.get("image") if isinstance(container, Mapping) else None
            if isinstance(image, str):
                yield image


def _related(doc: Doc, event: Mapping[str, Any]) -> None:
    """source.ip/address (the client: first of sourceIPs), related.ip and related.user."""
    addresses = event.get("sourceIPs") or []
    if addresses:
        set_path(doc, "source.address", addresses[0])
        set_path(doc, "source.ip", as_ip(addresses[0]))
    users = [get_path(event, path) for path in ("user.username", "user.uid")]
    add_related(doc, ips=addresses, users=[*users, get_path(event, "impersonatedUser.username")])
