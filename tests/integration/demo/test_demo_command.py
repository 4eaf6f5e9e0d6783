"""``duskwatch demo`` end to end on the real node, as the README's first command runs it.

A short simulated week (small scale) is enough to exercise every stage: the printout lists
active findings by severity (signature, list and behaviour types), the suppressed findings with
the example rule, what the file destination received, usage and stage times; a second run
finds nothing new to ingest or detect.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.detections.behaviour import DETECTORS, checkpoints
from exporter.export.outbox import OUTBOX_INDEX
from exporter.findings.store import FINDINGS_INDEX
from exporter.suppression import store as filters

RULE = "demo-low-severity-port-probes"


@pytest.fixture
def fresh(clean: OpenSearch) -> Iterator[OpenSearch]:
    def wipe() -> None:
        for index in (FINDINGS_INDEX, OUTBOX_INDEX):
            clean.delete_by_query(
                index=index,
                body={"query": {"match_all": {}}},
                refresh=True,
                conflicts="proceed",
                ignore=[404],
            )
        for name in DETECTORS.names():
            checkpoints.reset(clean, name)
        clean.delete(index=filters.FILTERS_INDEX, id=RULE, ignore=[404], refresh=True)

    wipe()
    yield clean
    wipe()


def demo(work: Path, settings: config.Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUSKWATCH_OPENSEARCH_URL": settings.opensearch.url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "exporter", "demo", "--work-dir", str(work),
               "--days", "5", "--scale", "0.05"]  # fmt: skip
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=1800, check=False
    )


def test_demo_runs_every_stage_and_a_second_run_finds_nothing_new(
    fresh: OpenSearch, settings: config.Settings, tmp_path: Path
) -> None:
    first = demo(tmp_path / "demo", settings)
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stdout
    assert "Active findings" in out
    for kind in (
        "UnauthorizedAccess:EC2/SSHBruteForce",  # behaviour, flow
        "Trojan:EC2/DNSDataExfiltration",  # behaviour, DNS
        "Discovery:IAMUser/AnomalousBehavior",  # behaviour, CloudTrail
        "Stealth:IAMUser/CloudTrailLoggingDisabled",  # signature rule
        "CryptoCurrency:EC2/BitcoinTool.B!DNS",  # built-in list
    ):
        assert kind in out, kind
    assert RULE in out  # the suppressed table names the rule
    exported = [
        orjson.loads(line)
        for line in (tmp_path / "demo" / "exported-findings.jsonl").read_text().splitlines()
    ]
    assert exported
    assert all(not item["finding"]["service"]["archived"] for item in exported)
    assert "Recon:EC2/PortProbeUnprotectedPort" not in {
        item["finding"]["type"] for item in exported if item["finding"]["severity"] < 5
    }
    assert "GuardDuty would charge" in out
    assert (tmp_path / "demo" / "report.html").is_file()

    second = demo(tmp_path / "demo", settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing new" in second.stdout
    assert "0 new findings" in second.stdout
