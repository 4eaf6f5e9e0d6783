"""``duskwatch filters attributes``: no cluster needed."""

from __future__ import annotations

from typer.testing import CliRunner

from exporter.cli.filters import app


def test_attributes_lists_types_and_operators() -> None:
    result = CliRunner().invoke(app, ["attributes", "archived"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "service.archived" in result.stdout
    assert "a boolean" in result.stdout
    assert "matches" not in result.stdout
    assert "service.count" not in result.stdout
