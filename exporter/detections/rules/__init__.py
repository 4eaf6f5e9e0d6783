"""Signature rules: YAML files with embedded tests, compiled to percolator queries.

The matcher's API: :func:`load_rules` (catalogue + extra dirs), :func:`install` (idempotent,
into ``duskwatch-rules``), :func:`match_rules` (events -> every matching rule id) and
:func:`rule_finding` (rule + event -> FindingSpec).
"""

from __future__ import annotations

from exporter.detections.rules.compile import (
    RULES_INDEX,
    InstallResult,
    install,
    match_rules,
    percolator_doc,
)
from exporter.detections.rules.finding import rule_finding
from exporter.detections.rules.loader import (
    CATALOGUE,
    RuleValidationError,
    check_rules,
    load_rules,
)
from exporter.detections.rules.model import Rule, RuleTest, SeverityTable
from exporter.detections.rules.testing import CaseResult, Status, run_tests

__all__ = [
    "CATALOGUE",
    "RULES_INDEX",
    "CaseResult",
    "InstallResult",
    "Rule",
    "RuleTest",
    "RuleValidationError",
    "SeverityTable",
    "Status",
    "check_rules",
    "install",
    "load_rules",
    "match_rules",
    "percolator_doc",
    "rule_finding",
    "run_tests",
]
