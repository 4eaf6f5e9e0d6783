"""The writer scenarios emit through: records merged into the background streams.

Records are serialized at once and kept, per stream and file window, until the background
writer reaches that window; they then land in the same file as the background records of that
time, sorted with them. A record outside the simulated time range or for a stream the estate
does not have is a programming error (:class:`ValueError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from exporter.simulate import cloudtrail, eks_audit, route53
from exporter.simulate.cloudtrail_background import stream_key as cloudtrail_key
from exporter.simulate.ids import parse_iso
from exporter.simulate.model import Cluster, Model, Vpc
from exporter.simulate.vpcflow import Flow, format_flow
from exporter.simulate.writers import Pending, StreamSpec


class ScenarioWriter:
    """Accepts scenario records for every source and files them by stream and window."""

    def __init__(self, model: Model, specs: Iterable[StreamSpec]) -> None:
        self.model = model
        self.pending: Pending = {}
        self._specs = {(spec.source, spec.key): spec for spec in specs}

    def cloudtrail(self, record: Mapping[str, Any], region: str | None = None) -> None:
        """A CloudTrail record, filed under its account and ``awsRegion`` (or ``region``)."""
        key = cloudtrail_key(record["recipientAccountId"], region or record["awsRegion"])
        ts = parse_iso(record["eventTime"])
        self._add("cloudtrail", key, ts, cloudtrail.dumps(dict(record)))

    def vpcflow(self, vpc: Vpc, flow: Flow) -> None:
        """A flow record of one of ``vpc``'s interfaces, in that VPC's flow-log format."""
        self._add("vpcflow", vpc.flow_log_id, flow.start, format_flow(vpc, flow))

    def route53(self, record: Mapping[str, Any]) -> None:
        """A Resolver query log record, filed under its ``vpc_id``."""
        self._add(
            "route53", record["vpc_id"], parse_iso(record["query_timestamp"]), route53.dumps(record)
        )

    def eks_audit(self, cluster: Cluster, event: Mapping[str, Any]) -> None:
        """A Kubernetes audit Event of ``cluster``."""
        ts = parse_iso(event["requestReceivedTimestamp"])
        self._add("eks-audit", eks_audit.stream_key(cluster), ts, eks_audit.dumps(event))

    def _add(self, source: str, key: str, ts: float, line: str) -> None:
        spec = self._specs.get((source, key))
        if spec is None:
            raise ValueError(f"the simulated estate has no {source} stream {key!r}")
        if not self.model.start <= ts < self.model.end:
            raise ValueError(f"{source} record at {ts} is outside the simulated time range")
        self.pending.setdefault((source, key, spec.window_of(ts)), []).append((ts, line))
