"""Severity labels and the API-model filter buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.findings import severity
from exporter.findings.severity import Label


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, Label.LOW),
        (3.9, Label.LOW),
        (4.0, Label.MEDIUM),
        (6.9, Label.MEDIUM),
        (7.0, Label.HIGH),
        (8.9, Label.HIGH),
        (9.0, Label.CRITICAL),
        (10.0, Label.CRITICAL),
    ],
)
def test_label_bands(value: float, expected: Label) -> None:
    assert severity.label(value) is expected


@pytest.mark.parametrize("value", [0.0, 0.99, 10.01, -1.0, 11.0])
def test_out_of_range_is_rejected(value: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        severity.label(value)


def test_api_filter_buckets_match_the_api_model() -> None:
    values = {band.label: band.api_values for band in severity.BANDS}
    assert values == {
        Label.LOW: ("1", "2", "3"),
        Label.MEDIUM: ("4", "5", "6"),
        Label.HIGH: ("7", "8"),
        Label.CRITICAL: ("9", "10"),
    }


def test_defaults_are_the_real_finding_severities() -> None:
    assert (severity.LOW, severity.MEDIUM, severity.HIGH, severity.CRITICAL) == (2, 5, 8, 9)


@given(st.floats(min_value=1.0, max_value=10.0))
def test_bucket_belongs_to_the_label(value: float) -> None:
    band = severity.band(value)
    assert severity.api_bucket(value) in band.api_values
    assert band.lower <= value < band.upper


@pytest.mark.parametrize(
    ("text", "expected"), [("high", Label.HIGH), (" Critical ", Label.CRITICAL)]
)
def test_parse_label(text: str, expected: Label) -> None:
    assert severity.parse_label(text) is expected


def test_parse_label_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown severity label"):
        severity.parse_label("severe")
