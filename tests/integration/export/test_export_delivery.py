"""The outbox and the delivery loop on the real node, against real local HTTP servers."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from export_support import T0, FakeClock, Receiver, make_finding
from opensearchpy import OpenSearch

from exporter.config import ExportSettings
from exporter.export.config import Configured, build_destinations, routes
from exporter.export.destination import Delivery, DeliveryError
from exporter.export.outbox import ExportOutbox, Route, update_due
from exporter.export.runner import RetryPolicy, Runner
from exporter.findings.store import archive
from exporter.findings.writer import FindingWriter

Servers = Callable[[], Receiver]


def export_settings(destinations: dict[str, dict[str, Any]], attempts: int = 20) -> ExportSettings:
    return ExportSettings(destinations, attempts, 1.0, 4.0, 0.1)


class System:
    """Writer, outbox and runner wired as production does, on a test clock."""

    def __init__(
        self,
        client: OpenSearch,
        findings_index: str,
        outbox_index: str,
        settings: ExportSettings,
        clock: FakeClock,
    ) -> None:
        self.clock = clock
        self.outbox = ExportOutbox(
            client, routes(settings), outbox_index, clock=clock, findings_index=findings_index
        )
        self.writer = FindingWriter(client, findings_index, outbox=self.outbox)
        self.destinations = build_destinations(settings)
        self.policy = RetryPolicy.from_settings(settings)

    def runner(self, destinations: Sequence[Configured] | None = None) -> Runner:
        chosen = self.destinations if destinations is None else destinations
        return Runner(self.outbox, chosen, self.policy, clock=self.clock)

    def write(self, findings: list[dict[str, Any]], batch: int = 100) -> None:
        for start in range(0, len(findings), batch):
            self.writer.write(findings[start : start + batch])


def webhook(server: Receiver, **extra: Any) -> dict[str, Any]:
    return {"type": "webhook", "url": f"{server.url}/hook", "timeout": 2, **extra}


def file_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_new_finding_delivered_once_to_each_destination(
    client: OpenSearch, findings_index: str, outbox_index: str, servers: Servers, tmp_path: Path
) -> None:
    hook, hec = servers(), servers()
    settings = export_settings({
        "hook": webhook(hook, secret="s3cret", headers={"X-Team": "secops"}),
        "splunk": {"type": "splunk-hec", "url": hec.url, "token": "t0k", "ack": True,
                   "ack_poll_seconds": 0.01, "index": "security"},
        "jsonl": {"type": "file", "path": str(tmp_path / "out" / "findings.jsonl")},
    })  # fmt: skip
    system = System(client, findings_index, outbox_index, settings, FakeClock(T0))
    finding = make_finding(1)
    system.write([finding])
    event_id = f"{finding['id']}:{finding['updatedAt']}"

    tallies = system.runner().run_once()
    assert {n: t.delivered for n, t in tallies.items()} == {"hook": 1, "splunk": 1, "jsonl": 1}
    assert system.runner().run_once()["hook"].delivered == 0  # nothing due twice

    [request] = hook.accepted
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Duskwatch-Signature"] == expected
    assert request.headers["X-Team"] == "secops"
    [event] = hook.webhook_events()
    assert event["eventId"] == event_id
    assert event["finding"]["id"] == finding["id"]
    assert "duskwatch" not in event["finding"]
    assert "@timestamp" not in event["finding"]

    [sent] = hec.accepted
    assert sent.path == "/services/collector/event"
    assert sent.headers["Authorization"] == "Splunk t0k"
    assert sent.headers["X-Splunk-Request-Channel"]
    hec_event = orjson.loads(sent.body)
    assert hec_event["sourcetype"] == "aws:cloudwatch:guardduty"
    assert hec_event["index"] == "security"
    assert hec_event["event"]["detail-type"] == "GuardDuty Finding"
    assert hec_event["event"]["id"] == event_id

    [line] = file_lines(tmp_path / "out" / "findings.jsonl")
    assert line["eventId"] == event_id

    status = system.outbox.status()
    assert {n: (s["delivered"], s["pending"], s["parked"]) for n, s in status.items()} == {
        "hook": (1, 0, 0), "jsonl": (1, 0, 0), "splunk": (1, 0, 0)
    }  # fmt: skip


def test_a_finding_archived_after_it_was_queued_is_withheld(
    client: OpenSearch, findings_index: str, outbox_index: str, tmp_path: Path
) -> None:
    settings = export_settings({"jsonl": {"type": "file", "path": str(tmp_path / "f.jsonl")}})
    system = System(client, findings_index, outbox_index, settings, FakeClock(T0))
    kept, suppressed = make_finding(1), make_finding(2)
    system.write([kept, suppressed])
    archive(client, [suppressed["id"]], findings_index, refresh=True)  # e.g. --apply-existing

    [tally] = system.runner().run_once().values()
    assert (tally.delivered, tally.withheld) == (1, 1)
    assert [line["finding"]["id"] for line in file_lines(tmp_path / "f.jsonl")] == [kept["id"]]
    status = system.outbox.status()["jsonl"]
    assert (status["delivered"], status["withheld"], status["pending"]) == (1, 1, 0)


def test_destination_down_then_restored_loses_nothing(
    client: OpenSearch, findings_index: str, outbox_index: str, servers: Servers, tmp_path: Path
) -> None:
    hook = servers()
    settings = export_settings({
        "hook": webhook(hook, max_batch=200),
        "jsonl": {"type": "file", "path": str(tmp_path / "findings.jsonl"), "fsync": False},
    })  # fmt: skip
    clock = FakeClock(T0)
    system = System(client, findings_index, outbox_index, settings, clock)
    findings = [make_finding(n) for n in range(1000)]
    expected = {f"{f['id']}:{f['updatedAt']}" for f in findings}

    hook.status = 503
    system.write(findings[:500])
    first = system.runner().run_once()
    assert first["hook"].delivered == 0
    assert first["hook"].retried == 500
    assert first["jsonl"].delivered == 500  # the failing webhook blocks nobody
    hook.stop()  # connection refused from now on
    system.write(findings[500:])
    clock.advance(10)
    second = system.runner().run_once()
    assert second["hook"].delivered == 0
    assert second["hook"].retried == 1000
    assert system.outbox.status()["hook"]["lag_seconds"] == 10

    hook.status = 200
    hook.start()
    clock.advance(60)
    assert system.runner().run_once()["hook"].delivered == 1000

    delivered = [e["eventId"] for e in hook.webhook_events()]
    assert set(delivered) == expected
    assert len(delivered) == 1000
    assert sorted(line["eventId"] for line in file_lines(tmp_path / "findings.jsonl")) == sorted(
        expected
    )
    assert system.outbox.status()["hook"] == {
        "pending": 0, "due": 0, "delivered": 1000, "parked": 0, "withheld": 0, "lag_seconds": 0.0
    }  # fmt: skip


def test_permanent_failure_parks_and_blocks_no_other_destination(
    client: OpenSearch, findings_index: str, outbox_index: str, servers: Servers
) -> None:
    bad, good = servers(), servers()
    bad.status = 400
    settings = export_settings({"bad": webhook(bad), "good": webhook(good)})
    system = System(client, findings_index, outbox_index, settings, FakeClock(T0))
    system.write([make_finding(n) for n in range(20)])

    tallies = system.runner().run_once()
    assert (tallies["bad"].parked, tallies["good"].delivered) == (20, 20)
    assert len(good.webhook_events()) == 20
    status = system.outbox.status()
    assert (status["bad"]["parked"], status["bad"]["pending"]) == (20, 0)


class FailSome:
    """A destination that reports per-item failures for some findings."""

    name = "partial"
    max_batch = 50

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.received: list[str] = []

    def deliver(self, batch: Sequence[Delivery]) -> None:
        self.received += [d.event_id for d in batch]
        failed = [d.event_id for d in batch if d.finding["id"] in self.failing]
        if failed:
            raise DeliveryError("rejected some", retryable=True, failed=failed)


def test_per_item_failures_only_retry_those_items(
    client: OpenSearch, findings_index: str, outbox_index: str
) -> None:
    clock = FakeClock(T0)
    outbox = ExportOutbox(client, [Route("partial")], outbox_index, clock=clock)
    findings = [make_finding(n) for n in range(10)]
    FindingWriter(client, findings_index, outbox=outbox).write(findings)
    destination = FailSome({findings[0]["id"], findings[1]["id"]})
    configured = Configured("partial", "test", Route("partial"), destination)
    runner = Runner(outbox, [configured], RetryPolicy(3, 1.0, 2.0), clock=clock)

    assert runner.run_once()["partial"].delivered == 8
    destination.failing.clear()
    clock.advance(5)
    assert runner.run_once()["partial"].delivered == 2
    assert Counter(destination.received).most_common(1)[0][1] == 2  # only the 2 were resent
    assert len(destination.received) == 12


def test_parked_after_max_attempts_then_replay_delivers(
    client: OpenSearch, findings_index: str, outbox_index: str, servers: Servers
) -> None:
    hook = servers()
    hook.status = 503
    clock = FakeClock(T0)
    system = System(
        client, findings_index, outbox_index, export_settings({"hook": webhook(hook)}, 3), clock
    )
    system.write([make_finding(n) for n in range(5)])
    for _ in range(3):
        system.runner().run_once()
        clock.advance(30)
    status = system.outbox.status()["hook"]
    assert (status["parked"], status["pending"], hook.refused) == (5, 0, 3)

    hook.status = 200
    assert system.runner().run_once()["hook"].delivered == 0  # parked stays parked
    finding = make_finding(0)
    assert system.outbox.replay(event=f"{finding['id']}:{finding['updatedAt']}") == 1
    assert system.runner().run_once()["hook"].delivered == 1
    assert system.outbox.replay("hook") == 4
    assert system.runner().run_once()["hook"].delivered == 4
    assert len({e["eventId"] for e in hook.webhook_events()}) == 5


def test_updates_coalesce_per_frequency(
    client: OpenSearch, findings_index: str, outbox_index: str, servers: Servers
) -> None:
    hook, fast = servers(), servers()
    settings = export_settings({
        "hook": webhook(hook, frequency="FIFTEEN_MINUTES"),
        "fast": webhook(fast, frequency="IMMEDIATE"),
    })  # fmt: skip
    clock = FakeClock(T0 + timedelta(minutes=1))
    system = System(client, findings_index, outbox_index, settings, clock)
    system.write([make_finding(7, T0)])
    system.runner().run_once()
    for minute in (2, 3, 4):  # three updates of the aggregated finding
        clock.now = T0 + timedelta(minutes=minute)
        system.write([make_finding(7, T0 + timedelta(minutes=minute))])
        system.runner().run_once()

    assert len(hook.webhook_events()) == 1  # only the new finding so far
    assert len(fast.webhook_events()) == 4  # immediate: every version
    clock.now = update_due(system.outbox.routes["hook"].frequency, clock())
    assert clock.now == T0 + timedelta(minutes=15)
    assert system.runner().run_once()["hook"].delivered == 1
    events = hook.webhook_events()
    assert len(events) == 2
    assert events[1]["finding"]["updatedAt"].startswith("2025-03-02T11:04:00")
    assert events[1]["finding"]["service"]["count"] == 4
