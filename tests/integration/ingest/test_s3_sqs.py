"""S3 and SQS sources against moto's standalone server: a real HTTP endpoint on loopback."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import count
from moto.server import ThreadedMotoServer
from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.pipeline import DEADLETTER_INDEX, Ingestor
from exporter.sources import s3 as s3_source
from exporter.sources import sqs as sqs_source
from exporter.store.state import STATE_INDEX, ProcessedObjects

BUCKET = "trail-bucket"
KEY = (
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/02/"
    "111122223333_CloudTrail_us-east-1_20250302T1105Z_abcdefgh12345678.json.gz"
)


def trail(n: int, start: int = 0) -> bytes:
    records = [
        {
            "eventVersion": "1.08",
            "eventTime": "2025-03-02T11:04:17Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "ListUsers",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.45",
            "userAgent": "aws-cli/2.15.30",
            "eventID": f"00000000-0000-0000-0000-{i:012d}",
            "eventType": "AwsApiCall",
            "readOnly": True,
            "managementEvent": True,
            "eventCategory": "Management",
            "recipientAccountId": "111122223333",
            "userIdentity": {
                "type": "IAMUser",
                "accountId": "111122223333",
                "arn": "arn:aws:iam::111122223333:user/ci-bot",
                "accessKeyId": "AKIAEXAMPLEKEY01",
                "userName": "ci-bot",
            },
        }
        for i in range(start, start + n)
    ]
    return gzip.compress(json.dumps({"Records": records}).encode())


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server._server.server_port}"  # noqa: SLF001 - the bound port
    server.stop()


def aws(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def state(clean: OpenSearch) -> Iterator[ProcessedObjects]:
    clean.delete_by_query(index=STATE_INDEX, body={"query": {"match_all": {}}}, refresh=True)
    yield ProcessedObjects(clean)
    clean.delete_by_query(index=STATE_INDEX, body={"query": {"match_all": {}}}, refresh=True)


def test_s3_prefix_ingests_once_and_resumes(
    moto_endpoint: str, clean: OpenSearch, state: ProcessedObjects, settings: config.Settings
) -> None:
    s3 = aws("s3", moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=trail(30))
    s3.put_object(Bucket=BUCKET, Key=KEY.replace("abcdefgh", "zzzzzzzz"), Body=trail(5, 100))
    url = f"s3://{BUCKET}/AWSLogs/111122223333/"

    ingestor = Ingestor(clean, settings.ingest)
    assert s3_source.ingest_prefix(s3, state, ingestor, url) == (2, 0)
    assert ingestor.close().sources["cloudtrail"].indexed == 35

    s3.put_object(Bucket=BUCKET, Key=KEY.replace("abcdefgh", "yyyyyyyy"), Body=trail(3, 200))
    again = Ingestor(clean, settings.ingest)
    assert s3_source.ingest_prefix(s3, state, again, url) == (1, 2)
    assert again.close().sources["cloudtrail"].indexed == 3
    assert count(clean, "duskwatch-events-cloudtrail") == 38
    hit = clean.search(index="duskwatch-events-cloudtrail", body={"size": 1})["hits"]["hits"][0]
    assert hit["_source"]["log"]["file"]["path"].startswith(f"s3://{BUCKET}/AWSLogs/")


def test_local_copy_of_an_s3_object_is_a_duplicate(
    moto_endpoint: str,
    clean: OpenSearch,
    state: ProcessedObjects,
    tmp_path: Path,
    settings: config.Settings,
) -> None:
    flow = (
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
        "bytes start end action log-status\n2 111122223333 eni-1 198.51.100.7 10.0.0.5 "
        "40000 22 6 3 180 1740913200 1740913260 REJECT OK\n"
    )
    key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2025/03/02/flow.log"
    s3 = aws("s3", moto_endpoint)
    s3.create_bucket(Bucket="flows")
    s3.put_object(Bucket="flows", Key=key, Body=flow.encode())
    first = Ingestor(clean, settings.ingest)
    s3_source.ingest_prefix(s3, state, first, "s3://flows/")
    assert first.close().sources["vpcflow"].indexed == 1
    local = tmp_path / key
    local.parent.mkdir(parents=True)
    local.write_text(flow)
    second = Ingestor(clean, settings.ingest)
    second.ingest(str(local), local.read_bytes())
    assert second.close().sources["vpcflow"].duplicates == 1


def notification(bucket: str, key: str, size: int) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": bucket},
                        "object": {"key": key.replace(" ", "+"), "size": size},
                    },
                }
            ]
        }
    )


def test_sqs_deletes_after_indexing_and_parks_poison(
    moto_endpoint: str, clean: OpenSearch, settings: config.Settings
) -> None:
    s3, sqs = aws("s3", moto_endpoint), aws("sqs", moto_endpoint)
    s3.create_bucket(Bucket="notified")
    s3.put_object(Bucket="notified", Key=KEY, Body=trail(7, 300))
    queue = sqs.create_queue(QueueName="trail-events")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=notification("notified", KEY, 100))
    sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(
            {"Type": "Notification", "Message": notification("notified", KEY, 100)}
        ),
    )
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
    sqs.send_message(QueueUrl=queue, MessageBody=notification("notified", "missing.json", 5))

    ingestor = Ingestor(clean, settings.ingest)
    stats = sqs_source.consume(sqs, s3, ingestor, queue, wait_seconds=0, max_receives=1)
    summary = ingestor.close()
    assert (stats.messages, stats.objects, stats.poison, stats.ignored) == (4, 2, 1, 1)
    assert summary.sources["cloudtrail"].indexed == 7
    assert summary.sources["cloudtrail"].duplicates == 7
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    poison = clean.search(index=DEADLETTER_INDEX, body={"query": {"term": {"log_type": "sqs"}}})
    [letter] = poison["hits"]["hits"]
    assert "poison message" in letter["_source"]["reason"]
    assert "missing.json" in letter["_source"]["snippet"]


def test_failed_message_stays_queued_until_max_receives(
    moto_endpoint: str, clean: OpenSearch, settings: config.Settings
) -> None:
    s3, sqs = aws("s3", moto_endpoint), aws("sqs", moto_endpoint)
    queue = sqs.create_queue(QueueName="retry-me")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=notification("no-such-bucket", "k", 1))
    ingestor = Ingestor(clean, settings.ingest)
    stats = sqs_source.consume(sqs, s3, ingestor, queue, wait_seconds=0, max_receives=50)
    ingestor.close()
    assert stats.poison == 0
    assert stats.errors
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    visible = int(attributes["ApproximateNumberOfMessages"])
    hidden = int(attributes["ApproximateNumberOfMessagesNotVisible"])
    assert visible + hidden == 1
