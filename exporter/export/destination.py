"""What a destination is: a pure formatter plus an injectable transport, found by a registry.

A destination type registers a :class:`DestinationType` in :data:`DESTINATION_TYPES` (one
module per type under :mod:`exporter.export.destinations`). Configured destinations
(``export.destinations.<name>`` in ``duskwatch.yaml``) name a type and give its options, which
the type's JSON Schema validates; :meth:`DestinationType.build` then returns a
:class:`Destination` whose :meth:`~Destination.deliver` sends one batch.

Formatting (finding JSON -> the destination's payload) is pure and unit-tested; the transport
(boto3 client, socket, HTTP session) is passed in, so tests point it at moto, rsyslog or a
local HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from exporter.registry import Registry


@dataclass(frozen=True)
class Delivery:
    """One version of one finding to deliver.

    ``event_id`` is stable per (finding id, ``updatedAt``): a retry of the same version carries
    the same id, so receivers deduplicate; a later version has a new one. ``finding`` is
    GuardDuty's finding JSON (no Duskwatch bookkeeping keys).
    """

    event_id: str
    finding: Mapping[str, Any]


class DeliveryError(Exception):
    """A batch was not (completely) delivered.

    ``retryable`` False means retrying cannot help (bad credentials, payload rejected):
    the outbox parks such deliveries at once. ``failed`` names the event ids that failed
    when the destination reports per item (None: the whole batch).
    """

    def __init__(
        self, message: str, *, retryable: bool = True, failed: Sequence[str] | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.failed = list(failed) if failed is not None else None


class Destination(Protocol):
    """A configured destination, ready to deliver."""

    name: str
    max_batch: int

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """Deliver every finding of ``batch`` or raise :class:`DeliveryError`."""
        ...


@dataclass(frozen=True)
class DestinationType:
    """A kind of destination: its options' JSON Schema and how to build one from them."""

    name: str
    description: str
    options_schema: Mapping[str, Any]
    build: Callable[[str, Mapping[str, Any]], Destination]


DESTINATION_TYPES: Registry[DestinationType] = Registry("destination type")
"""Every destination type, by name (``eventbridge``, ``securityhub``, ``s3``, ``sns``,
``syslog``, ``splunk-hec``, ``webhook``, ``file``)."""
