"""Run rules' embedded tests on a real node: the whole chain, raw record to percolator match.

Each test's raw record goes through its log type's real parser and normalizer; the ECS
documents are percolated against the rules installed in a scratch percolator index
(``duskwatch-rules-test-<uuid>``, which the rules index template maps, plus each rule's
``requires_fields``), deleted by its exact name afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from exporter.detections.rules.compile import install, mapped_fields, match_rules
from exporter.detections.rules.model import Expect, Rule, RuleTest
from exporter.errors import ParseError, StoreError
from exporter.logtypes import LOG_TYPES
from exporter.parsers.base import DeadLetter, Record

TEST_INDEX_PREFIX = "duskwatch-rules-test-"


class Status(StrEnum):
    """The outcome of one embedded test."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    PENDING = "pending"


@dataclass(frozen=True)
class CaseResult:
    """One embedded test's outcome; ``detail`` says why it did not pass."""

    rule_id: str
    name: str
    expect: Expect
    status: Status
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Passed, or failed as its ``pending`` note expects."""
        return self.status in (Status.PASS, Status.PENDING)


def run_tests(client: OpenSearch, rules: Sequence[Rule]) -> list[CaseResult]:
    """The result of every embedded test of ``rules``, in rule then test order."""
    index = f"{TEST_INDEX_PREFIX}{uuid.uuid4().hex}"
    client.indices.create(index=index)
    try:
        return _run(client, index, rules)
    finally:
        client.indices.delete(index=index)


def normalize_record(log_type: str, record: Mapping[str, Any] | str) -> dict[str, Any]:
    """The ECS document of one raw record, read by the log type's parser and normalizer."""
    kind = LOG_TYPES.get(log_type)
    text = record if isinstance(record, str) else json.dumps(record)
    parsed = list(kind.parser.parse(text.encode(), "rule-test"))
    for item in parsed:
        if isinstance(item, DeadLetter):
            raise ParseError(f"the {log_type} parser dead-lettered the record: {item.reason}")
    if len(parsed) != 1 or not isinstance(parsed[0], Record):
        raise ParseError(f"expected one {log_type} record, the parser read {len(parsed)}")
    return kind.normalize(parsed[0])


def _run(client: OpenSearch, index: str, rules: Sequence[Rule]) -> list[CaseResult]:
    _map_required_fields(client, index, rules)
    installed = install(client, rules, index)
    refused = dict(installed.failed)
    for rule_id, fields in installed.skipped.items():
        refused[rule_id] = "the index does not map: " + ", ".join(fields)
    cases = [(rule, test) for rule in rules for test in rule.tests]
    documents: list[dict[str, Any]] = []
    problems: dict[int, str] = {}
    for slot, (_, test) in enumerate(cases):
        try:
            documents.append(normalize_record(test.log_type, test.record))
        except ParseError as exc:
            problems[slot] = exc.message
            documents.append({})
    matches = match_rules(client, documents, index)
    return [
        _judge(rule, test, refused.get(rule.id) or problems.get(slot), rule.id in matches[slot])
        for slot, (rule, test) in enumerate(cases)
    ]


def _judge(rule: Rule, test: RuleTest, problem: str | None, matched: bool) -> CaseResult:
    def result(status: Status, detail: str = "") -> CaseResult:
        return CaseResult(rule.id, test.name, test.expect, status, detail)

    if problem:
        return result(Status.ERROR, problem)
    passed = matched == (test.expect == "match")
    if test.pending:
        if passed:
            return result(Status.FAIL, f"passes now: remove its pending note ({test.pending})")
        return result(Status.PENDING, test.pending)
    if passed:
        return result(Status.PASS)
    return result(Status.FAIL, f"expected {test.expect}, got {'match' if matched else 'no_match'}")


def _map_required_fields(client: OpenSearch, index: str, rules: Sequence[Rule]) -> None:
    """Map the rules' ``requires_fields`` that the template does not map (yet)."""
    mapped = mapped_fields(client, index)
    wanted = {
        name: kind
        for rule in rules
        for name, kind in rule.requires_fields.items()
        if name not in mapped and not any(path.startswith(name + ".") for path in mapped)
    }
    if not wanted:
        return
    try:
        client.indices.put_mapping(index=index, body={"properties": _nested(wanted)})
    except RequestError as exc:
        raise StoreError(f"cannot map the rules' requires_fields {sorted(wanted)}: {exc}") from exc


def _nested(fields: Mapping[str, str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, kind in fields.items():
        *parents, leaf = name.split(".")
        node = properties
        for part in parents:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[leaf] = {"type": kind}
    return properties
