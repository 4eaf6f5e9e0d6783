"""Rule files -> :class:`Rule` objects, with every problem of every file collected.

A file holds one rule, or a family (``family``, shared ``defaults``, ``rules``). It is checked
against ``schema.json``, then for what a schema cannot say: the query's clauses, known log
types, tests that match and tests that do not, templates, the file name (``slug`` of the
family or of the finding type) and ids unique across all files. Each problem names the file,
the field and what was expected; nothing here raises on bad input except :func:`load_rules`,
which raises one :class:`RuleValidationError` listing them all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from exporter.detections.rules.model import (
    Rule,
    RuleTest,
    SeverityTable,
    finding_type_of,
    slug,
)
from exporter.detections.rules.query import check_query, leaf_clauses
from exporter.errors import DuskwatchError
from exporter.logtypes import LOG_TYPES

CATALOGUE = Path(__file__).resolve().with_name("catalogue")
SUFFIXES = (".yml", ".yaml")
_PLACEHOLDERS = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


class RuleValidationError(DuskwatchError):
    """One or more rule files are invalid; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in rule files:\n{listing}",
            hint="fix the files above (duskwatch rules validate lists them all)",
        )
        self.problems = problems


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps timestamps as text, as they are in JSON logs."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


SCHEMA = _schema()
_FILE_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
_FIELD = re.compile(SCHEMA["$defs"]["field"]["pattern"])
_RULE_VALIDATOR = jsonschema.Draft202012Validator(
    {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/rule"}
)


def load_rules(dirs: Iterable[str | Path] = (), *, builtin: bool = True) -> list[Rule]:
    """Every rule of the catalogue (unless ``builtin`` is false) and of ``dirs``."""
    rules, problems = check_rules(dirs, builtin=builtin)
    if problems:
        raise RuleValidationError(problems)
    return rules


def check_rules(
    dirs: Iterable[str | Path] = (), *, builtin: bool = True
) -> tuple[list[Rule], list[str]]:
    """The valid rules and every problem found, across all files."""
    files, problems = rule_files([*([CATALOGUE] if builtin else []), *map(Path, dirs)])
    rules: list[Rule] = []
    for path in files:
        found, file_problems = load_file(path)
        rules += found
        problems += file_problems
    return rules, problems + _duplicates(rules)


def rule_files(dirs: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The rule files under ``dirs`` (recursively, sorted), and the dirs that do not exist."""
    files: list[Path] = []
    problems: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            problems.append(f"{directory}: not a directory of rule files")
            continue
        files += sorted(p for p in directory.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return files, problems


def load_file(path: Path) -> tuple[list[Rule], list[str]]:
    """The rules of one file, or the problems that keep them out."""
    data, problem = _read_yaml(path)
    if problem is not None:
        return [], [f"{path}: {problem}"]
    try:
        return _file_rules(path, data)
    except RecursionError:
        return [], [f"{path}: (top level): expected a rule, not a self-referencing structure"]


def _read_yaml(path: Path) -> tuple[Any, str | None]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read the file ({exc})"
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        return None, f"{line}invalid YAML ({exc.problem or exc.context})"
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return None, f"invalid YAML ({type(exc).__name__}: {exc})"
    if not isinstance(data, dict):
        return None, "(top level): expected a mapping (one rule, or a family with rules)"
    return data, None


def _file_rules(path: Path, data: dict[str, Any]) -> tuple[list[Rule], list[str]]:
    problems = _schema_problems(_FILE_VALIDATOR, data, path, ())
    if problems:
        return [], problems
    family: str | None = data.get("family")
    entries = _entries(data)
    problems += _file_name_problems(path, family, entries)
    rules = []
    for where, raw in entries:
        found = _schema_problems(_RULE_VALIDATOR, raw, path, where) if family else []
        found = found or _rule_problems(raw, path, where)
        problems += found
        if not found:
            rules.append(_build(raw, str(path)))
    return rules, problems


def _entries(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    if "rules" not in data:
        return [((), data)]
    defaults = data.get("defaults", {})
    return [(("rules", i), {**defaults, **rule}) for i, rule in enumerate(data["rules"])]


def _schema_problems(
    validator: jsonschema.Draft202012Validator,
    data: Any,
    path: Path,
    where: tuple[str | int, ...],
) -> list[str]:
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{path}: {_location((*where, *e.absolute_path))}: {_describe(e)}" for e in errors]


def _describe(error: jsonschema.ValidationError) -> str:
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    if error.validator == "required" and isinstance(instance, Mapping):
        missing = [k for k in schema.get("required", []) if k not in instance]
        return f"missing required field {', '.join(map(repr, missing))}"
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        known = schema.get("properties", {})
        unknown = ", ".join(repr(k) for k in instance if k not in known)
        return f"unknown field {unknown} (expected one of: {', '.join(known)})"
    expected = schema.get("description") or _expected(schema)
    return f"expected {expected} (got {_short(instance)})"


def _expected(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "one of: " + ", ".join(map(str, schema["enum"]))
    if "minItems" in schema:
        return f"at least {schema['minItems']} item(s)"
    if "minProperties" in schema:
        return f"at least {schema['minProperties']} entry(ies)"
    kinds = schema.get("type", "a valid value")
    return " or ".join(kinds) if isinstance(kinds, list) else str(kinds)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _location(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def _file_name_problems(
    path: Path, family: str | None, entries: list[tuple[tuple[str | int, ...], dict[str, Any]]]
) -> list[str]:
    problems = []
    if family is not None:
        for where, raw in entries:
            rule_id = raw.get("id")
            if isinstance(rule_id, str) and family not in rule_id:
                problems.append(
                    f"{path}: {_location((*where, 'id'))}: expected an id containing the family "
                    f"name {family!r} (got {rule_id!r})"
                )
    name = family if family is not None else entries[0][1].get("id")
    if isinstance(name, str) and path.stem != slug(finding_type_of(name)):
        problems.append(
            f"{path}: file name: expected {slug(finding_type_of(name))}{path.suffix} for {name!r}"
        )
    return problems


def _rule_problems(raw: dict[str, Any], path: Path, where: tuple[str | int, ...]) -> list[str]:
    def at(*parts: str | int) -> str:
        return f"{path}: {_location((*where, *parts))}"

    problems = [f"{path}: {p}" for p in check_query(raw["query"], _location((*where, "query")))]
    if not problems:
        problems += [f"{at('query')}: {p}" for p in _flat_exists(raw)]
    known = LOG_TYPES.names()
    for i, name in enumerate(raw["log_types"]):
        if name not in known:
            expected = ", ".join(known)
            problems.append(f"{at('log_types', i)}: expected one of: {expected} (got {name!r})")
    for key in ("title", "description"):
        if not _template_ok(raw[key]):
            problems.append(
                f"{at(key)}: expected text with {{dotted.field}} or {{a.b|c.d}} placeholders "
                "({{ and }} for literal braces)"
            )
    return problems + _test_problems(raw, at)


def _template_ok(template: str) -> bool:
    names = [
        name.strip()
        for match in _PLACEHOLDERS.finditer(template)
        if match.group(1) is not None
        for name in match.group(1).split("|")
    ]
    leftover = _PLACEHOLDERS.sub("", template)
    return "{" not in leftover and "}" not in leftover and all(_FIELD.match(n) for n in names)


def _flat_exists(raw: Mapping[str, Any]) -> list[str]:
    """``exists`` below the first level of a flat_object matches nothing (OpenSearch 2.19)."""
    flat = [n for n, kind in raw.get("requires_fields", {}).items() if kind == "flat_object"]
    return [
        f"exists on {name!r} cannot work (flat_object sees only first-level keys); "
        "use wildcard: {<field>: '*'}"
        for kind, name in leaf_clauses(raw["query"])
        for parent in flat
        if kind == "exists" and name.startswith(parent + ".") and "." in name[len(parent) + 1 :]
    ]


def _test_problems(raw: dict[str, Any], at: Callable[..., str]) -> list[str]:
    problems = []
    for i, test in enumerate(raw["tests"]):
        try:
            json.dumps(test["record"], allow_nan=False)
        except (ValueError, TypeError, RecursionError) as exc:
            problems.append(f"{at('tests', i, 'record')}: expected JSON data ({exc})")
        if test["log_type"] not in raw["log_types"]:
            rule_types = ", ".join(raw["log_types"])
            problems.append(
                f"{at('tests', i, 'log_type')}: expected one of the rule's log types: "
                f"{rule_types} (got {test['log_type']!r})"
            )
    for expect in ("match", "no_match"):
        if not any(test["expect"] == expect for test in raw["tests"]):
            problems.append(f"{at('tests')}: expected at least one test with expect: {expect}")
    return problems


def _build(raw: Mapping[str, Any], source: str) -> Rule:
    severity = raw["severity"]
    return Rule(
        id=raw["id"],
        finding_type=finding_type_of(raw["id"]),
        severity=(
            SeverityTable(
                severity["field"],
                {k: float(v) for k, v in severity["values"].items()},
                float(severity["default"]),
            )
            if isinstance(severity, Mapping)
            else float(severity)
        ),
        log_types=tuple(raw["log_types"]),
        query=raw["query"],
        title=raw["title"],
        description=raw["description"],
        resource_role=raw.get("resource_role", "TARGET"),
        key_fields=tuple(raw.get("key_fields", ())),
        tactic=raw["mitre"]["tactic"],
        technique=raw["mitre"].get("technique"),
        requires_fields=dict(raw.get("requires_fields", {})),
        tests=tuple(
            RuleTest(t["name"], t["expect"], t["log_type"], t["record"], t.get("pending"))
            for t in raw["tests"]
        ),
        source=source,
    )


def _duplicates(rules: list[Rule]) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for rule in rules:
        if rule.id in seen:
            other = seen[rule.id]
            problems.append(f"{rule.source}: id: duplicate id {rule.id!r} (also in {other})")
        seen.setdefault(rule.id, rule.source)
    return problems
