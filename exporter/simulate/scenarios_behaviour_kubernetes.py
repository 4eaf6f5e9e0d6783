"""Labelled Kubernetes behaviour scenarios: first-seen permission checks, secret reads, exec
and role bindings per user (EKS audit logs).

Positives run on the last simulated day from 203.0.113.61-.63 with the identity of a user the
cluster already knows (a routine ``list pods`` on the first two days makes sure of it at any
scale). Near misses are what their users do every day: each writes its routine on every
simulated day, the last day's occurrence labelled. The admins' routine role bindings also
cover the admins' bindings of :mod:`.scenarios_kubernetes`, so in the first cluster only the
attacker's binding is new. The finding's resource is the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from random import Random
from typing import Any

from exporter.simulate.eks_audit import ObjectRef, iam_user
from exporter.simulate.eks_audit_background import KUBECTL, LIST
from exporter.simulate.ids import DAY, HOUR
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.model import NAMESPACES, Account, Cluster, IamUser, Model
from exporter.simulate.scenarios_kubernetes import RBAC, Write, binding, write_event
from exporter.simulate.scenarios_signatures import (
    EXEC_QUERY,
    Outcome,
    Request,
    kube_calls,
    kube_events,
    labelled,
    last_day,
)

PERMISSION = "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked"
SECRETS = "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed"
EXEC = "Execution:Kubernetes/AnomalousBehavior.ExecInPod"
BINDING = "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated"
AUTHORIZATION = "authorization.k8s.io"
LINUX, MAC = "linux/amd64", "darwin/arm64"
GROUPS = {"admin": "system:masters", "ci": "deployers"}
"""The Kubernetes group of each IAM user kind (developers: their team's group)."""
Who = tuple[Mapping[str, Any], tuple[str, str]]
"""A Kubernetes identity and its client (source IP, user agent)."""
Where = tuple[Cluster, Who]


def identity(account: Account, user: IamUser) -> Mapping[str, Any]:
    """The Kubernetes identity of an IAM user, with the group the background gives it."""
    developers = account.users_of("developer")
    team = NAMESPACES[developers.index(user) % len(NAMESPACES)] if user in developers else ""
    return iam_user(account, user, [GROUPS.get(user.kind, f"{team}-developers")])


def stolen(account: Account, user: IamUser, ip: str) -> Who:
    """``user``'s identity used with kubectl on Linux from ``ip``."""
    return identity(account, user), (ip, KUBECTL.format(LINUX))


def office(account: Account, user: IamUser) -> Who:
    """``user``'s identity used with kubectl from their usual address."""
    return identity(account, user), (
        user.ips[0],
        KUBECTL.format(LINUX if user.kind == "ci" else MAC),
    )


def office_moment(rng: Random, account: Account, day: int) -> int:
    """A moment in the account's office hours (09-16 local, within the UTC day) of ``day``."""
    first, last = 9 - account.utc_offset, 16 - account.utc_offset
    return day + rng.randint(max(first, 1), min(last, 20)) * HOUR + rng.randint(0, 1799)


def earlier_days(model: Model) -> range:
    """The start of every simulated day before the last."""
    return range(model.start, model.end - DAY, DAY)


def send(
    writer: ScenarioWriter, rng: Random, where: Where, ts: int, requests: Sequence[Request]
) -> list[float]:
    """Write ``requests`` of the identity in ``where`` from ``ts``; their times."""
    cluster, (user, client) = where
    return kube_calls(writer, cluster, kube_events(rng, ts, user, client, requests))


def make_known(
    model: Model, rng: Random, writer: ScenarioWriter, where: Where, account: Account
) -> None:
    """A routine ``list pods`` of the identity on each of the first two days."""
    listing = [("list", ObjectRef("pods", NAMESPACES[0]), LIST, 200)]
    for day in earlier_days(model)[:2]:
        send(writer, rng, where, office_moment(rng, account, day), listing)


def outcome(cluster: Cluster, times: list[float]) -> Outcome:
    """The label facts: the cluster, its account and Region, the labelled times."""
    return Outcome(cluster.name, (cluster.account, cluster.region), times)


def permission_checks(count: int) -> list[Request]:
    """``kubectl auth can-i --list``, then ``count`` single ``auth can-i`` checks."""
    rules = ObjectRef("selfsubjectrulesreviews", None, None, AUTHORIZATION)
    access = ObjectRef("selfsubjectaccessreviews", None, None, AUTHORIZATION)
    return [("create", rules, "", 201), *[("create", access, "", 201)] * count]


def exec_requests(cluster: Cluster, namespace: str) -> list[Request]:
    """``kubectl exec -it`` into the first pod of ``namespace``: get the pod, create exec."""
    pod = next(name for ns, name in cluster.pods if ns == namespace)
    exec_ref = ObjectRef("pods", namespace, pod, subresource="exec")
    get = ("get", ObjectRef("pods", namespace, pod), "", 200)
    return [get, ("create", exec_ref, EXEC_QUERY.format(pod.split("-")[0]), 101)]


def secret_reads(namespace: str, name: str) -> list[Request]:
    """``kubectl get secrets`` then ``kubectl get secret <name> -o yaml`` in ``namespace``."""
    listing = ("list", ObjectRef("secrets", namespace), LIST, 200)
    return [listing, ("get", ObjectRef("secrets", namespace, name), "", 200)]


def team_binding(namespace: str) -> Write:
    """``kubectl create rolebinding``: the edit role for the team's developers group."""
    group = {"kind": "Group", "apiGroup": RBAC, "name": f"{namespace}-developers"}
    change = binding(
        "RoleBinding", f"{namespace}-developers-edit", "edit", {"namespace": namespace}
    )
    return change._replace(body={**change.body, "subjects": [group]})


def write(writer: ScenarioWriter, rng: Random, where: Where, ts: int, change: Write) -> float:
    """Write one write request (logged at level Request) of ``where``'s identity; its time."""
    cluster, who = where
    return kube_calls(writer, cluster, [write_event(rng, ts, who, change)])[0]


@labelled("kube-first-permission-check", PERMISSION, "positive")
def first_permission_check(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """bob.ops's identity, from 203.0.113.61, lists its permissions (auth can-i --list) and
    checks three more: bob never checked his permissions in this cluster before."""
    account = model.accounts[0]
    cluster, bob = account.clusters[0], account.users_of("admin")[-1]
    make_known(model, rng, writer, (cluster, office(account, bob)), account)
    where = (cluster, stolen(account, bob, "203.0.113.61"))
    return outcome(cluster, send(writer, rng, where, last_day(model, rng), permission_checks(3)))


@labelled("kube-ci-permission-checks", PERMISSION, "negative")
def ci_permission_checks(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: the CI user checks it may patch deployments (auth can-i) before its rollout,
    every day at about 06:00 UTC."""
    account = model.accounts[-1]
    cluster = account.clusters[0]
    where = (cluster, office(account, account.users_of("ci")[0]))
    times: list[float] = []
    for day in range(model.start, model.end, DAY):
        times = send(writer, rng, where, day + 6 * HOUR + rng.randint(0, 900), permission_checks(1))
    return outcome(cluster, times)


@labelled("kube-first-secret-reads", SECRETS, "positive")
def first_secret_reads(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """dan.dev's identity, from 203.0.113.63, lists team-b's secrets and reads its database
    credentials: dan never read a secret before."""
    account = model.accounts[-1]
    cluster, dan = account.clusters[0], account.users_of("developer")[-1]
    make_known(model, rng, writer, (cluster, office(account, dan)), account)
    where = (cluster, stolen(account, dan, "203.0.113.63"))
    reads = secret_reads(NAMESPACES[1], "db-credentials")
    return outcome(cluster, send(writer, rng, where, last_day(model, rng), reads))


@labelled("kube-routine-secret-reads", SECRETS, "negative")
def routine_secret_reads(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: alice.admin checks kube-system's load balancer certificate secret every
    working day from the office."""
    account = model.accounts[0]
    cluster = account.clusters[0]
    where = (cluster, office(account, account.users_of("admin")[0]))
    reads = secret_reads("kube-system", "aws-load-balancer-tls")
    times: list[float] = []
    for day in range(model.start, model.end, DAY):
        times = send(writer, rng, where, office_moment(rng, account, day), reads)
    return outcome(cluster, times)


@labelled("kube-first-exec", EXEC, "positive")
def first_exec(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """alice.admin's identity, from 203.0.113.62, opens a shell in a team-a pod: alice never
    exec'd into a pod before."""
    account = model.accounts[0]
    cluster, alice = account.clusters[0], account.users_of("admin")[0]
    make_known(model, rng, writer, (cluster, office(account, alice)), account)
    where = (cluster, stolen(account, alice, "203.0.113.62"))
    execs = exec_requests(cluster, NAMESPACES[0])
    return outcome(cluster, send(writer, rng, where, last_day(model, rng), execs))


@labelled("kube-routine-exec", EXEC, "negative")
def routine_exec(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: carol.dev opens a shell in her team's pod every working day from the
    office."""
    account = model.accounts[-1]
    cluster, carol = account.clusters[0], account.users_of("developer")[0]
    where = (cluster, office(account, carol))
    execs = exec_requests(cluster, NAMESPACES[0])
    times: list[float] = []
    for day in range(model.start, model.end, DAY):
        times = send(writer, rng, where, office_moment(rng, account, day), execs)
    return outcome(cluster, times)


@labelled("kube-first-cluster-admin-binding", BINDING, "positive")
def first_binding(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """bob.ops's identity, from 203.0.113.61, binds cluster-admin to a new kube-system service
    account (node-debugger): bob never created a binding before (High: an admin role)."""
    account = model.accounts[0]
    cluster, bob = account.clusters[0], account.users_of("admin")[-1]
    make_known(model, rng, writer, (cluster, office(account, bob)), account)
    subject = {"kind": "ServiceAccount", "name": "node-debugger", "namespace": "kube-system"}
    change = binding("ClusterRoleBinding", "node-debugger-admin", "cluster-admin", subject)
    where = (cluster, stolen(account, bob, "203.0.113.61"))
    return outcome(cluster, [write(writer, rng, where, last_day(model, rng), change)])


@labelled("kube-routine-team-bindings", BINDING, "negative")
def routine_bindings(model: Model, rng: Random, writer: ScenarioWriter) -> Outcome:
    """Near miss: alice.admin grants a team's developers the edit role every working day
    (the first account's alice on the days before the last, the labelled one's every day)."""
    times: list[float] = []
    for account in model.accounts:
        cluster, alice = account.clusters[0], account.users_of("admin")[0]
        where = (cluster, office(account, alice))
        last = model.end if account is model.accounts[-1] else model.end - DAY
        for n, day in enumerate(range(model.start, last, DAY)):
            change = team_binding(NAMESPACES[n % len(NAMESPACES)])
            times = [write(writer, rng, where, office_moment(rng, account, day), change)]
    return outcome(model.accounts[-1].clusters[0], times)
