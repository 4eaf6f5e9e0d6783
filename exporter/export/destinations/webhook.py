"""``webhook``: POST a batch of findings as JSON to any HTTP endpoint, signed with HMAC.

The body is ``{"events": [{"eventId": ..., "finding": {...}}, ...]}``. With a ``secret``,
the signature header (default ``X-Duskwatch-Signature``) carries
``sha256=<hex HMAC-SHA256 of the body>``, so the receiver can verify the sender; ``headers``
are added to every request. 5xx, 408, 425, 429 and connection errors are retried; any other
4xx is permanent (the batch is parked).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from exporter.export.destination import DESTINATION_TYPES, Delivery, DestinationType
from exporter.export.formats import envelope
from exporter.export.http import HTTP_OPTIONS, Transport, check, pool_transport, url_option

SIGNATURE_HEADER = "X-Duskwatch-Signature"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["url"],
    "properties": {
        "url": url_option("an http(s) URL"),
        "secret": {"type": "string", "minLength": 1,
                   "description": "the HMAC-SHA256 key of the signature header"},
        "signature_header": {"type": "string", "minLength": 1, "default": SIGNATURE_HEADER,
                             "description": "an HTTP header name"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}, "default": {},
                    "description": "a mapping of header names to string values"},
        **HTTP_OPTIONS,
    },
}  # fmt: skip
DEFAULTS = {k: p["default"] for k, p in SCHEMA["properties"].items() if "default" in p}


def body(batch: Sequence[Delivery]) -> bytes:
    """The JSON body of one batch."""
    return orjson.dumps({"events": [envelope(d) for d in batch]})


def signature(secret: str, payload: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``payload`` under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def request_headers(
    payload: bytes, extra: Mapping[str, str], secret: str | None, header: str
) -> dict[str, str]:
    """Headers of a request: content type, the configured ones, and the signature."""
    headers = {"Content-Type": "application/json", **extra}
    if secret:
        headers[header] = signature(secret, payload)
    return headers


class WebhookDestination:
    """POSTs batches to ``url``."""

    def __init__(
        self,
        name: str,
        url: str,
        transport: Transport,
        *,
        secret: str | None = None,
        signature_header: str = SIGNATURE_HEADER,
        headers: Mapping[str, str] | None = None,
        max_batch: int = 100,
    ) -> None:
        self.name = name
        self.url = url
        self.transport = transport
        self.secret = secret
        self.signature_header = signature_header
        self.headers = dict(headers or {})
        self.max_batch = max_batch

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """POST the batch; DeliveryError unless the answer is 2xx."""
        payload = body(batch)
        headers = request_headers(payload, self.headers, self.secret, self.signature_header)
        check(self.transport.post(self.url, payload, headers), self.url)


def build(name: str, options: Mapping[str, Any]) -> WebhookDestination:
    """A webhook destination from its options."""
    opts = {**DEFAULTS, **options}
    transport = pool_transport(opts)
    return WebhookDestination(
        name,
        opts["url"],
        transport,
        secret=opts.get("secret"),
        signature_header=opts["signature_header"],
        headers=opts["headers"],
        max_batch=opts["max_batch"],
    )


DESTINATION_TYPES.add(
    "webhook",
    DestinationType("webhook", "JSON POST with an HMAC-SHA256 signature header", SCHEMA, build),
)
