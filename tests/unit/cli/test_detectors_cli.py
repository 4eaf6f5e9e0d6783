"""``duskwatch detectors list`` needs no server; bad detector settings fail fast and clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from exporter.detections.behaviour import DETECTORS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_list_shows_every_detector_with_its_current_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "duskwatch.yaml"
    path.write_text(
        "detectors:\n  disabled: [rdp-brute-force]\n"
        "  overrides:\n    ssh-brute-force:\n      min_connections: 7\n"
    )
    result = run("--config", str(path), "detectors", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(DETECTORS.names())
    assert rows["ssh-brute-force"]["params"]["min_connections"] == 7
    assert rows["ssh-brute-force"]["finding_types"] == ["UnauthorizedAccess:EC2/SSHBruteForce"]
    assert rows["ssh-brute-force"]["interval"] == "30m"
    assert rows["rdp-brute-force"]["disabled"] is True
    assert rows["winrm-brute-force"]["params"]["min_connections"] == 25


def test_a_bad_threshold_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "duskwatch.yaml"
    path.write_text("detectors:\n  overrides:\n    ssh-brute-force:\n      min_connections: lots\n")
    result = run("--config", str(path), "detectors", "list")
    assert result.returncode == 2
    assert "detectors.overrides.ssh-brute-force.min_connections" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_detector_is_refused() -> None:
    result = run("--url", "http://127.0.0.1:9", "detect", "--detector", "no-such-detector")
    assert result.returncode == 2
    assert "no such detector" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_detector_reference_is_up_to_date() -> None:
    reference = Path(__file__).resolve().parents[3] / "docs" / "detectors.md"
    result = run("detectors", "list", "--markdown")
    assert result.returncode == 0, result.stderr
    assert reference.read_text() == result.stdout, (
        "docs/detectors.md is stale: run `duskwatch detectors list --markdown > docs/detectors.md`"
    )
