"""S3: key layout, grouping per (account, region, day), stable names, gzip JSON Lines."""

from __future__ import annotations

import gzip
import re
from typing import Any

import orjson

from exporter.export.destination import Delivery
from exporter.export.destinations.s3 import jsonl_gz, object_key, objects, prefix_of

KEY = re.compile(
    r"^exports/AWSLogs/(\d{12})/GuardDuty/([a-z0-9-]+)/(\d{4})/(\d\d)/(\d\d)/[0-9a-f]{32}\.jsonl\.gz$"
)


def finding(
    n: int, account: str = "111122223333", region: str = "eu-west-1", day: str = "2025-03-02"
) -> dict[str, Any]:
    return {
        "id": f"{n:032x}",
        "accountId": account,
        "region": region,
        "updatedAt": f"{day}T11:00:00.000Z",
    }


def test_prefix_gets_a_slash() -> None:
    assert prefix_of("") == ""
    assert prefix_of("exports") == "exports/"
    assert prefix_of("exports/") == "exports/"


def test_key_layout_and_stable_name() -> None:
    key = object_key("exports", ("111122223333", "eu-west-1", "2025/03/02"), ["b", "a"])
    match = KEY.match(key)
    assert match is not None
    assert match.groups() == ("111122223333", "eu-west-1", "2025", "03", "02")
    assert key == object_key("exports/", ("111122223333", "eu-west-1", "2025/03/02"), ["a", "b"])
    assert key != object_key("exports", ("111122223333", "eu-west-1", "2025/03/02"), ["a", "c"])


def test_one_object_per_account_region_day() -> None:
    batch = [
        Delivery("e1", finding(1)),
        Delivery("e2", finding(2)),
        Delivery("e3", finding(3, account="444455556666")),
        Delivery("e4", finding(4, region="us-east-1")),
        Delivery("e5", finding(5, day="2025-03-03")),
    ]
    grouped = objects("exports", batch)
    assert len(grouped) == 4
    sizes = sorted(len(members) for members in grouped.values())
    assert sizes == [1, 1, 1, 2]
    assert all(KEY.match(key) for key in grouped)
    assert any("/2025/03/03/" in key for key in grouped)


def test_body_is_gzip_json_lines_and_deterministic() -> None:
    findings = [finding(1), finding(2)]
    body = jsonl_gz(findings)
    assert body == jsonl_gz(findings)
    lines = gzip.decompress(body).decode().splitlines()
    assert [orjson.loads(line) for line in lines] == findings
