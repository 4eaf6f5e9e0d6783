"""Seeded randomness, AWS-style identifiers and fast timestamp formatting.

Every stream draws from its own :class:`random.Random`, seeded from the simulation seed and the
stream's identity (:func:`derive_rng`), so streams are independent of generation order. Values
that several streams must agree on (an instance's session key, a nightly backup plan) come from
:func:`stable_int`, a pure hash that consumes no RNG state.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar

ALNUM = string.ascii_letters + string.digits
BASE32 = string.ascii_uppercase + "234567"
T = TypeVar("T")
DAY = 86_400
HOUR = 3_600


def stable_int(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts`` (stable across runs and platforms)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def derive_rng(*parts: object) -> random.Random:
    """An independent RNG for one stream, seeded from ``parts`` (seed first by convention)."""
    return random.Random(stable_int(*parts))


@lru_cache(maxsize=65536)
def stable_key(prefix: str, length: int, *parts: object) -> str:
    """An AWS-style id (``AKIA…``, ``AROA…``): ``prefix`` plus ``length`` (<= 32) base32 chars."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return prefix + "".join(BASE32[byte % 32] for byte in digest[:length])


def hex_id(rng: random.Random, length: int) -> str:
    """``length`` lowercase hex digits."""
    return f"{rng.getrandbits(4 * length):0{length}x}"


def between(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer in [low, high] (a faster ``randint``)."""
    return low + int(rng.random() * (high - low + 1))


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """A uniformly chosen item of a non-empty sequence (a faster ``choice``)."""
    return items[int(rng.random() * len(items))]


def alnum(rng: random.Random, length: int) -> str:
    """``length`` mixed-case letters and digits (CloudTrail file-name suffixes)."""
    return "".join(rng.choices(ALNUM, k=length))


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    value = rng.getrandbits(128)
    value = (value & ~(0xF000 << 64)) | (0x4000 << 64)
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def stable_uuid(*parts: object) -> str:
    """A version-4 UUID string that depends only on ``parts``."""
    return uuid4(random.Random(stable_int(*parts)))


def counted(rng: random.Random, expected: float) -> int:
    """An integer count whose mean is ``expected`` (stochastic rounding: stable volumes)."""
    whole = int(expected)
    return whole + (rng.random() < expected - whole)


@lru_cache(maxsize=8192)
def day_text(day: int) -> str:
    """``YYYY-MM-DD`` of the UTC day number ``day`` (days since the epoch)."""
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")


def iso_seconds(ts: float) -> str:
    """``2025-03-02T11:04:17Z`` (CloudTrail, Route 53 Resolver)."""
    day, sec = divmod(int(ts), DAY)
    return f"{day_text(day)}T{sec // HOUR:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"


def iso_micros(ts: float) -> str:
    """``2025-03-02T11:20:05.101234Z`` (Kubernetes audit)."""
    seconds, micros = divmod(round(ts * 1_000_000), 1_000_000)
    day, sec = divmod(seconds, DAY)
    hms = f"{sec // HOUR:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
    return f"{day_text(day)}T{hms}.{micros:06d}Z"


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 UTC timestamp written by this package."""
    return datetime.fromisoformat(text).timestamp()
