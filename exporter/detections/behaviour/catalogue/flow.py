"""Behaviour detectors over VPC flow logs.

Brute force (SSH, RDP, WinRM): many short TCP connections from one remote address to one
service port of one instance within a window. Inbound, the instance is the ``TARGET``
(severity Low, 2); outbound, it is the ``ACTOR`` attacking someone else (High, 8).
"""

from __future__ import annotations

from datetime import timedelta

from opensearchpy.helpers.aggs import A, Agg
from opensearchpy.helpers.query import Q, Query

from exporter.detections.behaviour.catalogue.flow_records import Flow, documents
from exporter.detections.behaviour.model import (
    Bucket,
    Case,
    Detector,
    Hit,
    Params,
    Window,
    register,
)
from exporter.detections.behaviour.results import bounds, buckets, sample, with_evidence
from exporter.findings.fields import sides, text
from exporter.findings.spec import FindingSpec, ResourceRole

INBOUND = ("ingress", "inbound")
OUTBOUND = ("egress", "outbound")
SEVERITY_BY_ROLE = {"TARGET": 2.0, "ACTOR": 8.0}
ATTACKER = "203.0.113.66"


def instance_name(event: Bucket) -> str:
    """The instance (or, without an instance id, the interface) a flow was logged for."""
    return text(event, "cloud.instance.id", "aws.vpcflow.interface_id") or "unknown"


def brute_force(name: str, finding_type: str, service: str, port: int) -> Detector:
    """A brute-force detector for one TCP service port."""

    def query(params: Params) -> Query:
        short = Q("range", **{"network.packets": {"lte": params["max_packets_per_connection"]}})
        found: Query = Q(
            "bool",
            filter=[
                Q("term", **{"network.transport": "tcp"}),
                Q("term", **{"destination.port": port}),
                short,
            ],
        )
        return found

    def aggs(params: Params) -> dict[str, Agg]:
        pairs = A(
            "multi_terms",
            terms=[{"field": "source.ip"}, {"field": "destination.ip"}],
            min_doc_count=params["min_connections"],
            size=params["max_findings"],
        )
        pairs.bucket("direction", A("terms", field="network.direction", size=4))
        return {"pairs": with_evidence(pairs)}

    def evaluate(bucket: Bucket, _: Bucket | None, window: Window, params: Params) -> list[Hit]:
        hits = []
        for pair in buckets(bucket, "pairs"):
            event = sample(pair)
            direction, _local, remote = sides(event)
            role: ResourceRole = "ACTOR" if direction == "OUTBOUND" else "TARGET"
            attacker = remote.ip if role == "TARGET" else text(event, "source.ip")
            victim = instance_name(event) if role == "TARGET" else remote.ip
            first, last = bounds(pair)
            spec = FindingSpec(
                type=finding_type,
                severity=SEVERITY_BY_ROLE[role],
                title=f"{attacker} is performing {service} brute force attacks against {victim}.",
                description=(
                    f"{attacker} is performing {service} brute force attacks against {victim}. "
                    f"Brute force attacks are used to gain unauthorized access to your instance "
                    f"by guessing the {service} password."
                ),
                resource_role=role,
                key=(str(remote.ip),),
                tactic="Credential Access",
                technique="T1110",
                additional_info={
                    "connectionCount": int(pair["doc_count"]),
                    "windowStart": window.label.split("/")[0],
                    "windowEnd": window.label.split("/")[1],
                    "threshold": params["min_connections"],
                },
            )
            hits.append(Hit(spec, event, first, last))
        return hits

    def cases(window: Window) -> list[Case]:
        def attempts(count: int, remote: str = ATTACKER, **flow: int) -> list[Flow]:
            step = (window.end - window.start) / (count + 1)
            times = [window.start + step * (n + 1) for n in range(count)]
            return [Flow(at, remote, 40000 + n, port, **flow) for n, at in enumerate(times)]  # type: ignore[arg-type]

        outbound = [
            Flow(f.at, f.remote, port, f.remote_port, inbound=False)
            for f in attempts(40, "198.51.100.20")
        ]
        sessions = attempts(40, "192.0.2.10", packets=400, nbytes=90_000)
        expected = (finding_type,)
        return [
            Case("many short connections from one address", documents(attempts(40)), expected),
            Case("the instance attacks another host", documents(outbound), expected),
            Case("a few failed logins", documents(attempts(5))),
            Case("long interactive sessions", documents(sessions)),
        ]

    return Detector(
        name=name,
        log_type="vpcflow",
        finding_types=(finding_type,),
        logic=(
            f"At least `min_connections` TCP connections to port {port} of one pair of "
            f"addresses within a window, each of at most `max_packets_per_connection` packets. "
            f"Inbound: the instance is the target (Low); outbound: the actor (High)."
        ),
        query=query,
        aggs=aggs,
        evaluate=evaluate,
        params={"min_connections": 25, "max_packets_per_connection": 30, "max_findings": 200},
        interval=timedelta(minutes=30),
        settle=timedelta(minutes=15),
        cases=cases,
    )


register(brute_force("ssh-brute-force", "UnauthorizedAccess:EC2/SSHBruteForce", "SSH", 22))
register(brute_force("rdp-brute-force", "UnauthorizedAccess:EC2/RDPBruteForce", "RDP", 3389))
register(brute_force("winrm-brute-force", "Impact:EC2/WinRMBruteForce", "WinRM", 5985))
