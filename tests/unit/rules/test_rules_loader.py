"""Rule files: every problem of every file is found, named by file, field and expectation."""

from __future__ import annotations

import string
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.detections.rules import RuleValidationError, SeverityTable, check_rules, load_rules
from exporter.detections.rules.loader import load_file
from exporter.detections.rules.model import finding_type_of, slug
from exporter.detections.rules.query import check_query, query_fields

RULE = """\
id: Stealth:IAMUser/PasswordPolicyChange
severity: 2
log_types: [cloudtrail]
mitre: {tactic: Defense Evasion, technique: T1556}
title: "Password policy changed by {user.name}"
description: "{event.action} at {@timestamp}"
query:
  bool:
    filter:
      - term: {event.action: DeleteAccountPasswordPolicy}
tests:
  - name: deleted
    expect: match
    log_type: cloudtrail
    record: {eventName: DeleteAccountPasswordPolicy, eventTime: 2025-03-02T10:00:00Z}
  - name: read
    expect: no_match
    log_type: cloudtrail
    record: {eventName: GetAccountPasswordPolicy, eventTime: 2025-03-02T10:00:00Z}
"""
NAME = "stealth_iamuser_passwordpolicychange.yml"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def edited(**changes: object) -> str:
    data = yaml.safe_load(RULE)
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False)


def problems_of(directory: Path) -> list[str]:
    return check_rules([directory], builtin=False)[1]


def test_a_valid_rule_loads(tmp_path: Path) -> None:
    write(tmp_path, NAME, RULE)
    (rule,) = load_rules([tmp_path], builtin=False)
    assert rule.id == rule.finding_type == "Stealth:IAMUser/PasswordPolicyChange"
    assert rule.severity == 2.0
    assert rule.log_types == ("cloudtrail",)
    assert (rule.tactic, rule.technique) == ("Defense Evasion", "T1556")
    assert [t.expect for t in rule.tests] == ["match", "no_match"]
    assert rule.source == str(tmp_path / NAME)


def test_timestamps_in_records_stay_text(tmp_path: Path) -> None:
    write(tmp_path, NAME, RULE)
    (rule,) = load_rules([tmp_path], builtin=False)
    record = rule.tests[0].record
    assert isinstance(record, dict)
    assert record["eventTime"] == "2025-03-02T10:00:00Z"


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"severity": "high"}, "severity", "expected a severity from 1 to 10, or a table"),
        ({"severity": 11}, "severity", "expected a severity from 1 to 10"),
        ({"sevrity": 2}, "(top level)", "unknown field 'sevrity' (expected one of: id,"),
        ({"query": None}, "(top level)", "missing required field 'query'"),
        ({"id": "not a type"}, "id", "expected a GuardDuty finding type"),
        ({"mitre": {"tactic": "Hacking"}}, "mitre.tactic", "expected a MITRE ATT&CK"),
        ({"mitre": {"tactic": "Impact", "technique": "1485"}}, "mitre.technique", "T1562.008"),
        ({"log_types": []}, "log_types", "expected a list of log type names"),
        ({"resource_role": "VICTIM"}, "resource_role", "expected TARGET or ACTOR"),
    ],
)
def test_schema_problems_name_file_field_and_expectation(
    tmp_path: Path, changes: dict[str, object], field: str, expected: str
) -> None:
    path = write(tmp_path, NAME, edited(**changes))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}: {field}: ")
    assert expected in problem


def test_severity_table(tmp_path: Path) -> None:
    table = {"field": "event.action", "values": {"DeleteAccountPasswordPolicy": 5}, "default": 2}
    write(tmp_path, NAME, edited(severity=table))
    (rule,) = load_rules([tmp_path], builtin=False)
    assert rule.severity == SeverityTable("event.action", {"DeleteAccountPasswordPolicy": 5.0}, 2.0)


def test_a_bad_severity_table_value_is_located(tmp_path: Path) -> None:
    table = {"field": "event.action", "values": {"x": 50}, "default": 2}
    path = write(tmp_path, NAME, edited(severity=table))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}: severity: expected a severity from 1 to 10")


def test_test_problems(tmp_path: Path) -> None:
    tests = yaml.safe_load(RULE)["tests"]
    tests[1]["expect"] = "match"
    tests[0]["log_type"] = "route53"
    path = write(tmp_path, NAME, edited(tests=tests))
    problems = problems_of(tmp_path)
    assert (
        f"{path}: tests[0].log_type: expected one of the rule's log types: cloudtrail"
        in (problems[0])
    )
    assert problems[1] == f"{path}: tests: expected at least one test with expect: no_match"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("&r {eventName: x, self: *r}", "Circular reference detected"),
        ("{eventName: x, size: .nan}", "Out of range float values are not JSON compliant"),
        ("{eventName: x, tags: !!set {a: null}}", "Object of type set is not JSON serializable"),
    ],
)
def test_records_must_be_json(tmp_path: Path, record: str, reason: str) -> None:
    text = RULE.replace(
        "record: {eventName: DeleteAccountPasswordPolicy, eventTime: 2025-03-02T10:00:00Z}",
        f"record: {record}",
    )
    path = write(tmp_path, NAME, text)
    (problem,) = problems_of(tmp_path)
    assert problem == f"{path}: tests[0].record: expected JSON data ({reason})"


def test_unknown_log_type(tmp_path: Path) -> None:
    path = write(tmp_path, NAME, edited(log_types=["cloudtrail", "syslog"]))
    problems = problems_of(tmp_path)
    assert problems[0].startswith(f"{path}: log_types[1]: expected one of: cloudtrail, eks-audit")
    assert "(got 'syslog')" in problems[0]


def test_query_clauses_are_checked(tmp_path: Path) -> None:
    query = {"bool": {"must": [{"match": {"event.action": "x"}}], "filter": {"term": {}}}}
    path = write(tmp_path, NAME, edited(query=query))
    assert problems_of(tmp_path) == [
        f"{path}: query.bool.must[0]: unknown clause 'match' (expected one of: bool, exists, "
        "prefix, range, term, terms, wildcard)",
        f"{path}: query.bool.filter[0].term: expected {{<field>: <value or options>}} with "
        "exactly one field",
    ]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"terms": {"a": []}}, "query.terms.a: expected a non-empty list"),
        ({"range": {"a": 5}}, "query.range.a: expected a value or an object"),
        ({"range": {"a": {"gt": 1, "near": 2}}}, "query.range.a: unknown option 'near'"),
        ({"wildcard": {"a": {"case_insensitive": True}}}, "query.wildcard.a: missing 'value'"),
        ({"exists": {"field": ""}}, "query.exists: expected {field: <dotted field name>}"),
        ({"bool": {"should": [], "boost": 1}}, "query.bool.should: expected at least one"),
        ({"bool": {"minimum_should_match": True}}, "minimum_should_match: expected a number"),
        ({"bool": {"musts": {"term": {"a": 1}}}}, "query.bool: unknown key 'musts'"),
        ({"term": {"a": 1}, "terms": {"b": [1]}}, "query: expected an object with exactly one"),
    ],
)
def test_check_query(query: dict[str, object], problem: str) -> None:
    (found,) = check_query(query)
    assert problem in found


def test_query_fields() -> None:
    query = {
        "bool": {
            "filter": [{"term": {"a.b": "x"}}, {"terms": {"c": [1], "boost": 2}}],
            "should": {"range": {"d": {"gte": 1}}},
            "must_not": [{"exists": {"field": "e"}}, {"wildcard": {"f": "*x*"}}],
        }
    }
    assert query_fields(query) == {"a.b", "c", "d", "e", "f"}


def test_templates_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, NAME, edited(title="open {brace", description="{not a field!}"))
    assert problems_of(tmp_path) == [
        f"{path}: {key}: expected text with {{dotted.field}} or {{a.b|c.d}} placeholders "
        "({{ and }} for literal braces)"
        for key in ("title", "description")
    ]


def test_exists_below_a_flat_object_is_refused(tmp_path: Path) -> None:
    query = {"exists": {"field": "aws.cloudtrail.request_parameters.a.b"}}
    fields = {"aws.cloudtrail.request_parameters": "flat_object"}
    path = write(tmp_path, NAME, edited(query=query, requires_fields=fields))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}: query: exists on 'aws.cloudtrail.request_parameters.a.b'")


def test_file_name_must_match_the_id(tmp_path: Path) -> None:
    path = write(tmp_path, "password.yml", RULE)
    assert problems_of(tmp_path) == [
        f"{path}: file name: expected {NAME} for 'Stealth:IAMUser/PasswordPolicyChange'"
    ]


FAMILY = """\
family: Stealth:IAMUser/PasswordPolicyChange
defaults:
  severity: 2
  log_types: [cloudtrail]
  mitre: {tactic: Defense Evasion}
  title: changed
  description: changed
rules:
"""


def family_rule(rule_id: str, **extra: object) -> str:
    data = {k: v for k, v in yaml.safe_load(RULE).items() if k in ("query", "tests")}
    return yaml.safe_dump([{"id": rule_id, **data, **extra}], sort_keys=False)


def test_a_family_shares_defaults(tmp_path: Path) -> None:
    rules = family_rule("Stealth:IAMUser/PasswordPolicyChange#a")
    rules += family_rule("Stealth:IAMUser/PasswordPolicyChange#b", severity=5)
    write(tmp_path, NAME, FAMILY + textwrap.indent(rules, "  "))
    first, second = load_rules([tmp_path], builtin=False)
    assert (first.id, first.severity, second.severity) == (
        "Stealth:IAMUser/PasswordPolicyChange#a",
        2.0,
        5.0,
    )
    assert first.finding_type == second.finding_type == "Stealth:IAMUser/PasswordPolicyChange"


def test_family_problems_are_located_per_rule(tmp_path: Path) -> None:
    rules = family_rule("Stealth:IAMUser/PasswordPolicyChange#a", severity="x")
    rules += family_rule("Policy:IAMUser/RootCredentialUsage")
    path = write(tmp_path, NAME, FAMILY + textwrap.indent(rules, "  "))
    assert problems_of(tmp_path) == [
        f"{path}: rules[1].id: expected an id containing the family name "
        "'Stealth:IAMUser/PasswordPolicyChange' (got 'Policy:IAMUser/RootCredentialUsage')",
        f"{path}: rules[0].severity: expected a severity from 1 to 10, or a table "
        "{field, values: {value: severity}, default} (got 'x')",
    ]


def test_family_defaults_take_only_shared_fields(tmp_path: Path) -> None:
    text = FAMILY.replace("defaults:\n", "defaults:\n  id: Stealth:IAMUser/PasswordPolicyChange\n")
    path = write(tmp_path, NAME, text + "  - {}\n")
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}: defaults: expected one of: severity, log_types")


def test_every_problem_of_every_file_is_collected(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "sub").mkdir()
    bad_yaml = write(tmp_path, "a.yml", "id: [unclosed\n")
    not_mapping = write(tmp_path, "b.yml", "- 1\n- 2\n")
    bad_rule = write(tmp_path, NAME, edited(severity=0, mitre={"tactic": "x"}))
    first = write(tmp_path / "other", NAME, RULE)
    second = write(tmp_path / "sub", NAME, RULE)
    missing = tmp_path / "missing"
    rules, problems = check_rules([tmp_path, missing], builtin=False)
    assert len(rules) == 2
    assert problems[0] == f"{missing}: not a directory of rule files"
    assert problems[1].startswith(f"{bad_yaml}: line 2: invalid YAML (")
    assert problems[2] == (
        f"{not_mapping}: (top level): expected a mapping (one rule, or a family with rules)"
    )
    assert problems[3].startswith(f"{bad_rule}: mitre.tactic: expected a MITRE ATT&CK")
    assert problems[4].startswith(f"{bad_rule}: severity: expected a severity from 1 to 10")
    assert problems[5] == (
        f"{second}: id: duplicate id 'Stealth:IAMUser/PasswordPolicyChange' (also in {first})"
    )
    assert len(problems) == 6


def test_an_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"id: \xff\xfe\n")
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}: cannot read the file ('utf-8' codec can't decode")


def test_load_rules_raises_one_error_listing_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "id: [unclosed\n")
    write(tmp_path, "b.yml", "just text\n")
    with pytest.raises(RuleValidationError) as caught:
        load_rules([tmp_path], builtin=False)
    assert len(caught.value.problems) == 2
    assert caught.value.message.startswith("2 problem(s) in rule files:\n  ")
    assert caught.value.hint


def test_slug_and_finding_type() -> None:
    assert slug("Stealth:IAMUser/CloudTrailLoggingDisabled") == (
        "stealth_iamuser_cloudtrailloggingdisabled"
    )
    assert slug("Backdoor:EC2/C&CActivity.B!DNS") == "backdoor_ec2_c_cactivity_b_dns"
    assert finding_type_of("Policy:S3/BucketBlockPublicAccessDisabled#put") == (
        "Policy:S3/BucketBlockPublicAccessDisabled"
    )


yaml_text = st.text(alphabet=string.printable, max_size=300)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(sorted(yaml.safe_load(RULE)) + ["x", "rules"]), children)
    ),
    max_leaves=30,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=yaml_text)
def test_any_text_gives_problems_never_exceptions(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, NAME, "")
    path.write_text(text)
    rules, problems = load_file(path)
    assert rules or problems
    assert all(p.startswith(f"{path}: ") for p in problems)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_values)
def test_any_structure_gives_problems_never_exceptions(tmp_path: Path, data: object) -> None:
    path = tmp_path / NAME
    path.write_text(yaml.safe_dump(data))
    rules, problems = load_file(path)
    assert rules or problems


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(yaml.safe_load(RULE))), value=json_values)
def test_any_field_value_gives_problems_never_exceptions(
    tmp_path: Path, key: str, value: object
) -> None:
    path = tmp_path / NAME
    path.write_text(edited(**{key: value}))
    rules, problems = load_file(path)
    assert rules or problems
