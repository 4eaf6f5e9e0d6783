"""GuardDuty severity: a double from 1.0 to 10.0, its label and the API-model filter buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

MIN_SEVERITY = 1.0
MAX_SEVERITY = 10.0


class Label(StrEnum):
    """A severity label, as GuardDuty's console and Security Hub name it."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"


@dataclass(frozen=True)
class Band:
    """The severities ``lower <= s < upper`` share one label (Critical includes 10.0)."""

    label: Label
    lower: float
    upper: float
    default: float

    @property
    def api_values(self) -> tuple[str, ...]:
        """The integer strings GuardDuty's API model suggests for filtering this band."""
        return tuple(str(n) for n in range(int(self.lower), math.ceil(self.upper)))


BANDS: tuple[Band, ...] = (
    Band(Label.LOW, 1.0, 4.0, 2.0),
    Band(Label.MEDIUM, 4.0, 7.0, 5.0),
    Band(Label.HIGH, 7.0, 9.0, 8.0),
    Band(Label.CRITICAL, 9.0, 11.0, 9.0),
)
"""Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0; ``default`` is what real
findings of the band carry (2, 5, 8; attack sequences 9)."""

LOW, MEDIUM, HIGH, CRITICAL = (band.default for band in BANDS)


def band(severity: float) -> Band:
    """The band of ``severity``; ValueError outside 1.0-10.0."""
    if not MIN_SEVERITY <= severity <= MAX_SEVERITY:
        raise ValueError(f"severity {severity!r} is outside {MIN_SEVERITY}-{MAX_SEVERITY}")
    return next(b for b in BANDS if b.lower <= severity < b.upper)


def label(severity: float) -> Label:
    """``Low``, ``Medium``, ``High`` or ``Critical``."""
    return band(severity).label


def api_bucket(severity: float) -> str:
    """The API-model bucket of ``severity``: its integer part as a string (3.9 -> ``"3"``)."""
    band(severity)
    return str(math.floor(severity))


def parse_label(text: str) -> Label:
    """A label from any capitalization (``high`` -> HIGH); ValueError when unknown."""
    for known in Label:
        if known.value.lower() == text.strip().lower():
            return known
    raise ValueError(f"unknown severity label {text!r} (expected Low, Medium, High or Critical)")
