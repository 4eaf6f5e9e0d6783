"""AWS destinations against moto's standalone server (a real HTTP endpoint on loopback)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from moto.server import ThreadedMotoServer

from exporter.export import aws
from exporter.export.destination import DESTINATION_TYPES, Delivery, DeliveryError
from exporter.export.destinations import load_destination_types
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings

REGION = "us-east-1"
KINDS = [
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "Recon:EC2/Portscan",
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
    "Discovery:S3/MaliciousIPCaller",
    "Policy:Kubernetes/ExposedDashboard",
    "Trojan:EC2/DropPoint",
]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server._server.server_port}"  # noqa: SLF001 - the bound port
    server.stop()


def options(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {
        "region": REGION,
        "endpoint_url": endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        **extra,
    }


def client(service: str, endpoint: str) -> Any:
    return aws.client(service, options(endpoint))


def batch(count: int, day: datetime = datetime(2025, 3, 2, tzinfo=UTC)) -> list[Delivery]:
    deliveries = []
    for n in range(count):
        kinds = [KINDS[n % len(KINDS)]]
        [found] = sample_findings(
            kinds,
            now=day + timedelta(minutes=n),
            detector_id=f"{n:032x}",
            account="111122223333",
            region=REGION,
        )
        finding = to_guardduty(found)
        deliveries.append(Delivery(f"{finding['id']}:{finding['updatedAt']}", finding))
    return deliveries


def build(kind: str, **opts: Any) -> Any:
    load_destination_types()
    return DESTINATION_TYPES.get(kind).build(f"test-{kind}", opts)


def drain(sqs: Any, url: str, expected: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= expected:
            break
    return bodies


def test_eventbridge_rule_routes_guardduty_events_to_sqs(endpoint: str) -> None:
    events, sqs = client("events", endpoint), client("sqs", endpoint)
    events.create_event_bus(Name="security")
    url = sqs.create_queue(QueueName="guardduty-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}
    events.put_rule(Name="gd", EventBusName="security", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="gd", EventBusName="security", Targets=[{"Id": "q", "Arn": arn}])

    deliveries = batch(13)
    build("eventbridge", **options(endpoint, event_bus="security")).deliver(deliveries)

    received = drain(sqs, url, 13)
    assert len(received) == 13
    assert {e["detail"]["id"] for e in received} == {d.finding["id"] for d in deliveries}
    event = next(e for e in received if e["detail"]["id"] == deliveries[0].finding["id"])
    assert event["source"] == "aws.guardduty"
    assert event["detail-type"] == "GuardDuty Finding"
    assert event["resources"] == [deliveries[0].finding["arn"]]
    assert event["detail"] == deliveries[0].finding


def test_eventbridge_missing_bus_fails_every_event_permanently(endpoint: str) -> None:
    deliveries = batch(3)
    destination = build("eventbridge", **options(endpoint, event_bus="no-such-bus"))
    with pytest.raises(DeliveryError) as err:
        destination.deliver(deliveries)
    assert err.value.failed == [d.event_id for d in deliveries]
    assert err.value.retryable is False


def test_s3_objects_are_gzip_json_lines_per_day_with_kms(endpoint: str) -> None:
    s3, kms = client("s3", endpoint), client("kms", endpoint)
    s3.create_bucket(Bucket="gd-export")
    key_id = kms.create_key(Description="export")["KeyMetadata"]["KeyId"]
    day1 = batch(4, datetime(2025, 3, 2, 23, 58, tzinfo=UTC))
    destination = build(
        "s3", **options(endpoint, bucket="gd-export", prefix="dw", kms_key_id=key_id)
    )
    destination.deliver(day1)
    destination.deliver(day1)  # a retried batch overwrites its own objects

    listed = s3.list_objects_v2(Bucket="gd-export")["Contents"]
    keys = sorted(o["Key"] for o in listed)
    assert len(keys) == 2
    assert keys[0].startswith("dw/AWSLogs/111122223333/GuardDuty/us-east-1/2025/03/02/")
    assert keys[1].startswith("dw/AWSLogs/111122223333/GuardDuty/us-east-1/2025/03/03/")
    found: list[dict[str, Any]] = []
    for key in keys:
        got = s3.get_object(Bucket="gd-export", Key=key)
        assert got["ServerSideEncryption"] == "aws:kms"
        assert key_id in got["SSEKMSKeyId"]
        found += [orjson.loads(line) for line in gzip.decompress(got["Body"].read()).splitlines()]
    assert sorted(f["id"] for f in found) == sorted(d.finding["id"] for d in day1)


def test_s3_missing_bucket_is_permanent(endpoint: str) -> None:
    deliveries = batch(2)
    with pytest.raises(DeliveryError) as err:
        build("s3", **options(endpoint, bucket="no-such-bucket")).deliver(deliveries)
    assert err.value.retryable is False
    assert sorted(err.value.failed or []) == sorted(d.event_id for d in deliveries)


def test_sns_publishes_events_to_a_subscribed_queue(endpoint: str) -> None:
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    topic = sns.create_topic(Name="guardduty")["TopicArn"]
    url = sqs.create_queue(QueueName="guardduty-sns")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )

    deliveries = batch(12)
    build("sns", **options(endpoint, topic_arn=topic)).deliver(deliveries[:11])
    build("sns", **options(endpoint, topic_arn=topic, batch=False)).deliver(deliveries[11:])

    received = drain(sqs, url, 12)
    assert sorted(e["id"] for e in received) == sorted(d.event_id for d in deliveries)
    assert all(e["detail-type"] == "GuardDuty Finding" for e in received)
    assert {e["detail"]["type"] for e in received} == set(KINDS)


def test_securityhub_imports_asff_and_updates_by_arn(endpoint: str) -> None:
    hub = client("securityhub", endpoint)
    hub.enable_security_hub()
    deliveries = batch(7)
    destination = build("securityhub", **options(endpoint))
    destination.deliver(deliveries)
    newer = dict(deliveries[0].finding, updatedAt="2025-03-03T00:00:00.000Z", title="updated")
    destination.deliver([Delivery("again", newer)])

    findings = hub.get_findings(MaxResults=100)["Findings"]
    by_id = {f["Id"]: f for f in findings}
    assert set(by_id) == {d.finding["arn"] for d in deliveries}
    first = by_id[deliveries[0].finding["arn"]]
    assert first["Title"] == "updated"
    assert first["Types"] == ["TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce"]
    assert first["ProductArn"] == "arn:aws:securityhub:us-east-1::product/aws/guardduty"
    assert first["Severity"]["Label"] == "LOW"
    assert first["Resources"][0]["Type"] == "AwsEc2Instance"
