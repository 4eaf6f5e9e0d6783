"""The ``resource`` of a finding, per GuardDuty resource type, read from the triggering event.

| resourceType | from |
|---|---|
| Instance | ``cloud.instance.id``; without one (flow records of v2, queries from a resolver
  endpoint) the ENI id ``aws.vpcflow.interface_id``, else the resolver endpoint, else
  ``unknown`` (then keyed by its private address); one network interface with the
  instance's address, VPC and subnet |
| AccessKey | ``aws.cloudtrail.user_identity.*`` and ``user.*`` (CloudTrail management events) |
| S3Bucket | the access key as above plus ``aws.cloudtrail.request_parameters.bucketName``
  (else the ``AWS::S3::Bucket`` resource ARN) and the object key (S3 data events) |
| EKSCluster | ``orchestrator.cluster.name`` (``unknown`` without the CloudWatch envelope) and
  the Kubernetes user, plus the workload when the request is about a pod or a controller |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.findings.fields import UNKNOWN, Event, compact, sides, strings, text
from exporter.normalize.ecs import get_path
from exporter.registry import Registry

Resource = dict[str, Any]


@dataclass(frozen=True)
class ResourceKind:
    """How to build one resource type and which of its values identifies it."""

    build: Callable[[Event], Resource]
    primary_id: Callable[[Resource], str]


RESOURCES: Registry[ResourceKind] = Registry("resource type")

WORKLOADS = frozenset(
    {"pods", "deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs"}
)


def _instance(event: Event) -> Resource:
    local = sides(event)[1].ip or text(event, "source.ip")
    interface = compact(
        networkInterfaceId=text(event, "aws.vpcflow.interface_id"),
        privateIpAddress=local,
        vpcId=text(event, "aws.vpcflow.vpc_id", "aws.route53.vpc_id"),
        subnetId=text(event, "aws.vpcflow.subnet_id"),
    )
    instance_id = text(
        event,
        "cloud.instance.id",
        "aws.vpcflow.interface_id",
        "aws.route53.srcids.resolver_endpoint",
    )
    interfaces = [interface] if interface else []
    details = compact(instanceId=instance_id or UNKNOWN, networkInterfaces=interfaces)
    return {"resourceType": "Instance", "instanceDetails": details}


def _instance_id(resource: Resource) -> str:
    details = resource["instanceDetails"]
    if details["instanceId"] != UNKNOWN:
        return str(details["instanceId"])
    interfaces = details.get("networkInterfaces") or [{}]
    return str(interfaces[0].get("privateIpAddress", UNKNOWN))


def access_key_details(event: Event) -> dict[str, str]:
    """``accessKeyDetails`` from the CloudTrail user identity."""
    user_type = text(event, "aws.cloudtrail.user_identity.type")
    return compact(
        accessKeyId=text(event, "aws.cloudtrail.user_identity.access_key_id"),
        principalId=text(event, "user.id"),
        userName=text(event, "user.name") or ("Root" if user_type == "Root" else None),
        userType=user_type,
    )


def _access_key(event: Event) -> Resource:
    return {"resourceType": "AccessKey", "accessKeyDetails": access_key_details(event)}


def _access_key_id(resource: Resource) -> str:
    details: Mapping[str, str] = resource.get("accessKeyDetails", {})
    for key in ("principalId", "accessKeyId", "userName"):
        if details.get(key):
            return details[key]
    return UNKNOWN


def _bucket_name(event: Event) -> str:
    named = text(event, "aws.cloudtrail.request_parameters.bucketName")
    if named:
        return named
    resources = get_path(event, "aws.cloudtrail.resources")
    for entry in _objects(resources):
        if entry.get("type") == "AWS::S3::Bucket":
            return str(entry.get("arn", "")).rsplit(":", 1)[-1] or UNKNOWN
    return UNKNOWN


def _s3_bucket(event: Event) -> Resource:
    name = _bucket_name(event)
    key = text(event, "aws.cloudtrail.request_parameters.key")
    objects = [compact(key=key, objectArn=f"arn:aws:s3:::{name}/{key}")] if key else []
    bucket = compact(
        name=name, arn=f"arn:aws:s3:::{name}", type="Destination", s3ObjectDetails=objects
    )
    return {
        "resourceType": "S3Bucket",
        "accessKeyDetails": access_key_details(event),
        "s3BucketDetails": [bucket],
    }


def _bucket_id(resource: Resource) -> str:
    return str(resource["s3BucketDetails"][0]["name"])


def _eks_cluster(event: Event) -> Resource:
    audit = "kubernetes.audit"
    user = compact(
        username=text(event, f"{audit}.user.username", "user.name"),
        uid=text(event, f"{audit}.user.uid", "user.id"),
        groups=strings(event, f"{audit}.user.groups"),
        impersonatedUser=compact(
            username=text(event, f"{audit}.impersonatedUser.username"),
            groups=strings(event, f"{audit}.impersonatedUser.groups"),
        ),
    )
    return {
        "resourceType": "EKSCluster",
        "eksClusterDetails": {"name": text(event, "orchestrator.cluster.name") or UNKNOWN},
        "kubernetesDetails": {
            "kubernetesUserDetails": user,
            "kubernetesWorkloadDetails": workload_details(event),
        },
    }


def _cluster_id(resource: Resource) -> str:
    return str(resource["eksClusterDetails"]["name"])


def workload_details(event: Event) -> dict[str, Any] | None:
    """The pod or controller a request is about, with what its spec (if logged) says."""
    kind = text(event, "kubernetes.audit.objectRef.resource")
    if kind not in WORKLOADS:
        return None
    request = get_path(event, "kubernetes.audit.requestObject")
    spec = pod_spec(request) if isinstance(request, Mapping) else {}
    return compact(
        name=text(
            event, "kubernetes.audit.objectRef.name", "kubernetes.audit.requestObject.metadata.name"
        ),
        type=kind,
        namespace=text(event, "kubernetes.audit.objectRef.namespace"),
        uid=text(event, "kubernetes.audit.objectRef.uid"),
        serviceAccountName=_text(spec.get("serviceAccountName")),
        hostNetwork=_flag(spec.get("hostNetwork")),
        hostIpc=_flag(spec.get("hostIPC")),
        hostPid=_flag(spec.get("hostPID")),
        containers=[container(c) for c in _containers(spec)],
        volumes=[_volume(v) for v in _objects(spec.get("volumes"))],
    )


def pod_spec(request: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of a Pod, a controller template or a CronJob's job template."""
    for path in ("spec.jobTemplate.spec.template.spec", "spec.template.spec", "spec"):
        found = get_path(request, path)
        if isinstance(found, Mapping) and "containers" in found:
            return found
    return {}


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        found += _objects(spec.get(key))
    return found


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list (anything else: none)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def container(spec: Mapping[str, Any]) -> dict[str, Any]:
    """One container of a workload; ``imagePrefix`` is the image name before its last ``/``."""
    image = _text(spec.get("image"))
    security = spec.get("securityContext")
    security = security if isinstance(security, Mapping) else {}
    mounts = _objects(spec.get("volumeMounts"))
    return compact(
        name=_text(spec.get("name")),
        image=image,
        imagePrefix=image.rsplit("/", 1)[0] if image and "/" in image else None,
        securityContext=compact(
            privileged=_flag(security.get("privileged")),
            allowPrivilegeEscalation=_flag(security.get("allowPrivilegeEscalation")),
        ),
        volumeMounts=[
            compact(name=_text(m.get("name")), mountPath=_text(m.get("mountPath"))) for m in mounts
        ],
    )


def _volume(spec: Mapping[str, Any]) -> dict[str, Any]:
    host_path = spec.get("hostPath")
    path = host_path.get("path") if isinstance(host_path, Mapping) else None
    return compact(name=_text(spec.get("name")), hostPath=compact(path=_text(path)))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


RESOURCES.add("Instance", ResourceKind(_instance, _instance_id))
RESOURCES.add("AccessKey", ResourceKind(_access_key, _access_key_id))
RESOURCES.add("S3Bucket", ResourceKind(_s3_bucket, _bucket_id))
RESOURCES.add("EKSCluster", ResourceKind(_eks_cluster, _cluster_id))
