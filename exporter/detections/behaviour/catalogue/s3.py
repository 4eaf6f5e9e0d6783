"""Behaviour detectors over S3 data events (CloudTrail ``eventCategory: Data``).

For each class of object calls (reads, deletes, writes, ACL changes, listings) and each
principal (``user.id``) and bucket: the calls of the window against the principal's busiest
hour on that bucket in its baseline. A finding when the window has at least ``min_calls`` and
more than ``factor`` times that peak. The bucket is read from the resources' bucket ARN
(``aws.cloudtrail.resources.arn``; the request parameters are not aggregatable).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue import cloudtrail_records as ct
from exporter.detections.behaviour.catalogue.cloudtrail import (
    PRINCIPAL,
    SINCE,
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
from exporter.detections.behaviour.results import bounds, buckets, keyed, sample, with_evidence
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

ACTION = "event.action"
RESOURCE = "aws.cloudtrail.resources.arn"
BUCKET_ARN = "arn:aws:s3:::"
BUCKET_PATTERN = "arn:aws:s3:::[^/]+"
"""Bucket ARNs only (object ARNs carry a ``/``)."""
DATA = Q("term", **{"aws.cloudtrail.event_category": "Data"})
TECHNIQUES = {"Exfiltration": "T1530", "Impact": "T1485", "Discovery": "T1619"}
"""ATT&CK technique per tactic: data from cloud storage, data destruction, storage discovery."""


def bucket_name(arn: str) -> str:
    """The bucket of a bucket ARN."""
    return arn.removeprefix(BUCKET_ARN)


def peak_history(pairs: dict[str, list[str]], actions: Sequence[str]) -> Baseline:
    """Every event of the principals of ``pairs`` (principal -> bucket ARNs): when each was
    first seen and, per bucket, its busiest hour of ``actions``."""
    principals = sorted(pairs)
    arns = sorted({arn for found in pairs.values() for arn in found})
    per = A("terms", field=PRINCIPAL, include=principals, size=len(principals))
    per.metric(SINCE, A("min", field="@timestamp"))
    calls = A("filter", Q("bool", filter=[DATA, Q("terms", **{ACTION: list(actions)})]))
    targets = A("terms", field=RESOURCE, include=arns, size=len(arns))
    targets.bucket("hours", A("date_histogram", field="@timestamp", fixed_interval="1h"))
    targets.pipeline("peak", A("max_bucket", buckets_path="hours>_count"))
    calls.bucket("buckets", targets)
    per.bucket("calls", calls)
    return Baseline(Q("terms", **{PRINCIPAL: principals}), {"principals": per})


def peak(history: Bucket, arn: str) -> int:
    """The busiest baseline hour of the principal's calls on bucket ``arn`` (0: none)."""
    found = keyed(history.get("calls"), "buckets").get(arn)
    value = (found or {}).get("peak", {}).get("value")
    return int(value or 0)


def object_volume(name: str, finding_type: str, actions: tuple[str, ...], floor: int) -> Detector:
    """A detector of a principal's ``actions`` calls on one bucket far above its baseline."""
    verbs = "/".join(actions)

    def query(_: Params) -> Query:
        found: Query = Q(
            "bool",
            filter=[DATA, Q("terms", **{ACTION: list(actions)}), Q("exists", field=PRINCIPAL)],
        )
        return found

    def aggs(params: Params) -> dict[str, Agg]:
        principals = A("terms", field=PRINCIPAL, size=params["max_principals"])
        targets = A(
            "terms",
            field=RESOURCE,
            include=BUCKET_PATTERN,
            min_doc_count=params["min_calls"],
            size=params["max_findings"],
        )
        targets.bucket("actions", A("terms", field=ACTION, size=len(actions)))
        principals.bucket("buckets", with_evidence(targets))
        return {"principals": principals}

    def baseline(bucket: Bucket, _: Params) -> Baseline | None:
        pairs = {
            str(principal["key"]): [str(target["key"]) for target in buckets(principal, "buckets")]
            for principal in buckets(bucket, "principals")
        }
        pairs = {principal: arns for principal, arns in pairs.items() if arns}
        return peak_history(pairs, actions) if pairs else None

    def evaluate(
        bucket: Bucket, history: Bucket | None, window: Window, params: Params
    ) -> list[Hit]:
        past = keyed(history, "principals")
        hits = []
        for principal in buckets(bucket, "principals"):
            known = past.get(str(principal["key"]))
            if known is None or not learned(known, window, params):
                continue
            for target in buckets(principal, "buckets"):
                calls, busiest = int(target["doc_count"]), peak(known, str(target["key"]))
                if calls >= params["min_calls"] and calls > params["factor"] * busiest:
                    hits.append(_volume(target, busiest, window, params))
        return hits

    def _volume(target: Bucket, busiest: int, window: Window, params: Params) -> Hit:
        event = sample(target)
        bucket_id, caller = bucket_name(str(target["key"])), who(event)
        calls = int(target["doc_count"])
        first, last = bounds(target)
        spec = FindingSpec(
            type=finding_type,
            severity=default_severity(finding_type),
            title=f"Anomalous {verbs} calls by {caller} on S3 bucket {bucket_id}.",
            description=(
                f"{caller} made {calls} {verbs} calls on bucket {bucket_id} within an hour; "
                f"its busiest hour on this bucket in the last {params['baseline_days']} days "
                f"had {busiest}."
            ),
            key=(str(event.get("user", {}).get("id", "")),),
            tactic=finding_type.split(":", 1)[0],
            technique=TECHNIQUES[finding_type.split(":", 1)[0]],
            additional_info={
                "apiCalls": calls,
                "apiCallCounts": {
                    str(a["key"]): int(a["doc_count"]) for a in buckets(target, "actions")
                },
                "baselineHourlyPeak": busiest,
                "factor": params["factor"],
                "minCalls": params["min_calls"],
                **window.info,
            },
        )
        return Hit(spec, event, first, last)

    def cases(window: Window) -> list[Case]:
        return _cases(window, finding_type, actions, floor)

    return Detector(
        name=name,
        log_type="cloudtrail",
        finding_types=(finding_type,),
        logic=(
            f"Per principal (user.id) and bucket: the {verbs} data events of the window; a "
            f"finding when there are at least `min_calls` and more than `factor` times the "
            f"principal's busiest hour on that bucket in the `baseline_days` before. "
            f"Principals with less than `learning_days` of history are skipped."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        params={
            "min_calls": floor,
            "factor": 10.0,
            "baseline_days": 7,
            "learning_days": 3,
            "max_principals": 500,
            "max_findings": 50,
        },
        baseline=baseline,
        interval=timedelta(hours=1),
        settle=timedelta(minutes=15),
        cases=cases,
    )


def _cases(window: Window, finding_type: str, actions: tuple[str, ...], floor: int) -> list[Case]:
    """History: the principal's routine on the bucket, ``routine`` calls an hour, on each of
    the 5 days before the window."""
    user = ct.iam_user("app-user")
    bucket = "acme-app-data"

    def calls(count: int, start: datetime, ip: str = ct.OFFICE) -> list[ct.Record]:
        step = timedelta(minutes=50) / max(count, 1)
        return [
            ct.object_call(
                start + step * n, user, actions[n % len(actions)], (bucket, f"k/{n}"), ip
            )
            for n in range(count)
        ]

    def history(routine: int) -> list[Document]:
        days = (window.start - timedelta(days=day) for day in range(1, 6))
        return ct.documents(record for start in days for record in calls(routine, start))

    burst = ct.documents(calls(floor * 2, window.start, ct.ATTACKER))
    busy = ct.documents(calls(floor * 2, window.start))
    expected = (finding_type,)
    return [
        Case("far above the principal's peak", burst, expected, history(3)),
        Case("the principal's usual busy hour", busy, (), history(floor)),
        Case("below the floor", ct.documents(calls(floor - 1, window.start)), (), history(1)),
        Case("a principal still learning", burst, (), history(3)[:3]),
    ]


CLASSES: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("s3-anomalous-reads", "Exfiltration:S3/AnomalousBehavior", ("GetObject",), 300),
    (
        "s3-anomalous-deletes",
        "Impact:S3/AnomalousBehavior.Delete",
        ("DeleteObject", "DeleteObjects"),
        100,
    ),
    (
        "s3-anomalous-writes",
        "Impact:S3/AnomalousBehavior.Write",
        ("PutObject", "CopyObject", "CompleteMultipartUpload"),
        200,
    ),
    ("s3-anomalous-permissions", "Impact:S3/AnomalousBehavior.Permission", ("PutObjectAcl",), 20),
    (
        "s3-anomalous-listing",
        "Discovery:S3/AnomalousBehavior",
        ("ListObjects", "ListObjectVersions", "HeadObject", "GetObjectAcl"),
        200,
    ),
)
"""(detector, finding type, eventNames of the class, default ``min_calls``)."""

for _class in CLASSES:
    register(object_volume(*_class))
