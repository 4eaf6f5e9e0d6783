"""The HTTP transport of the webhook and Splunk HEC destinations (urllib3, already a
dependency of opensearch-py and botocore), and how a response status is judged.

A transport is a plain object with :meth:`Transport.post`; destinations take one in their
constructor, so tests can point them at a local server or substitute their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

from exporter.export.destination import DeliveryError

RETRYABLE_STATUS = frozenset({408, 425, 429})
"""Client errors worth retrying (besides every 5xx): timeout, too early, too many requests."""
SNIPPET = 200
HTTP_OPTIONS: dict[str, Any] = {
    "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 300, "default": 10,
                "description": "seconds, at most 300"},
    "max_batch": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100,
                  "description": "an integer from 1 to 10000"},
    "verify_tls": {"type": "boolean", "default": True, "description": "true or false"},
    "ca_file": {"type": "string", "description": "a CA bundle file"},
}  # fmt: skip
"""The JSON Schema properties every HTTP destination takes, beside its ``url``."""


def url_option(description: str) -> dict[str, Any]:
    """The JSON Schema of an http(s) ``url`` option."""
    return {"type": "string", "pattern": "^https?://", "description": description}


@dataclass(frozen=True)
class Response:
    """What the server answered."""

    status: int
    body: bytes


class Transport(Protocol):
    """Sends one HTTP POST."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body``; a connection failure raises a retryable DeliveryError."""
        ...


class PoolTransport:
    """A pooled urllib3 transport: no automatic retries or redirects (the outbox retries)."""

    def __init__(
        self, *, timeout: float, verify_tls: bool = True, ca_file: str | None = None
    ) -> None:
        self.pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED" if verify_tls else "CERT_NONE",
            ca_certs=ca_file,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body`` to ``url``."""
        try:
            response = self.pool.request(
                "POST", url, body=body, headers=dict(headers), redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryError(f"POST {url}: {exc}", retryable=True) from exc
        return Response(response.status, response.data)


def pool_transport(options: Mapping[str, Any]) -> PoolTransport:
    """The transport of a destination's (defaulted) :data:`HTTP_OPTIONS`."""
    return PoolTransport(
        timeout=options["timeout"],
        verify_tls=options["verify_tls"],
        ca_file=options.get("ca_file"),
    )


def retryable(status: int) -> bool:
    """Whether a failed status may succeed later: 5xx, 408, 425, 429."""
    return status >= 500 or status in RETRYABLE_STATUS


def check(response: Response, url: str) -> None:
    """Raise a DeliveryError unless the status is 2xx."""
    if 200 <= response.status < 300:
        return
    text = response.body[:SNIPPET].decode("utf-8", "replace")
    raise DeliveryError(
        f"POST {url}: HTTP {response.status} {text}".rstrip(),
        retryable=retryable(response.status),
    )
