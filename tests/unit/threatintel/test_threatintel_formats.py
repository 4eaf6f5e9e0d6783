"""List files -> entries: TXT, STIX 2.1, OTX CSV and CSV; bad lines; limits; any input."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.detections.threatintel import formats
from exporter.detections.threatintel.indicators import classify
from exporter.detections.threatintel.model import (
    ENTRY_KINDS,
    LIST_FORMATS,
    Entry,
    Limits,
    ListLimitError,
    ParsedList,
)
from exporter.detections.threatintel.queries import (
    entry_document,
    entry_id,
    ip_prefixes,
    percolator_query,
    prefix_kind,
)
from exporter.errors import DuskwatchError


def indicators(parsed: ParsedList) -> list[str]:
    return [entry.indicator for entry in parsed.entries]


def bad_lines(parsed: ParsedList) -> dict[int, str]:
    return {error.line: error.reason for error in parsed.errors}


# --- one value ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "indicator", "indicator_type"),
    [
        ("198.51.100.7", "198.51.100.7", "ip"),
        (" 8.8.8.8 ", "8.8.8.8", "ip"),
        ("2001:DB8:0:0::1", "2001:db8::1", "ip"),
        ("203.0.113.0/24", "203.0.113.0/24", "cidr"),
        ("203.0.113.9/32", "203.0.113.9", "ip"),
        ("2001:db8::/32", "2001:db8::/32", "cidr"),
        ("0.0.0.0/0", "0.0.0.0/0", "cidr"),
        ("Evil.Example.", "evil.example", "domain"),
        ("*.evil.example", "evil.example", "domain"),
        ("bücher.example", "xn--bcher-kva.example", "domain"),
        ("_dmarc.evil.example", "_dmarc.evil.example", "domain"),
    ],
)
def test_values_are_normalized(value: str, indicator: str, indicator_type: str) -> None:
    assert classify(value) == Entry(indicator, indicator_type)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.1.2.3", "not a public address"),
        ("192.168.0.0/16", "not a public network"),
        ("100.64.1.1", "not a public address"),
        ("fe80::1", "not a public address"),
        ("203.0.113.7/24", "host bits set (did you mean 203.0.113.0/24?)"),
        ("203.0.113.0/33", "not a CIDR network"),
        ("999.1.1.1", "not an IP address, CIDR or domain"),
        ("localhost", "needs 2+ labels"),
        ("http://evil.example/x", "a URL, not an IP address"),
        ("evil..example", "not an IP address, CIDR or domain"),
        ("-evil.example", "not an IP address, CIDR or domain"),
        ("a" * 64 + ".example", "not an IP address, CIDR or domain"),
    ],
)
def test_bad_values_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        classify(value)


def test_kind_restricts_what_a_value_may_be() -> None:
    assert classify("evil.example", "domain").indicator_type == "domain"
    with pytest.raises(ValueError, match="expected an IP address or CIDR"):
        classify("evil.example", "ip")
    with pytest.raises(ValueError, match="expected a domain"):
        classify("198.51.100.7", "domain")


# --- TXT ---------------------------------------------------------------------------------

TXT = """# Example threat list
# version: 1

198.51.100.7
203.0.113.0/24   # a scanner network
evil.example ; inline comment
0.0.0.0 malware.example
127.0.0.1\tphish.example
10.0.0.1
not an indicator
198.51.100.7
203.0.113.5/24
"""


def test_txt_entries_comments_hosts_lines_and_duplicates() -> None:
    parsed = formats.parse(TXT, "txt")
    assert indicators(parsed) == [
        "198.51.100.7",
        "203.0.113.0/24",
        "evil.example",
        "malware.example",
        "phish.example",
    ]
    assert bad_lines(parsed) == {
        9: "not a public address (lists apply to public IPs only)",
        10: "expected one indicator per line",
        12: "host bits set (did you mean 203.0.113.0/24?)",
    }
    assert str(parsed.errors[0]) == (
        "line 9: '10.0.0.1': not a public address (lists apply to public IPs only)"
    )


def test_txt_kind_ip_reports_domains_as_bad_lines() -> None:
    parsed = formats.parse("198.51.100.7\nevil.example\n", "txt", "ip")
    assert indicators(parsed) == ["198.51.100.7"]
    assert bad_lines(parsed) == {2: "expected an IP address or CIDR, not a domain"}


def test_bytes_with_bom_and_bad_utf8() -> None:
    parsed = formats.parse(b"\xef\xbb\xbf198.51.100.7\r\nbad\xff.example\r\n", "txt")
    assert indicators(parsed) == ["198.51.100.7"]
    assert list(bad_lines(parsed)) == [2]


# --- STIX 2.1 ------------------------------------------------------------------------------


def stix_bundle(*patterns: str, **extra: object) -> str:
    objects: list[dict[str, object]] = [
        {"type": "identity", "id": "identity--1", "name": "ACME CERT"},
    ]
    for number, pattern in enumerate(patterns):
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{number}",
                "name": f"threat {number}",
                "pattern": pattern,
                "pattern_type": "stix",
                **extra,
            }
        )
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}, indent=2)


def test_stix_indicators_with_or_and_issubset() -> None:
    text = stix_bundle(
        "[ipv4-addr:value = '198.51.100.7']",
        "[ipv4-addr:value ISSUBSET '203.0.113.0/24' OR ipv6-addr:value = '2001:db8::5']",
        "[domain-name:value = 'C2.Evil.Example'] OR [ipv4-addr:value = '192.0.2.9']",
    )
    parsed = formats.parse(text)
    assert indicators(parsed) == [
        "198.51.100.7",
        "203.0.113.0/24",
        "2001:db8::5",
        "c2.evil.example",
        "192.0.2.9",
    ]
    assert parsed.entries[3].threat_name == "threat 2"
    assert parsed.errors == ()


def test_stix_skips_other_observables_and_reports_unsupported_patterns() -> None:
    text = stix_bundle(
        "[file:hashes.'SHA-256' = 'aa']",
        "[ipv4-addr:value = '198.51.100.7' AND network-traffic:dst_port = 443]",
        "[ipv4-addr:value = '10.0.0.1']",
        "[url:value = 'http://x.example/'] OR [domain-name:value = 'x.example']",
    )
    parsed = formats.parse(text, "stix")
    assert indicators(parsed) == ["x.example"]
    assert parsed.skipped == 1
    reasons = bad_lines(parsed)
    and_line = text.splitlines().index('      "id": "indicator--1",') + 1
    assert "unsupported pattern" in reasons[and_line]
    assert any("not a public address" in r for r in reasons.values())


def test_stix_revoked_and_other_pattern_types_are_skipped() -> None:
    revoked = formats.parse(stix_bundle("[ipv4-addr:value = '198.51.100.7']", revoked=True))
    sigma = formats.parse(stix_bundle("title: x", pattern_type="sigma"))
    assert (revoked.entries, revoked.skipped) == ((), 1)
    assert (sigma.entries, sigma.skipped) == ((), 1)


def test_stix_that_is_not_json_is_one_error_with_its_line() -> None:
    parsed = formats.parse('{"type": "bundle",\n "objects": [\n oops]}', "stix")
    assert parsed.entries == ()
    assert [e.line for e in parsed.errors] == [3]


# --- CSV -----------------------------------------------------------------------------------

OTX = """Indicator type,Indicator,Description
IPv4,198.51.100.7,scanner
CIDR,203.0.113.0/24,
domain,evil.example,"phishing, kit"
hostname,c2.bad.example,c2
URL,http://evil.example/payload,
FileHash-SHA256,aabbcc,
IPv4,evil.example,mislabelled
"""


def test_otx_csv_types_descriptions_and_skipped_types() -> None:
    parsed = formats.parse(OTX, "otx-csv")
    assert indicators(parsed) == [
        "198.51.100.7",
        "203.0.113.0/24",
        "evil.example",
        "c2.bad.example",
    ]
    assert parsed.entries[2].threat_name == "phishing, kit"
    assert parsed.skipped == 2
    assert bad_lines(parsed) == {8: "expected an IP address or CIDR, not a domain"}


def test_otx_csv_needs_its_header() -> None:
    parsed = formats.parse("198.51.100.7,scanner\n", "otx-csv")
    assert parsed.entries == ()
    assert bad_lines(parsed) == {1: "expected a header naming an Indicator column"}


def test_csv_with_category_column_and_kind_filter() -> None:
    text = "ioc,type,category\n198.51.100.7,ip,c2\nevil.example,domain,phishing\nx.example,,nope\n"
    parsed = formats.parse(text, "csv", "domain")
    assert [(e.indicator, e.category) for e in parsed.entries] == [("evil.example", "phishing")]
    assert parsed.skipped == 1
    assert list(bad_lines(parsed)) == [4]


def test_csv_without_header_reads_the_first_column() -> None:
    parsed = formats.parse("198.51.100.7,first seen 2025\nevil.example,x\n,empty\n", "csv")
    assert indicators(parsed) == ["198.51.100.7", "evil.example"]
    assert bad_lines(parsed) == {3: "no indicator in this row"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# c\n198.51.100.7\n", "txt"),
        ('  {"type": "bundle"}', "stix"),
        ("Indicator type,Indicator\n", "csv"),
        ("", "txt"),
    ],
)
def test_sniff_format(text: str, expected: str) -> None:
    assert formats.sniff_format(text) == expected


# --- limits --------------------------------------------------------------------------------


def test_entry_limits_per_list_kind() -> None:
    parsed = formats.parse("198.51.100.1\n198.51.100.2\n198.51.100.3\n")
    limits = Limits(threat_entries=3, trusted_entries=2)
    formats.check_limits(parsed, "threat", limits, "lists/bad.txt")
    with pytest.raises(ListLimitError) as raised:
        formats.check_limits(parsed, "trusted", limits, "lists/ok.txt")
    assert isinstance(raised.value, DuskwatchError)
    expected = "lists/ok.txt: 3 entries, more than the 2 a trusted list may hold"
    assert raised.value.message == expected


def test_guardduty_default_limits() -> None:
    limits = Limits()
    assert (limits.entries("threat"), limits.lists("threat")) == (250_000, 6)
    assert (limits.entries("trusted"), limits.lists("trusted")) == (2_000, 1)
    assert limits.max_bytes == 35 * 1024 * 1024


# --- percolator documents -----------------------------------------------------------------


def test_percolator_queries_and_ids() -> None:
    assert percolator_query(Entry("203.0.113.0/24", "cidr")) == {
        "term": {"duskwatch.ip_prefixes": "203.0.113.0/24"}
    }
    assert percolator_query(Entry("203.0.113.7", "ip")) == {
        "term": {"duskwatch.ip_prefixes": "203.0.113.7/32"}
    }
    assert percolator_query(Entry("evil.example", "domain")) == {
        "term": {"duskwatch.dns.parent_domains": "evil.example"}
    }
    assert entry_id("threat", "bad", "2001:db8::1") == "threat:bad:2001:db8::1"
    document = entry_document(
        Entry("evil.example", "domain", category="phishing", threat_name="kit"),
        list_kind="threat",
        list_name="bad",
        category="custom",
        list_format="csv",
        added_at="2025-03-02T11:00:00.000Z",
    )
    assert (document["category"], document["threat_name"]) == ("phishing", "kit")


# --- any input -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(st.text(), st.binary()),
    list_format=st.sampled_from(LIST_FORMATS),
    kind=st.sampled_from(ENTRY_KINDS),
)
def test_any_input_gives_entries_or_errors_never_an_exception(
    data: str | bytes, list_format: str, kind: str
) -> None:
    parsed = formats.parse(data, list_format, kind)  # type: ignore[arg-type]
    lines = len(formats.decode(data).splitlines())
    assert all(0 <= error.line <= max(lines, 1) for error in parsed.errors)
    for entry in parsed.entries:
        assert classify(entry.indicator) == Entry(entry.indicator, entry.indicator_type)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.ip_addresses().map(str),
            st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9-]{1,10}){0,2}\.[a-z]{2,6}", fullmatch=True),
            st.text(alphabet="abc./:#; 019", max_size=20),
        ),
        max_size=30,
    )
)
def test_txt_every_line_is_an_entry_an_error_or_a_comment(lines: list[str]) -> None:
    parsed = formats.parse("\n".join(lines), "txt")
    accounted = {e.line for e in parsed.errors}
    for number, line in enumerate(lines, start=1):
        body = line.split("#")[0].split(";")[0].strip()
        if body and number not in accounted:
            assert classify(body.split()[-1]).indicator in indicators(parsed)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["type", "objects", "pattern", "pattern_type", "id", "name", "revoked"]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(document=_JSON)
def test_any_json_document_is_read_as_stix_without_an_exception(document: object) -> None:
    parsed = formats.parse(json.dumps(document), "stix")
    assert all(isinstance(error.reason, str) for error in parsed.errors)


def test_ip_prefixes_cover_every_network_of_public_addresses() -> None:
    prefixes = ip_prefixes(["203.0.113.7", "10.0.0.1", "not-an-ip", "2001:db8::1"])
    assert "203.0.113.7/32" in prefixes
    assert "203.0.113.0/24" in prefixes
    assert "0.0.0.0/0" in prefixes
    assert len([p for p in prefixes if "." in p]) == 33
    assert not any(p.startswith("10.0.0.") for p in prefixes)
    assert "2001:db8::1/128" in prefixes


def test_ip_prefixes_limited_to_the_stored_lengths() -> None:
    kinds = frozenset({"v4/32", "v4/24"})
    assert ip_prefixes(["203.0.113.7", "2001:db8::1"], kinds) == [
        "203.0.113.0/24",
        "203.0.113.7/32",
    ]
    assert prefix_kind(Entry("198.51.100.0/24", "cidr")) == "v4/24"
    assert prefix_kind(Entry("evil.example", "domain")) is None
