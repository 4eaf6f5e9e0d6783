"""What every log parser takes and gives back.

A parser is pure: bytes in, a stream of :class:`Record` (one source record, with where it
came from) or :class:`DeadLetter` (what could not be read, why, and where) out. It never
raises for bad input: a corrupt payload becomes a single dead letter, a bad line becomes one
dead letter and the rest of the payload is still read.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from exporter.errors import ParseError

SNIPPET_LIMIT = 2048
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits in its origin (a file path or an ``s3://`` URL)."""

    origin: str
    line: int | None = None
    offset: int | None = None
    index: int | None = None

    def describe(self) -> str:
        """``origin:line`` (or ``@offset`` / ``#index``) for messages."""
        parts = [self.origin]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.index is not None:
            parts.append(f"record {self.index}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Record:
    """One source record as the source wrote it, parsed into a mapping."""

    fields: Mapping[str, Any]
    position: Position
    original: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record (or whole payload) that could not be read or normalized."""

    reason: str
    position: Position
    snippet: str

    @classmethod
    def of(cls, reason: str, position: Position, raw: bytes | str) -> DeadLetter:
        """A dead letter with a bounded snippet of the raw input."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return cls(reason=reason, position=position, snippet=text[:SNIPPET_LIMIT])


ParseResult = Record | DeadLetter


class LogParser(Protocol):
    """A log type's reader. Registered in :data:`exporter.parsers.PARSERS`."""

    name: str

    def sniff(self, head: bytes) -> bool:
        """True when the (decompressed) first bytes look like this log type."""
        ...

    def parse(self, data: bytes, origin: str) -> Iterator[ParseResult]:
        """Every record of a (decompressed) payload, or dead letters for what is unreadable."""
        ...


def decompress(data: bytes, origin: str) -> bytes:
    """The payload with gzip removed when it is gzipped; a corrupt gzip raises ParseError."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"{origin}: corrupt gzip ({exc})") from exc


def iter_lines(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(1-based line number, byte offset, line without its newline) for non-blank lines."""
    offset = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        stripped = line.rstrip(b"\r")
        if stripped.strip():
            yield number, offset, stripped
        offset += len(line) + 1
