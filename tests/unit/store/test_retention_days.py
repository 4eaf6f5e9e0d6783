"""Which per-day event indices retention expires: by the day in their name."""

from __future__ import annotations

from datetime import date

from exporter.store.retention import expired_indices, index_day

TODAY = date(2025, 6, 30)


def test_index_day_reads_the_event_day() -> None:
    assert index_day("duskwatch-events-vpcflow-2025.06.01") == date(2025, 6, 1)
    assert index_day("duskwatch-events-eks-audit-2024.12.31") == date(2024, 12, 31)
    assert index_day("duskwatch-events-vpcflow") is None
    assert index_day("duskwatch-findings") is None
    assert index_day("duskwatch-events-vpcflow-2025.02.30") is None


def test_days_older_than_the_kept_range_expire() -> None:
    names = [
        "duskwatch-events-cloudtrail-2025.03.31",
        "duskwatch-events-cloudtrail-2025.04.01",
        "duskwatch-events-route53-2025.01.15",
        "duskwatch-events-route53-2025.06.30",
        "duskwatch-state",
    ]
    assert expired_indices(names, TODAY, 90) == [
        "duskwatch-events-cloudtrail-2025.03.31",
        "duskwatch-events-route53-2025.01.15",
    ]


def test_zero_keeps_forever() -> None:
    assert expired_indices(["duskwatch-events-vpcflow-1999.01.01"], TODAY, 0) == []
