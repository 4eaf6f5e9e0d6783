"""Syslog: CEF and LEEF formatting and escaping, RFC 5424 header, octet-counting framing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from cef_reader import parse_cef

from exporter.export.destination import Delivery
from exporter.export.destinations.syslog import (
    SyslogDestination,
    UdpTransport,
    cef,
    cef_header,
    cef_value,
    leef,
    octet_frame,
    rfc5424,
)
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings

RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+)"
    r" (?P<msgid>\S+) (?P<sd>-) (?P<msg>.*)$",
    re.S,
)


def finding(kind: str = "UnauthorizedAccess:EC2/SSHBruteForce") -> dict[str, Any]:
    [found] = sample_findings(
        [kind],
        now=datetime(2025, 3, 2, tzinfo=UTC),
        detector_id="d" * 32,
        account="111122223333",
        region="eu-west-1",
    )
    return to_guardduty(found)


def test_cef_header_and_extensions() -> None:
    f = finding()
    header, ext = parse_cef(cef(f, "ev-1"))
    assert header == ["CEF:0", "Amazon", "GuardDuty", "2.0", f["type"], f["title"], "2"]
    assert ext["src"] == "198.51.100.1"
    assert ext["dpt"] == "22"
    assert ext["externalId"] == f["id"]
    assert (ext["cs1Label"], ext["cs1"]) == ("accountId", "111122223333")
    assert (ext["cs6Label"], ext["cs6"]) == ("eventId", "ev-1")
    assert ext["rt"] == str(int(datetime(2025, 3, 2, tzinfo=UTC).timestamp() * 1000))
    assert ext["msg"] == f["description"]


def test_cef_escaping_round_trips() -> None:
    f = finding()
    f["title"] = "pipe | back\\slash"
    f["description"] = "a=b \\ c\nnext line | pipe"
    line = cef(f, "ev-1")
    assert "\n" not in line
    header, ext = parse_cef(line)
    assert header[5] == "pipe | back\\slash"
    assert ext["msg"] == "a=b \\ c\nnext line | pipe"
    assert cef_header("a|b\\c\nd") == "a\\|b\\\\c d"
    assert cef_value("k=v\\\r\n") == "k\\=v\\\\\\n"


def test_leef_is_tab_delimited() -> None:
    f = finding("UnauthorizedAccess:IAMUser/MaliciousIPCaller")
    f["description"] = "tab\there\nnewline"
    line = leef(f, "ev-2")
    head, _, body = line.partition("|x09|")
    assert head == f"LEEF:2.0|Amazon|GuardDuty|2.0|{f['type']}"
    attrs = dict(pair.split("=", 1) for pair in body.split("\t"))
    assert attrs["src"] == "198.51.100.1"
    assert attrs["usrName"] == "GeneratedFindingUserName"
    assert attrs["sev"] == "5"
    assert attrs["msg"] == "tab here newline"
    assert attrs["eventId"] == "ev-2"


@pytest.mark.parametrize(
    ("severity", "pri"),
    [(2.0, 16 * 8 + 5), (5.0, 16 * 8 + 4), (8.0, 16 * 8 + 3), (9.5, 16 * 8 + 2)],
)
def test_rfc5424_header(severity: float, pri: int) -> None:
    message = rfc5424(
        "CEF:0|x", severity=severity, timestamp="2025-03-02T11:18:44.202Z", hostname="sensor 1"
    )
    match = RFC5424.match(message.decode())
    assert match is not None
    assert int(match["pri"]) == pri
    assert match["ts"] == "2025-03-02T11:18:44.202Z"
    assert match["host"] == "sensor1"
    assert match["app"] == "duskwatch"
    assert match["msgid"] == "finding"
    assert match["msg"] == "CEF:0|x"


def test_facility_changes_pri() -> None:
    message = rfc5424("x", severity=2.0, timestamp="t", hostname="h", facility="auth")
    assert message.startswith(b"<37>1 ")


def test_octet_counting_counts_bytes() -> None:
    message = "é|x".encode()
    assert octet_frame(message) == b"4 " + message


def test_destination_message_uses_configured_format() -> None:
    dest = SyslogDestination("s", UdpTransport("127.0.0.1", 9), format="leef", hostname="h")
    assert b" LEEF:2.0|Amazon|GuardDuty|" in dest.message(Delivery("ev", finding()))
