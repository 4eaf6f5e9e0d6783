"""The worker's chores: first round, period, off, failures reported and retried."""

from __future__ import annotations

from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

from exporter.chores import Chore, Chores
from exporter.errors import StoreError


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_chore_runs_on_the_first_round_then_once_per_period() -> None:
    clock, ran = Clock(), []

    def tidy() -> str:
        ran.append(clock.now)
        return "done"

    chores = Chores([Chore("tidy", 60, tidy)], clock)
    assert chores.run_due() == [("tidy", "done")]
    clock.now += 59
    assert chores.run_due() == []
    clock.now += 1
    assert chores.run_due() == [("tidy", "done")]
    assert ran == [1000.0, 1060.0]


def test_a_period_of_zero_turns_a_chore_off() -> None:
    chores = Chores([Chore("never", 0, lambda: "ran")], Clock())
    assert chores.run_due() == []


def test_a_failing_chore_is_reported_and_does_not_stop_the_others() -> None:
    clock = Clock()
    attempts: list[float] = []

    def broken() -> str:
        attempts.append(clock.now)
        raise StoreError("cluster is read-only")

    def unreachable() -> str:
        raise OpenSearchConnectionError("N/A", "connection refused", None)

    chores = Chores(
        [
            Chore("broken", 60, broken),
            Chore("offline", 60, unreachable),
            Chore("ok", 60, lambda: "fine"),
        ],
        clock,
    )
    done = dict(chores.run_due())
    assert done["broken"] == "failed: cluster is read-only"
    assert done["offline"].startswith("failed: ")
    assert done["ok"] == "fine"
    assert chores.run_due() == []
    clock.now += 60
    assert "broken" in dict(chores.run_due())
    assert attempts == [1000.0, 1060.0]
