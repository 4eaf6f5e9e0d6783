"""``duskwatch rules list`` and ``validate``: no cluster needed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from exporter import config
from exporter.cli.context import AppContext
from exporter.cli.rules import app
from exporter.detections.rules import load_rules


def invoke(*args: str) -> tuple[int, str]:
    settings = config.load(env={})
    result = CliRunner().invoke(app, list(args), obj=AppContext(settings))
    return result.exit_code, result.output


def test_list_shows_every_rule() -> None:
    code, output = invoke("list")
    assert code == 0
    assert output.count("eks-audit") == sum("eks-audit" in r.log_types for r in load_rules())
    assert "2-5 by event.action" in output


def test_validate_reports_every_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("id: 1\n")
    (tmp_path / "b.yml").write_text("[unclosed\n")
    code, output = invoke("validate", "--dir", str(tmp_path))
    assert code == 1
    assert f"{tmp_path / 'a.yml'}: id: expected a GuardDuty finding type" in output
    assert f"{tmp_path / 'b.yml'}: line 2: invalid YAML" in output
    assert "problem(s)" in output
    assert "Traceback" not in output


def test_validate_passes_on_the_catalogue() -> None:
    code, output = invoke("validate")
    assert code == 0
    assert f"{len(load_rules())} rules OK" in output
