"""S3 data-event volume detectors: pure baseline/evaluate logic on canned aggregation results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from exporter.detections.behaviour.catalogue import s3
from exporter.detections.behaviour.model import DETECTORS, Window

START = datetime(2026, 1, 14, 12, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=1))
ARN = "arn:aws:s3:::acme-app-data"
EVENT = {
    "@timestamp": "2026-01-14T12:30:00.000Z",
    "user": {"id": "AIDADEV", "name": "dev"},
    "aws": {"cloudtrail": {"request_parameters": {"bucketName": "acme-app-data"}}},
}


def ms(moment: datetime) -> dict[str, float]:
    return {"value": moment.timestamp() * 1000}


def window(count: int) -> dict[str, Any]:
    target = {
        "key": ARN,
        "doc_count": count,
        "actions": {"buckets": [{"key": "GetObject", "doc_count": count}]},
        "sample": {"hits": {"hits": [{"_source": EVENT}]}},
        "first_seen": ms(START),
        "last_seen": ms(START + timedelta(minutes=25)),
    }
    principal = {"key": "AIDADEV", "doc_count": count, "buckets": {"buckets": [target]}}
    return {"principals": {"buckets": [principal]}}


def history(since: datetime, peak: int | None) -> dict[str, Any]:
    targets = [] if peak is None else [{"key": ARN, "doc_count": peak, "peak": {"value": peak}}]
    principal = {
        "key": "AIDADEV",
        "doc_count": 50,
        "since": ms(since),
        "calls": {"doc_count": 10, "buckets": {"buckets": targets}},
    }
    return {"principals": {"buckets": [principal]}}


def reads(count: int, past: dict[str, Any]) -> list[str]:
    detector = DETECTORS.get("s3-anomalous-reads")
    return [
        hit.spec.type for hit in detector.evaluate(window(count), past, WINDOW, detector.params)
    ]


def test_bucket_name_and_peak() -> None:
    assert s3.bucket_name(ARN) == "acme-app-data"
    assert s3.peak(history(START, 7)["principals"]["buckets"][0], ARN) == 7
    assert s3.peak(history(START, None)["principals"]["buckets"][0], ARN) == 0


def test_reads_far_above_the_peak() -> None:
    old = START - timedelta(days=6)
    assert reads(1500, history(old, 4)) == ["Exfiltration:S3/AnomalousBehavior"]
    assert reads(1500, history(old, None)) == ["Exfiltration:S3/AnomalousBehavior"]


def test_usual_volume_floor_and_learning_are_silent() -> None:
    old = START - timedelta(days=6)
    assert reads(1500, history(old, 200)) == []
    assert reads(299, history(old, 0)) == []
    assert reads(1500, history(START - timedelta(days=1), 4)) == []
    assert reads(1500, {}) == []


def test_hit_is_keyed_by_principal_with_evidence() -> None:
    detector = DETECTORS.get("s3-anomalous-deletes")
    [hit] = detector.evaluate(
        window(400), history(START - timedelta(days=6), 6), WINDOW, detector.params
    )
    assert hit.spec.key == ("AIDADEV",)
    assert hit.spec.additional_info["baselineHourlyPeak"] == 6
    assert hit.spec.severity == 8.0


def test_baseline_asks_only_for_candidates() -> None:
    detector = DETECTORS.get("s3-anomalous-writes")
    assert detector.baseline is not None
    assert detector.baseline({"principals": {"buckets": []}}, detector.params) is None
    wanted = detector.baseline(window(300), detector.params)
    assert wanted is not None
    body = wanted.aggs["principals"].to_dict()
    assert body["terms"]["include"] == ["AIDADEV"]
    assert body["aggs"]["calls"]["aggs"]["buckets"]["terms"]["include"] == [ARN]
