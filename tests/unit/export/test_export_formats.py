"""Pure payloads of the file, webhook and Splunk HEC destinations; HTTP status judgement."""

from __future__ import annotations

import hashlib
import hmac

import orjson
import pytest

from exporter.export.destination import Delivery
from exporter.export.destinations import file, splunk_hec, webhook
from exporter.export.http import retryable

FINDING = {
    "id": "7e4c1a9b2d3f48a6b5c0e1f2a3b4c5d6",
    "accountId": "111122223333",
    "region": "eu-west-1",
    "type": "UnauthorizedAccess:EC2/SSHBruteForce",
    "updatedAt": "2025-03-02T17:18:51.930Z",
    "arn": "arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/7e4c",
}
DELIVERY = Delivery(f"{FINDING['id']}:{FINDING['updatedAt']}", FINDING)


def test_file_lines_wrap_each_finding_with_its_event_id() -> None:
    data = file.lines([DELIVERY, DELIVERY])
    assert data.endswith(b"\n")
    lines = [orjson.loads(line) for line in data.splitlines()]
    assert lines == [{"eventId": DELIVERY.event_id, "finding": FINDING}] * 2


def test_webhook_body_and_signature() -> None:
    body = webhook.body([DELIVERY])
    assert orjson.loads(body) == {"events": [{"eventId": DELIVERY.event_id, "finding": FINDING}]}
    headers = webhook.request_headers(body, {"X-Team": "secops"}, "k3y", "X-Sig")
    digest = hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert headers == {
        "Content-Type": "application/json", "X-Team": "secops", "X-Sig": f"sha256={digest}"
    }  # fmt: skip
    assert "X-Sig" not in webhook.request_headers(body, {}, None, "X-Sig")


def test_hec_event_is_guardduty_event_with_metadata() -> None:
    metadata = {"sourcetype": "aws:cloudwatch:guardduty", "source": "duskwatch", "index": "sec"}
    event = splunk_hec.hec_event(DELIVERY, metadata)
    assert event["time"] == pytest.approx(1740935931.93)
    assert {k: event[k] for k in metadata} == metadata
    assert event["event"] == {
        "version": "0", "id": DELIVERY.event_id, "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty", "account": "111122223333", "time": "2025-03-02T17:18:51Z",
        "region": "eu-west-1", "resources": [FINDING["arn"]], "detail": FINDING,
    }  # fmt: skip
    assert splunk_hec.body([DELIVERY, DELIVERY], metadata).count(b"\n") == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, True), (502, True), (503, True), (429, True), (408, True),
     (400, False), (401, False), (403, False), (404, False), (413, False), (301, False)],
)  # fmt: skip
def test_retryable_statuses(status: int, expected: bool) -> None:
    assert retryable(status) is expected
