"""Ground truth: labelled attack scenarios and the ``labels.json`` file.

A scenario is a function registered in :data:`SCENARIOS`. It receives the estate
(:class:`~exporter.simulate.model.Model`), its own seeded RNG and a
:class:`~exporter.simulate.inject.ScenarioWriter`, writes its records through the writer (they
land, time-sorted, in the same files as the background) and returns the :class:`Scenario`
labels that say what a detector should (``positive``) or should not (``negative``) find::

    @SCENARIOS.register("ssh-brute-force")
    def ssh_brute_force(model, rng, writer):
        ...
        writer.vpcflow(vpc, flow)
        return [Scenario("ssh-brute-force", "UnauthorizedAccess:EC2/SSHBruteForce", ...)]
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from exporter.registry import Registry

if TYPE_CHECKING:
    from exporter.simulate.inject import ScenarioWriter
    from exporter.simulate.model import Model

Expected = Literal["positive", "negative"]


@dataclass(frozen=True)
class Scenario:
    """One labelled behaviour: what a detector should (or should not) report, where and when."""

    name: str
    finding_type: str
    resource: str
    account: str
    region: str
    expected: Expected
    start: datetime
    end: datetime
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        """The label as written to ``labels.json`` (times as ISO-8601 UTC)."""
        data = asdict(self)
        data["start"] = _iso(self.start)
        data["end"] = _iso(self.end)
        return data


ScenarioFn = Callable[["Model", random.Random, "ScenarioWriter"], Sequence[Scenario]]
SCENARIOS: Registry[ScenarioFn] = Registry("scenario")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_labels(
    path: Path,
    *,
    run: Mapping[str, Any],
    counts: Mapping[str, int],
    data_events: int,
    scenarios: Sequence[Scenario],
) -> None:
    """Write ``labels.json``: the run's parameters, what was written, and the scenarios."""
    document = {
        **{k: _iso(v) if isinstance(v, datetime) else v for k, v in run.items()},
        "counts": dict(counts),
        "data_events": data_events,
        "scenarios": [scenario.to_json() for scenario in scenarios],
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
