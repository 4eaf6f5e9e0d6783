"""More labelled Kubernetes scenarios: workloads, role bindings, services and secrets.

Same conventions as :mod:`.scenarios_signatures` (whose helpers they use). A write's audit
Event is logged at level ``Request``: it carries the ``requestObject`` kubectl sent, which is
what the PrivilegedContainer, ContainerWithSensitiveMount, AdminAccessToDefaultServiceAccount,
AnonymousAccessGranted and ExposedDashboard signatures read.
"""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Any, NamedTuple

import orjson

from exporter.simulate.eks_audit import Event, ObjectRef, audit_event, iam_user
from exporter.simulate.eks_audit_background import KUBECTL, LIST
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.model import NAMESPACES, Account, Cluster, Model
from exporter.simulate.scenarios_signatures import (
    ANONYMOUS,
    Outcome,
    kube_calls,
    kube_events,
    labelled,
    last_day,
    rbac_allowed,
)

RBAC = "rbac.authorization.k8s.io"
APPLY = "fieldManager=kubectl-client-side-apply&fieldValidation=Strict"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
POD_SECURITY = {"pod-security.kubernetes.io/enforce-policy": "privileged:latest"}
SCANNER = "python-requests/2.31.0"
LINUX, MAC = "linux/amd64", "darwin/arm64"
ANONYMOUS_SECRETS = "CredentialAccess:Kubernetes/SuccessfulAnonymousAccess"
Manifest = dict[str, Any]


class Write(NamedTuple):
    """A write request: verb, object, query string, the request body kubectl sent."""

    verb: str
    ref: ObjectRef
    query: str
    body: Manifest


def write_event(
    rng: Random, ts: float, who: tuple[Mapping[str, Any], tuple[str, str]], write: Write
) -> Event:
    """The ``Request``-level audit Event of an allowed write (``requestObject`` in place)."""
    user, client = who
    event = audit_event(rng, ts, user, write.verb, write.ref, client, write.query)
    logged: Event = {}
    for key, value in event.items():
        logged[key] = value
        if key == "responseStatus":
            logged["requestObject"] = write.body
    if write.ref.resource == "pods":
        logged["annotations"] = {**logged["annotations"], **POD_SECURITY}
    return {**logged, "level": "Request"}


def kube_write(
    writer: ScenarioWriter,
    rng: Random,
    ts: float,
    who: tuple[Cluster, Mapping[str, Any], tuple[str, str]],
    write: Write,
) -> list[float]:
    """Write one write request of ``who`` (cluster, user, client); its time."""
    cluster, user, client = who
    return kube_calls(writer, cluster, [write_event(rng, ts, (user, client), write)])


def applied(manifest: Manifest) -> Manifest:
    """What ``kubectl apply`` sends to create ``manifest`` (last-applied annotation added)."""
    metadata = manifest["metadata"]
    last = orjson.dumps(manifest).decode() + "\n"
    annotations = {**metadata.get("annotations", {}), LAST_APPLIED: last}
    return {**manifest, "metadata": {**metadata, "annotations": annotations}}


def pod(name: str, namespace: str, container: Manifest, **spec: Any) -> Manifest:
    """A Pod manifest with one container (and further pod ``spec`` fields)."""
    metadata = {"name": name, "namespace": namespace, "labels": {"run": name}}
    body = {"containers": [{"name": name, **container}], **spec}
    return {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": body}


def binding(kind: str, name: str, role: str, subject: Manifest) -> Write:
    """``kubectl create (cluster)rolebinding``: ``role`` (a ClusterRole) bound to ``subject``
    (a RoleBinding lives in the subject's namespace)."""
    namespace = subject.get("namespace") if kind == "RoleBinding" else None
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    body = {"kind": kind, "apiVersion": f"{RBAC}/v1", "metadata": metadata, "subjects": [subject]}
    body["roleRef"] = {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}
    ref = ObjectRef(kind.lower() + "s", namespace, None, RBAC)
    return Write("create", ref, "fieldManager=kubectl-create&fieldValidation=Strict", body)


def admin(account: Account, n: int) -> Mapping[str, Any]:
    """The Kubernetes identity of the account's ``n``-th admin (system:masters)."""
    return iam_user(account, account.users_of("admin")[n], ["system:masters"])


def office_client(account: Account) -> tuple[str, str]:
    """The first admin's kubectl at the office (source IP, user agent)."""
    return account.users_of("admin")[0].ips[0], KUBECTL.format(MAC)


def image(account: Account, cluster: Cluster, name: str) -> str:
    """An image of the account's ECR repository ``name``."""
    return f"{account.id}.dkr.ecr.{cluster.region}.amazonaws.com/{name}:2025.03.1"


@labelled("privileged-pod", "PrivilegeEscalation:Kubernetes/PrivilegedContainer", "positive")
def privileged_pod(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A developer's identity, used from 203.0.113.58, runs a privileged ubuntu pod in its
    namespace (kubectl run --privileged)."""
    account = model.accounts[0]
    cluster, namespace = account.clusters[0], NAMESPACES[0]
    user = iam_user(account, account.users_of("developer")[0], [f"{namespace}-developers"])
    security = {"privileged": True}
    container = {"image": "ubuntu:22.04", "args": ["sleep", "infinity"], "resources": {}}
    body = pod("node-debug", namespace, {**container, "securityContext": security})
    write = Write("create", ObjectRef("pods", namespace), "fieldManager=kubectl-run", body)
    who = (cluster, user, ("203.0.113.58", KUBECTL.format(LINUX)))
    times = kube_write(writer, rng, last_day(model, rng), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("unprivileged-pod", "PrivilegeEscalation:Kubernetes/PrivilegedContainer", "negative")
def unprivileged_pod(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: a developer applies a hardened debug pod (privileged false, non-root)."""
    account = model.accounts[-1]
    cluster, namespace = account.clusters[0], NAMESPACES[1]
    dev = account.users_of("developer")[-1]
    user = iam_user(account, dev, [f"{namespace}-developers"])
    security = {"privileged": False, "allowPrivilegeEscalation": False, "runAsNonRoot": True}
    container = {"image": "curlimages/curl:8.7.1", "command": ["sleep", "3600"]}
    body = applied(pod("curl-debug", namespace, {**container, "securityContext": security}))
    write = Write("create", ObjectRef("pods", namespace), APPLY, body)
    who = (cluster, user, (dev.ips[0], KUBECTL.format(MAC)))
    times = kube_write(writer, rng, last_day(model, rng, account), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("host-root-mount", "Persistence:Kubernetes/ContainerWithSensitiveMount", "positive")
def host_root_mount(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A stolen admin identity, from 203.0.113.186, applies a pod that mounts the node's root
    file system (hostPath /) at /host; the container itself is not privileged."""
    account = model.accounts[-1]
    cluster = account.clusters[0]
    mount = {"name": "host", "mountPath": "/host"}
    container = {"image": "alpine:3.19", "command": ["sleep", "infinity"], "volumeMounts": [mount]}
    volume = {"name": "host", "hostPath": {"path": "/", "type": "Directory"}}
    body = applied(pod("hostroot", "default", container, volumes=[volume]))
    write = Write("create", ObjectRef("pods", "default"), APPLY, body)
    who = (cluster, admin(account, -1), ("203.0.113.186", KUBECTL.format(LINUX)))
    times = kube_write(writer, rng, last_day(model, rng), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("host-cache-mount", "Persistence:Kubernetes/ContainerWithSensitiveMount", "negative")
def host_cache_mount(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user applies a Deployment whose workers cache on hostPath
    /mnt/data/cache (a data directory, not a sensitive host path)."""
    account = model.accounts[0]
    cluster, namespace = account.clusters[0], NAMESPACES[1]
    ci = account.users_of("ci")[0]
    labels = {"app": "batch-worker"}
    mount = {"name": "cache", "mountPath": "/var/cache/worker"}
    container = {"name": "worker", "image": image(account, cluster, "worker")}
    volume = {"name": "cache", "hostPath": {"path": "/mnt/data/cache", "type": "DirectoryOrCreate"}}
    pod_spec = {"containers": [{**container, "volumeMounts": [mount]}], "volumes": [volume]}
    template = {"metadata": {"labels": labels}, "spec": pod_spec}
    spec = {"replicas": 2, "selector": {"matchLabels": labels}, "template": template}
    metadata = {"name": "batch-worker", "namespace": namespace, "labels": labels}
    body = {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": metadata, "spec": spec}
    write = Write("create", ObjectRef("deployments", namespace, None, "apps"), APPLY, applied(body))
    who = (cluster, iam_user(account, ci, ["deployers"]), (ci.ips[0], KUBECTL.format(LINUX)))
    times = kube_write(writer, rng, last_day(model, rng), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled(
    "default-sa-cluster-admin", "Policy:Kubernetes/AdminAccessToDefaultServiceAccount", "positive"
)
def default_sa_admin(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin binds cluster-admin to team-a's default service account (every pod there
    without its own service account becomes cluster admin)."""
    account = model.accounts[-1]
    cluster, namespace = account.clusters[0], NAMESPACES[0]
    subject = {"kind": "ServiceAccount", "name": "default", "namespace": namespace}
    write = binding("ClusterRoleBinding", f"{namespace}-default-admin", "cluster-admin", subject)
    who = (cluster, admin(account, 0), office_client(account))
    times = kube_write(writer, rng, last_day(model, rng, account), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("default-sa-view", "Policy:Kubernetes/AdminAccessToDefaultServiceAccount", "negative")
def default_sa_view(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an admin binds the read-only view role to team-b's default service account."""
    account = model.accounts[0]
    cluster, namespace = account.clusters[0], NAMESPACES[1]
    subject = {"kind": "ServiceAccount", "name": "default", "namespace": namespace}
    write = binding("RoleBinding", "default-view", "view", subject)
    who = (cluster, admin(account, 0), office_client(account))
    times = kube_write(writer, rng, last_day(model, rng, account), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("anonymous-access-granted", "Policy:Kubernetes/AnonymousAccessGranted", "positive")
def anonymous_granted(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """A stolen admin identity, from 203.0.113.37, binds the view role to the group
    system:unauthenticated (anyone may read the cluster's workloads)."""
    account = model.accounts[0]
    cluster = account.clusters[0]
    subject = {"kind": "Group", "apiGroup": RBAC, "name": "system:unauthenticated"}
    write = binding("ClusterRoleBinding", "public-status", "view", subject)
    who = (cluster, admin(account, -1), ("203.0.113.37", KUBECTL.format(LINUX)))
    times = kube_write(writer, rng, last_day(model, rng), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("dashboard-load-balancer", "Policy:Kubernetes/ExposedDashboard", "positive")
def dashboard_exposed(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """An admin patches the kubernetes-dashboard service to type LoadBalancer."""
    account = model.accounts[0]
    cluster, name = account.clusters[0], "kubernetes-dashboard"
    ref = ObjectRef("services", name, name)
    write = Write("patch", ref, "fieldManager=kubectl-patch", {"spec": {"type": "LoadBalancer"}})
    who = (cluster, admin(account, 0), office_client(account))
    times = kube_write(writer, rng, last_day(model, rng, account), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("web-app-load-balancer", "Policy:Kubernetes/ExposedDashboard", "negative")
def web_load_balancer(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user applies a LoadBalancer service for team-a's frontend."""
    account = model.accounts[-1]
    cluster, namespace = account.clusters[0], NAMESPACES[0]
    ci = account.users_of("ci")[0]
    labels = {"app": "frontend"}
    ports = [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 8443}]
    spec = {"type": "LoadBalancer", "selector": labels, "ports": ports}
    metadata = {"name": "frontend", "namespace": namespace, "labels": labels}
    body = applied({"kind": "Service", "apiVersion": "v1", "metadata": metadata, "spec": spec})
    write = Write("create", ObjectRef("services", namespace), APPLY, body)
    who = (cluster, iam_user(account, ci, ["deployers"]), (ci.ips[0], KUBECTL.format(LINUX)))
    times = kube_write(writer, rng, last_day(model, rng), who, write)
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("anonymous-secret-reads", ANONYMOUS_SECRETS, "positive")
def anonymous_secrets(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """From 203.0.113.212, system:anonymous lists every secret and reads team-a's database
    credentials, allowed by a forgotten binding of cluster-admin to anonymous (count 2)."""
    account = model.accounts[-1]
    cluster = account.clusters[0]
    reads = [("list", ObjectRef("secrets"), LIST, 200)]
    reads.append(("get", ObjectRef("secrets", NAMESPACES[0], "db-credentials"), "", 200))
    allowed = rbac_allowed("legacy-admin", "cluster-admin", 'User "system:anonymous"')
    events = kube_events(rng, last_day(model, rng), ANONYMOUS, ("203.0.113.212", SCANNER), reads)
    times = kube_calls(writer, cluster, [{**event, "annotations": allowed} for event in events])
    return Outcome(cluster.name, (account.id, cluster.region), times)


@labelled("admin-secret-reads", ANONYMOUS_SECRETS, "negative")
def admin_secrets(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: an authenticated admin lists kube-system's secrets and reads one (count 2)."""
    account = model.accounts[0]
    cluster = account.clusters[0]
    reads = [("list", ObjectRef("secrets", "kube-system"), LIST, 200)]
    reads.append(("get", ObjectRef("secrets", "kube-system", "aws-load-balancer-tls"), "", 200))
    client = office_client(account)
    events = kube_events(rng, last_day(model, rng, account), admin(account, 0), client, reads)
    return Outcome(cluster.name, (account.id, cluster.region), kube_calls(writer, cluster, events))
