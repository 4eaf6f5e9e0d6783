"""The demo's stages: node, bootstrap, suppression rule, simulate, ingest, detect, export, report.

Each stage is timed. The simulation is deterministic and dated to the week before today, so a
second run finds the same files (kept in the work directory), ingests nothing new, and each
detector has nothing due past its checkpoint: a warm run only re-reads and reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from exporter.config import Settings
from exporter.detections.behaviour import DETECTORS
from exporter.detections.behaviour.runner import DetectorRun, RunOptions
from exporter.detections.behaviour.service import runner_for
from exporter.detections.setup import ingest_matcher, install_detections
from exporter.errors import DuskwatchError
from exporter.export.config import build_destinations, outbox_for
from exporter.export.runner import RetryPolicy, Runner, Tally
from exporter.ingest.pipeline import Ingestor
from exporter.ingest.summary import IngestSummary
from exporter.report import ReportData, write_report
from exporter.server import node
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files
from exporter.store import monitors
from exporter.store.bootstrap import Outcome, bootstrap
from exporter.store.client import connect
from exporter.suppression import store as filters
from exporter.suppression.model import parse_filter
from exporter.usage import usage
from exporter.usage.model import UsageRow

FILE_DESTINATION = "demo-file"
INGESTED_MARKER = "ingested.json"
"""Written beside the logs once they are completely ingested (holds their labels.json)."""
ACCOUNTS = ("111122223333", "444455556666", "777788889999")
REGIONS = ("us-east-1", "eu-west-1")


@dataclass(frozen=True)
class DemoOptions:
    """Where the demo works and how much it simulates."""

    work_dir: Path
    days: int = 7
    scale: float = 0.3
    seed: int = 7


@dataclass
class DemoResult:
    """Everything the demo printout needs."""

    url: str = ""
    stages: dict[str, float] = field(default_factory=dict)
    ingest: IngestSummary | None = None
    detect: list[DetectorRun] = field(default_factory=list)
    export: dict[str, Tally] = field(default_factory=dict)
    usage: list[UsageRow] = field(default_factory=list)
    report: ReportData | None = None
    report_path: Path | None = None
    export_path: Path | None = None
    suppression_rule: str = ""
    labels: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``: called as long stages advance."""


def demo_settings(settings: Settings, work_dir: Path) -> Settings:
    """``settings`` with the demo's local file export destination added."""
    destinations = {
        **settings.export.destinations,
        FILE_DESTINATION: {
            "type": "file",
            "path": str(work_dir / "exported-findings.jsonl"),
            "frequency": "IMMEDIATE",
        },
    }
    return replace(settings, export=replace(settings.export, destinations=destinations))


def suppression_rule() -> dict[str, Any]:
    """The shipped example suppression rule (GuardDuty filter JSON)."""
    text = resources.files(__package__).joinpath("suppress-low-port-probes.json").read_text()
    rule: dict[str, Any] = json.loads(text)
    return rule


def run(settings: Settings, options: DemoOptions, progress: Progress) -> DemoResult:
    """Run every stage; returns what happened (timings per stage included)."""
    result = DemoResult()
    settings = demo_settings(settings, options.work_dir)
    options.work_dir.mkdir(parents=True, exist_ok=True)
    with _stage(result, "node"):
        result.url = _ensure_node(settings)
    client = connect(settings.opensearch)
    with _stage(result, "bootstrap"):
        _bootstrap(client, settings)
        result.suppression_rule = _install_rule(client)
    logs = options.work_dir / "logs"
    with _stage(result, "simulate"):
        result.labels = _simulate(logs, options)
    with _stage(result, "ingest"):
        result.ingest = _ingest_once(client, settings, logs, progress)
    with _stage(result, "detect"):
        result.detect = _detect(client, settings, result.labels, progress)
    with _stage(result, "export"):
        result.export = _export(client, settings)
        result.export_path = options.work_dir / "exported-findings.jsonl"
    with _stage(result, "report"):
        result.usage = usage(client)
        result.report_path = options.work_dir / "report.html"
        result.report = write_report(client, result.report_path)
    return result


@contextmanager
def _stage(result: DemoResult, name: str) -> Iterator[None]:
    began = time.perf_counter()
    yield
    result.stages[name] = time.perf_counter() - began


def _ensure_node(settings: Settings) -> str:
    url = settings.opensearch.url
    if node.is_ready(url):
        return url
    if url != node.local_url(settings.server):
        raise DuskwatchError(
            f"cannot reach OpenSearch at {url}",
            hint="start your cluster, or unset opensearch.url to use the embedded node",
        )
    return node.start(settings.server).url


def _bootstrap(client: OpenSearch, settings: Settings) -> None:
    failed = [
        r for r in [*bootstrap(client), *monitors.install(client)] if r.outcome is Outcome.FAILED
    ]
    failed_rules = [row for row in install_detections(client, settings) if row.outcome == "failed"]
    if failed or failed_rules:
        names = [r.name for r in failed] + [row.name for row in failed_rules]
        raise DuskwatchError(
            f"bootstrap failed for {', '.join(names)}", hint="run `duskwatch bootstrap` for details"
        )


def _install_rule(client: OpenSearch) -> str:
    rule = parse_filter(suppression_rule())
    try:
        filters.get(client, rule.name)
    except DuskwatchError:
        filters.create(client, rule)
    return rule.name


def _simulate(out: Path, options: DemoOptions) -> dict[str, Any]:
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    labels_path = out / "labels.json"
    if labels_path.is_file():
        labels: dict[str, Any] = json.loads(labels_path.read_text())
        if labels.get("end") == end.strftime("%Y-%m-%dT%H:%M:%SZ"):
            return labels  # the same week, already written
        _clear(out)
    config = SimulationConfig(
        out, days=options.days, seed=options.seed, scale=options.scale,
        accounts=ACCOUNTS, regions=REGIONS, end=end, workers=2,
    )  # fmt: skip
    simulate(config)
    fresh: dict[str, Any] = json.loads(labels_path.read_text())
    return fresh


def _clear(out: Path) -> None:
    for path in sorted(out.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()
        else:
            path.rmdir()


def _ingest_once(
    client: OpenSearch, settings: Settings, logs: Path, progress: Progress
) -> IngestSummary | None:
    """Ingest the week unless a previous run ingested these very files completely (a marker
    written after the last batch); an interrupted ingest is simply done again (idempotent)."""
    marker = logs.parent / INGESTED_MARKER
    stamp = (logs / "labels.json").read_text()
    if marker.is_file() and marker.read_text() == stamp and _has_events(client):
        return None
    summary = _ingest(client, settings, logs, progress)
    marker.write_text(stamp)
    return summary


def _has_events(client: OpenSearch) -> bool:
    found = client.count(index="duskwatch-events-*", allow_no_indices=True, ignore_unavailable=True)
    return int(found["count"]) > 0


def _ingest(
    client: OpenSearch, settings: Settings, logs: Path, progress: Progress
) -> IngestSummary:
    ingestor = Ingestor(client, settings.ingest, on_created=ingest_matcher(client, settings))
    found = files.expand([str(logs)])
    total = sum(path.stat().st_size for path in found)
    done = 0
    for origin, data in files.read_files(found):
        ingestor.ingest(origin, data)
        done += len(data)
        progress("ingest", done, total)
    return ingestor.close()


def _detect(
    client: OpenSearch, settings: Settings, labels: dict[str, Any], progress: Progress
) -> list[DetectorRun]:
    detectors = [detector for _, detector in DETECTORS.items()]
    start = datetime.fromisoformat(str(labels["start"]).replace("Z", "+00:00"))
    days = (datetime.fromisoformat(str(labels["end"]).replace("Z", "+00:00")) - start).days
    options = RunOptions(max_catchup=timedelta(days=max(days, 1) + 1))
    done = [0]

    def advanced(_: str, __: object) -> None:
        done[0] += 1
        progress("detect", done[0], None)

    return runner_for(client, settings).run(detectors, options, on_window=advanced)


def _export(client: OpenSearch, settings: Settings) -> dict[str, Tally]:
    outbox = outbox_for(client, settings)
    if outbox is None:
        return {}
    destinations = build_destinations(settings.export)
    return Runner(outbox, destinations, RetryPolicy.from_settings(settings.export)).run_once()
