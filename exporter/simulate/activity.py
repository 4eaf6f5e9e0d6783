"""Activities: the building block of every background stream.

An :data:`Activity` is called once per file window ``[start, end)`` with the stream's RNG and
yields ``(timestamp, serialized record)`` pairs. Three kinds cover the background:

* :func:`poisson` - a rate per hour (times the run's scale) modulated by a daily :data:`Shape`;
* :func:`daily` - once a day at a local time (logins, cron jobs); not scaled;
* :func:`every` - at a fixed period and phase (credential rotation); not scaled.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from exporter.simulate.ids import DAY, HOUR, counted, stable_int

Line = tuple[float, str]
Activity = Callable[[random.Random, int, int], Iterable[Line]]
Emit = Callable[[random.Random, float], Iterable[Line]]
Shape = Callable[[int], float]


def local_hour(ts: float, utc_offset: int) -> float:
    """Hour of the local day (0.0-24.0) at ``ts`` for a UTC offset in hours."""
    return ((ts + utc_offset * HOUR) % DAY) / HOUR


def weekday(ts: float, utc_offset: int) -> int:
    """Local weekday of ``ts``: 0 = Monday ... 6 = Sunday."""
    return (int((ts + utc_offset * HOUR) // DAY) + 3) % 7


def flat(_ts: int) -> float:
    """Round-the-clock machine activity."""
    return 1.0


def office_hours(utc_offset: int, after_hours: float = 0.02) -> Shape:
    """Working hours 08-18 local on weekdays (lunch dip), ``after_hours`` (on-call) otherwise."""

    def shape(ts: int) -> float:
        hour = local_hour(ts, utc_offset)
        if weekday(ts, utc_offset) >= 5 or not 8 <= hour < 18:
            return after_hours
        return 0.5 if 12 <= hour < 13 else 1.0

    return shape


def diurnal(utc_offset: int, swing: float = 0.6) -> Shape:
    """Customer-facing traffic: peak mid-afternoon local, trough before dawn, mean 1."""

    def shape(ts: int) -> float:
        return 1.0 + swing * math.cos(2 * math.pi * (local_hour(ts, utc_offset) - 15) / 24)

    return shape


def poisson(per_hour: float, emit: Emit, shape: Shape = flat, scale: float = 1.0) -> Activity:
    """``per_hour * scale * shape`` emissions per hour at uniformly random times."""

    def run(rng: random.Random, start: int, end: int) -> Iterator[Line]:
        expected = per_hour * scale * shape(start) * (end - start) / HOUR
        for _ in range(counted(rng, expected)):
            yield from emit(rng, start + rng.random() * (end - start))

    return run


def daily(
    local_seconds: int,
    emit: Emit,
    *,
    utc_offset: int = 0,
    jitter: int = 1,
    key: object = "",
    weekdays: bool = False,
) -> Activity:
    """Once a day at ``local_seconds`` after local midnight plus a stable jitter (by ``key``)."""

    def run(rng: random.Random, start: int, end: int) -> Iterator[Line]:
        first = start - start % DAY - DAY
        for day in (first, first + DAY, first + 2 * DAY):
            ts = day + local_seconds - utc_offset * HOUR + _jitter(key, day, jitter)
            if start <= ts < end and not (weekdays and weekday(ts, utc_offset) >= 5):
                yield from emit(rng, ts)

    return run


@lru_cache(maxsize=65536)
def _jitter(key: object, day: int, jitter: int) -> int:
    return stable_int(key, day) % jitter


def every(period: int, phase: int, emit: Emit) -> Activity:
    """At every ``phase + k * period`` (epoch seconds) inside the window."""

    def run(rng: random.Random, start: int, end: int) -> Iterator[Line]:
        ts = start + (phase - start) % period
        while ts < end:
            yield from emit(rng, ts)
            ts += period

    return run
