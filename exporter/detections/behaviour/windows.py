"""Event-time windows: alignment, ranges and which windows are due. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from exporter.detections.behaviour.model import Window

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def align(moment: datetime, interval: timedelta) -> datetime:
    """The start of the ``interval``-long, epoch-aligned window holding ``moment``."""
    step = int(interval.total_seconds())
    seconds = int((moment - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % step)


def windows(start: datetime, end: datetime, interval: timedelta) -> Iterator[Window]:
    """The aligned windows that overlap ``[start, end)``, in order."""
    current = align(start, interval)
    while current < end:
        yield Window(current, current + interval)
        current += interval


def due(
    since: datetime, watermark: datetime, interval: timedelta, settle: timedelta
) -> list[Window]:
    """Windows from ``since`` on whose end plus ``settle`` is not after ``watermark``."""
    closed = align(watermark - settle, interval)
    return list(windows(since, closed, interval)) if closed > since else []


def chunks(items: list[Window], size: int) -> Iterator[list[Window]]:
    """Consecutive runs of at most ``size`` windows."""
    for first in range(0, len(items), size):
        yield items[first : first + size]
