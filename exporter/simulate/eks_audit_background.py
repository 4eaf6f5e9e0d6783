"""Normal Kubernetes API activity per EKS cluster (rates per hour at scale 1).

Leader election of kube-controller-manager, kube-scheduler and the EKS cloud controller
(``get`` + ``update`` of a lease), kubelets renewing node leases, patching node status and
watching their pods, kube-system service accounts (coredns, aws-node, kube-proxy, the
endpointslice and garbage-collector controllers), developers using kubectl in their team
namespace in office hours, admins looking cluster-wide and the CI user rolling deployments.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any, NamedTuple

from exporter.simulate.activity import Activity, Line, office_hours, poisson
from exporter.simulate.eks_audit import (
    WINDOW,
    ObjectRef,
    audit_event,
    dumps,
    iam_user,
    service_account,
    stream_key,
    system_user,
)
from exporter.simulate.ids import pick, stable_uuid
from exporter.simulate.model import NAMESPACES, Account, Cluster, Model
from exporter.simulate.writers import StreamSpec, eks_audit_name

K8S = "v1.29.10 (linux/amd64) kubernetes/e7d1e2f"
KUBELET = "kubelet/v1.29.8-eks-a737599 (linux/amd64) kubernetes/a737599"
KUBECTL = "kubectl/v1.29.2 ({}) kubernetes/4b8e819"
LEASES = "coordination.k8s.io"
DISCOVERY = "discovery.k8s.io"
WATCH = "allowWatchBookmarks=true&timeout=8m26s&timeoutSeconds=506&watch=true"
LIST = "limit=500"
Request = tuple[str, ObjectRef, str]
Option = tuple[Request, ...]


def streams(model: Model) -> list[StreamSpec]:
    """One audit stream per EKS cluster."""
    return [
        StreamSpec(
            source="eks-audit",
            key=stream_key(cluster),
            window=WINDOW,
            name=partial(
                eks_audit_name, account.id, cluster.region, cluster.name, cluster.stream_hex
            ),
            activities=tuple(_activities(model, account, cluster)),
        )
        for account in model.accounts
        for cluster in account.clusters
    ]


def _activities(model: Model, account: Account, cluster: Cluster) -> Iterator[Activity]:
    for actor in (*_control_plane(cluster), *_node_agents(cluster)):
        emit = partial(_requests, actor.user, (actor.client,), actor.options)
        yield poisson(actor.rate, emit, scale=model.scale)
    office = office_hours(account.utc_offset)
    for n, dev in enumerate(account.users_of("developer")):
        namespace = NAMESPACES[n % len(NAMESPACES)]
        user = iam_user(account, dev, [f"{namespace}-developers"])
        clients = tuple((ip, KUBECTL.format("darwin/arm64")) for ip in dev.ips[:2])
        options = _developer_options(cluster, namespace)
        yield poisson(8, partial(_requests, user, clients, options), office, model.scale)
    for admin in account.users_of("admin"):
        user = iam_user(account, admin, ["system:masters"])
        clients = tuple((ip, KUBECTL.format("darwin/arm64")) for ip in admin.ips[:2])
        yield poisson(2, partial(_requests, user, clients, ADMIN_OPTIONS), office, model.scale)
    ci = account.users_of("ci")[0]
    clients = tuple((ip, KUBECTL.format("linux/amd64")) for ip in ci.ips)
    yield poisson(
        1,
        partial(_requests, iam_user(account, ci, ["deployers"]), clients, _deploy_options(cluster)),
        scale=model.scale,
    )


def _requests(
    user: Mapping[str, Any],
    clients: tuple[tuple[str, str], ...],
    options: tuple[Option, ...],
    rng: random.Random,
    ts: float,
) -> list[Line]:
    client = pick(rng, clients)
    lines = []
    for n, (verb, ref, query) in enumerate(pick(rng, options)):
        at = ts + n * 0.005
        lines.append((at, dumps(audit_event(rng, at, user, verb, ref, client, query))))
    return lines


def _lease(namespace: str, name: str) -> Option:
    ref = ObjectRef("leases", namespace, name, LEASES)
    return (("get", ref, ""), ("update", ref, ""))


def _sa(cluster: Cluster, name: str) -> dict[str, Any]:
    return service_account("kube-system", name, stable_uuid(cluster.name, name))


class Actor(NamedTuple):
    """A machine identity's recurring requests: ``rate`` per hour, one option per emission."""

    rate: float
    user: dict[str, Any]
    client: tuple[str, str]
    options: tuple[Option, ...]


def _control_plane(cluster: Cluster) -> Iterator[Actor]:
    cp = cluster.control_plane_ips
    for n, component in enumerate(("kube-controller-manager", "kube-scheduler")):
        client = (cp[n % len(cp)], f"{component}/{K8S}/leader-election")
        yield Actor(
            20, system_user(f"system:{component}"), client, (_lease("kube-system", component),)
        )
    ccm = (cp[0], f"aws-cloud-controller-manager/{K8S}/leader-election")
    yield Actor(
        10,
        system_user("eks:cloud-controller-manager"),
        ccm,
        (_lease("kube-system", "cloud-controller-manager"),),
    )
    slices = ObjectRef("endpointslices", None, None, DISCOVERY)
    watches = tuple(
        (("watch", ref, WATCH),) for ref in (slices, ObjectRef("services"), ObjectRef("namespaces"))
    )
    coredns = (f"{cluster.vpc.prefix}.10.150", "coredns/v1.11.1 (linux/amd64) kubernetes/$Format")
    yield Actor(6, _sa(cluster, "coredns"), coredns, watches)
    controller = "endpointslice-controller"
    agent = f"kube-controller-manager/{K8S}/system:serviceaccount:kube-system:{controller}"
    updates = tuple(
        (("update", ObjectRef("endpointslices", ns, f"api-{ns}", DISCOVERY), ""),)
        for ns in NAMESPACES
    )
    yield Actor(6, _sa(cluster, controller), (cp[0], agent), updates)


def _node_agents(cluster: Cluster) -> Iterator[Actor]:
    for node in cluster.nodes:
        name = cluster.node_name(node)
        kubelet = system_user(f"system:node:{name}", ["system:nodes"])
        status = ObjectRef("nodes", None, name, subresource="status")
        pods = (("watch", ObjectRef("pods"), f"fieldSelector=spec.nodeName%3D{name}&{WATCH}"),)
        yield Actor(24, kubelet, (node.ip, KUBELET), (_lease("kube-node-lease", name)[1:],))
        yield Actor(6, kubelet, (node.ip, KUBELET), ((("patch", status, ""),), pods))
        aws_node = (node.ip, "aws-node/v1.18.3 (linux/amd64) kubernetes/$Format")
        get_node = (("get", ObjectRef("nodes", None, name), ""),)
        yield Actor(6, _sa(cluster, "aws-node"), aws_node, (get_node,))
        watches = tuple(
            (("watch", ref, WATCH),)
            for ref in (ObjectRef("endpointslices", None, None, DISCOVERY), ObjectRef("services"))
        )
        yield Actor(4, _sa(cluster, "kube-proxy"), (node.ip, f"kube-proxy/{K8S}"), watches)


def _developer_options(cluster: Cluster, namespace: str) -> tuple[Option, ...]:
    pods = [name for ns, name in cluster.pods if ns == namespace]
    options: list[Option] = [
        (("list", ObjectRef("pods", namespace), LIST),),
        (("list", ObjectRef("deployments", namespace, None, "apps"), LIST),),
        (("list", ObjectRef("events", namespace), LIST),),
    ]
    for pod in pods:
        options.append((("get", ObjectRef("pods", namespace, pod), ""),))
        log = ObjectRef("pods", namespace, pod, subresource="log")
        options.append((("get", log, f"container={pod.split('-')[0]}&tailLines=200"),))
    return tuple(options)


def _deploy_options(cluster: Cluster) -> tuple[Option, ...]:
    options = []
    for namespace, pod in cluster.pods:
        ref = ObjectRef("deployments", namespace, pod.split("-")[0], "apps")
        options.append((("get", ref, ""), ("patch", ref, "fieldManager=kubectl-client-side-apply")))
    return tuple(options)


ADMIN_OPTIONS: tuple[Option, ...] = (
    (("list", ObjectRef("nodes"), LIST),),
    (("list", ObjectRef("pods"), LIST),),
    (("list", ObjectRef("namespaces"), LIST),),
    (("list", ObjectRef("deployments", None, None, "apps"), LIST),),
)
