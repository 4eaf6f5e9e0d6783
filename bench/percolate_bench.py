"""Percolator matching benchmark (run through ``bench/percolate``).

For each threat-list size: (1) ingest records/s with matching off, (2) with matching on
(rules + lists, the production Matcher), their ratio, (3) the p50/p95 time from a batch being
written to its findings being searchable, and, in the same run, (4) the same list matching
done in memory (a set of every network prefix and a set of domains, i.e. a radix lookup) over
the same documents, to show what the percolator costs.
"""

from __future__ import annotations

import argparse
import ipaddress
import queue
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from opensearchpy import OpenSearch

from exporter import config
from exporter.detections.matcher import Indices, Matcher
from exporter.detections.rules import install, load_rules
from exporter.detections.threatintel import store as lists
from exporter.detections.threatintel.builtin import install_builtin
from exporter.detections.threatintel.meta import ListSpec
from exporter.detections.threatintel.model import Limits
from exporter.detections.threatintel.queries import ip_prefixes
from exporter.ingest.bulk import Action
from exporter.ingest.pipeline import Ingestor
from exporter.logtypes import LogType
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files
from exporter.store.indices import EVENT_INDICES, delete_matching


def random_entries(count: int, seed: int = 7) -> list[str]:
    """Public IPv4 addresses (90 %) and /24 networks (10 %), none in the simulator's ranges."""
    rng = random.Random(seed)
    entries: set[str] = set()
    while len(entries) < count:
        first = rng.choice([23, 31, 45, 62, 77, 89, 91, 104, 141, 176, 185, 193, 212])
        address = ipaddress.ip_address(f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.1")
        if rng.random() < 0.1:
            entries.add(str(ipaddress.ip_network(f"{address}/24", strict=False)))
        else:
            entries.add(str(address + rng.randrange(200)))
    return sorted(entries)


class TimedMatcher:
    """The production Matcher, plus the time until each batch's findings are searchable.

    Visibility is polled from a separate thread, so measuring does not slow the ingest down.
    """

    def __init__(self, client: OpenSearch, matcher: Matcher, findings_index: str) -> None:
        self.client, self.matcher, self.index = client, matcher, findings_index
        self.latencies: list[float] = []
        self.documents: list[dict[str, Any]] = []
        self._pending: queue.Queue[tuple[float, list[str]] | None] = queue.Queue()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def __call__(self, kind: LogType, created: list[Action]) -> list[str]:
        began = time.perf_counter()
        ids = self.matcher(kind, created)
        if ids:
            self._pending.put((began, ids))
        self.documents.extend(a.document or orjson.loads(a.source) for a in created)
        return ids

    def close(self) -> None:
        """Wait for the last batches to become searchable."""
        self._pending.put(None)
        self._poller.join()

    def _poll(self) -> None:
        while (item := self._pending.get()) is not None:
            began, ids = item
            body = {"query": {"ids": {"values": ids}}}
            while time.perf_counter() - began < 30:
                if self.client.count(index=self.index, body=body)["count"] >= len(ids):
                    break
                time.sleep(0.02)
            self.latencies.append(time.perf_counter() - began)


def ingest(
    client: OpenSearch, settings: config.Settings, root: Path, matcher: Any = None
) -> tuple[int, float]:
    delete_matching(client, EVENT_INDICES)
    ingestor = Ingestor(client, settings.ingest, on_created=matcher)
    began = time.perf_counter()
    for origin, data in files.read_files(files.expand([str(root)])):
        ingestor.ingest(origin, data)
    summary = ingestor.close()
    return summary.totals().indexed, time.perf_counter() - began


def in_memory(documents: list[dict[str, Any]], entries: list[str]) -> tuple[int, float]:
    """Matches and seconds of the same IP list matching done with sets of prefixes."""
    networks = {str(ipaddress.ip_network(e)) for e in entries}
    began = time.perf_counter()
    matches = 0
    for doc in documents:
        related = doc.get("related", {}).get("ip", [])
        matches += sum(1 for prefix in ip_prefixes(related) if prefix in networks)
        parents = doc.get("duskwatch", {}).get("dns", {}).get("parent_domains", [])
        matches += sum(1 for name in parents if name in networks)
    return matches, time.perf_counter() - began


def run_size(
    client: OpenSearch, settings: config.Settings, root: Path, size: int, tmp: Path
) -> dict[str, float]:
    tag = uuid.uuid4().hex[:10]
    indices = Indices(
        intel=f"duskwatch-threatintel-bench-{tag}", findings=f"duskwatch-findings-bench-{tag}"
    )
    client.indices.create(index=indices.findings)
    install_builtin(client, index=indices.intel)
    entries = random_entries(size)
    if entries:
        path = tmp / f"list-{size}.txt"
        path.write_text("\n".join(entries) + "\n")
        lists.add(
            client,
            ListSpec(f"bench-{tag}", "threat", str(path)),
            index=indices.intel,
            limits=Limits(threat_entries=max(size, 1)),
        )
    client.indices.refresh(index=indices.intel)
    rules = load_rules()
    install(client, rules)
    off_n, off_s = ingest(client, settings, root)
    timed = TimedMatcher(
        client, Matcher(client, rules, detector_id="b" * 32, indices=indices), indices.findings
    )
    on_n, on_s = ingest(client, settings, root, timed)
    timed.close()
    _, memory_s = in_memory(timed.documents, entries)
    latencies = sorted(timed.latencies) or [0.0]
    result = {
        "off": off_n / off_s,
        "on": on_n / on_s,
        "memory": len(timed.documents) / memory_s,
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "findings": timed.matcher.stats.findings,
    }
    lists.remove(client, f"bench-{tag}", "threat", index=indices.intel) if entries else None
    client.indices.delete(index=f"{indices.intel},{indices.findings}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sizes", default="0,10000,250000")
    args = parser.parse_args()
    settings = config.load()
    from exporter.store.bootstrap import bootstrap
    from exporter.store.client import connect

    client = connect(settings.opensearch, timeout=300)
    bootstrap(client)
    with tempfile.TemporaryDirectory(prefix="duskwatch-percolate-") as tmp:
        root = Path(tmp) / "logs"
        sim = simulate(
            SimulationConfig(
                root,
                days=args.days,
                scale=args.scale,
                workers=2,
                end=datetime(2025, 3, 10, tzinfo=UTC),
            )
        )
        print(
            f"simulator: days={args.days} scale={args.scale}, "
            f"{sum(sim.counts.values()):,} records; rules: {len(load_rules())}"
        )
        print(
            f"{'entries':>8} {'off rec/s':>10} {'on rec/s':>9} {'on/off':>7} "
            f"{'in-memory lists rec/s':>22} {'p50 s':>6} {'p95 s':>6} {'findings':>9}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            r = run_size(client, settings, root, size, Path(tmp))
            print(
                f"{size:>8,} {r['off']:>10,.0f} {r['on']:>9,.0f} {r['on'] / r['off']:>7.2f} "
                f"{r['memory']:>22,.0f} {r['p50']:>6.2f} {r['p95']:>6.2f} "
                f"{int(r['findings']):>9}"
            )
        delete_matching(client, EVENT_INDICES)


if __name__ == "__main__":
    main()
