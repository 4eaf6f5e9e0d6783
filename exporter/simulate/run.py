"""Run a simulation: build the estate, run the scenarios, then write every stream in turn."""

from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from exporter.errors import ConfigError
from exporter.registry import Registry
from exporter.simulate import (
    cloudtrail_background,
    eks_audit_background,
    route53,
    vpcflow_background,
)
from exporter.simulate.ids import DAY, derive_rng
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.labels import SCENARIOS, Scenario, ScenarioFn, write_labels
from exporter.simulate.model import Model, build_model
from exporter.simulate.writers import FileSink, Pending, Progress, StreamSpec, write_stream

ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
LABELS_FILE = "labels.json"
MAX_VPCS = 240  # one 10.<n>.0.0/16 per account and Region, n = 10..249
Build = tuple[int, int, int, float, tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate and where to write it.

    ``scale`` multiplies every background volume (1 is a few hundred thousand records for
    8 days and 2 accounts); ``end`` is the exclusive, midnight-aligned UTC end (default: today's
    UTC midnight) and the run covers ``days`` days before it. ``workers`` > 1 writes streams in
    that many spawned processes (the caller's ``__main__`` must be import-safe); the output is
    the same byte for byte.
    """

    out_dir: Path
    days: int = 8
    seed: int = 1
    scale: float = 1.0
    accounts: tuple[str, ...] = ("111122223333", "444455556666")
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
    end: datetime | None = None
    workers: int = 1


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote: records per source (scenario records included) and where."""

    counts: dict[str, int]
    data_events: int
    files: int
    start: datetime
    end: datetime
    labels_path: Path


def simulate(
    config: SimulationConfig,
    progress: Progress | None = None,
    *,
    scenarios: Registry[ScenarioFn] | None = None,
) -> SimulationSummary:
    """Write the simulated logs and ``labels.json`` into ``config.out_dir``.

    ``progress(source, records)`` is called after every file (with workers: after every stream).
    ``scenarios`` defaults to every scenario registered in :data:`SCENARIOS`. Raises
    ConfigError for an invalid config or a non-empty output directory.
    """
    start, end = time_range(config)
    _validate(config)
    span = (int(start.timestamp()), int(end.timestamp()))
    build: Build = (config.seed, *span, config.scale, config.accounts, config.regions)
    model = build_model(*build)
    specs = streams(model)
    writer = ScenarioWriter(model, specs)
    labels = _run_scenarios(model, writer, SCENARIOS if scenarios is None else scenarios)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    sink = FileSink(config.out_dir, progress)
    if config.workers > 1:
        _write_parallel(build, len(specs), writer.pending, sink, config.workers)
    else:
        for spec in specs:
            write_stream(spec, span, model.seed, sink, writer.pending)
    path = _write_labels(config, (start, end), sink, labels)
    return SimulationSummary(dict(sink.counts), sink.data_events, sink.files, start, end, path)


def _write_labels(
    config: SimulationConfig,
    span: tuple[datetime, datetime],
    sink: FileSink,
    labels: list[Scenario],
) -> Path:
    path = config.out_dir / LABELS_FILE
    run = {
        "seed": config.seed,
        "start": span[0],
        "end": span[1],
        "scale": config.scale,
        "accounts": list(config.accounts),
        "regions": list(config.regions),
    }
    write_labels(path, run=run, counts=sink.counts, data_events=sink.data_events, scenarios=labels)
    return path


def _write_parallel(
    build: Build, count: int, pending: Pending, sink: FileSink, workers: int
) -> None:
    """Write each stream in a process pool; every worker rebuilds the (pure) estate."""
    context = multiprocessing.get_context("spawn")  # no fork of a threaded (CLI) parent
    initargs = (build, sink.root, pending)
    with ProcessPoolExecutor(workers, context, _start_worker, initargs) as pool:
        for job in as_completed([pool.submit(_write_job, index) for index in range(count)]):
            sink.absorb(*job.result())


_worker: tuple[list[StreamSpec], Build, Path, Pending] | None = None


def _start_worker(build: Build, out: Path, pending: Pending) -> None:
    global _worker
    _worker = (streams(build_model(*build)), build, out, pending)


def _write_job(index: int) -> tuple[str, int, int, int]:
    if _worker is None:
        raise RuntimeError("simulation worker used before it was started")
    specs, build, out, pending = _worker
    sink, spec = FileSink(out), specs[index]
    write_stream(spec, (build[1], build[2]), build[0], sink, pending)
    return spec.source, sink.counts[spec.source], sink.data_events, sink.files


def streams(model: Model) -> list[StreamSpec]:
    """Every stream of every source, in writing order."""
    return [
        *cloudtrail_background.streams(model),
        *vpcflow_background.streams(model),
        *route53.streams(model),
        *eks_audit_background.streams(model),
    ]


def time_range(config: SimulationConfig) -> tuple[datetime, datetime]:
    """The [start, end) of a run in UTC; ``end`` must fall on a UTC midnight."""
    if config.end is None:
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elif config.end.tzinfo is None:
        end = config.end.replace(tzinfo=UTC)
    else:
        end = config.end.astimezone(UTC)
    if end.timestamp() % DAY:
        raise ConfigError(
            f"simulation end {end.isoformat()} is not a UTC midnight",
            hint="give a date such as 2025-03-01",
        )
    if config.days < 1:
        raise ConfigError(f"days must be at least 1, not {config.days}")
    return end - timedelta(days=config.days), end


def _validate(config: SimulationConfig) -> None:
    if config.workers < 1:
        raise ConfigError(f"workers must be at least 1, not {config.workers}")
    if not config.scale > 0:
        raise ConfigError(f"scale must be positive, not {config.scale}")
    bad = [a for a in config.accounts if not ACCOUNT_ID.fullmatch(a)]
    if bad or not config.accounts or len(set(config.accounts)) < len(config.accounts):
        raise ConfigError(f"accounts must be distinct 12-digit ids, got {list(config.accounts)}")
    if len(config.accounts) * len(config.regions) > MAX_VPCS:
        raise ConfigError(f"at most {MAX_VPCS} account x Region pairs can be simulated")
    bad = [r for r in config.regions if not REGION.fullmatch(r)]
    if bad or not config.regions or len(set(config.regions)) < len(config.regions):
        raise ConfigError(f"regions must be distinct Region names, got {list(config.regions)}")
    out = config.out_dir
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"output directory {out} is not empty",
            hint="choose a new directory or remove the old output",
        )


def _run_scenarios(
    model: Model, writer: ScenarioWriter, scenarios: Registry[ScenarioFn]
) -> list[Scenario]:
    labels: list[Scenario] = []
    for name, scenario in scenarios.items():
        labels.extend(scenario(model, derive_rng(model.seed, "scenario", name), writer))
    return labels
