"""A reference reader of CEF lines, independent of the formatter it checks (shared by the
syslog format and delivery tests)."""

from __future__ import annotations

import re


def parse_cef(line: str) -> tuple[list[str], dict[str, str]]:
    """A reference CEF reader: 7 header fields (``\\|`` and ``\\\\`` unescaped) and extensions."""
    header: list[str] = []
    field, i = "", 0
    while len(header) < 7:
        ch = line[i]
        if ch == "\\" and line[i + 1] in "|\\":
            field, i = field + line[i + 1], i + 2
            continue
        if ch == "|":
            header.append(field)
            field = ""
        else:
            field += ch
        i += 1
    rest = line[i:]
    keys = list(re.finditer(r"(?:^| )([A-Za-z0-9_]+)=", rest))
    extensions: dict[str, str] = {}
    for n, match in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(rest)
        raw = rest[match.end() : end]
        extensions[match.group(1)] = re.sub(
            r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), raw
        )
    return header, extensions
