"""The query subset a rule may use, checked clause by clause, and the fields it reads.

Rules are percolator queries, so only exact, cheap, well-understood clauses are allowed:
``bool`` over ``term``, ``terms``, ``prefix``, ``wildcard``, ``exists`` and ``range``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

BOOL_KEYS = ("must", "filter", "should", "must_not")
LEAF_OPTIONS: Mapping[str, frozenset[str]] = {
    "term": frozenset({"value", "case_insensitive", "boost"}),
    "prefix": frozenset({"value", "case_insensitive", "boost"}),
    "wildcard": frozenset({"value", "wildcard", "case_insensitive", "boost"}),
    "range": frozenset({"gt", "gte", "lt", "lte", "format", "boost"}),
}
CLAUSES = ("bool", "exists", "prefix", "range", "term", "terms", "wildcard")
Scalar = (str, int, float, bool)


def check_query(query: Any, where: str = "query") -> list[str]:
    """Every problem of ``query`` (empty when it only uses the allowed clauses)."""
    if not isinstance(query, Mapping) or len(query) != 1:
        return [f"{where}: expected an object with exactly one clause ({', '.join(CLAUSES)})"]
    ((kind, body),) = query.items()
    check = _CHECKS.get(kind)
    if check is None:
        return [f"{where}: unknown clause {kind!r} (expected one of: {', '.join(CLAUSES)})"]
    return check(body, f"{where}.{kind}")


def query_fields(query: Mapping[str, Any]) -> set[str]:
    """The fields a valid query reads."""
    return {name for _, name in leaf_clauses(query)}


def leaf_clauses(query: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(clause kind, field) of every leaf clause of a valid query."""
    for kind, body in query.items():
        if kind == "bool":
            for key in BOOL_KEYS:
                for clause in _as_list(body.get(key, [])):
                    yield from leaf_clauses(clause)
        elif kind == "exists":
            yield kind, body["field"]
        else:
            yield from ((kind, name) for name in body if name != "boost")


def _check_bool(body: Any, where: str) -> list[str]:
    if not isinstance(body, Mapping) or not body:
        return [f"{where}: expected an object with {', '.join(BOOL_KEYS)}"]
    problems = []
    for key, value in body.items():
        if key == "minimum_should_match":
            if not isinstance(value, int | str) or isinstance(value, bool):
                problems.append(f"{where}.{key}: expected a number or a percentage")
        elif key in BOOL_KEYS:
            clauses = _as_list(value)
            if not clauses:
                problems.append(f"{where}.{key}: expected at least one clause")
            for i, clause in enumerate(clauses):
                problems += check_query(clause, f"{where}.{key}[{i}]")
        elif key != "boost":
            expected = ", ".join((*BOOL_KEYS, "minimum_should_match"))
            problems.append(f"{where}: unknown key {key!r} (expected one of: {expected})")
    return problems


def _check_exists(body: Any, where: str) -> list[str]:
    if not isinstance(body, Mapping) or set(body) != {"field"} or not _is_field(body["field"]):
        return [f"{where}: expected {{field: <dotted field name>}}"]
    return []


def _check_terms(body: Any, where: str) -> list[str]:
    names = [k for k in body if k != "boost"] if isinstance(body, Mapping) else []
    if len(names) != 1 or not _is_field(names[0]):
        return [f"{where}: expected {{<field>: [values]}} with exactly one field"]
    values = body[names[0]]
    if not isinstance(values, list) or not values or not all(_is_scalar(v) for v in values):
        return [f"{where}.{names[0]}: expected a non-empty list of strings or numbers"]
    return []


def _leaf_check(kind: str) -> Callable[[Any, str], list[str]]:
    def check(body: Any, where: str) -> list[str]:
        if not isinstance(body, Mapping) or len(body) != 1:
            return [f"{where}: expected {{<field>: <value or options>}} with exactly one field"]
        ((name, spec),) = body.items()
        if not _is_field(name):
            return [f"{where}: {name!r} is not a dotted field name"]
        if kind != "range" and _is_scalar(spec):
            return []
        return _check_options(kind, spec, f"{where}.{name}")

    return check


def _check_options(kind: str, spec: Any, where: str) -> list[str]:
    allowed = LEAF_OPTIONS[kind]
    if not isinstance(spec, Mapping) or not spec:
        return [f"{where}: expected a value or an object of {', '.join(sorted(allowed))}"]
    unknown = sorted(set(spec) - allowed)
    if unknown:
        return [f"{where}: unknown option {unknown[0]!r} (expected {', '.join(sorted(allowed))})"]
    bad = [k for k, v in spec.items() if not _is_scalar(v)]
    if bad:
        return [f"{where}.{bad[0]}: expected a string, number or boolean"]
    if kind != "range" and not {"value", "wildcard"} & set(spec):
        return [f"{where}: missing 'value'"]
    return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_field(name: Any) -> bool:
    return isinstance(name, str) and bool(name) and "" not in name.split(".")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, Scalar)


_CHECKS: Mapping[str, Callable[[Any, str], list[str]]] = {
    "bool": _check_bool,
    "exists": _check_exists,
    "terms": _check_terms,
    **{kind: _leaf_check(kind) for kind in LEAF_OPTIONS},
}
