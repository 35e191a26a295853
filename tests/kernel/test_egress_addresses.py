"""Which addresses egress refuses, and how allowed-host entries are read."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from pydantic import ValidationError

from mercato.kernel.egress import refusal_reason
from mercato.kernel.hostnames import canonical_host, parse_host_entry
from mercato.settings import Settings

REFUSED = {
    # IPv4
    "0.0.0.0": "this network",
    "0.1.2.3": "this network",
    "10.1.2.3": "private",
    "100.64.0.1": "CGNAT",
    "100.127.255.255": "CGNAT",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "169.254.169.254": "link-local",  # the cloud metadata service
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.0.0.170": "IETF",  # NAT64 prefix discovery
    "192.0.2.1": "documentation",
    "192.88.99.1": "6to4 relay",
    "192.168.1.1": "private",
    "198.18.0.1": "benchmarking",
    "198.19.255.255": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    # IPv6
    "::": "unspecified",
    "::1": "loopback",
    "::127.0.0.1": "IPv4-compatible",
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped: judged as its IPv4 address
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "link-local",
    "::ffff:0:a00:1": "IPv4-translated",
    "64:ff9b::7f00:1": "NAT64",  # 127.0.0.1 through a NAT64 gateway
    "64:ff9b::808:808": "NAT64",  # even a public IPv4 address: the gateway is ours
    "64:ff9b:1::a00:1": "NAT64",
    "100::1": "discard-only",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "2001::1": "Teredo",
    "2001:2::1": "benchmarking",
    "2001:10::1": "ORCHID",
    "2001:db8::1": "documentation",
    "2002:7f00:1::1": "6to4",  # 127.0.0.1 through 6to4
    "2002:808:808::1": "6to4",
    "3fff::1": "documentation",
    "5f00::1": "segment routing",
    "fc00::1": "unique local",
    "fd12:3456:789a::1": "unique local",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "4000::1": "outside IPv6 global unicast",
}

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above
    "172.15.255.255",
    "172.32.0.0",
    "192.169.0.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "2001:4860:4860::8888",  # 2001:… outside the IETF /23
    "::ffff:8.8.8.8",  # IPv4-mapped public address
]


@pytest.mark.parametrize(("address", "reason"), sorted(REFUSED.items()))
def test_internal_and_reserved_addresses_are_refused(address: str, reason: str) -> None:
    found = refusal_reason(ip_address(address))
    assert found is not None, address
    assert reason.lower() in found.lower()


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_pass(address: str) -> None:
    assert refusal_reason(ip_address(address)) is None


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("relay.Example.COM.", "relay.example.com"),
        ("relay.example.com:25", "relay.example.com:25"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[2001:DB8:0::1]:8443", "[2001:db8::1]:8443"),
        ("*", "*"),
    ],
)
def test_allowed_host_entries_are_read_in_one_spelling(entry: str, canonical: str) -> None:
    assert parse_host_entry(entry) == canonical


@pytest.mark.parametrize(
    "entry", ["", "two words", "host:0", "host:65536", "host:http", "[::1]25", "a/b"]
)
def test_malformed_allowed_host_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="host"):
        parse_host_entry(entry)


def test_the_setting_names_the_bad_entry(monkeypatch) -> None:
    monkeypatch.setenv("MERCATO_EGRESS_ALLOWED_HOSTS", "relay.internal:25, not a host")
    with pytest.raises(ValidationError, match="not a host"):
        Settings()


def test_the_deprecated_webhook_switch_allows_every_host(monkeypatch) -> None:
    monkeypatch.delenv("MERCATO_EGRESS_ALLOWED_HOSTS", raising=False)
    monkeypatch.setenv("MERCATO_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    assert Settings().egress_allows_every_host
    monkeypatch.setenv("MERCATO_WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")
    assert not Settings().egress_allows_every_host


def test_a_url_host_and_an_entry_compare_in_one_spelling() -> None:
    assert canonical_host("[2001:DB8::0:1]") == canonical_host("2001:db8::1")
    assert canonical_host("Hooks.Example.com.") == "hooks.example.com"
