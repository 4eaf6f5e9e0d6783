"""Run detectors over windows of event time: query, compare with history, write findings.

Consecutive windows of one detector are fetched in one request (the detector's aggregations
nested under a ``date_histogram`` of its interval), so a backfill costs one request per
``chunk`` windows plus one baseline request per window that has candidates. Findings carry
``<detector>:<window>`` as occurrence id, so running a window again changes nothing. The
checkpoint moves only over settled windows, after their findings are written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch, TransportError
from opensearchpy.helpers.aggs import A
from opensearchpy.helpers.search import Search

from exporter.detections.behaviour import checkpoints
from exporter.detections.behaviour.model import Baseline, Bucket, Detector, Hit, Params, Window
from exporter.detections.behaviour.trusted import Trusted, remote_address
from exporter.detections.behaviour.windows import align, chunks, due, windows
from exporter.findings.build import build_finding
from exporter.findings.store import FINDINGS_INDEX
from exporter.findings.writer import FindingWriter
from exporter.normalize.ecs import iso_timestamp

EVENTS_ALIAS = "duskwatch-events-{log_type}"
MAX_WINDOWS_PER_REQUEST = 24
REQUEST_TIMEOUT = 120
log = logging.getLogger(__name__)


@dataclass
class DetectorRun:
    """What one detector did in one run."""

    detector: str
    windows: int = 0
    first: datetime | None = None
    last: datetime | None = None
    hits: int = 0
    silenced: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    requests: int = 0
    seconds: float = 0.0
    checkpoint: datetime | None = None
    error: str | None = None
    finding_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no finding ids)."""
        return {
            "detector": self.detector,
            "windows": self.windows,
            "from": _stamp(self.first),
            "to": _stamp(self.last),
            "hits": self.hits,
            "silenced": self.silenced,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "checkpoint": _stamp(self.checkpoint),
            "error": self.error,
        }


@dataclass(frozen=True)
class Span:
    """Earliest and latest event time in a source (None: no events)."""

    earliest: datetime | None
    latest: datetime | None


@dataclass(frozen=True)
class RunOptions:
    """What to run: an explicit range (backfill) or everything due since the checkpoint."""

    since: datetime | None = None
    until: datetime | None = None
    max_catchup: timedelta = timedelta(days=30)


OnWindow = Callable[[str, Window], None]


class Runner:
    """Runs detectors against one cluster; detectors run concurrently, windows in order."""

    def __init__(
        self,
        client: OpenSearch,
        *,
        detector_id: str,
        params: Mapping[str, Params],
        trusted: Trusted | None = None,
        concurrency: int = 2,
        events_alias: str = EVENTS_ALIAS,
        findings_index: str | None = None,
        windows_per_request: int = MAX_WINDOWS_PER_REQUEST,
        keep_checkpoints: bool = True,
        writer: FindingWriter | None = None,
    ) -> None:
        self.client = client
        self.detector_id = detector_id
        self.params = params
        self.trusted = trusted or Trusted()
        self.concurrency = concurrency
        self.events_alias = events_alias
        self.windows_per_request = windows_per_request
        self.keep_checkpoints = keep_checkpoints
        self.writer = writer or FindingWriter(client, findings_index or FINDINGS_INDEX)

    def run(
        self,
        detectors: Sequence[Detector],
        options: RunOptions = RunOptions(),
        on_window: OnWindow | None = None,
    ) -> list[DetectorRun]:
        """Run every detector over its planned windows; one result per detector, in order."""
        spans = {d.log_type: self.span(d.log_type) for d in detectors}
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [
                pool.submit(self.run_one, d, spans[d.log_type], options, on_window)
                for d in detectors
            ]
            return [future.result() for future in futures]

    def span(self, log_type: str) -> Span:
        """The earliest and latest event time of a source."""
        body = {
            "size": 0,
            "aggs": {
                "first": {"min": {"field": "@timestamp"}},
                "last": {"max": {"field": "@timestamp"}},
            },
        }
        found = self.client.search(
            index=self.events_alias.format(log_type=log_type),
            body=body,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        aggs = found.get("aggregations", {})
        return Span(_epoch_ms(aggs.get("first", {})), _epoch_ms(aggs.get("last", {})))

    def plan(self, detector: Detector, span: Span, options: RunOptions) -> list[Window]:
        """The windows to run: ``[since, until)`` when given, else every window due since
        the checkpoint (or the oldest event, at most ``max_catchup`` back)."""
        if span.latest is None or span.earliest is None:
            return []
        checkpoint = self._checkpoint(detector)
        start = options.since or checkpoint or max(span.earliest, span.latest - options.max_catchup)
        if options.until is not None:
            return list(windows(start, options.until, detector.interval))
        return due(align(start, detector.interval), span.latest, detector.interval, detector.settle)

    def run_one(
        self,
        detector: Detector,
        span: Span,
        options: RunOptions = RunOptions(),
        on_window: OnWindow | None = None,
    ) -> DetectorRun:
        """Run one detector over its plan; an OpenSearch error ends its run (reported)."""
        began = time.perf_counter()
        run = DetectorRun(detector.name)
        try:
            planned = self.plan(detector, span, options)
            checkpoint = self._checkpoint(detector)
            for chunk in chunks(planned, self.windows_per_request):
                self._chunk(detector, chunk, run, on_window)
                settled = [
                    w for w in chunk if span.latest and w.end + detector.settle <= span.latest
                ]
                contiguous = checkpoint is None or chunk[0].start <= checkpoint
                if self.keep_checkpoints and settled and contiguous:
                    end = settled[-1].end
                    if checkpoint is None or end > checkpoint:
                        checkpoints.save(self.client, detector.name, end)
                        checkpoint = end
            run.checkpoint = checkpoint
        except TransportError as exc:
            run.error = f"{exc.status_code} {exc.error}: {_reason(exc)}"
            log.error("detector failed", extra={"detector": detector.name, "error": run.error})
        run.seconds = time.perf_counter() - began
        return run

    def _trusted(self, hit: Hit, detector: Detector) -> bool:
        return remote_address(hit.event, detector.log_type) in self.trusted

    def _checkpoint(self, detector: Detector) -> datetime | None:
        return checkpoints.load(self.client, detector.name) if self.keep_checkpoints else None

    def _chunk(
        self, detector: Detector, chunk: list[Window], run: DetectorRun, on_window: OnWindow | None
    ) -> None:
        params = self.params.get(detector.name, detector.params)
        results = self._window_results(detector, params, chunk)
        run.requests += 1
        findings: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for window in chunk:
            bucket = results.get(window.start)
            hits = self.evaluate(detector, params, window, bucket, run) if bucket else []
            kept = [h for h in hits if not self._trusted(h, detector)]
            run.hits += len(hits)
            run.silenced += len(hits) - len(kept)
            findings += [self.finding(detector, window, hit, now) for hit in kept]
            run.windows += 1
            run.first = run.first or window.start
            run.last = window.end
            if on_window:
                on_window(detector.name, window)
        if findings:
            result = self.writer.write(findings, refresh=True)
            run.created += len(result.created)
            run.updated += len(result.updated)
            run.unchanged += len(result.unchanged)
            run.finding_ids += [*result.created, *result.updated, *result.unchanged]

    def evaluate(
        self, detector: Detector, params: Params, window: Window, bucket: Bucket, run: DetectorRun
    ) -> list[Hit]:
        """The detector's hits for one window, fetching its baseline when it asks for one."""
        history: Bucket | None = None
        if detector.baseline is not None:
            wanted = detector.baseline(bucket, params)
            if wanted is None:
                return []
            history = self._baseline(detector, params, window, wanted)
            run.requests += 1
        return detector.evaluate(bucket, history, window, params)

    def finding(
        self, detector: Detector, window: Window, hit: Hit, now: datetime
    ) -> dict[str, Any]:
        """The GuardDuty finding of ``hit`` (occurrence: the detector and window)."""
        finding = build_finding(
            hit.spec,
            hit.event,
            log_type=detector.log_type,
            now=now,
            detector_id=self.detector_id,
            occurrence=f"{detector.name}:{window.label}",
        )
        service = finding["service"]
        if hit.first_seen:
            service["eventFirstSeen"] = iso_timestamp(hit.first_seen)
        if hit.last_seen:
            service["eventLastSeen"] = iso_timestamp(hit.last_seen)
        return finding

    def _search(self, detector: Detector) -> Search:
        search: Search = Search(index=self.events_alias.format(log_type=detector.log_type)).extra(
            size=0, track_total_hits=False
        )
        return search

    def _window_results(
        self, detector: Detector, params: Params, chunk: list[Window]
    ) -> dict[datetime, Bucket]:
        search = self._search(detector).query(detector.query(params))
        search = search.filter("range", **{"@timestamp": _range(chunk[0].start, chunk[-1].end)})
        seconds = int(detector.interval.total_seconds())
        histogram = A("date_histogram", field="@timestamp", fixed_interval=f"{seconds}s")
        for name, agg in detector.aggs(params).items():
            histogram.bucket(name, agg)
        search.aggs.bucket("windows", histogram)
        found = self._execute(detector, search)
        return {
            datetime.fromtimestamp(bucket["key"] / 1000, UTC): bucket
            for bucket in found.get("aggregations", {}).get("windows", {}).get("buckets", [])
            if bucket["doc_count"]
        }

    def _baseline(
        self, detector: Detector, params: Params, window: Window, wanted: Baseline
    ) -> Bucket:
        start = window.start - timedelta(days=float(params.get("baseline_days", 0)))
        search = self._search(detector).query(wanted.query)
        search = search.filter("range", **{"@timestamp": _range(start, window.start)})
        for name, agg in wanted.aggs.items():
            search.aggs.bucket(name, agg)
        aggregations: Bucket = self._execute(detector, search).get("aggregations", {})
        return aggregations

    def _execute(self, detector: Detector, search: Search) -> dict[str, Any]:
        found: dict[str, Any] = self.client.search(
            index=self.events_alias.format(log_type=detector.log_type),
            body=search.to_dict(),
            ignore_unavailable=True,
            allow_no_indices=True,
            request_timeout=REQUEST_TIMEOUT,
        )
        return found


def _stamp(value: datetime | None) -> str | None:
    return iso_timestamp(value) if value else None


def _range(start: datetime, end: datetime) -> dict[str, str]:
    return {"gte": iso_timestamp(start), "lt": iso_timestamp(end)}


def _epoch_ms(agg: Mapping[str, Any]) -> datetime | None:
    found = agg.get("value")
    return None if found is None else datetime.fromtimestamp(found / 1000, UTC)


def _reason(exc: TransportError) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error", {})
    if isinstance(error, dict):
        causes = error.get("root_cause") or [error]
        return str(causes[0].get("reason", error))
    return str(error or exc)
