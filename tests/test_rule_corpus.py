"""Corpus meta-tests: every catalogue rule is well-formed, named, typed, tested and mapped."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from exporter.detections.rules import CATALOGUE, Rule, SeverityTable, check_rules
from exporter.detections.rules.loader import SCHEMA, rule_files
from exporter.detections.rules.model import finding_type_of, slug
from exporter.detections.rules.query import leaf_clauses
from exporter.findings.severity import label
from exporter.findings.types import FINDING_TYPES

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "mappings" / "component_templates"

NOT_SIGNATURES = {
    "Backdoor:EC2/DenialOfService.Dns": "a flood: a count over many flows",
    "Backdoor:EC2/DenialOfService.Tcp": "a flood: a count over many flows",
    "Backdoor:EC2/DenialOfService.Udp": "a flood: a count over many flows",
    "Backdoor:EC2/DenialOfService.UdpOnTcpPorts": "a flood: a count over many flows",
    "Backdoor:EC2/DenialOfService.UnusualProtocol": "a flood: a count over many flows",
    "Impact:EC2/PortSweep": "many destination hosts: an aggregation",
    "Impact:EC2/WinRMBruteForce": "repeated attempts: an aggregation",
    "Recon:EC2/Portscan": "many destination ports: an aggregation",
    "Trojan:EC2/DGADomainRequest.B": "name entropy: computed, not matched",
    "Trojan:EC2/DNSDataExfiltration": "query volume and entropy: an aggregation",
    "UnauthorizedAccess:EC2/RDPBruteForce": "repeated attempts: an aggregation",
    "UnauthorizedAccess:EC2/SSHBruteForce": "repeated attempts: an aggregation",
    "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B": "two sign-ins far apart: stateful",
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS": "needs which "
    "credentials belong to instances (state) and the caller's account",
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": "needs which "
    "credentials belong to instances (state) and AWS's address ranges",
    "UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.OutsideAWS": "needs which "
    "credentials belong to Lambda functions (state) and AWS's address ranges",
}
"""Rule-logic finding types no single-event signature can raise (aggregations, state)."""


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    found, problems = check_rules()
    assert not problems, "\n".join(problems)
    return found


def test_every_catalogue_file_validates() -> None:
    files, missing = rule_files([CATALOGUE])
    assert files
    assert not missing
    assert all(path.suffix == ".yml" for path in files)
    assert check_rules()[1] == []


def test_ids_are_unique_and_each_type_lives_in_one_file(rules: list[Rule]) -> None:
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids))
    files_of: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        files_of[rule.finding_type].add(rule.source)
    assert {t: f for t, f in files_of.items() if len(f) > 1} == {}


def test_file_names_derive_from_the_id_or_family(rules: list[Rule]) -> None:
    """``<slug of the type>.yml``, or ``<slug of the family>.yml`` (part of every id in it)."""
    for rule in rules:
        stem = Path(rule.source).stem
        assert stem == slug(stem), rule.source
        assert stem in slug(rule.id), rule.id
        assert finding_type_of(rule.id) == rule.finding_type


def test_finding_types_are_real_guardduty_rule_types(rules: list[Rule]) -> None:
    for rule in rules:
        assert rule.finding_type in FINDING_TYPES, rule.id
        kind = FINDING_TYPES.get(rule.finding_type)
        assert kind.logic == "Rule", rule.id
        assert kind.log_type in rule.log_types, rule.id


def test_every_signature_type_is_covered(rules: list[Rule]) -> None:
    covered = {rule.finding_type for rule in rules}
    signatures = {name for name, kind in FINDING_TYPES.items() if kind.logic == "Rule"}
    assert signatures - covered == set(NOT_SIGNATURES)
    assert not covered & set(NOT_SIGNATURES)


def test_severity_is_in_the_band_of_the_type(rules: list[Rule]) -> None:
    for rule in rules:
        default = FINDING_TYPES.get(rule.finding_type).severity
        table = rule.severity
        base = table.default if isinstance(table, SeverityTable) else table
        assert label(base) == label(default), rule.id


def test_every_rule_has_positive_and_negative_tests(rules: list[Rule]) -> None:
    for rule in rules:
        assert {test.expect for test in rule.tests} == {"match", "no_match"}, rule.id


def test_mitre_tactics_are_attack_tactics(rules: list[Rule]) -> None:
    tactics = set(SCHEMA["$defs"]["mitre"]["properties"]["tactic"]["enum"])
    assert len(tactics) == 14
    for rule in rules:
        assert rule.tactic in tactics, rule.id


def _mapped(properties: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, spec in properties.items():
        if "properties" in spec:
            yield from _mapped(spec["properties"], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", spec.get("type", "object")


@pytest.fixture(scope="module")
def event_fields() -> dict[str, str]:
    fields: dict[str, str] = {}
    for path in sorted(TEMPLATES.glob("*.json")):
        template = json.loads(path.read_text("utf-8"))
        fields.update(_mapped(template["template"]["mappings"].get("properties", {})))
    return fields


def test_queried_fields_are_mapped_or_declared(
    rules: list[Rule], event_fields: dict[str, str]
) -> None:
    for rule in rules:
        flat = [f for f, kind in rule.requires_fields.items() if kind == "flat_object"]
        for _, field in leaf_clauses(rule.query):
            declared = field in rule.requires_fields or any(field.startswith(f + ".") for f in flat)
            assert field in event_fields or declared, f"{rule.id}: {field} is not mapped"


def test_declared_fields_are_not_yet_mapped_differently(
    rules: list[Rule], event_fields: dict[str, str]
) -> None:
    for rule in rules:
        for field, kind in rule.requires_fields.items():
            assert event_fields.get(field, kind) == kind, f"{rule.id}: {field}"


def test_no_terms_on_ip_fields(rules: list[Rule], event_fields: dict[str, str]) -> None:
    """A terms query on an ip field never matches in the percolator (OpenSearch 2.19.6)."""
    for rule in rules:
        for kind, field in leaf_clauses(rule.query):
            assert not (kind == "terms" and event_fields.get(field) == "ip"), rule.id


def test_pending_tests_wait_for_a_declared_field(rules: list[Rule]) -> None:
    for rule in rules:
        for test in rule.tests:
            if test.pending:
                assert any(field in test.pending for field in rule.requires_fields), test.name


def test_the_catalogue_ships_as_package_data() -> None:
    """setuptools' package-data globs see only package directories: the catalogue is one."""
    assert (CATALOGUE / "__init__.py").is_file()
    assert (CATALOGUE.parent / "schema.json").is_file()
