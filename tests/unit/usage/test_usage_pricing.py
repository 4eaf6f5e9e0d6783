"""Tier math of the GuardDuty-equivalent cost, and the monthly share per row."""

from __future__ import annotations

import pytest

from exporter.usage import UsageRow, estimate, load_pools, summarize, tiered_cost, total
from exporter.usage.pricing import Tier

POOLS = {pool.name: pool for pool in load_pools()}
S3 = POOLS["S3 data events"].tiers
FLOW_DNS = POOLS["VPC flow and DNS logs"].tiers
GB = 1024**3


def test_prices_table_has_the_published_prices() -> None:
    assert POOLS["CloudTrail management events"].tiers == (Tier(None, 4.0),)
    assert [t.price for t in S3] == [0.8, 0.4, 0.2]
    assert [t.up_to for t in S3] == [500, 5000, None]
    assert [t.price for t in FLOW_DNS] == [1.0, 0.5, 0.25, 0.15]
    assert [t.up_to for t in FLOW_DNS] == [500, 2500, 10000, None]


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (0, 0.0),
        (100, 80.0),
        (500, 400.0),
        (600, 400.0 + 40.0),
        (5000, 400.0 + 4500 * 0.4),
        (6000, 400.0 + 1800.0 + 1000 * 0.2),
    ],
)
def test_s3_data_event_tiers(units: float, expected: float) -> None:
    assert tiered_cost(units, S3) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("gb", "expected"),
    [
        (1, 1.0),
        (500, 500.0),
        (2500, 500.0 + 1000.0),
        (3000, 1500.0 + 125.0),
        (10000, 1500.0 + 1875.0),
        (12000, 3375.0 + 300.0),
    ],
)
def test_flow_and_dns_tiers(gb: float, expected: float) -> None:
    assert tiered_cost(gb, FLOW_DNS) == pytest.approx(expected)


def test_cloudtrail_is_flat() -> None:
    assert tiered_cost(2.5, POOLS["CloudTrail management events"].tiers) == pytest.approx(10.0)


def test_flow_and_dns_share_one_monthly_pool_per_account() -> None:
    rows = [
        UsageRow("111122223333", "FLOW_LOGS", "2025-03-01", 10, 400 * GB),
        UsageRow("111122223333", "DNS_LOGS", "2025-03-02", 10, 200 * GB),
        UsageRow("444455556666", "FLOW_LOGS", "2025-03-01", 10, 200 * GB),
        UsageRow("111122223333", "FLOW_LOGS", "2025-04-01", 10, 100 * GB),
    ]
    priced = estimate(rows, load_pools())
    # 600 GB in March: 500 at $1 + 100 at $0.50 = $550, shared 2:1
    assert priced[0].cost == pytest.approx(550 * 2 / 3)
    assert priced[1].cost == pytest.approx(550 / 3)
    assert priced[2].cost == pytest.approx(200.0)
    assert priced[3].cost == pytest.approx(100.0)


def test_unpriced_sources_keep_no_cost_and_sums_skip_them() -> None:
    rows = estimate(
        [
            UsageRow("111122223333", "KUBERNETES_AUDIT_LOGS", "2025-03-01", 5, findings=1),
            UsageRow("111122223333", "CLOUD_TRAIL", "2025-03-01", 1_000_000, findings=2),
        ],
        load_pools(),
    )
    assert rows[0].cost is None
    assert total(rows) == {
        "key": "total", "events": 1_000_005, "bytes": None, "findings": 3, "cost": 4.0
    }  # fmt: skip
    assert [s["key"] for s in summarize(rows, "source")] == ["CLOUD_TRAIL", "KUBERNETES_AUDIT_LOGS"]
