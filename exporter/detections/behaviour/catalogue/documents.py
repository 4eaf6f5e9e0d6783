"""ECS documents for embedded cases, built from raw records by the real parsers/normalizers."""

from __future__ import annotations

from collections.abc import Iterable

from exporter.detections.behaviour.model import Document
from exporter.logtypes import LOG_TYPES
from exporter.parsers.base import DeadLetter


def from_raw(log_type: str, payload: str, origin: str) -> list[Document]:
    """Every record of ``payload`` (raw ``log_type`` text as AWS writes it at ``origin``),
    normalized; a record that does not parse is a programming error (ValueError)."""
    kind = LOG_TYPES.get(log_type)
    documents: list[Document] = []
    for result in kind.parser.parse(payload.encode(), origin):
        if isinstance(result, DeadLetter):
            raise ValueError(f"case record of {log_type} does not parse: {result.reason}")
        documents.append(kind.normalize(result))
    return documents


def lines(records: Iterable[str], header: str = "") -> str:
    """``records`` as one newline-terminated payload, after ``header`` when given."""
    body = "".join(f"{record}\n" for record in records)
    return f"{header}\n{body}" if header else body
