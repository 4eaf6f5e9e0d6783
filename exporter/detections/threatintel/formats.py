"""List files -> entries: TXT, STIX 2.1 bundles, OTX CSV and generic CSV.

PURE. :func:`parse` never raises on content: every bad line becomes a :class:`ListError`
with its line number, and parsing goes on; duplicates collapse to the first occurrence.

- **txt**: one IP, CIDR or domain per line; ``#`` and ``;`` start comments; hosts-file lines
  (``0.0.0.0 evil.example``, ``127.0.0.1 evil.example``) give their host name.
- **stix**: a STIX 2.1 bundle (or one object, or a list of objects); ``indicator`` objects
  with ``pattern_type`` ``stix`` whose pattern compares ``ipv4-addr:value``,
  ``ipv6-addr:value`` or ``domain-name:value`` with ``=`` or ``ISSUBSET``, alone or joined
  by ``OR``; the indicator's ``name`` becomes the threat name. Other objects are ignored;
  revoked indicators and indicators on other observables (file hashes, URLs) are skipped;
  patterns with ``AND``, ``FOLLOWEDBY``, qualifiers or other operators are errors.
- **otx-csv** / **csv**: a header row naming the indicator column (``Indicator``,
  ``indicator``, ``ioc``, ``value`` ...), optionally a type column (``Indicator type``,
  ``type``: IPv4, IPv6, CIDR, domain, hostname ...; other types such as URL or FileHash-* are
  skipped), a description column (the threat name) and a ``category`` column (overrides the
  list's category per entry). OTX CSV requires the header; a generic CSV without one is
  read from its first column.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from exporter.detections.threatintel.indicators import classify
from exporter.detections.threatintel.model import (
    CATEGORIES,
    Entry,
    EntryKind,
    Limits,
    ListError,
    ListFormat,
    ListKind,
    ListLimitError,
    ParsedList,
)

HOSTS_SINKS = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1"})
INDICATOR_COLUMNS = frozenset(
    {"indicator", "ioc", "value", "ioc_value", "indicator_value", "observable", "ip", "domain"}
    | {"ip_address", "ipaddress", "address", "hostname", "host"}
)
TYPE_COLUMNS = frozenset({"indicator type", "indicator_type", "type", "ioc_type", "kind"})
NAME_COLUMNS = frozenset({"description", "name", "threat", "threat_name", "malware", "title"})
CATEGORY_COLUMNS = frozenset({"category", "list_category"})
#: Declared indicator types (CSV type column, STIX object) -> entry kind; others are skipped.
DECLARED_TYPES: Mapping[str, EntryKind] = {
    **dict.fromkeys(("ipv4", "ipv6", "ip", "ip-dst", "ip-src", "ipv4-addr", "ipv6-addr"), "ip"),
    **dict.fromkeys(("cidr", "ipv4-cidr", "ipv6-cidr", "netblock", "ip address"), "ip"),
    **dict.fromkeys(("domain", "hostname", "fqdn", "domain-name", "domain name"), "domain"),
}
_COMPARISON = re.compile(
    r"(ipv4-addr|ipv6-addr|domain-name):value\s*(?:=|ISSUBSET)\s*'((?:[^'\\]|\\.)*)'"
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
_UNSUPPORTED = re.compile(
    r"\b(?:AND|FOLLOWEDBY|NOT|WITHIN|REPEATS|START|STOP|MATCHES|LIKE|ISSUPERSET|IN)\b|!=|[<>]"
)


class _Collector:
    """Accumulates distinct entries (first occurrence wins), errors and skipped items."""

    def __init__(self, kind: EntryKind) -> None:
        self.kind = kind
        self.entries: dict[str, Entry] = {}
        self.errors: list[ListError] = []
        self.skipped = 0

    def add(self, line: int, value: str, kind: EntryKind | None = None, **extra: Any) -> None:
        """Classify ``value``; keep it, or record why not."""
        try:
            entry = classify(value, kind or self.kind)
        except ValueError as exc:
            self.errors.append(ListError(line, value.strip(), str(exc)))
            return
        entry = Entry(entry.indicator, entry.indicator_type, **extra)
        self.entries.setdefault(entry.indicator, entry)

    def error(self, line: int, value: str, reason: str) -> None:
        """Record a bad line."""
        self.errors.append(ListError(line, value, reason))

    def result(self) -> ParsedList:
        """The parsed list."""
        return ParsedList(tuple(self.entries.values()), tuple(self.errors), self.skipped)


def decode(data: bytes | str) -> str:
    """Text of a list file: UTF-8 (a BOM is dropped); undecodable bytes become U+FFFD."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    return data.decode("utf-8-sig", errors="replace")


def sniff_format(text: str) -> ListFormat:
    """The likely format of ``text``: JSON is STIX, a comma in the first data line is CSV."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith(("{", "[")):
            return "stix"
        return "csv" if "," in line else "txt"
    return "txt"


def parse(
    data: bytes | str, list_format: ListFormat | None = None, kind: EntryKind = "auto"
) -> ParsedList:
    """The entries of a list file; ``list_format`` None sniffs it."""
    text = decode(data)
    chosen = list_format or sniff_format(text)
    parsers: Mapping[ListFormat, Callable[[str, EntryKind], ParsedList]] = {
        "txt": parse_txt,
        "stix": parse_stix,
        "otx-csv": parse_otx_csv,
        "csv": parse_csv,
    }
    return parsers[chosen](text, kind)


def parse_txt(text: str, kind: EntryKind = "auto") -> ParsedList:
    """One indicator per line; comments, blank lines and hosts-file lines handled."""
    collector = _Collector(kind)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#;]", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        if len(tokens) == 2 and tokens[0] in HOSTS_SINKS:
            tokens = tokens[1:]
        if len(tokens) != 1:
            collector.error(number, line, "expected one indicator per line")
            continue
        collector.add(number, tokens[0])
    return collector.result()


def parse_otx_csv(text: str, kind: EntryKind = "auto") -> ParsedList:
    """OTX CSV: a header naming the indicator column is required."""
    return _parse_csv(text, kind, header_required=True)


def parse_csv(text: str, kind: EntryKind = "auto") -> ParsedList:
    """Generic CSV: header optional (without one, the first column holds the indicators)."""
    return _parse_csv(text, kind, header_required=False)


def _parse_csv(text: str, kind: EntryKind, *, header_required: bool) -> ParsedList:
    collector = _Collector(kind)
    columns: dict[str, int] | None = None
    for number, row in _csv_rows(text, collector):
        if columns is None:
            columns = _header(row)
            if columns:
                continue
            if header_required:
                reason = "expected a header naming an Indicator column"
                collector.error(number, ",".join(row), reason)
                break
            columns = {"indicator": 0}
        _csv_row(collector, number, row, columns)
    return collector.result()


def _csv_rows(text: str, collector: _Collector) -> Iterable[tuple[int, list[str]]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            row = next(csv.reader([raw]))
        except (csv.Error, StopIteration) as exc:
            collector.error(number, raw, f"not a CSV row ({exc})")
            continue
        yield number, [cell.strip() for cell in row]


def _header(row: Sequence[str]) -> dict[str, int]:
    """Column roles named by a header row ({} when the row is data)."""
    roles = {
        "indicator": INDICATOR_COLUMNS,
        "type": TYPE_COLUMNS,
        "name": NAME_COLUMNS,
        "category": CATEGORY_COLUMNS,
    }
    found: dict[str, int] = {}
    for position, cell in enumerate(row):
        name = cell.lower()
        for role, names in roles.items():
            if name in names and role not in found:
                found[role] = position
                break
    return found if "indicator" in found else {}


def _csv_row(collector: _Collector, number: int, row: list[str], columns: dict[str, int]) -> None:
    def cell(role: str) -> str:
        position = columns.get(role)
        return row[position] if position is not None and position < len(row) else ""

    value = cell("indicator")
    if not value:
        collector.error(number, ",".join(row), "no indicator in this row")
        return
    category = cell("category").lower() or None
    if category is not None and category not in CATEGORIES:
        collector.error(number, category, f"unknown category (expected one of {_known()})")
        return
    declared = cell("type").lower()
    kind = _declared_kind(collector, declared) if declared else collector.kind
    if kind is not None:
        collector.add(number, value, kind, category=category, threat_name=cell("name") or None)


def _declared_kind(collector: _Collector, declared: str) -> EntryKind | None:
    """The kind a declared type asks for; None (skipped) for other types or another kind."""
    kind = DECLARED_TYPES.get(declared)
    if kind is None or collector.kind not in ("auto", kind):
        collector.skipped += 1
        return None
    return kind


def _known() -> str:
    return ", ".join(CATEGORIES)


def parse_stix(text: str, kind: EntryKind = "auto") -> ParsedList:
    """IP, CIDR and domain indicators of a STIX 2.1 bundle."""
    collector = _Collector(kind)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        last_line = max(len(text.splitlines()), 1)  # an error at the very end: the last line
        collector.error(min(exc.lineno, last_line), "", f"not JSON ({exc.msg})")
        return collector.result()
    except RecursionError:
        collector.error(0, "", "not JSON (nested too deeply)")
        return collector.result()
    if not isinstance(document, dict | list):
        collector.error(0, "", "not a STIX bundle (expected a JSON object or array)")
    for position, obj in enumerate(_stix_objects(document)):
        if isinstance(obj, dict) and obj.get("type") == "indicator":
            _stix_indicator(collector, text, position, obj)
    return collector.result()


def _stix_objects(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        objects = document.get("objects")
        return objects if isinstance(objects, list) else [document]
    return []


def _stix_indicator(collector: _Collector, text: str, position: int, obj: dict[str, Any]) -> None:
    ident = str(obj.get("id") or f"objects[{position}]")
    found = text.find(json.dumps(ident)) if obj.get("id") else -1
    line = text.count("\n", 0, found) + 1 if found >= 0 else 0
    pattern = obj.get("pattern")
    if obj.get("revoked") is True or obj.get("pattern_type", "stix") != "stix":
        collector.skipped += 1
        return
    if not isinstance(pattern, str):
        collector.error(line, ident, "indicator without a pattern")
        return
    if _UNSUPPORTED.search(_QUOTED.sub("''", pattern)):
        reason = "unsupported pattern (only = / ISSUBSET comparisons joined by OR)"
        collector.error(line, pattern, reason)
        return
    comparisons = _COMPARISON.findall(pattern)
    if not comparisons:
        collector.skipped += 1
        return
    name = obj.get("name") if isinstance(obj.get("name"), str) else None
    for observable, value in comparisons:
        declared = _declared_kind(collector, observable)
        if declared is not None:
            collector.add(line, value.replace("\\'", "'"), declared, threat_name=name)


def check_limits(parsed: ParsedList, list_kind: ListKind, limits: Limits, source: str) -> None:
    """ListLimitError when ``parsed`` holds more entries than a list of its kind may."""
    limit = limits.entries(list_kind)
    if len(parsed.entries) > limit:
        raise ListLimitError(
            f"{source}: {len(parsed.entries):,} entries, more than the {limit:,} "
            f"a {list_kind} list may hold",
            hint="split the list into several lists, or raise the limit",
        )
