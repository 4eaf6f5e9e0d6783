"""Every detector's embedded cases on the real node: documents in, the expected types out."""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch

from exporter.detections.behaviour import DETECTORS
from exporter.detections.behaviour.testing import case_window, run_case


@pytest.mark.parametrize("name", DETECTORS.names())
def test_embedded_cases(client: OpenSearch, name: str) -> None:
    detector = DETECTORS.get(name)
    assert detector.cases is not None
    window = case_window(detector)
    cases = detector.cases(window)
    assert any(case.expect for case in cases), f"{name} has no positive case"
    assert any(not case.expect for case in cases), f"{name} has no negative case"
    failures = [
        f"{result.case}: expected {result.expected or 'nothing'}, got "
        f"{result.reported or 'nothing'} {result.error or ''}"
        for result in (run_case(client, detector, case, window) for case in cases)
        if not result.ok
    ]
    assert not failures, failures
