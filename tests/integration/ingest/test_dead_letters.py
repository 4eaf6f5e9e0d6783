"""Bad input gets a clear reason and position in duskwatch-deadletter; nothing else is lost."""

from __future__ import annotations

import gzip
from pathlib import Path

from conftest import count, ingest_paths
from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.bulk import Action, BulkWriter
from exporter.ingest.pipeline import DEADLETTER_INDEX

FLOW_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol "
    "packets bytes start end action log-status"
)
GOOD_FLOW = (
    "2 111122223333 eni-0f1e2d3c4b5a69788 198.51.100.77 10.0.3.25 49822 22 6 9 540 "
    "1740913200 1740913260 REJECT OK"
)


def reasons(client: OpenSearch) -> list[dict[str, object]]:
    hits = client.search(index=DEADLETTER_INDEX, body={"size": 100})["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def test_bad_lines_are_dead_lettered_and_the_rest_proceeds(
    clean: OpenSearch, settings: config.Settings, tmp_path: Path
) -> None:
    flow = tmp_path / "flow.log"
    flow.write_text(
        "\n".join(
            [
                FLOW_HEADER,
                GOOD_FLOW,
                "2 111122223333 eni-1 too few",
                GOOD_FLOW.replace("49822", "49823"),
            ]
        )
        + "\n"
    )
    summary = ingest_paths(clean, settings, str(flow))
    stats = summary.sources["vpcflow"]
    assert (stats.read, stats.indexed, stats.dead_lettered) == (3, 2, 1)
    [letter] = reasons(clean)
    assert letter["line"] == 3
    assert letter["origin"] == str(flow)
    assert letter["stage"] == "parse"
    assert "too few" in str(letter["snippet"])


def test_corrupt_gzip_empty_truncated_and_unknown_files(
    clean: OpenSearch, settings: config.Settings, tmp_path: Path
) -> None:
    (tmp_path / "corrupt.json.gz").write_bytes(gzip.compress(b'{"Records": []}')[:-8] + b"xx")
    (tmp_path / "empty.log").write_bytes(b"")
    record = (
        '{"eventVersion": "1.08", "eventTime": "2025-03-02T11:04:17Z", "eventSource": '
        '"iam.amazonaws.com", "eventName": "ListUsers", "awsRegion": "us-east-1", '
        '"eventID": "6f1d4c6e-0000-4000-8000-000000000001"}'
    )
    whole = '{"Records": [' + ", ".join([record] * 3) + "]}"
    (tmp_path / "truncated.json").write_text(whole[: len(whole) * 2 // 3])  # cut mid-record
    (tmp_path / "notes.txt").write_text("hello, this is not a log\n")
    summary = ingest_paths(clean, settings, str(tmp_path))
    stored = {Path(str(r["origin"])).name: r for r in reasons(clean)}
    assert "corrupt gzip" in str(stored["corrupt.json.gz"]["reason"])
    assert "truncated JSON" in str(stored["truncated.json"]["reason"])
    assert "unrecognized format" in str(stored["notes.txt"]["reason"])
    assert [Path(p).name for p in summary.unrecognized] == ["notes.txt"]
    assert [Path(p).name for p in summary.empty] == ["empty.log"]


def test_mapping_rejections_become_dead_letters(clean: OpenSearch) -> None:
    writer = BulkWriter(clean, concurrency=1)
    actions = [
        Action(
            "duskwatch-events-vpcflow-2025.03.02", "ok", b'{"@timestamp":"2025-03-02T00:00:00Z"}'
        ),
        Action(
            "duskwatch-events-vpcflow-2025.03.02",
            "bad",
            b'{"@timestamp":"2025-03-02T00:00:00Z","source":{"ip":"not-an-ip"}}',
        ),
    ]
    outcome = writer.write(actions)
    writer.close()
    assert [a.doc_id for a in outcome.created] == ["ok"]
    [(action, reason)] = outcome.rejected
    assert action.doc_id == "bad"
    assert "source.ip" in reason


def test_dead_letters_are_not_doubled_on_reingest(
    clean: OpenSearch, settings: config.Settings, tmp_path: Path
) -> None:
    flow = tmp_path / "flow.log"
    flow.write_text(f"{FLOW_HEADER}\n2 111122223333 eni-1 too few\n")
    ingest_paths(clean, settings, str(flow))
    ingest_paths(clean, settings, str(flow))
    clean.indices.refresh(index=DEADLETTER_INDEX)
    assert count(clean, DEADLETTER_INDEX) == 1
