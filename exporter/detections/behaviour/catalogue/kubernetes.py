"""Behaviour detectors over EKS audit logs: first-seen sensitive requests per Kubernetes user.

Each detector watches one kind of sensitive request (permission checks, secret reads, exec
into pods, role binding creation). A window's allowed requests of that kind are grouped per
(cluster, user[, namespace]); the baseline then asks, for those users only, when each was
first seen in the cluster during the previous ``baseline_days`` and which of them made such a
request (and in which namespaces). A user reports when known for at least ``learning_days``
(new identities are still being learned) and never made the request in its baseline. Control
plane identities (``ignored_user_prefixes``) are left out; routine service accounts and nodes
are covered by their own baselines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.kubernetes_records import Request, documents
from exporter.detections.behaviour.model import (
    Baseline,
    Bucket,
    Case,
    Detector,
    Hit,
    Params,
    Window,
    register,
)
from exporter.detections.behaviour.results import bounds, buckets, moment, sample, with_evidence
from exporter.detections.behaviour.windows import EPOCH
from exporter.findings.severity import HIGH
from exporter.findings.spec import FindingSpec
from exporter.findings.types import FINDING_TYPES

AUDIT = "kubernetes.audit"
USER, CLUSTER = f"{AUDIT}.user.username", "orchestrator.cluster.name"
VERB, RESOURCE = f"{AUDIT}.verb", f"{AUDIT}.objectRef.resource"
SUBRESOURCE, NAMESPACE = f"{AUDIT}.objectRef.subresource", f"{AUDIT}.objectRef.namespace"
CODE, ROLE = f"{AUDIT}.responseStatus.code", f"{AUDIT}.requestObject.roleRef.name"
CLUSTER_WIDE = "*"
"""The scope of a request without a namespace (it covers every namespace)."""
RBAC, AUTHORIZATION = "rbac.authorization.k8s.io", "authorization.k8s.io"
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
Key = tuple[str, ...]


@dataclass(frozen=True)
class Behaviour:
    """One sensitive kind of request and how its finding reads.

    ``scope`` (a field) splits the behaviour further (secrets: per namespace); requests that
    also match ``escalated`` raise the finding to High (bindings of admin roles)."""

    name: str
    finding_type: str
    doing: str
    requests: Query
    tactic: str
    technique: str
    scope: str | None = None
    escalated: Query | None = None


def _terms(field: str, *values: str) -> Query:
    found: Query = Q("terms", **{field: list(values)})
    return found


PERMISSION_CHECKED = Behaviour(
    name="kubernetes-permission-checked",
    finding_type="Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
    doing="checked its own permissions",
    requests=_terms(VERB, "create")
    & _terms(RESOURCE, "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
    tactic="Discovery",
    technique="T1069",
)
SECRETS_ACCESSED = Behaviour(
    name="kubernetes-secrets-accessed",
    finding_type="CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
    doing="read secrets",
    requests=_terms(VERB, "get", "list", "watch") & _terms(RESOURCE, "secrets"),
    tactic="Credential Access",
    technique="T1552.007",
    scope=NAMESPACE,
)
EXEC_IN_POD = Behaviour(
    name="kubernetes-exec-in-pod",
    finding_type="Execution:Kubernetes/AnomalousBehavior.ExecInPod",
    doing="executed a command in a pod",
    requests=_terms(VERB, "create", "get") & _terms(RESOURCE, "pods") & _terms(SUBRESOURCE, "exec"),
    tactic="Execution",
    technique="T1609",
)
ROLE_BINDING_CREATED = Behaviour(
    name="kubernetes-role-binding-created",
    finding_type="PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated",
    doing="created a role binding",
    requests=_terms(VERB, "create") & _terms(RESOURCE, "rolebindings", "clusterrolebindings"),
    tactic="Privilege Escalation",
    technique="T1098",
    escalated=_terms(ROLE, "cluster-admin", "admin"),
)
BEHAVIOURS = (PERMISSION_CHECKED, SECRETS_ACCESSED, EXEC_IN_POD, ROLE_BINDING_CREATED)


def allowed(behaviour: Behaviour, params: Params) -> Query:
    """The behaviour's successful requests by users outside ``ignored_user_prefixes``."""
    found: Query = Q(
        "bool",
        filter=[behaviour.requests, Q("range", **{CODE: {"lt": 400}})],
        must_not=[Q("prefix", **{USER: prefix}) for prefix in params["ignored_user_prefixes"]],
    )
    return found


def key_terms(behaviour: Behaviour, scoped: bool) -> list[dict[str, str]]:
    """``multi_terms`` sources: cluster, user and (when ``scoped``) the behaviour's scope."""
    terms = [{"field": CLUSTER, "missing": "-"}, {"field": USER}]
    if scoped and behaviour.scope:
        terms.append({"field": behaviour.scope, "missing": CLUSTER_WIDE})
    return terms


def window_aggs(behaviour: Behaviour, params: Params) -> dict[str, Agg]:
    """Per (cluster, user[, scope]): the requests with evidence (and the escalated ones)."""
    actors = A("multi_terms", terms=key_terms(behaviour, True), size=params["max_findings"])
    if behaviour.escalated is not None:
        actors.bucket("escalated", A("filter", behaviour.escalated))
    return {"actors": with_evidence(actors)}


def baseline_request(behaviour: Behaviour, bucket: Bucket, params: Params) -> Baseline | None:
    """For the window's users: first event per cluster, and the behaviour's scopes before."""
    users = sorted({str(actor["key"][1]) for actor in buckets(bucket, "actors")})
    if not users:
        return None
    history = A("multi_terms", terms=key_terms(behaviour, False), size=params["max_users"])
    history.metric("since", A("min", field="@timestamp"))
    done = A("filter", allowed(behaviour, params))
    if behaviour.scope:
        scopes = A("terms", field=behaviour.scope, missing=CLUSTER_WIDE, size=params["max_scopes"])
        done.bucket("scopes", scopes)
    history.bucket("done", done)
    return Baseline(_terms(USER, *users), {"history": history})


def by_key(result: Bucket | None, name: str) -> dict[Key, Bucket]:
    """A ``multi_terms`` aggregation's buckets by their key tuple."""
    return {tuple(str(part) for part in b["key"]): b for b in buckets(result, name)}


def routine(past: Bucket, scope: str | None) -> bool:
    """Whether the baseline already has the behaviour (in ``scope``, or cluster-wide)."""
    done: Mapping[str, Any] = past.get("done", {})
    if scope is None:
        return int(done.get("doc_count", 0)) > 0
    seen = {str(b["key"]) for b in buckets(done, "scopes")}
    return bool(seen & {scope, CLUSTER_WIDE})


def first_seen(history: Bucket | None, key: Key, learned: datetime) -> tuple[bool, Bucket | None]:
    """(known long enough, baseline bucket) of the (cluster, user) ``key``."""
    past = by_key(history, "history").get(key)
    since = moment(past, "since") if past else None
    return since is not None and since <= learned, past


def finding(behaviour: Behaviour, actor: Bucket, key: Key, window: Window) -> FindingSpec:
    """The finding of one actor's first-seen behaviour."""
    cluster, user, *scope = key
    escalated = int(actor.get("escalated", {}).get("doc_count", 0)) > 0
    where = f" in namespace {scope[0]}" if scope and scope[0] != CLUSTER_WIDE else ""
    start, end = window.label.split("/")
    return FindingSpec(
        type=behaviour.finding_type,
        severity=HIGH if escalated else FINDING_TYPES.get(behaviour.finding_type).severity,
        title=f"{user} {behaviour.doing}{where} in EKS cluster {cluster} for the first time.",
        description=(
            f"Kubernetes user {user} {behaviour.doing}{where} in EKS cluster {cluster}, which "
            f"it had not done in its baseline. This may indicate stolen credentials or an "
            f"insider abusing their access."
        ),
        key=(user, *scope),
        tactic=behaviour.tactic,
        technique=behaviour.technique,
        additional_info={
            "user": user,
            "requestCount": int(actor["doc_count"]),
            **({"namespace": scope[0]} if scope else {}),
            **({"adminRoleBound": True} if escalated else {}),
            "windowStart": start,
            "windowEnd": end,
        },
    )


def hits(
    behaviour: Behaviour, bucket: Bucket, history: Bucket | None, window: Window, params: Params
) -> list[Hit]:
    """A hit per actor known for ``learning_days`` that did not do this in its baseline."""
    learned = window.start - timedelta(days=float(params["learning_days"]))
    found = []
    for key, actor in by_key(bucket, "actors").items():
        known, past = first_seen(history, key[:2], learned)
        scope = key[2] if len(key) > 2 else None
        if not known or past is None or routine(past, scope):
            continue
        first, last = bounds(actor)
        found.append(Hit(finding(behaviour, actor, key, window), sample(actor), first, last))
    return found


def cases(behaviour: Behaviour, request: Request) -> list[Case]:
    """First time (positive); every day, by an identity still being learned, denied,
    by a control-plane identity (negative). ``request`` is the behaviour's request, timed
    at the window start."""

    def at(moment: timedelta, **changes: Any) -> Request:
        return replace(request, at=request.at + moment, **changes)

    known = [at(-6 * DAY, verb="list", resource="pods", subresource=None, body=None)]
    daily = [*known, *(at(-n * DAY) for n in range(1, 6))]
    now = documents([at(5 * MINUTE)])
    expected = (behaviour.finding_type,)
    return [
        Case("first time for a known user", now, expected, documents(known)),
        Case("a user who does it every day", now, (), documents(daily)),
        Case("a user seen only yesterday", now, (), documents([at(-DAY + MINUTE)])),
        Case("denied", documents([at(5 * MINUTE, code=403)]), (), documents(known)),
        Case(
            "the EKS control plane",
            documents([at(5 * MINUTE, user="eks:addon-manager")]),
            (),
            documents([at(-6 * DAY, user="eks:addon-manager", verb="list", resource="pods")]),
        ),
    ]


def scope_cases(behaviour: Behaviour, request: Request) -> list[Case]:
    """A scoped behaviour: routine in another namespace (positive); routine cluster-wide
    (negative). ``request`` is namespaced and timed at the window start."""
    other = [replace(request, at=request.at - n * DAY, namespace="team-b") for n in (2, 4, 6)]
    everywhere = [replace(request, at=request.at - n * DAY, namespace=None) for n in (2, 4, 6)]
    now = documents([replace(request, at=request.at + 5 * MINUTE)])
    return [
        Case("first time in this namespace", now, (behaviour.finding_type,), documents(other)),
        Case("routine across the cluster", now, (), documents(everywhere)),
    ]


CASE_REQUESTS: Mapping[str, Request] = {  # timed at the case window's start
    PERMISSION_CHECKED.name: Request(
        EPOCH, "create", "selfsubjectrulesreviews", group=AUTHORIZATION, code=201
    ),
    SECRETS_ACCESSED.name: Request(EPOCH, "list", "secrets", "team-a"),
    EXEC_IN_POD.name: Request(EPOCH, "create", "pods", "team-a", "api-7d9f", "exec", code=101),
    ROLE_BINDING_CREATED.name: Request(
        EPOCH,
        "create",
        "clusterrolebindings",
        group=RBAC,
        code=201,
        body={
            "kind": "ClusterRoleBinding",
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "ops", "namespace": "default"}],
        },
    ),
}


def detector(behaviour: Behaviour) -> Detector:
    """The first-seen detector of ``behaviour``."""
    scoped = " in the same namespace (cluster-wide reads cover all)" if behaviour.scope else ""

    def query(params: Params) -> Query:
        return allowed(behaviour, params)

    def aggs(params: Params) -> dict[str, Agg]:
        return window_aggs(behaviour, params)

    def baseline(bucket: Bucket, params: Params) -> Baseline | None:
        return baseline_request(behaviour, bucket, params)

    def evaluate(
        bucket: Bucket, history: Bucket | None, window: Window, params: Params
    ) -> list[Hit]:
        return hits(behaviour, bucket, history, window, params)

    def embedded(window: Window) -> list[Case]:
        request = replace(CASE_REQUESTS[behaviour.name], at=window.start)
        scoped_cases = scope_cases(behaviour, request) if behaviour.scope else []
        return [*cases(behaviour, request), *scoped_cases]

    return Detector(
        name=behaviour.name,
        log_type="eks-audit",
        finding_types=(behaviour.finding_type,),
        logic=(
            f"A Kubernetes user (not in `ignored_user_prefixes`) {behaviour.doing} (allowed "
            f"request) in a cluster where it is known for at least `learning_days` but did not "
            f"do so in the previous `baseline_days`{scoped}."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        baseline=baseline,
        params={
            "baseline_days": 7,
            "learning_days": 3,
            "ignored_user_prefixes": ["eks:", "system:node:"],
            "max_users": 1000,
            "max_scopes": 200,
            "max_findings": 200,
        },
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=embedded,
    )


for _behaviour in BEHAVIOURS:
    register(detector(_behaviour))
