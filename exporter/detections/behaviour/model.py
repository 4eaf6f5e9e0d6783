"""What a behaviour detector is: data (type, source, schedule, thresholds) plus pure functions.

A detector looks at one **window** of event time at a time. The runner asks it for a filter
(:attr:`Detector.query`) and aggregations (:attr:`Detector.aggs`) over the window; the
aggregation result of one window is a :data:`Bucket`. When the detector needs history, its
:attr:`Detector.baseline` turns that bucket into a second request over the
``baseline_days`` before the window (``None``: nothing to compare). :attr:`Detector.evaluate`
turns both results into :class:`Hit` s, one per finding to report. All four are pure: they
build OpenSearch DSL objects or read plain dicts, so they are unit-tested with canned results,
and the embedded :attr:`Detector.cases` run them end to end against a real node.

Every tunable number lives in :attr:`Detector.params`; ``duskwatch.yaml`` overrides them per
detector (``detectors.overrides.<name>.<param>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opensearchpy.helpers.aggs import Agg
from opensearchpy.helpers.query import Query

from exporter.findings.spec import FindingSpec
from exporter.normalize.ecs import iso_timestamp
from exporter.registry import Registry

Params = Mapping[str, Any]
"""A detector's resolved parameters: its defaults with the configured overrides applied."""
Bucket = Mapping[str, Any]
"""The aggregation results of one window (or of one baseline request), keyed by agg name."""
Document = dict[str, Any]


@dataclass(frozen=True)
class Window:
    """A half-open range of event time ``[start, end)``."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """``<start>/<end>`` in ISO-8601 UTC: how the window is named in findings and output."""
        return f"{iso_timestamp(self.start)}/{iso_timestamp(self.end)}"

    @property
    def info(self) -> dict[str, str]:
        """``windowStart``/``windowEnd``: the window in a finding's additional info."""
        return {"windowStart": iso_timestamp(self.start), "windowEnd": iso_timestamp(self.end)}


@dataclass(frozen=True)
class Hit:
    """One finding a detector reports for a window.

    ``event`` is a representative ECS document of the behaviour (usually the latest one of the
    bucket, from a ``top_hits`` aggregation): the finding's resource, action and account come
    from it. ``first_seen``/``last_seen`` bound the behaviour within the window.
    """

    spec: FindingSpec
    event: Mapping[str, Any]
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class Case:
    """An embedded test: ECS documents (``history`` before the window, ``window`` inside it)
    and the finding types the detector must report for them (empty: must stay silent)."""

    name: str
    window: Sequence[Document]
    expect: tuple[str, ...] = ()
    history: Sequence[Document] = ()


QueryFn = Callable[[Params], Query]
AggsFn = Callable[[Params], Mapping[str, Agg]]
BaselineFn = Callable[[Bucket, Params], "Baseline | None"]
EvaluateFn = Callable[[Bucket, "Bucket | None", Window, Params], list[Hit]]
CasesFn = Callable[[Window], Sequence[Case]]


@dataclass(frozen=True)
class Baseline:
    """A request over the history before a window: a filter and aggregations."""

    query: Query
    aggs: Mapping[str, Agg]


@dataclass(frozen=True)
class Detector:
    """A scheduled aggregation over event time that reports GuardDuty findings.

    ``log_type`` names the event source (its alias ``duskwatch-events-<log_type>`` is read).
    Windows are ``interval`` long, aligned to the epoch; a window is due once the source's
    event time has passed its end by ``settle`` (late-arriving logs). ``finding_types`` lists
    every type the detector can report; ``logic`` says in one paragraph how it decides.
    """

    name: str
    log_type: str
    finding_types: tuple[str, ...]
    logic: str
    query: QueryFn
    aggs: AggsFn
    evaluate: EvaluateFn
    params: Params = field(default_factory=dict)
    baseline: BaselineFn | None = None
    interval: timedelta = timedelta(hours=1)
    settle: timedelta = timedelta(minutes=15)
    cases: CasesFn | None = None

    @property
    def baseline_days(self) -> int:
        """Days of history before a window the baseline request covers (0: none)."""
        return int(self.params.get("baseline_days", 0)) if self.baseline else 0


DETECTORS: Registry[Detector] = Registry("detector")
"""Every behaviour detector, by name (the catalogue modules register theirs on import)."""


def register(detector: Detector) -> Detector:
    """Add ``detector`` to :data:`DETECTORS` and return it."""
    return DETECTORS.add(detector.name, detector)
