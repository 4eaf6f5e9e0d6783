"""User errors are one clear message and exit code 2, never a stack trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_bad_config_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "duskwatch.yaml"
    path.write_text("server:\n  prot: 9200\n")
    result = run("--config", str(path), "doctor")
    assert result.returncode == 2
    assert f"{path}: unknown key server.prot" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unreachable_cluster_is_explained() -> None:
    result = run("--url", "http://127.0.0.1:9", "bootstrap")
    assert result.returncode == 2
    assert "cannot reach OpenSearch" in result.stderr
    assert "duskwatch server start" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("server", "doctor", "bootstrap"):
        assert command in result.stdout
