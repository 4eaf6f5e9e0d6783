"""Deterministic document ids and index names: the same record always lands in the same place.

A record with its own identity (CloudTrail ``eventID``) keeps it. Otherwise the id hashes the
record's text, its origin key and how many identical records came before it in that origin,
so a re-ingest (or a copy of the same object from S3) is recognised as a duplicate while two
identical lines in one file stay two documents. Events go to one index per event day, so an
id is unique where it is written.
"""

from __future__ import annotations

import hashlib

ORIGIN_ANCHORS = ("AWSLogs/", "eks-audit/")


def origin_key(origin: str) -> str:
    """The stable part of an origin: from ``AWSLogs/`` on (S3 layout), else the file name."""
    for anchor in ORIGIN_ANCHORS:
        at = origin.find(anchor)
        if at >= 0:
            return origin[at:]
    return origin.rsplit("/", 1)[-1]


def document_id(
    log_type: str, identity: str | None, original: str, origin: str, occurrence: int
) -> str:
    """The ``_id`` of a normalized record."""
    if identity:
        return f"{log_type}:{identity}" if len(identity) < 400 else _digest(log_type, identity)
    return _digest(log_type, origin_key(origin), str(occurrence), original)


def event_index(prefix: str, timestamp: str) -> str:
    """``<prefix>-YYYY.MM.DD`` for an RFC 3339 ``@timestamp``."""
    return f"{prefix}-{timestamp[:4]}.{timestamp[5:7]}.{timestamp[8:10]}"


def _digest(*parts: str) -> str:
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x00")
    return hasher.hexdigest()
