"""The delivery loop: every destination drains its own due outbox entries, independently.

Per destination (one thread each, so a slow or failing destination never holds up another,
and each one's state is its own outbox entries, so none is delivered twice because another
failed): fetch the entries due now in batches of ``max_batch``, ``deliver`` each batch, then
mark it delivered. A :class:`~exporter.export.destination.DeliveryError` marks the failed
entries (all, or only ``DeliveryError.failed``) for a retry after an exponential backoff with
jitter (tenacity's ``wait_exponential_jitter``), or parks them — the export dead letter — when
the error is not retryable or ``export.max_attempts`` is reached. The rest of the batch is
marked delivered.

Delivery is at-least-once: a crash between a send and its mark resends that batch with the
same event ids.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from opensearchpy.exceptions import OpenSearchException
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from exporter.config import ExportSettings
from exporter.errors import DuskwatchError
from exporter.export.config import Configured
from exporter.export.destination import Delivery, DeliveryError
from exporter.export.outbox import Clock, Entry, ExportOutbox, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it is parked instead."""

    max_attempts: int = 8
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0

    @classmethod
    def from_settings(cls, export: ExportSettings) -> RetryPolicy:
        """The policy of the ``export`` settings."""
        return cls(export.max_attempts, export.backoff_seconds, export.max_backoff_seconds)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts: ``backoff * 2^(attempts-1)``
        plus up to ``backoff`` of jitter, at most ``max_backoff``."""
        wait = wait_exponential_jitter(
            multiplier=self.backoff_seconds,
            max=self.max_backoff_seconds,
            jitter=self.backoff_seconds,
        )
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempts
        return float(wait(state))

    def retry_at(self, attempts: int, now: datetime, retryable: bool) -> datetime | None:
        """The time of the next attempt after ``attempts`` failed ones; None: park."""
        if not retryable or attempts >= self.max_attempts:
            return None
        return now + timedelta(seconds=self.delay(attempts))


@dataclass
class Tally:
    """What one pass over a destination did."""

    delivered: int = 0
    retried: int = 0
    parked: int = 0
    withheld: int = 0
    batches: int = 0


class Runner:
    """Delivers due outbox entries to configured destinations."""

    def __init__(
        self,
        outbox: ExportOutbox,
        destinations: Sequence[Configured],
        policy: RetryPolicy,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.outbox = outbox
        self.destinations = list(destinations)
        self.policy = policy
        self.clock = clock

    def drain(self, configured: Configured) -> Tally:
        """One pass over one destination: deliver every entry due when the pass starts."""
        now = self.clock()
        tally = Tally()
        after: tuple[object, ...] = ()
        size = configured.destination.max_batch
        while entries := self.outbox.due(configured.name, now, size=size, after=after):
            self._send(configured, entries, tally)
            after = entries[-1].sort
        return tally

    def run_once(self) -> dict[str, Tally]:
        """One pass over every destination, concurrently; their tallies by name."""
        if not self.destinations:
            return {}
        with ThreadPoolExecutor(len(self.destinations), thread_name_prefix="export") as pool:
            futures = {c.name: pool.submit(self.drain, c) for c in self.destinations}
            return {name: future.result() for name, future in futures.items()}

    def run(self, poll_seconds: float, stop: threading.Event) -> None:
        """Drain every destination every ``poll_seconds``, each in its own thread, until
        ``stop`` is set."""
        threads = [
            threading.Thread(
                target=self._loop, args=(c, poll_seconds, stop), name=f"export-{c.name}"
            )
            for c in self.destinations
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _loop(self, configured: Configured, poll_seconds: float, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                tally = self.drain(configured)
            except (DuskwatchError, OpenSearchException) as exc:
                log.warning("export %s: %s", configured.name, exc)
            else:
                if tally.batches:
                    log.info("export %s: %s", configured.name, tally)
            stop.wait(poll_seconds)

    def _send(self, configured: Configured, entries: list[Entry], tally: Tally) -> None:
        archived = self.outbox.archived([str(e.doc["finding_id"]) for e in entries])
        if archived:  # suppressed (or archived by hand) since queued: never exported
            held = [e for e in entries if e.doc["finding_id"] in archived]
            self.outbox.mark_withheld(held)
            tally.withheld += len(held)
            entries = [e for e in entries if e.doc["finding_id"] not in archived]
            if not entries:
                return
        tally.batches += 1
        batch = [Delivery(e.doc["event_id"], e.doc["finding"]) for e in entries]
        try:
            configured.destination.deliver(batch)
        except DeliveryError as error:
            self._failed(configured, entries, error, tally)
            return
        except Exception as exc:  # noqa: BLE001 - a destination's bug is retried, then parked
            log.exception("export %s: unexpected error", configured.name)
            self._failed(configured, entries, DeliveryError(f"{type(exc).__name__}: {exc}"), tally)
            return
        self.outbox.mark_delivered(entries, configured.route)
        tally.delivered += len(entries)

    def _failed(
        self, configured: Configured, entries: list[Entry], error: DeliveryError, tally: Tally
    ) -> None:
        failed_ids = set(error.failed) if error.failed is not None else None
        bad = [e for e in entries if failed_ids is None or e.doc["event_id"] in failed_ids]
        good = [e for e in entries if e not in bad]
        if good:
            self.outbox.mark_delivered(good, configured.route)
            tally.delivered += len(good)
        now = self.clock()

        def retry_at(attempts: int) -> datetime | None:
            when = self.policy.retry_at(attempts, now, error.retryable)
            if when is None:
                tally.parked += 1
            else:
                tally.retried += 1
            return when

        log.warning("export %s: %d not delivered: %s", configured.name, len(bad), error)
        self.outbox.mark_failed(bad, str(error), retry_at)
