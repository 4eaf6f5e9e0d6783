"""Behaviour detector benchmark (run through ``bench/detectors``).

Loads ``--days`` days of simulated history into the real node, then times a backfill of every
registered detector (or those of ``--detectors``), one at a time, over the last 1, 7 and 30
days of it with the production Runner (findings into a scratch index, no checkpoints; the
node's request and query caches are cleared before each backfill).

History: the full simulation (every source, scenarios on the last day) at ``--base-scale``,
plus the VPC flow streams of the same estate simulated again at ``--scale`` with other random
draws (the traffic of a busier fleet), both through the production Ingestor into the per-day
event indices. The defaults give ~355k flow records a day, 10.6M over 30 days. Loading goes day
by day and is cached: a day whose indices still hold what its marker in
``duskwatch-bench-history`` recorded for the same settings is not loaded again (``--reload``
loads every day afresh).

Baseline, measured in the same run: a 1-day backfill of the second day through an alias over
the first two days' indices only, i.e. with one day of history before it. The last day's
1-day backfill over the whole history divided by it is about 1 when cost follows the window
range, and grows towards the number of days when it follows the total history. (The last day
also holds the scenarios' attacks: a detector with hits there also pays for writing findings,
which waits for a refresh of the findings index the first time; see the hits column.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from rich.console import Console
from rich.table import Table

from exporter import config
from exporter.detections.behaviour import DETECTORS, Detector
from exporter.detections.behaviour.runner import DetectorRun, Runner, RunOptions
from exporter.ingest.identity import event_index
from exporter.ingest.pipeline import Ingestor
from exporter.logtypes import LOG_TYPES
from exporter.simulate import SimulationConfig, simulate, vpcflow_background
from exporter.simulate.model import build_model
from exporter.simulate.writers import FileSink, StreamSpec, write_stream
from exporter.sources import files
from exporter.store.bootstrap import bootstrap
from exporter.store.client import connect
from exporter.store.indices import delete_matching

END = datetime(2025, 3, 10, tzinfo=UTC)
DAY = timedelta(days=1)
MARKERS = "duskwatch-bench-history"
ONE_COPY = {"settings": {"index": {"number_of_replicas": 0}}}
FINDINGS = "duskwatch-findings-bench"
EARLY_ALIAS = "duskwatch-bench-early-{log_type}"
DETECTOR_ID = "d" * 32
DATE_DIR = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
err = Console(stderr=True)


@dataclass(frozen=True)
class History:
    """The simulated history: ``days`` days before :data:`END` at two volumes."""

    days: int
    scale: float
    base_scale: float

    @property
    def start(self) -> datetime:
        """The first instant of the history."""
        return END - self.days * DAY

    def dates(self) -> list[datetime]:
        """The midnight starting each day, oldest first."""
        return [self.start + n * DAY for n in range(self.days)]


@dataclass(frozen=True)
class Cpu:
    """Wall seconds and CPU seconds of this process (with its simulator workers) and the node."""

    wall: float
    python: float
    node: float

    @staticmethod
    def now(client: OpenSearch) -> Cpu:
        """The clocks now."""
        own = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        stats = client.nodes.stats(metric="process")["nodes"].values()
        return Cpu(
            time.perf_counter(),
            sum(usage.ru_utime + usage.ru_stime for usage in own),
            sum(node["process"]["cpu"]["total_in_millis"] for node in stats) / 1000,
        )

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.wall - other.wall, self.python - other.python, self.node - other.node)


@dataclass(frozen=True)
class Load:
    """What the history holds and what loading it cost now (None: every day was cached).

    CPU seconds per record are steadier than wall time when other work shares the machine.
    """

    counts: dict[str, int]
    loaded_days: int
    loaded_records: int
    cost: Cpu | None


@dataclass(frozen=True)
class Timing:
    """One backfill of one detector."""

    days: int
    seconds: float
    windows: int
    requests: int
    hits: int
    error: str | None

    @property
    def per_day(self) -> float:
        """Seconds per day of windows."""
        return self.seconds / self.days


def day_name(day: datetime) -> str:
    """``YYYY.MM.DD``: the suffix of the day's event indices."""
    return event_index("", day.isoformat())[1:]


def day_counts(client: OpenSearch, day: datetime) -> dict[str, int]:
    """Documents per source in the day's event indices."""
    body = {"size": 0, "aggs": {"by": {"terms": {"field": "_index", "size": 50}}}}
    found = client.search(
        index=f"duskwatch-events-*-{day_name(day)}",
        body=body,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    prefixes = {LOG_TYPES.get(name).index: name for name in LOG_TYPES.names()}
    return {
        prefixes[bucket["key"].rsplit("-", 1)[0]]: bucket["doc_count"]
        for bucket in found.get("aggregations", {}).get("by", {}).get("buckets", [])
    }


def cached(client: OpenSearch, history: History, day: datetime) -> bool:
    """The day was loaded with these settings and its indices still hold what it loaded."""
    marker = client.get(index=MARKERS, id=day_name(day), ignore=[404])
    source = marker.get("_source", {})
    if source.get("history") != asdict(history):
        return False
    counts = day_counts(client, day)
    return all(counts.get(name, 0) >= n for name, n in source["counts"].items())


class IngestSink(FileSink):
    """A simulator sink that hands each file's payload straight to the Ingestor."""

    def __init__(self, ingestor: Ingestor) -> None:
        super().__init__(Path("."))
        self.ingestor = ingestor

    def write(self, spec: StreamSpec, relpath: str, lines: Sequence[str]) -> None:
        """Ingest the file ``relpath`` would hold."""
        head = spec.header + "\n" if spec.header else ""
        payload = (head + "\n".join(lines) + "\n").encode()
        self.ingestor.ingest(f"bench/{relpath}", payload, spec.source)
        self.absorb(spec.source, len(lines), 0, 1)


def files_by_day(root: Path) -> dict[str, list[Path]]:
    """The simulated files under ``root`` by the ``YYYY.MM.DD`` of their folder."""
    by_day: dict[str, list[Path]] = defaultdict(list)
    for path in files.expand([str(root)]):
        found = DATE_DIR.search(str(path.relative_to(root.parent)))
        if found:
            by_day[".".join(found.groups())].append(path)
    return by_day


def load_day(
    client: OpenSearch,
    settings: config.Settings,
    day: datetime,
    base: list[Path],
    flows: list[StreamSpec],
    seed: int,
) -> int:
    """Replace the day's event indices with its base files and busier flow streams."""
    delete_matching(client, f"duskwatch-events-*-{day_name(day)}")
    ingestor = Ingestor(client, settings.ingest)
    for origin, data in files.read_files(base):
        ingestor.ingest(origin, data)
    sink = IngestSink(ingestor)
    first = int(day.timestamp())
    for spec in flows:
        write_stream(spec, (first, first + int(DAY.total_seconds())), seed, sink, {})
    return ingestor.close().totals().indexed


def load(client: OpenSearch, settings: config.Settings, history: History, reload: bool) -> Load:
    """Load every day of ``history`` that is not cached (all of them with ``reload``)."""
    client.indices.create(index=MARKERS, body=ONE_COPY, ignore=[400])
    missing = [d for d in history.dates() if reload or not cached(client, history, d)]
    began, loaded = Cpu.now(client), 0
    if missing:
        with tempfile.TemporaryDirectory(prefix="duskwatch-detectors-") as tmp:
            root = Path(tmp) / "logs"
            sim = SimulationConfig(
                root, days=history.days, scale=history.base_scale, end=END, workers=2
            )
            err.print(f"simulating {history.days} days at scale {history.base_scale} ...")
            simulate(sim)
            by_day = files_by_day(root)
            span = (int(history.start.timestamp()), int(END.timestamp()))
            model = build_model(sim.seed, *span, history.scale, sim.accounts, sim.regions)
            flows = vpcflow_background.streams(model)
            fleet_seed = sim.seed + 1  # the same estate, other random draws than the base run
            for n, day in enumerate(missing, 1):
                started = time.perf_counter()
                base = by_day[day_name(day)]
                records = load_day(client, settings, day, base, flows, fleet_seed)
                loaded += records
                marker = {"history": asdict(history), "counts": day_counts(client, day)}
                client.index(index=MARKERS, id=day_name(day), body=marker, refresh=True)
                rate = loaded / (time.perf_counter() - began.wall)
                err.print(
                    f"day {day_name(day)} ({n}/{len(missing)}): {records:,} records in "
                    f"{time.perf_counter() - started:.0f} s; {rate:,.0f} records/s overall"
                )
    totals: dict[str, int] = defaultdict(int)
    for day in history.dates():
        for name, count in day_counts(client, day).items():
            totals[name] += count
    cost = Cpu.now(client) - began if missing else None
    return Load(dict(totals), len(missing), loaded, cost)


def set_early_alias(client: OpenSearch, history: History, add: bool) -> None:
    """Point (or stop pointing) the early aliases at the first two days' event indices."""
    actions = []
    for name in LOG_TYPES.names():
        prefix = LOG_TYPES.get(name).index
        for day in history.dates()[:2]:
            index = f"{prefix}-{day_name(day)}"
            if client.indices.exists(index=index):
                alias = EARLY_ALIAS.format(log_type=name)
                actions.append({"add" if add else "remove": {"index": index, "alias": alias}})
    if actions:
        client.indices.update_aliases(body={"actions": actions})


def timed(
    client: OpenSearch, runner: Runner, detector: Detector, since: datetime, days: int
) -> Timing:
    """A backfill of ``detector`` over ``days`` days from ``since``, caches cleared first."""
    client.indices.clear_cache(index="duskwatch-events-*", request=True, query=True)
    span = runner.span(detector.log_type)
    options = RunOptions(since=since, until=since + days * DAY)
    run: DetectorRun = runner.run_one(detector, span, options)
    return Timing(days, run.seconds, run.windows, run.requests, run.hits, run.error)


def best(timings: list[Timing]) -> Timing:
    """The fastest of repeated backfills."""
    return min(timings, key=lambda t: t.seconds)


def bench(
    client: OpenSearch,
    detectors: Sequence[Detector],
    history: History,
    ranges: list[int],
    repeat: int,
) -> list[dict[str, Any]]:
    """Every detector's backfill timings over the last ``ranges`` days, and the baseline
    (the two 1-day backfills of the ratio: best of ``repeat``)."""
    common: dict[str, Any] = {
        "detector_id": DETECTOR_ID,
        "params": {},
        "findings_index": FINDINGS,
        "keep_checkpoints": False,
        "concurrency": 1,
    }
    runner, early = Runner(client, **common), Runner(client, events_alias=EARLY_ALIAS, **common)
    results = []
    for detector in detectors:
        err.print(f"backfilling {detector.name} ...")
        last = [timed(client, runner, detector, END - DAY, 1) for _ in range(repeat)]
        timings = [best(last)] + [
            timed(client, runner, detector, END - days * DAY, days) for days in ranges[1:]
        ]
        start = best(
            [timed(client, early, detector, history.start + DAY, 1) for _ in range(repeat)]
        )
        results.append(
            {
                "detector": detector.name,
                "source": detector.log_type,
                "interval_minutes": detector.interval.total_seconds() / 60,
                "baseline_days": detector.baseline_days,
                "ranges": [asdict(t) | {"per_day": t.per_day} for t in timings],
                "start": asdict(start),
                "end_over_start": timings[0].seconds / start.seconds,
            }
        )
    return results


def table(results: list[dict[str, Any]], ranges: list[int]) -> Table:
    """Seconds, windows and requests per range, seconds per window-day, and the ratio."""
    grid = Table(title="backfill per detector (last N days of history)")
    grid.add_column("detector")
    grid.add_column("history d", justify="right")
    for days in ranges:
        grid.add_column(f"{days}d s", justify="right")
    grid.add_column("windows", justify="right")
    grid.add_column("requests", justify="right")
    for days in ranges:
        grid.add_column(f"s/day {days}d", justify="right")
    grid.add_column("hits 1d", justify="right")
    grid.add_column("1d@start s", justify="right")
    grid.add_column("end/start", justify="right")
    totals = [0.0] * len(ranges)
    for result in results:
        spans = result["ranges"]
        errors = {t["error"] for t in [*spans, result["start"]] if t["error"]}
        totals = [total + t["seconds"] for total, t in zip(totals, spans, strict=True)]
        grid.add_row(
            result["detector"] + (f" [red]{errors.pop()}[/]" if errors else ""),
            str(result["baseline_days"]),
            *(f"{t['seconds']:.2f}" for t in spans),
            "/".join(str(t["windows"]) for t in spans),
            "/".join(str(t["requests"]) for t in spans),
            *(f"{t['per_day']:.3f}" for t in spans),
            f"{spans[0]['hits']}/{result['start']['hits']}",
            f"{result['start']['seconds']:.2f}",
            f"{result['end_over_start']:.2f}",
        )
    grid.add_row(
        "[bold]all[/]",
        "",
        *(f"{total:.2f}" for total in totals),
        "",
        "",
        *(f"{total / days:.3f}" for total, days in zip(totals, ranges, strict=True)),
    )
    return grid


def loading(loaded: Load) -> str:
    """What loading cost: wall time, records/s and CPU seconds of Python and the node."""
    if loaded.cost is None:
        return "load: every day cached"
    cost, records = loaded.cost, loaded.loaded_records
    return (
        f"load: {loaded.loaded_days} days, {records:,} records in {cost.wall:.0f} s "
        f"({records / cost.wall:,.0f} records/s); CPU: Python {cost.python:.0f} s "
        f"({records / cost.python:,.0f} records/CPU-s), node {cost.node:.0f} s "
        f"({records / cost.node:,.0f} records/CPU-s)"
    )


def selected(names: str | None) -> list[Detector]:
    """The detectors named (comma-separated), or every registered one."""
    if not names:
        return [detector for _, detector in DETECTORS.items()]
    return [DETECTORS.get(name.strip()) for name in names.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30, help="days of history (at least 2)")
    parser.add_argument("--scale", type=float, default=12.0, help="extra flow volume")
    parser.add_argument("--base-scale", type=float, default=1.0, help="every source")
    parser.add_argument("--ranges", default="1,7,30", help="backfill ranges in days")
    parser.add_argument("--detectors", help="NAME,... (default: every registered detector)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the two 1-day backfills of the ratio"
    )
    parser.add_argument("--reload", action="store_true", help="load every day afresh")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if args.days < 2:
        parser.error("--days must be at least 2 (the baseline backfills the second day)")
    history = History(args.days, args.scale, args.base_scale)
    ranges = sorted({1} | {min(int(r), args.days) for r in args.ranges.split(",")})
    detectors = selected(args.detectors)
    settings = config.load()
    client = connect(settings.opensearch, timeout=300)
    bootstrap(client)
    loaded = load(client, settings, history, args.reload)
    client.indices.delete(index=FINDINGS, ignore=[404])  # left over by an interrupted run
    client.indices.create(index=FINDINGS)
    set_early_alias(client, history, add=True)
    try:
        results = bench(client, detectors, history, ranges, args.repeat)
    finally:
        set_early_alias(client, history, add=False)
        client.indices.delete(index=FINDINGS, ignore=[404])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    report = {"machine": machine, "history": asdict(history), "load": asdict(loaded)}
    if args.json:
        print(json.dumps(report | {"detectors": results}, indent=2))
        return
    out = Console(width=max(Console().width, 150))
    out.print(
        f"machine: {machine}; history: {args.days} days to {END.date()}, flow scale "
        f"{args.scale} + base scale {args.base_scale}: "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(loaded.counts.items()))
    )
    out.print(loading(loaded))
    out.print(table(results, ranges))


if __name__ == "__main__":
    main()
