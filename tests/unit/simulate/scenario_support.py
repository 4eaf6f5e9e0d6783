"""What the scenario tests share: one tiny simulation, read back as normalized documents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from exporter.logtypes import LOG_TYPES
from exporter.parsers.base import Record, decompress
from exporter.simulate import SCENARIOS, ScenarioWriter
from exporter.simulate.ids import derive_rng
from exporter.simulate.labels import Scenario
from exporter.simulate.model import build_model
from exporter.simulate.run import streams

END = datetime(2025, 3, 4, tzinfo=UTC)
LAST_DAY = END - timedelta(days=1)
TINY: dict[str, Any] = {"days": 2, "scale": 0.02, "end": END}
ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("us-east-1", "eu-west-1")
SOURCES = {
    "/CloudTrail/": "cloudtrail",
    "/vpcflowlogs/": "vpcflow",
    "/vpcdnsquerylogs/": "route53",
    "eks-audit/": "eks-audit",
}
Doc = dict[str, Any]


def get(doc: Any, dotted: str) -> Any:
    """The value at a dotted path of a nested document (None when absent)."""
    for part in dotted.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def request(doc: Doc, key: str) -> Any:
    """One CloudTrail request parameter of a normalized document."""
    return (get(doc, "aws.cloudtrail.request_parameters") or {}).get(key)


@dataclass(frozen=True)
class Located:
    """A normalized document and the relative path of the file it came from."""

    source: str
    path: str
    doc: Doc


@dataclass(frozen=True)
class Run:
    """A simulation's labels and every document it wrote."""

    labels: dict[str, Any]
    docs: list[Located]

    def label(self, name: str) -> dict[str, Any]:
        return next(s for s in self.labels["scenarios"] if s["name"] == name)


def read(out: Path) -> Iterator[Located]:
    """Every record of the output, parsed and normalized (a dead letter fails the test)."""
    for path in sorted(out.rglob("*.gz")):
        rel = path.relative_to(out).as_posix()
        source = next(kind for marker, kind in SOURCES.items() if marker in rel)
        log_type = LOG_TYPES.get(source)
        for result in log_type.parser.parse(decompress(path.read_bytes(), rel), rel):
            assert isinstance(result, Record), result
            yield Located(source, rel, log_type.normalize(result))


def run_scenario(seed: int, name: str) -> tuple[list[Scenario], dict[Any, Any]]:
    """One scenario alone on a tiny estate: its labels and the records it queued."""
    start, end = int((END - timedelta(days=2)).timestamp()), int(END.timestamp())
    model = build_model(seed, start, end, 0.02, ACCOUNTS, REGIONS)
    writer = ScenarioWriter(model, streams(model))
    labels = SCENARIOS.get(name)(model, derive_rng(seed, "scenario", name), writer)
    return list(labels), writer.pending
