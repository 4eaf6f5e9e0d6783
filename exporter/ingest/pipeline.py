"""The ingest pipeline: one payload at a time, streamed into the bulk writer.

payload → decompress → detect log type → parse → normalize (+ the country of each public
source/destination address) → create in the day's index.
Whatever cannot be read, normalized or indexed goes to ``duskwatch-deadletter`` with the
reason and its position; the rest of the payload proceeds.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from opensearchpy import OpenSearch

from exporter.config import IngestSettings
from exporter.errors import ParseError
from exporter.ingest.bulk import Action, BulkWriter, Outcome
from exporter.ingest.identity import document_id, event_index
from exporter.ingest.summary import IngestSummary
from exporter.logtypes import LOG_TYPES, LogType
from exporter.normalize.ecs import iso_timestamp
from exporter.normalize.geo import add_geo
from exporter.parsers.base import DeadLetter, Position, Record, decompress

DEADLETTER_INDEX = "duskwatch-deadletter"
SNIFF_BYTES = 65536
UNKNOWN = "unknown"
ECS_VERSION = {"version": "8.17.0"}

log = logging.getLogger(__name__)

CreatedCallback = Callable[[LogType, list[Action]], object]
ProgressCallback = Callable[[str, int], None]


def detect(head: bytes) -> LogType | None:
    """The first registered log type whose parser recognises ``head``; None if none does."""
    for _, log_type in LOG_TYPES.items():
        if log_type.parser.sniff(head):
            return log_type
    return None


class Ingestor:
    """Ingests payloads into OpenSearch; call :meth:`close` for the summary."""

    def __init__(
        self,
        client: OpenSearch,
        settings: IngestSettings,
        *,
        on_created: CreatedCallback | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._writer = BulkWriter(
            client, concurrency=settings.concurrency, max_retries=settings.max_retries
        )
        self._on_created = on_created
        self._progress = progress
        self._buffer: list[Action] = []
        self._buffered_bytes = 0
        self.summary = IngestSummary()

    def ingest(self, origin: str, data: bytes, log_type: str | None = None) -> None:
        """Ingest one payload (a file or object); ``log_type`` None means detect it."""
        try:
            payload = decompress(data, origin)
        except ParseError as exc:
            self._dead_letters(
                log_type or UNKNOWN,
                [DeadLetter.of(str(exc), Position(origin), data[:256])],
                stage="read",
            )
            return
        if not payload.strip():
            self.summary.empty.append(origin)
            return
        kind = LOG_TYPES.get(log_type) if log_type else detect(payload[:SNIFF_BYTES])
        if kind is None:
            self._unrecognized(origin, payload)
            return
        self.summary.add(kind.name, files=1, bytes=len(data))
        began = time.perf_counter()
        for action in self._actions(kind, origin, payload):
            self._buffer.append(action)
            self._buffered_bytes += len(action.source)
            full = len(self._buffer) >= self._settings.batch_docs
            if full or self._buffered_bytes >= self._settings.batch_bytes:
                self._submit()
        self.summary.add(kind.name, seconds=time.perf_counter() - began)

    def flush(self) -> None:
        """Wait until everything ingested so far is written (before marking a source done)."""
        self._submit()
        self._writer.flush()

    def close(self) -> IngestSummary:
        """Wait for every write and return the summary."""
        self._submit()
        self._writer.close()
        self._client.indices.refresh(
            index=f"{DEADLETTER_INDEX},duskwatch-events-*",
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        self.summary.finished = self.summary.started + self.summary.seconds
        return self.summary

    def _actions(self, kind: LogType, origin: str, payload: bytes) -> Iterator[Action]:
        occurrences: Counter[str] = Counter()
        ingested = iso_timestamp(datetime.now(UTC))
        dead: list[DeadLetter] = []
        for result in kind.parser.parse(payload, origin):
            self.summary.add(kind.name, read=1)
            if isinstance(result, DeadLetter):
                dead.append(result)
                continue
            try:
                doc = kind.normalize(result)
            except ParseError as exc:
                dead.append(DeadLetter.of(str(exc), result.position, result.original))
                continue
            occurrences[result.original] += 1
            yield self._action(kind, result, doc, ingested, occurrences[result.original])
        if dead:
            self._dead_letters(kind.name, dead, stage="parse")

    def _action(
        self, kind: LogType, record: Record, doc: dict[str, Any], ingested: str, occurrence: int
    ) -> Action:
        doc.setdefault("event", {})["ingested"] = ingested
        doc["ecs"] = ECS_VERSION
        add_geo(doc)
        doc.setdefault("duskwatch", {})["raw_bytes"] = _utf8_length(record.original)
        if not self._settings.keep_original:
            doc["event"].pop("original", None)
        doc["log"] = {"file": {"path": record.position.origin}}
        if record.position.offset is not None:
            doc["log"]["offset"] = record.position.offset
        doc_id = document_id(
            kind.name, kind.identity(record), record.original, record.position.origin, occurrence
        )
        return Action(
            event_index(kind.index, doc["@timestamp"]),
            doc_id,
            orjson.dumps(doc),
            tag=(kind, record),
            document=doc,
        )

    def _submit(self) -> None:
        """Hand the buffered actions (batches span payloads) to the bulk writer."""
        if self._buffer:
            self._writer.submit(self._buffer, self._written)
            self._buffer, self._buffered_bytes = [], 0

    def _written(self, outcome: Outcome) -> None:
        created = _by_kind(outcome.created)
        for kind, actions in created.items():
            self.summary.add(kind.name, indexed=len(actions))
        for kind, actions in _by_kind(outcome.duplicates).items():
            self.summary.add(kind.name, duplicates=len(actions))
        for kind, actions in _by_kind([action for action, _ in outcome.rejected]).items():
            reasons = {id(a): r for a, r in outcome.rejected}
            letters = [
                DeadLetter.of(reasons[id(a)], a.tag[1].position, a.tag[1].original) for a in actions
            ]
            self._dead_letters(kind.name, letters, stage="index")
        for kind, actions in created.items():
            if self._on_created:
                self._on_created(kind, actions)
        if self._progress:
            done = len(outcome.created) + len(outcome.duplicates) + len(outcome.rejected)
            self._progress("ingest", done)

    def dead_letter(self, source: str, letter: DeadLetter) -> None:
        """Record one dead letter from outside the parsers (e.g. a poison SQS message)."""
        self._dead_letters(source, [letter], stage="source")

    def _unrecognized(self, origin: str, payload: bytes) -> None:
        self.summary.unrecognized.append(origin)
        reason = (
            "unrecognized format: not CloudTrail, VPC flow, Route 53 resolver or EKS audit "
            "(pass --type to force one)"
        )
        self._dead_letters(
            UNKNOWN, [DeadLetter.of(reason, Position(origin), payload[:2048])], stage="detect"
        )

    def _dead_letters(self, log_type: str, letters: list[DeadLetter], stage: str) -> None:
        now = iso_timestamp(datetime.now(UTC))
        actions = [
            Action(
                DEADLETTER_INDEX,
                _dead_letter_id(letter),
                orjson.dumps(_dead_letter_doc(letter, log_type, stage, now)),
            )
            for letter in letters
        ]
        outcome = self._writer.write(actions)
        self.summary.add(log_type, dead_lettered=len(outcome.created) + len(outcome.duplicates))
        log.info(
            "dead-lettered",
            extra={
                "count": len(letters),
                "stage": stage,
                "first": letters[0].position.describe(),
                "reason": letters[0].reason,
            },
        )


def _utf8_length(text: str) -> int:
    """The UTF-8 size of ``text``; ASCII (most log lines) needs no encoded copy."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _by_kind(actions: list[Action]) -> dict[LogType, list[Action]]:
    grouped: dict[LogType, list[Action]] = {}
    for action in actions:
        grouped.setdefault(action.tag[0], []).append(action)
    return grouped


def _dead_letter_doc(letter: DeadLetter, log_type: str, stage: str, now: str) -> dict[str, Any]:
    position = letter.position
    return {
        "@timestamp": now,
        "reason": letter.reason,
        "stage": stage,
        "log_type": log_type,
        "origin": position.origin,
        "line": position.line,
        "offset": position.offset,
        "index": position.index,
        "snippet": letter.snippet,
    }


def _dead_letter_id(letter: DeadLetter) -> str:
    position = letter.position
    key = f"{position.origin}\x00{position.line}\x00{position.offset}\x00{position.index}"
    return hashlib.blake2b(f"{key}\x00{letter.reason}".encode(), digest_size=20).hexdigest()
