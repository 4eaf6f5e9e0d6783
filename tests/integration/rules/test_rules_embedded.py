"""Rules on the real node: embedded tests, installation and percolation of many matches."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from exporter import config
from exporter.cli.context import AppContext
from exporter.cli.rules import app
from exporter.detections.rules import (
    CaseResult,
    Rule,
    RuleTest,
    Status,
    install,
    load_rules,
    match_rules,
    run_tests,
)
from exporter.detections.rules.testing import TEST_INDEX_PREFIX, normalize_record

CATALOGUE = load_rules()
ANONYMOUS = "Kubernetes/SuccessfulAnonymousAccess"


@pytest.fixture(scope="module")
def results(client: OpenSearch) -> dict[str, list[CaseResult]]:
    by_rule: dict[str, list[CaseResult]] = defaultdict(list)
    for result in run_tests(client, CATALOGUE):
        by_rule[result.rule_id].append(result)
    return by_rule


@pytest.mark.parametrize("rule", CATALOGUE, ids=[rule.id for rule in CATALOGUE])
def test_embedded_tests_pass(results: dict[str, list[CaseResult]], rule: Rule) -> None:
    outcomes = results[rule.id]
    assert [r.name for r in outcomes] == [t.name for t in rule.tests]
    assert [f"{r.name}: {r.status} {r.detail}" for r in outcomes if not r.ok] == []


@pytest.fixture
def scratch(client: OpenSearch) -> Iterator[str]:
    """A percolator index for one test (the rules template maps it), deleted by name."""
    name = f"{TEST_INDEX_PREFIX}{uuid.uuid4().hex}"
    yield name
    if client.indices.exists(index=name):
        client.indices.delete(index=name)


def trivial(n: int, value: str = "StopLogging") -> Rule:
    test = RuleTest("t", "match", "cloudtrail", {})
    return Rule(
        id=f"Stealth:IAMUser/CloudTrailLoggingDisabled#r{n:02}",
        finding_type="Stealth:IAMUser/CloudTrailLoggingDisabled",
        severity=2.0,
        log_types=("cloudtrail",),
        query={"term": {"event.action": value}},
        title="t",
        description="d",
        tests=(test, dataclasses.replace(test, expect="no_match")),
    )


def test_one_document_matching_more_than_ten_rules_gets_them_all(
    client: OpenSearch, scratch: str
) -> None:
    rules = [trivial(n) for n in range(15)]
    assert len(install(client, rules, scratch).created) == 15
    documents = [{"event": {"action": "StopLogging"}}, {"event": {"action": "StartLogging"}}]
    matches = match_rules(client, documents, scratch)
    assert matches == [sorted(rule.id for rule in rules), []]
    assert match_rules(client, documents, scratch, log_type="cloudtrail")[0] == matches[0]
    assert match_rules(client, documents, scratch, log_type="route53") == [[], []]


def test_install_is_idempotent(client: OpenSearch, scratch: str) -> None:
    first = install(client, [trivial(1), trivial(2)], scratch)
    assert (first.created, first.ok) == ((trivial(1).id, trivial(2).id), True)
    again = install(client, [trivial(1), trivial(2)], scratch)
    assert (again.created, again.updated, again.unchanged) == ((), (), first.created)
    changed = install(client, [trivial(1, "DeleteTrail")], scratch)
    assert (changed.updated, changed.deleted) == ((trivial(1).id,), (trivial(2).id,))
    assert match_rules(client, [{"event": {"action": "DeleteTrail"}}], scratch) == [[trivial(1).id]]


def test_install_skips_rules_on_unmapped_fields(client: OpenSearch, scratch: str) -> None:
    rule = dataclasses.replace(trivial(3), query={"term": {"no.such.field": "x"}})
    result = install(client, [rule, trivial(4)], scratch)
    assert result.skipped == {rule.id: ("no.such.field",)}
    assert result.created == (trivial(4).id,)
    assert not result.ok


def test_install_adds_fields_the_template_gained(client: OpenSearch, scratch: str) -> None:
    install(client, [trivial(1)], scratch)
    rule = dataclasses.replace(trivial(2), query={"term": {"duskwatch.test.extra": "x"}})
    assert install(client, [rule], scratch).skipped == {rule.id: ("duskwatch.test.extra",)}
    template = f"{scratch}-newer"
    extra = {"duskwatch": {"properties": {"test": {"properties": {"extra": {"type": "keyword"}}}}}}
    client.indices.put_index_template(
        name=template,
        body={
            "index_patterns": [scratch],
            "priority": 500,
            "template": {"mappings": {"properties": extra}},
        },
    )
    try:
        assert install(client, [rule], scratch).created == (rule.id,)
    finally:
        client.indices.delete_index_template(name=template)


def test_the_harness_reports_failures_errors_and_pending(client: OpenSearch) -> None:
    stop = {"eventName": "StopLogging", "eventTime": "2025-03-02T11:04:17Z"}
    tests = (
        RuleTest("ok", "match", "cloudtrail", stop),
        RuleTest("wrong", "no_match", "cloudtrail", stop),
        RuleTest("waits", "no_match", "cloudtrail", stop, pending="a field"),
        RuleTest("unreadable", "match", "cloudtrail", {"eventName": "StopLogging"}),
    )
    unmapped = dataclasses.replace(
        trivial(5), query={"term": {"no.such.field": "x"}}, tests=tests[:1]
    )
    results = run_tests(client, [dataclasses.replace(trivial(6), tests=tests), unmapped])
    assert [(r.name, r.status) for r in results] == [
        ("ok", Status.PASS),
        ("wrong", Status.FAIL),
        ("waits", Status.PENDING),
        ("unreadable", Status.ERROR),
        ("ok", Status.ERROR),
    ]
    assert results[1].detail == "expected no_match, got match"
    assert "eventTime" in results[3].detail
    assert results[4].detail == "the index does not map: no.such.field"
    pending_passes = RuleTest("waits", "match", "cloudtrail", stop, pending="a field")
    (late,) = run_tests(client, [dataclasses.replace(trivial(7), tests=(pending_passes,))])
    assert (late.status, late.detail) == (
        Status.FAIL,
        "passes now: remove its pending note (a field)",
    )


def test_scratch_indices_are_deleted(client: OpenSearch) -> None:
    def scratch_indices() -> set[str]:
        found = client.indices.get(index=f"{TEST_INDEX_PREFIX}*", allow_no_indices=True)
        return set(found)

    before = scratch_indices()
    run_tests(client, [trivial(8)])
    assert scratch_indices() <= before


def test_anonymous_access_tactics_do_not_overlap(client: OpenSearch, scratch: str) -> None:
    family = [rule for rule in CATALOGUE if rule.id.endswith(ANONYMOUS)]
    assert len(family) == 5
    install(client, family, scratch)
    positives = [(r, t) for r in family for t in r.tests if t.expect == "match"]
    documents = [normalize_record(t.log_type, t.record) for _, t in positives]
    matches = match_rules(client, documents, scratch)
    assert matches == [[rule.id] for rule, _ in positives]


def test_cli_rules_test(settings: config.Settings) -> None:
    runner = CliRunner()
    rule_id = "Execution:Kubernetes/ExecInKubeSystemPod"
    ok = runner.invoke(app, ["test", "--id", rule_id], obj=AppContext(settings))
    assert ok.exit_code == 0, ok.output
    assert "kubectl exec into coredns" in ok.output
    unknown = runner.invoke(app, ["test", "--id", "Nope:X/Y"], obj=AppContext(settings))
    assert unknown.exit_code == 1
    assert "no rule with id Nope:X/Y" in str(unknown.exception)
