"""``duskwatch export ...`` on the real node: status, replay, and a real kill mid-delivery."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from export_support import Receiver, make_finding
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from exporter import config
from exporter.cli.context import AppContext
from exporter.cli.export import app
from exporter.export.config import routes
from exporter.export.outbox import ExportOutbox
from exporter.findings.writer import FindingWriter

Servers = Callable[[], Receiver]


def with_export(settings: config.Settings, destinations: dict[str, Any]) -> config.Settings:
    export = dataclasses.replace(
        settings.export, destinations=destinations, max_attempts=2, backoff_seconds=0.0
    )
    return dataclasses.replace(settings, export=export)


def invoke(settings: config.Settings, client: OpenSearch, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), obj=AppContext(settings, client))
    if result.exception is not None:
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


def test_status_and_replay(
    settings: config.Settings,
    client: OpenSearch,
    findings_index: str,
    outbox_index: str,
    servers: Servers,
) -> None:
    hook = servers()
    hook.status = 503
    local = with_export(settings, {"hook": {"type": "webhook", "url": hook.url}})
    outbox = ExportOutbox(client, routes(local.export), outbox_index)
    FindingWriter(client, findings_index, outbox=outbox).write([make_finding(n) for n in range(3)])

    for _ in range(2):  # max_attempts = 2, no backoff: parked after the second pass
        invoke(local, client, "run", "--once", "--index", outbox_index)
    [row] = json.loads(invoke(local, client, "status", "--json", "--index", outbox_index))
    assert row["destination"] == "hook"
    assert (row["pending"], row["delivered"], row["parked"]) == (0, 0, 3)

    hook.status = 200
    assert "replayed 3" in invoke(local, client, "replay", "-d", "hook", "--index", outbox_index)
    invoke(local, client, "run", "--once", "--index", outbox_index)
    [row] = json.loads(invoke(local, client, "status", "--json", "--index", outbox_index))
    assert (row["pending"], row["delivered"], row["parked"], row["lag_seconds"]) == (0, 3, 0, 0)
    assert len(hook.webhook_events()) == 3


def test_kill_mid_delivery_then_restart_delivers_everything(
    settings: config.Settings,
    client: OpenSearch,
    findings_index: str,
    outbox_index: str,
    servers: Servers,
    tmp_path: Path,
) -> None:
    hook = servers()
    destinations = {"hook": {"type": "webhook", "url": hook.url, "max_batch": 50}}
    local = with_export(settings, destinations)
    outbox = ExportOutbox(client, routes(local.export), outbox_index)
    findings = [make_finding(n) for n in range(300)]
    FindingWriter(client, findings_index, outbox=outbox).write(findings)
    expected = {f"{f['id']}:{f['updatedAt']}" for f in findings}

    config_file = tmp_path / "duskwatch.yaml"
    config_file.write_text(yaml.safe_dump({"export": {"destinations": destinations}}))
    env = {**os.environ, "DUSKWATCH_CONFIG": str(config_file)}
    command = [sys.executable, "-m", "exporter", "export", "run", "--index", outbox_index]
    killed = threading.Event()
    process: list[subprocess.Popen[bytes]] = []

    def kill_on_third(_request: Any) -> None:
        if len(hook.accepted) == 3 and not killed.is_set():
            killed.set()
            process[0].send_signal(signal.SIGKILL)  # received, never marked delivered

    hook.on_request = kill_on_third
    process.append(subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL))
    assert process[0].wait(timeout=180) == -signal.SIGKILL
    assert killed.is_set()
    hook.on_request = None

    restart = subprocess.run(
        [*command[:-2], "--once", *command[-2:]], env=env, capture_output=True, timeout=180
    )
    assert restart.returncode == 0, restart.stderr.decode()

    counts = Counter(e["eventId"] for e in hook.webhook_events())
    assert set(counts) == expected  # none lost
    assert set(counts.values()) <= {1, 2}  # duplicates only as resends of the same event id
    assert sum(counts.values()) - len(expected) <= 50  # at most the batch in flight
