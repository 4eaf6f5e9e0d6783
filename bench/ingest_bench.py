"""Ingest benchmark (run through ``bench/ingest``).

For each source and for the mix of all of them, on simulator data:
  (a) parse + normalize records/s on one core (decompressed payloads in memory);
  (b) end-to-end records/s into the real node (the production Ingestor);
  (c) the raw ``_bulk`` rate of the very same documents, pre-built, into the same node,
      with the same batch size and concurrency: the baseline (b) is compared with.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.bulk import Action, BulkWriter, batches
from exporter.ingest.identity import document_id, event_index
from exporter.ingest.pipeline import Ingestor
from exporter.logtypes import LOG_TYPES, LogType
from exporter.parsers.base import Record
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files
from exporter.store.bootstrap import bootstrap
from exporter.store.client import connect
from exporter.store.indices import EVENT_INDICES, delete_matching

Payload = tuple[str, bytes]


def load(root: Path) -> dict[str, list[Payload]]:
    """Decompressed payloads per log type (detected the production way)."""
    from exporter.ingest.pipeline import detect

    by_type: dict[str, list[Payload]] = {}
    for origin, data in files.read_files(files.expand([str(root)])):
        payload = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        kind = detect(payload[:65536])
        if kind is not None:
            by_type.setdefault(kind.name, []).append((origin, payload))
    return by_type


def parse_normalize(kind: LogType, payloads: list[Payload]) -> Iterator[tuple[Record, dict]]:
    for origin, payload in payloads:
        for result in kind.parser.parse(payload, origin):
            if isinstance(result, Record):
                yield result, kind.normalize(result)


def bench_parse(kind: LogType, payloads: list[Payload]) -> tuple[int, float]:
    """(records, CPU seconds) for parse + normalize on this core."""
    started = time.process_time()
    records = sum(1 for _ in parse_normalize(kind, payloads))
    return records, time.process_time() - started


def prebuilt(kind: LogType, payloads: list[Payload]) -> list[Action]:
    now = datetime.now(UTC).isoformat()
    actions = []
    for record, doc in parse_normalize(kind, payloads):
        doc["event"]["ingested"] = now
        doc_id = document_id(
            kind.name, kind.identity(record), record.original, record.position.origin, 1
        )
        actions.append(
            Action(event_index(kind.index, doc["@timestamp"]), doc_id, orjson.dumps(doc))
        )
    return actions


def bench_end_to_end(
    client: OpenSearch, settings: config.Settings, payloads: list[tuple[str, Payload]]
) -> tuple[int, float]:
    delete_matching(client, EVENT_INDICES)
    ingestor = Ingestor(client, settings.ingest)
    started = time.perf_counter()
    for log_type, (origin, payload) in payloads:
        ingestor.ingest(origin, payload, log_type)
    summary = ingestor.close()
    return summary.totals().indexed, time.perf_counter() - started


def bench_raw_bulk(
    client: OpenSearch, settings: config.Settings, actions: list[Action]
) -> tuple[int, float]:
    delete_matching(client, EVENT_INDICES)
    writer = BulkWriter(client, concurrency=settings.ingest.concurrency)
    created = 0

    def done(outcome: object) -> None:
        nonlocal created
        created += len(outcome.created)  # type: ignore[attr-defined]

    started = time.perf_counter()
    for batch in batches(actions, settings.ingest.batch_bytes, settings.ingest.batch_docs):
        writer.submit(batch, done)
    writer.close()
    client.indices.refresh(index="duskwatch-events-*")
    return created, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    settings = config.load()
    client = connect(settings.opensearch, timeout=120)
    bootstrap(client)
    with tempfile.TemporaryDirectory(prefix="duskwatch-bench-") as tmp:
        out = Path(tmp) / "logs"
        sim = simulate(
            SimulationConfig(
                out,
                days=args.days,
                scale=args.scale,
                end=datetime(2025, 3, 10, tzinfo=UTC),
                workers=2,
            )
        )
        by_type = load(out)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; simulator: days={args.days} scale={args.scale}, "
        f"{sum(sim.counts.values()):,} records"
    )
    print(
        f"{'source':<11} {'records':>9} {'(a) parse/s/core':>17} {'(b) e2e/s':>10} "
        f"{'(c) raw bulk/s':>15} {'(b)/(c)':>8}"
    )
    mix_payloads: list[tuple[str, Payload]] = []
    mix_actions: list[Action] = []
    totals = [0, 0.0]
    for name in LOG_TYPES.names():
        kind, payloads = LOG_TYPES.get(name), by_type.get(name, [])
        records, cpu = bench_parse(kind, payloads)
        totals[0] += records
        totals[1] += cpu
        actions = prebuilt(kind, payloads)
        pairs = [(name, p) for p in payloads]
        e2e_n, e2e_s = bench_end_to_end(client, settings, pairs)
        raw_n, raw_s = bench_raw_bulk(client, settings, actions)
        report(name, records, records / cpu, e2e_n / e2e_s, raw_n / raw_s)
        mix_payloads += pairs
        mix_actions += actions
    e2e_n, e2e_s = bench_end_to_end(client, settings, mix_payloads)
    raw_n, raw_s = bench_raw_bulk(client, settings, mix_actions)
    report("mix", int(totals[0]), totals[0] / totals[1], e2e_n / e2e_s, raw_n / raw_s)
    delete_matching(client, EVENT_INDICES)


def report(name: str, records: int, parse: float, e2e: float, raw: float) -> None:
    print(f"{name:<11} {records:>9,} {parse:>17,.0f} {e2e:>10,.0f} {raw:>15,.0f} {e2e / raw:>8.2f}")


if __name__ == "__main__":
    main()
