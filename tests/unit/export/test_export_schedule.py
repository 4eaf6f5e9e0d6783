"""Pure outbox rules: publishing-frequency due times, queue transitions, retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exporter.export.outbox import (
    Frequency,
    Route,
    Status,
    delivered,
    event_id,
    failed,
    queued,
    replayed,
    superseded,
    update_due,
)
from exporter.export.runner import RetryPolicy

NOW = datetime(2025, 3, 2, 11, 7, 30, tzinfo=UTC)
ROUTE = Route("hook", Frequency.FIFTEEN_MINUTES)


def finding(updated: str = "2025-03-02T11:07:30.000Z", fid: str = "f" * 32) -> dict[str, Any]:
    return {"id": fid, "updatedAt": updated, "type": "T"}


@pytest.mark.parametrize(
    ("frequency", "due"),
    [
        (Frequency.IMMEDIATE, NOW),
        (Frequency.FIFTEEN_MINUTES, datetime(2025, 3, 2, 11, 15, tzinfo=UTC)),
        (Frequency.ONE_HOUR, datetime(2025, 3, 2, 12, 0, tzinfo=UTC)),
        (Frequency.SIX_HOURS, datetime(2025, 3, 2, 12, 0, tzinfo=UTC)),
    ],
)
def test_update_due_is_the_next_boundary(frequency: Frequency, due: datetime) -> None:
    assert update_due(frequency, NOW) == due


def test_update_due_on_a_boundary_is_now() -> None:
    boundary = datetime(2025, 3, 2, 18, 0, tzinfo=UTC)
    assert update_due(Frequency.SIX_HOURS, boundary) == boundary
    assert update_due(Frequency.SIX_HOURS, boundary + timedelta(milliseconds=1)) == datetime(
        2025, 3, 3, 0, 0, tzinfo=UTC
    )


def test_event_id_is_id_and_updated_at() -> None:
    assert event_id(finding()) == "f" * 32 + ":2025-03-02T11:07:30.000Z"


def test_new_finding_is_due_at_once() -> None:
    entry = queued(None, finding(), ROUTE, created=True, now=NOW)
    assert entry is not None
    assert entry["status"] == Status.PENDING
    assert entry["due_at"] == entry["next_attempt_at"] == "2025-03-02T11:07:30.000Z"
    assert entry["attempts"] == 0


def test_update_of_a_delivered_finding_waits_for_the_boundary() -> None:
    first = delivered(queued(None, finding(), ROUTE, created=True, now=NOW) or {}, NOW)
    later = NOW + timedelta(minutes=1)
    entry = queued(first, finding("2025-03-02T11:08:30.000Z"), ROUTE, created=False, now=later)
    assert entry is not None
    assert entry["due_at"] == "2025-03-02T11:15:00.000Z"
    assert entry["event_id"].endswith("11:08:30.000Z")


def test_pending_entry_is_replaced_not_duplicated_and_keeps_its_due_time() -> None:
    first = delivered(queued(None, finding(), ROUTE, created=True, now=NOW) or {}, NOW)
    update = queued(first, finding("2025-03-02T11:08:00.000Z"), ROUTE, created=False, now=NOW)
    assert update is not None
    newer = finding("2025-03-02T11:20:00.000Z")
    coalesced = queued(update, newer, ROUTE, created=False, now=NOW + timedelta(minutes=13))
    assert coalesced is not None
    assert coalesced["due_at"] == update["due_at"] == "2025-03-02T11:15:00.000Z"
    assert coalesced["event_id"] == event_id(newer)
    assert coalesced["enqueued_at"] == update["enqueued_at"]


def test_older_or_already_delivered_versions_change_nothing() -> None:
    current = queued(None, finding("2025-03-02T11:09:00.000Z"), ROUTE, created=True, now=NOW)
    assert current is not None
    assert queued(current, finding(), ROUTE, created=False, now=NOW) is None
    done = delivered(current, NOW)
    same = finding("2025-03-02T11:09:00.000Z")
    assert queued(done, same, ROUTE, created=False, now=NOW) is None


def test_a_retrying_entry_keeps_its_schedule_when_a_newer_version_arrives() -> None:
    new = queued(None, finding(), ROUTE, created=True, now=NOW) or {}
    retrying = failed(new, "HTTP 503", NOW + timedelta(seconds=40))
    newer = queued(retrying, finding("2025-03-02T11:08:00.000Z"), ROUTE, created=False, now=NOW)
    assert newer is not None
    assert (newer["attempts"], newer["next_attempt_at"]) == (1, "2025-03-02T11:08:10.000Z")
    assert newer["last_error"] == "HTTP 503"


def test_failed_parks_without_a_retry_time_and_replay_resets() -> None:
    new = queued(None, finding(), ROUTE, created=True, now=NOW) or {}
    parked = failed(new, "HTTP 400", None)
    assert (parked["status"], parked["attempts"]) == (Status.PARKED, 1)
    again = replayed(parked, NOW + timedelta(hours=1))
    assert (again["status"], again["attempts"]) == (Status.PENDING, 0)
    assert again["next_attempt_at"] == "2025-03-02T12:07:30.000Z"


def test_a_version_superseded_during_the_send_waits_for_the_next_boundary() -> None:
    pending = queued(None, finding("2025-03-02T11:08:00.000Z"), ROUTE, created=True, now=NOW)
    assert pending is not None
    after = superseded(pending, ROUTE, NOW)
    assert after["due_at"] == after["next_attempt_at"] == "2025-03-02T11:15:00.000Z"
    assert after["delivered_at"] == "2025-03-02T11:07:30.000Z"
    assert after["status"] == Status.PENDING


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 5, 6, 7])
def test_backoff_doubles_with_jitter_up_to_the_cap(attempts: int) -> None:
    policy = RetryPolicy(max_attempts=8, backoff_seconds=2.0, max_backoff_seconds=60.0)
    base = 2.0 * 2 ** (attempts - 1)
    delays = [policy.delay(attempts) for _ in range(50)]
    assert all(min(base, 60.0) <= d <= min(base + 2.0, 60.0) for d in delays)


def test_retry_at_parks_after_max_attempts_or_a_permanent_error() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_seconds=1.0, max_backoff_seconds=10.0)
    retry = policy.retry_at(2, NOW, retryable=True)
    assert retry is not None
    assert NOW + timedelta(seconds=2) <= retry <= NOW + timedelta(seconds=3)
    assert policy.retry_at(3, NOW, retryable=True) is None
    assert policy.retry_at(1, NOW, retryable=False) is None
