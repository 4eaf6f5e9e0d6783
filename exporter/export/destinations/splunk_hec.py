"""``splunk-hec``: Splunk HTTP Event Collector (``/services/collector/event``).

Each finding becomes one HEC event whose ``event`` is GuardDuty's EventBridge event
(``detail-type: "GuardDuty Finding"``, ``id`` = the event id, ``detail`` = the finding), what
the Splunk Add-on for AWS indexes as sourcetype ``aws:cloudwatch:guardduty``; ``time`` is the
finding's ``updatedAt``. A batch is one request of newline-separated events, authenticated with
``Authorization: Splunk <token>``. With ``ack: true`` (indexer acknowledgement enabled on the
token) requests carry ``X-Splunk-Request-Channel`` and a batch counts as delivered only once
``/services/collector/ack`` confirms its ``ackId``; an ack that does not come within
``ack_timeout`` is a retryable failure (the batch is sent again, with the same event ids).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from exporter.export.destination import DESTINATION_TYPES, Delivery, DeliveryError, DestinationType
from exporter.export.formats import guardduty_event
from exporter.export.http import HTTP_OPTIONS, Transport, check, pool_transport, url_option

EVENT_PATH = "/services/collector/event"
ACK_PATH = "/services/collector/ack"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["url", "token"],
    "properties": {
        "url": url_option("the HEC base URL, e.g. https://splunk:8088"),
        "token": {"type": "string", "minLength": 1, "description": "the HEC token"},
        "sourcetype": {"type": "string", "minLength": 1, "default": "aws:cloudwatch:guardduty",
                       "description": "a Splunk sourcetype"},
        "source": {"type": "string", "minLength": 1, "default": "duskwatch",
                   "description": "the Splunk source"},
        "index": {"type": "string", "minLength": 1, "description": "a Splunk index"},
        "host": {"type": "string", "minLength": 1, "description": "the Splunk host field"},
        "ack": {"type": "boolean", "default": False,
                "description": "true to wait for indexer acknowledgement"},
        "channel": {"type": "string", "format": "uuid",
                    "description": "the request channel GUID (default: a new one per process)"},
        "ack_timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600, "default": 60,
                        "description": "seconds to wait for an acknowledgement"},
        "ack_poll_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                             "default": 1, "description": "seconds between ack polls"},
        **HTTP_OPTIONS,
    },
}  # fmt: skip
DEFAULTS = {k: p["default"] for k, p in SCHEMA["properties"].items() if "default" in p}
METADATA = ("sourcetype", "source", "index", "host")


def hec_event(delivery: Delivery, metadata: Mapping[str, str]) -> dict[str, Any]:
    """One HEC event: time (epoch seconds of ``updatedAt``), metadata, the GuardDuty event."""
    updated = datetime.fromisoformat(str(delivery.finding["updatedAt"]).replace("Z", "+00:00"))
    return {"time": updated.timestamp(), **metadata, "event": guardduty_event(delivery)}


def body(batch: Sequence[Delivery], metadata: Mapping[str, str]) -> bytes:
    """A batch as newline-separated HEC events."""
    return b"\n".join(orjson.dumps(hec_event(d, metadata)) for d in batch)


class SplunkHecDestination:
    """Sends batches to a Splunk HTTP Event Collector."""

    def __init__(
        self,
        name: str,
        url: str,
        token: str,
        transport: Transport,
        *,
        metadata: Mapping[str, str],
        ack: bool = False,
        channel: str | None = None,
        ack_timeout: float = 60.0,
        ack_poll_seconds: float = 1.0,
        max_batch: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.base = url.rstrip("/")
        self.transport = transport
        self.metadata = dict(metadata)
        self.ack = ack
        self.headers = {"Authorization": f"Splunk {token}", "Content-Type": "application/json"}
        if ack or channel:
            self.headers["X-Splunk-Request-Channel"] = channel or str(uuid.uuid4())
        self.ack_timeout = ack_timeout
        self.ack_poll_seconds = ack_poll_seconds
        self.max_batch = max_batch
        self.sleep = sleep

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """Send the batch (and wait for its acknowledgement when ``ack`` is on)."""
        url = self.base + EVENT_PATH
        response = self.transport.post(url, body(batch, self.metadata), self.headers)
        check(response, url)
        if self.ack:
            self._await_ack(_ack_id(response.body, url))

    def _await_ack(self, ack_id: int) -> None:
        url = self.base + ACK_PATH
        request = orjson.dumps({"acks": [ack_id]})
        deadline = time.monotonic() + self.ack_timeout
        while True:
            response = self.transport.post(url, request, self.headers)
            check(response, url)
            if orjson.loads(response.body).get("acks", {}).get(str(ack_id)):
                return
            if time.monotonic() >= deadline:
                raise DeliveryError(
                    f"{url}: ackId {ack_id} not acknowledged in {self.ack_timeout}s"
                )
            self.sleep(self.ack_poll_seconds)


def _ack_id(answer: bytes, url: str) -> int:
    try:
        return int(orjson.loads(answer)["ackId"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryError(
            f"{url}: no ackId in the answer (is ack enabled on the token?)"
        ) from exc


def build(name: str, options: Mapping[str, Any]) -> SplunkHecDestination:
    """A Splunk HEC destination from its options."""
    opts = {**DEFAULTS, **options}
    transport = pool_transport(opts)
    return SplunkHecDestination(
        name,
        opts["url"],
        opts["token"],
        transport,
        metadata={k: opts[k] for k in METADATA if k in opts},
        ack=opts["ack"],
        channel=opts.get("channel"),
        ack_timeout=opts["ack_timeout"],
        ack_poll_seconds=opts["ack_poll_seconds"],
        max_batch=opts["max_batch"],
    )


DESTINATION_TYPES.add(
    "splunk-hec",
    DestinationType(
        "splunk-hec", "Splunk HTTP Event Collector (token, batching, acks)", SCHEMA, build
    ),
)
