"""Bulk writes with byte-sized batches, bounded concurrency and per-item retries.

Every document is written with ``op_type=create`` under a deterministic ``_id``, so a second
write of the same record is a 409 conflict: counted as a duplicate, never an error. Items
rejected with 429 or 5xx are retried (only those items) with exponential backoff and jitter;
items the mapping rejects are returned as rejections for the dead-letter index.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from exporter.errors import StoreError

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
BULK_TIMEOUT = 120
"""Seconds a bulk request may take before the batch is re-sent (as an ambiguous retry)."""


@dataclass(frozen=True, slots=True)
class Action:
    """One document to create, with an opaque tag that comes back in the outcome."""

    index: str
    doc_id: str
    source: bytes
    tag: Any = None
    document: Mapping[str, Any] | None = None
    """The document ``source`` serializes, when the writer has it (spares a re-parse)."""

    def lines(self) -> bytes:
        """The two NDJSON lines of this create action."""
        meta = orjson.dumps({"create": {"_index": self.index, "_id": self.doc_id}})
        return meta + b"\n" + self.source + b"\n"


@dataclass
class Outcome:
    """What happened to a batch: created, duplicate and rejected actions."""

    created: list[Action] = field(default_factory=list)
    duplicates: list[Action] = field(default_factory=list)
    rejected: list[tuple[Action, str]] = field(default_factory=list)


class _RetryableItems(Exception):
    """Some items got 429/5xx; carries them for the next attempt."""

    def __init__(self, actions: list[Action]) -> None:
        super().__init__(f"{len(actions)} items to retry")
        self.actions = actions


def batches(actions: Iterable[Action], max_bytes: int, max_docs: int) -> Iterator[list[Action]]:
    """Group actions into batches of at most ``max_bytes`` of NDJSON and ``max_docs`` documents."""
    batch: list[Action] = []
    size = 0
    for action in actions:
        length = len(action.source) + len(action.index) + len(action.doc_id) + 40
        if batch and (size + length > max_bytes or len(batch) >= max_docs):
            yield batch
            batch, size = [], 0
        batch.append(action)
        size += length
    if batch:
        yield batch


class BulkWriter:
    """Sends batches with at most ``concurrency`` requests in flight."""

    def __init__(
        self,
        client: OpenSearch,
        *,
        concurrency: int = 2,
        max_retries: int = 5,
        max_wait: float = 30.0,
        request_timeout: float = BULK_TIMEOUT,
    ) -> None:
        self._client = client
        self._timeout = request_timeout
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bulk")
        self._slots = threading.BoundedSemaphore(concurrency * 2)
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._in_flight = 0
        self._idle = threading.Condition()
        self._failure: BaseException | None = None

    def submit(self, batch: list[Action], done: Callable[[Outcome], None]) -> None:
        """Queue a batch (blocks while too many are in flight); ``done`` gets its outcome."""
        self._raise_failure()
        self._slots.acquire()
        with self._idle:
            self._in_flight += 1
        self._pool.submit(self._run, batch, done)

    def _run(self, batch: list[Action], done: Callable[[Outcome], None]) -> None:
        try:
            done(self.write(batch))
        except BaseException as exc:  # noqa: BLE001 - handed to the submitting thread
            self._failure = self._failure or exc
        finally:
            self._slots.release()
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def flush(self) -> None:
        """Wait until every batch submitted so far is written and reported; re-raise failures."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0)
        self._raise_failure()

    def close(self) -> None:
        """Wait for every queued batch, then stop the threads."""
        try:
            self.flush()
        finally:
            self._pool.shutdown(wait=True)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def write(self, batch: list[Action]) -> Outcome:
        """Write one batch now, retrying throttled items; raises StoreError if they never pass.

        After a timeout the cluster may have applied the request we gave up on, so in the
        re-sent request a "conflict" may be our own document: such items count as created
        (they get matched; matching is idempotent by occurrence) rather than as duplicates.
        """
        outcome = Outcome()
        pending = batch
        timed_out = False
        retrying = Retrying(
            stop=stop_after_attempt(self._max_retries + 1),
            wait=wait_random_exponential(multiplier=0.5, max=self._max_wait),
            retry=retry_if_exception_type(
                (_RetryableItems, OpenSearchConnectionError, ConnectionTimeout)
            ),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    try:
                        self._send(pending, outcome, ambiguous=timed_out)
                    except _RetryableItems as exc:
                        pending = exc.actions
                        raise
                    except ConnectionTimeout:
                        timed_out = True
                        raise
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise StoreError(
                f"bulk write failed after {self._max_retries} retries: {cause}",
                hint="check the cluster's health and disk (duskwatch doctor)",
            ) from exc
        return outcome

    def _send(self, actions: list[Action], outcome: Outcome, *, ambiguous: bool = False) -> None:
        body = b"".join(action.lines() for action in actions)
        try:
            response = self._client.bulk(body=body, request_timeout=self._timeout)
        except OpenSearchConnectionError:  # incl. timeouts: write() retries the batch
            raise
        except TransportError as exc:
            if exc.status_code in RETRYABLE_STATUS:
                raise _RetryableItems(actions) from exc
            raise StoreError(f"bulk request refused: HTTP {exc.status_code} {exc.error}") from exc
        retry = [
            a
            for a, item in zip(actions, response["items"], strict=True)
            if _classify(a, item["create"], outcome, ambiguous)
        ]
        if retry:
            raise _RetryableItems(retry)


def _transient(result: dict[str, Any]) -> bool:
    """An index deleted while we wrote to it: auto-created again on the retry."""
    return (result.get("error") or {}).get("type") == "index_not_found_exception"


def _classify(
    action: Action, result: dict[str, Any], outcome: Outcome, ambiguous: bool = False
) -> bool:
    """Record one item's result; True when it must be retried. ``ambiguous``: a conflict may
    be this writer's own earlier, timed-out attempt (counted as created)."""
    status = result.get("status", 500)
    if status in (200, 201) or (status == 409 and ambiguous):
        outcome.created.append(action)
    elif status == 409:
        outcome.duplicates.append(action)
    elif status in RETRYABLE_STATUS or _transient(result):
        return True
    else:
        error = result.get("error") or {}
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if cause:
            reason += f" ({cause.get('type')}: {cause.get('reason')})"
        outcome.rejected.append((action, reason))
    return False
