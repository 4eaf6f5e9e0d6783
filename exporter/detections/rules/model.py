"""What a signature rule is, once its YAML file has been validated.

A rule is data: an OpenSearch query over ECS fields (stored as a percolator query), the
GuardDuty finding type it asserts, how to rate and describe the finding, and the raw source
records that prove it fires (and does not fire) through the real parser and normalizer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from exporter.findings.spec import ResourceRole

Expect = Literal["match", "no_match"]

SUFFIX_SEPARATOR = "#"
"""``<finding type>#<suffix>``: the id of one of several rules asserting the same type."""


@dataclass(frozen=True)
class SeverityTable:
    """Severity chosen by the value of one event field (the highest listed value wins)."""

    field: str
    values: Mapping[str, float]
    default: float


@dataclass(frozen=True)
class RuleTest:
    """One embedded test: a raw source record and whether the rule must match it.

    ``pending`` names what the test waits for (a field the normalizer does not emit yet):
    such a test is expected to fail, and is reported as failing once it passes.
    """

    name: str
    expect: Expect
    log_type: str
    record: Mapping[str, Any] | str
    pending: str | None = None


@dataclass(frozen=True)
class Rule:
    """A validated signature rule (see ``schema.json`` for the file format)."""

    id: str
    finding_type: str
    severity: float | SeverityTable
    log_types: tuple[str, ...]
    query: Mapping[str, Any]
    title: str
    description: str
    resource_role: ResourceRole = "TARGET"
    key_fields: tuple[str, ...] = ()
    tactic: str | None = None
    technique: str | None = None
    requires_fields: Mapping[str, str] = field(default_factory=dict)
    tests: tuple[RuleTest, ...] = ()
    source: str = ""


def finding_type_of(rule_id: str) -> str:
    """The GuardDuty finding type a rule id asserts (the id without its ``#suffix``)."""
    return rule_id.split(SUFFIX_SEPARATOR, 1)[0]


def slug(name: str) -> str:
    """The file stem for a rule id or family: lower case, non-alphanumeric runs as ``_``.

    ``Stealth:IAMUser/CloudTrailLoggingDisabled`` -> ``stealth_iamuser_cloudtrailloggingdisabled``.
    """
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
