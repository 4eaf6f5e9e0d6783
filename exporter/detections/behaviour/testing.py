"""Run detectors' embedded cases on a real node: documents in, findings out.

Each case's documents go into a scratch event index of the detector's source
(``duskwatch-events-<log_type>-casetest-<uuid>``, mapped by the source's template); the
detector runs over the case window with its default parameters, writing into a scratch
findings index; both are deleted by their exact names afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opensearchpy import OpenSearch

from exporter.detections.behaviour.model import Case, Detector, Window
from exporter.detections.behaviour.runner import Runner, RunOptions, Span
from exporter.errors import StoreError

CASE_START = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
"""Where every case window starts (a fixed, aligned moment: cases are deterministic)."""
CASE_DETECTOR_ID = "0" * 32


@dataclass(frozen=True)
class CaseResult:
    """One case's outcome: the finding types reported against those expected."""

    detector: str
    case: str
    expected: tuple[str, ...]
    reported: tuple[str, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Reported exactly the expected types (as sets), without error."""
        return self.error is None and set(self.expected) == set(self.reported)


def case_window(detector: Detector) -> Window:
    """The window every case of ``detector`` is evaluated in."""
    return Window(CASE_START, CASE_START + detector.interval)


def run_cases(client: OpenSearch, detectors: Sequence[Detector]) -> list[CaseResult]:
    """The result of every embedded case of ``detectors``, in detector then case order."""
    results: list[CaseResult] = []
    for detector in detectors:
        window = case_window(detector)
        for case in detector.cases(window) if detector.cases else ():
            results.append(run_case(client, detector, case, window))
    return results


def run_case(client: OpenSearch, detector: Detector, case: Case, window: Window) -> CaseResult:
    """Index ``case``'s documents, run ``detector`` over ``window`` and report the types."""
    tag = uuid.uuid4().hex[:12]
    events = f"duskwatch-events-{detector.log_type}-casetest-{tag}"
    findings = f"duskwatch-findings-casetest-{tag}"
    try:
        client.indices.create(index=findings)
        _index(client, events, [*case.history, *case.window])
        runner = Runner(
            client,
            detector_id=CASE_DETECTOR_ID,
            params={detector.name: detector.params},
            events_alias=events,
            findings_index=findings,
            concurrency=1,
            keep_checkpoints=False,
        )
        span = Span(window.start, window.end + detector.settle)
        run = runner.run_one(detector, span, RunOptions(since=window.start, until=window.end))
        if run.error:
            return CaseResult(detector.name, case.name, case.expect, (), run.error)
        found = client.search(index=findings, body={"size": 100, "_source": ["type"]})
        reported = tuple(sorted(hit["_source"]["type"] for hit in found["hits"]["hits"]))
        return CaseResult(detector.name, case.name, case.expect, reported)
    finally:
        for index in (events, findings):
            client.indices.delete(index=index, ignore=[404])


def _index(client: OpenSearch, index: str, documents: Sequence[dict[str, object]]) -> None:
    client.indices.create(index=index)
    if not documents:
        return
    body: list[dict[str, object]] = []
    for document in documents:
        body += [{"index": {"_index": index}}, document]
    response = client.bulk(body=body, refresh="wait_for")
    if response.get("errors"):
        failed = [i["index"]["error"] for i in response["items"] if "error" in i["index"]]
        raise StoreError(f"case documents rejected by {index}: {failed[0]}")
