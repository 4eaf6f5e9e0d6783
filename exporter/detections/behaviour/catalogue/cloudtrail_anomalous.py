"""``<Tactic>:IAMUser/AnomalousBehavior``, one detector per tactic: the calls of that tactic
(:data:`~.api_tactics.TACTICS`) a principal makes in the window that it had not made in its
baseline, weighted; a finding when the weights add up to ``min_score``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue import cloudtrail_records as ct
from exporter.detections.behaviour.catalogue.api_tactics import TACTIC_NAMES, TACTICS, TECHNIQUES
from exporter.detections.behaviour.catalogue.cloudtrail import (
    ACTION,
    DATA_EVENT,
    FIRST,
    PRINCIPAL,
    SINCE,
    bucket_keys,
    learned,
    who,
)
from exporter.detections.behaviour.model import (
    Baseline,
    Bucket,
    Case,
    Detector,
    Document,
    Hit,
    Params,
    Window,
    register,
)
from exporter.detections.behaviour.results import (
    bounds,
    buckets,
    keyed,
    moment,
    sample,
    span,
    with_evidence,
)
from exporter.findings.fields import text
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity


def principal_history(principals: list[str], actions: list[str]) -> Baseline:
    """Every event of ``principals``: when each was first seen, and which of ``actions`` it
    called (with when it first did)."""
    per = A("terms", field=PRINCIPAL, include=principals, size=len(principals))
    per.metric(SINCE, A("min", field="@timestamp"))
    calls = A("terms", field=ACTION, include=actions, size=len(actions))
    calls.metric(FIRST, A("min", field="@timestamp"))
    per.bucket("calls", calls)
    return Baseline(Q("terms", **{PRINCIPAL: principals}), {"principals": per})


def first_seen_calls(
    calls: Sequence[Bucket], history: Bucket, window: Window, params: Params
) -> list[Bucket]:
    """The window's call buckets whose API the history does not know; an API first seen in
    the ``recent_hours`` before the window still counts as new (bursts across windows)."""
    recent = window.start - timedelta(hours=params["recent_hours"])
    known = {
        name
        for name, found in keyed(history, "calls").items()
        if (moment(found, FIRST) or window.start) < recent
    }
    return [call for call in calls if str(call["key"]) not in known]


def anomalous_behaviour(tactic: str) -> Detector:
    """The ``<tactic>:IAMUser/AnomalousBehavior`` detector."""
    finding_type = f"{tactic}:IAMUser/AnomalousBehavior"
    weights = TACTICS[tactic]
    apis = sorted(weights)
    label = TACTIC_NAMES.get(tactic, tactic)

    def query(_: Params) -> Query:
        found: Query = Q(
            "bool",
            filter=[Q("terms", **{ACTION: apis}), Q("exists", field=PRINCIPAL)],
            must_not=[DATA_EVENT],
        )
        return found

    def aggs(params: Params) -> dict[str, Agg]:
        principals = A("terms", field=PRINCIPAL, size=params["max_principals"])
        principals.bucket("calls", with_evidence(A("terms", field=ACTION, size=len(apis))))
        return {"principals": principals}

    def baseline(bucket: Bucket, _: Params) -> Baseline | None:
        principals = bucket_keys(bucket, "principals")
        return principal_history(principals, apis) if principals else None

    def evaluate(
        bucket: Bucket, history: Bucket | None, window: Window, params: Params
    ) -> list[Hit]:
        past = keyed(history, "principals")
        hits = []
        for principal in buckets(bucket, "principals"):
            known = past.get(str(principal["key"]))
            if known is None or not learned(known, window, params):
                continue
            new = first_seen_calls(buckets(principal, "calls"), known, window, params)
            score = sum(weights[str(call["key"])] for call in new)
            if new and score >= params["min_score"]:
                hits.append(_anomaly(new, score, window, params))
        return hits

    def _anomaly(new: list[Bucket], score: int, window: Window, params: Params) -> Hit:
        latest = max(new, key=lambda call: bounds(call)[1] or window.start)
        event = sample(latest)
        name = who(event)
        first, last = span(new)
        spec = FindingSpec(
            type=finding_type,
            severity=default_severity(finding_type),
            title=f"User {name} is anomalously invoking APIs commonly used in {label} tactics.",
            description=(
                f"APIs commonly used in {label} tactics were invoked by {name} "
                f"({text(event, PRINCIPAL)}) for the first time in its "
                f"{params['baseline_days']}-day baseline: {', '.join(_keys_of(new))}."
            ),
            resource_role="TARGET",
            tactic=label,
            technique=TECHNIQUES[tactic],
            additional_info={
                "newApis": _keys_of(new),
                "apiCallCounts": {str(c["key"]): int(c["doc_count"]) for c in new},
                "score": score,
                "minScore": params["min_score"],
                "baselineDays": params["baseline_days"],
                **window.info,
            },
        )
        return Hit(spec, event, first, last)

    def cases(window: Window) -> list[Case]:
        return _anomaly_cases(window, finding_type, apis, weights)

    return Detector(
        name=f"iam-anomalous-{tactic.lower()}",
        log_type="cloudtrail",
        finding_types=(finding_type,),
        logic=(
            f"Per principal (user.id): the {tactic} API calls of the window it never made in "
            f"the `baseline_days` before (an API first seen within `recent_hours` of the window "
            f"still counts as new), each weighted 1-3 by the API table; a finding when the "
            f"weights add up to `min_score`. Principals with less than `learning_days` of "
            f"history are skipped."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        params={
            "min_score": 3,
            "baseline_days": 7,
            "learning_days": 3,
            "recent_hours": 1,
            "max_principals": 500,
        },
        baseline=baseline,
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=cases,
    )


def _keys_of(calls: Sequence[Bucket]) -> list[str]:
    return sorted(str(call["key"]) for call in calls)


def _anomaly_cases(
    window: Window, finding_type: str, apis: list[str], weights: Mapping[str, int]
) -> list[Case]:
    """History: the user makes its usual calls on each of the 5 days before the window."""
    user = ct.iam_user("dev-user")
    routine = "GetCallerIdentity"
    usual = sorted(apis, key=lambda api: (-weights[api], api))[:3]

    def at(minutes: int, days: int = 0) -> datetime:
        return window.start - timedelta(days=days) + timedelta(minutes=minutes)

    def history(extra: Sequence[str] = ()) -> list[Document]:
        calls = [routine, *extra]
        return ct.documents(
            ct.api_call(at(10 + n, day), user, api, source="sts.amazonaws.com")
            for day in range(1, 6)
            for n, api in enumerate(calls)
        )

    def calls(names: Sequence[str], ip: str = ct.ATTACKER) -> list[Document]:
        return ct.documents(ct.api_call(at(5 + n), user, api, ip) for n, api in enumerate(names))

    expected = (finding_type,)
    cases = [
        Case("first-seen calls of the tactic", calls(usual), expected, history()),
        Case("the same calls are the user's routine", calls(usual), (), history(usual)),
        Case("a new user still learning", calls(usual), (), history()[:1]),
    ]
    strong = [api for api in apis if weights[api] >= 3][:1]
    if strong:
        cases.append(Case("one first-seen call of weight 3", calls(strong), expected, history()))
    weak = [api for api in apis if weights[api] == 1][:1]
    if weak:
        cases.append(Case("one first-seen call of weight 1", calls(weak), (), history()))
    return cases


for _tactic in TACTICS:
    register(anomalous_behaviour(_tactic))
