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

A label may carry the threat or trusted :class:`IpList` entries it relies on; ``labels.json``
lists their union under ``lists``, to be loaded before the logs are ingested.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from exporter.registry import Registry

if TYPE_CHECKING:
    from exporter.simulate.inject import ScenarioWriter
    from exporter.simulate.model import Model

Expected = Literal["positive", "negative"]
ListKind = Literal["threat", "trusted"]


@dataclass(frozen=True)
class IpList:
    """Entries of a GuardDuty threat list (ThreatIntelSet) or trusted list (IPSet), as TXT.

    ``category`` (threat lists only) names the finding family a hit produces (``custom``:
    the ``.Custom`` types). Every entry must be an IPv4/IPv6 address or CIDR block.
    """

    name: str
    kind: ListKind
    entries: tuple[str, ...]
    category: str | None = None
    format: str = "txt"

    def __post_init__(self) -> None:
        for entry in self.entries:
            ipaddress.ip_network(entry)  # ValueError for anything else

    def to_json(self) -> dict[str, Any]:
        """The list as written to ``labels.json``."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.category is not None:
            data["category"] = self.category
        return {**data, "format": self.format, "entries": list(self.entries)}


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
    lists: tuple[IpList, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The label as written to ``labels.json`` (times as ISO-8601 UTC, lists left out)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "lists"}
        data["start"] = _iso(self.start)
        data["end"] = _iso(self.end)
        return data


def merge_lists(scenarios: Sequence[Scenario]) -> list[IpList]:
    """The union of the scenarios' lists, by name, entries in first-seen order.

    Raises ValueError when two declarations of one name disagree on kind, category or format.
    """
    merged: dict[str, IpList] = {}
    for declared in (ip_list for scenario in scenarios for ip_list in scenario.lists):
        known = merged.setdefault(declared.name, declared)
        settings = (declared.kind, declared.category, declared.format)
        if (known.kind, known.category, known.format) != settings:
            raise ValueError(f"list {declared.name!r} is declared with different settings")
        entries = known.entries + tuple(e for e in declared.entries if e not in known.entries)
        merged[declared.name] = replace(known, entries=entries)
    return list(merged.values())


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
    """Write ``labels.json``: the run's parameters, what was written, scenarios and lists."""
    document = {
        **{k: _iso(v) if isinstance(v, datetime) else v for k, v in run.items()},
        "counts": dict(counts),
        "data_events": data_events,
        "scenarios": [scenario.to_json() for scenario in scenarios],
        "lists": [ip_list.to_json() for ip_list in merge_lists(scenarios)],
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
