"""Flow behaviour detector: ``Backdoor:EC2/Spambot``.

An instance starts connections (local port ephemeral) to port 25 of at least ``min_hosts``
hosts within a window and started none to port 25 in the ``baseline_days`` before it; an
instance with less than ``learning_days`` of history stays silent.
"""

from __future__ import annotations

from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.flow_fields import (
    EPHEMERAL_FROM,
    INTERFACE,
    among,
    distinct,
    first_seen,
    learned,
    started,
    where,
)
from exporter.detections.behaviour.catalogue.flow_records import Flow, documents, spread
from exporter.detections.behaviour.catalogue.flow_unusual import LEARNING, PEER, history, seen_agg
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
from exporter.detections.behaviour.results import bounds, buckets, sample, value, with_evidence
from exporter.findings.spec import FindingSpec
from exporter.findings.types import default_severity

SPAMBOT = "Backdoor:EC2/Spambot"
MAIL = "198.51.100.{}"


def _mail_query(params: Params) -> Query:
    return where(*started(params), Q("term", **{"destination.port": params["smtp_port"]}))


def _mail_aggs(params: Params) -> dict[str, Agg]:
    senders = A("terms", field=INTERFACE, size=params["max_candidates"])
    senders.metric("hosts", distinct("destination.ip"))
    return {"senders": with_evidence(senders)}


def _mail_candidates(bucket: Bucket, params: Params) -> list[Bucket]:
    return [s for s in buckets(bucket, "senders") if value(s, "hosts") >= params["min_hosts"]]


def _mail_baseline(bucket: Bucket, params: Params) -> Baseline | None:
    candidates = _mail_candidates(bucket, params)
    if not candidates:
        return None
    interfaces = {str(s["key"]) for s in candidates}
    mail = A("filter", term={"destination.port": params["smtp_port"]})
    mail.bucket("senders", A("terms", field=INTERFACE, size=len(interfaces)))
    return Baseline(
        where(*started(params), among(INTERFACE, interfaces)), {"seen": seen_agg(), "mail": mail}
    )


def _mail_evaluate(
    bucket: Bucket, history: Bucket | None, window: Window, params: Params
) -> list[Hit]:
    seen = first_seen(history)
    mailed = {str(b["key"]) for b in buckets(history.get("mail") if history else None, "senders")}
    hits = []
    for sender in _mail_candidates(bucket, params):
        interface, hosts = str(sender["key"]), int(value(sender, "hosts"))
        if interface in mailed or not learned(seen, interface, window, params):
            continue
        spec = FindingSpec(
            type=SPAMBOT,
            severity=default_severity(SPAMBOT),
            title="The EC2 instance is sending email to many hosts on port 25.",
            description=(
                f"The EC2 instance connected to port {params['smtp_port']} of {hosts} hosts in "
                f"the window and did not use that port in the previous "
                f"{params['baseline_days']} days."
            ),
            resource_role="ACTOR",
            tactic="Impact",
            technique="T1496",
            additional_info={"hosts": hosts, "connections": int(sender["doc_count"]),
                             **window.info},
        )  # fmt: skip
        hits.append(Hit(spec, sample(sender), *bounds(sender)))
    return hits


def _mail_cases(window: Window) -> list[Case]:
    def mails(count: int, shift: float = 0) -> list[Flow]:
        times = spread(window, count)
        flows = [Flow(at, MAIL.format(n + 10), 25, 50000 + n, inbound=False, packets=14)
                 for n, at in enumerate(times)]  # fmt: skip
        return history(flows, shift) if shift else flows

    web = documents(history([Flow(window.start, PEER, 443, 50000, inbound=False)]))
    return [
        Case("mail to many hosts, never before", documents(mails(20)), (SPAMBOT,), web),
        Case("a mail relay with history", documents(mails(20)), (), documents(mails(2, 4))),
        Case("mail to two hosts", documents(mails(2)), (), web),
    ]


register(
    Detector(
        name="spambot",
        log_type="vpcflow",
        finding_types=(SPAMBOT,),
        logic=(
            "An instance starts connections to port `smtp_port` of at least `min_hosts` hosts "
            "within a window and started none to it in the `baseline_days` before the window "
            "(history of at least `learning_days`)."
        ),
        query=_mail_query,
        aggs=_mail_aggs,
        baseline=_mail_baseline,
        evaluate=_mail_evaluate,
        params={
            **LEARNING,
            "smtp_port": 25,
            "min_hosts": 5,
            "ephemeral_from": EPHEMERAL_FROM,
            "max_candidates": 200,
        },
        interval=timedelta(hours=1),
        cases=_mail_cases,
    )
)
