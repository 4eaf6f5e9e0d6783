"""One tiny simulation with every scenario, shared by the scenario tests."""

from __future__ import annotations

import json

import pytest
from scenario_support import TINY, Run, read

from exporter.simulate import SimulationConfig, simulate


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The simulation's labels and documents."""
    out = tmp_path_factory.mktemp("scenarios") / "out"
    summary = simulate(SimulationConfig(out, **TINY))
    return Run(json.loads(summary.labels_path.read_text()), list(read(out)))
