"""GuardDuty's tiered prices (``prices.json``) and the pure cost estimate of usage rows.

Tiers apply to one account's volume in one calendar month; a month's cost is shared among
that month's rows (days, sources) in proportion to their volume.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from exporter.usage.model import UsageRow

PRICES_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class Tier:
    """Units up to ``up_to`` (None: unbounded) cost ``price`` USD each."""

    up_to: float | None
    price: float


@dataclass(frozen=True)
class Pool:
    """Data sources billed together: what is measured, its unit and the tiers."""

    name: str
    sources: tuple[str, ...]
    measure: str
    unit: str
    unit_size: float
    tiers: tuple[Tier, ...]

    def units(self, row: UsageRow) -> float:
        """The row's volume in this pool's unit (bytes unknown count as 0)."""
        amount = row.events if self.measure == "events" else (row.bytes or 0)
        return amount / self.unit_size


def load_pools(path: Path = PRICES_FILE) -> tuple[Pool, ...]:
    """The pricing pools of ``prices.json``."""
    data = json.loads(path.read_text())
    return tuple(
        Pool(
            p["name"],
            tuple(p["sources"]),
            p["measure"],
            p["unit"],
            float(p["unit_size"]),
            tuple(Tier(t["up_to"], float(t["price"])) for t in p["tiers"]),
        )
        for p in data["pools"]
    )


def tiered_cost(units: float, tiers: Sequence[Tier]) -> float:
    """The cost of ``units`` in one month: each tier's price applies to the units inside it."""
    cost, lower = 0.0, 0.0
    for tier in tiers:
        upper = units if tier.up_to is None else min(units, tier.up_to)
        cost += max(0.0, upper - lower) * tier.price
        if tier.up_to is None or units <= tier.up_to:
            break
        lower = tier.up_to
    return cost


def estimate(rows: Sequence[UsageRow], pools: Sequence[Pool]) -> list[UsageRow]:
    """``rows`` with their ``cost``: the month's tiered cost shared by volume; unpriced
    sources keep None."""
    pool_of = {source: pool for pool in pools for source in pool.sources}
    volume: dict[tuple[str, str, str], float] = defaultdict(float)
    for row in rows:
        if row.source in pool_of:
            volume[_month_key(row, pool_of[row.source])] += pool_of[row.source].units(row)
    priced = []
    for row in rows:
        pool = pool_of.get(row.source)
        if pool is None:
            priced.append(row)
            continue
        total = volume[_month_key(row, pool)]
        share = pool.units(row) / total if total else 0.0
        priced.append(replace(row, cost=tiered_cost(total, pool.tiers) * share))
    return priced


def _month_key(row: UsageRow, pool: Pool) -> tuple[str, str, str]:
    return row.account, pool.name, row.day[:7]
