"""Offline country lookup: public addresses get their RIR country, others none; ECS geo on
both sides of an event; GuardDuty's country object."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.findings.fields import ip_details
from exporter.normalize.geo import add_geo, country_code, country_details, country_name


@pytest.mark.parametrize(
    ("ip", "code"),
    [
        ("8.8.8.8", "US"),
        ("1.0.16.1", "JP"),
        ("2a00:1450:4001:80b::200e", "IE"),
        ("10.0.0.1", None),
        ("192.0.2.10", None),
        ("198.51.100.7", None),
        ("2001:db8::1", None),
        ("169.254.169.254", None),
        ("not-an-address", None),
    ],
)
def test_country_code(ip: str, code: str | None) -> None:
    assert country_code(ip) == code


def test_country_names() -> None:
    assert country_name("US") == "United States"
    assert country_name("KR") == "South Korea"
    assert country_name("ZZ") == "ZZ"


def test_add_geo_sets_each_side_with_a_country_and_keeps_existing_values() -> None:
    doc: dict[str, Any] = {
        "source": {"ip": "1.0.16.1", "port": 443},
        "destination": {"ip": "10.0.1.5", "geo": {"city_name": "Dublin"}},
    }
    add_geo(doc)
    assert doc["source"]["geo"] == {"country_iso_code": "JP", "country_name": "Japan"}
    assert doc["destination"] == {"ip": "10.0.1.5", "geo": {"city_name": "Dublin"}}

    given: dict[str, Any] = {"source": {"ip": "8.8.8.8", "geo": {"country_iso_code": "CA"}}}
    add_geo(given)
    assert given["source"]["geo"] == {"country_iso_code": "CA", "country_name": "Canada"}


def test_add_geo_ignores_documents_without_addresses() -> None:
    doc: dict[str, Any] = {"source": {"address": "ec2.amazonaws.com"}, "destination": "x"}
    add_geo(doc)
    assert doc == {"source": {"address": "ec2.amazonaws.com"}, "destination": "x"}


def test_remote_ip_details_carry_the_country() -> None:
    assert country_details("8.8.8.8") == {"countryCode": "US", "countryName": "United States"}
    assert ip_details("8.8.8.8") == {
        "ipAddressV4": "8.8.8.8",
        "country": {"countryCode": "US", "countryName": "United States"},
    }
    assert ip_details("198.51.100.7") == {"ipAddressV4": "198.51.100.7"}
    assert ip_details("2001:db8::1") == {"ipAddressV6": "2001:db8::1"}
