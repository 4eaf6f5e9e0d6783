"""Syslog destination against a real rsyslog (Debian's), listening on UDP, TCP and TLS.

The test starts its own rsyslogd on loopback high ports with a throw-away CA and server
certificate, writes what each input receives to its own file, and reads those files back.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cef_reader import parse_cef
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exporter.export.destination import DESTINATION_TYPES, Delivery, DeliveryError
from exporter.export.destinations import load_destination_types
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings

KINDS = [
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "Recon:EC2/Portscan",
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
]

CONFIG = """
global(workDirectory="{work}" parser.escapeControlCharactersOnReceive="off"
       DefaultNetstreamDriverCAFile="{ca}" DefaultNetstreamDriverCertFile="{cert}"
       DefaultNetstreamDriverKeyFile="{key}")
module(load="imudp")
module(load="imtcp")
template(name="line" type="string"
         string="%app-name%|%hostname%|%syslogseverity%|%syslogfacility-text%|%msg%\\n")
ruleset(name="udp") {{ action(type="omfile" file="{out}/udp.log" template="line") }}
ruleset(name="tcp") {{ action(type="omfile" file="{out}/tcp.log" template="line") }}
ruleset(name="tls") {{ action(type="omfile" file="{out}/tls.log" template="line") }}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="{tls}" ruleset="tls" streamDriver.name="gtls"
      streamDriver.mode="1" streamDriver.authMode="anon")
"""


@dataclass
class Rsyslog:
    """A running rsyslogd and where it writes."""

    out: Path
    ports: dict[str, int]
    ca_file: Path

    def lines(self, protocol: str) -> list[str]:
        path = self.out / f"{protocol}.log"
        return path.read_text("utf-8").splitlines() if path.exists() else []

    def wait_for(self, protocol: str, count: int, timeout: float = 15.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.lines(protocol)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.lines(protocol)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for localhost / 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "duskwatch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rsyslog]:
    binary = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    assert Path(binary).exists(), "rsyslogd is not installed (scripts/setup.sh installs rsyslog)"
    root = tmp_path_factory.mktemp("rsyslog")
    (root / "work").mkdir()
    ca, cert, key = certificates(root)
    ports = {"udp": free_port(socket.SOCK_DGRAM), "tcp": free_port(socket.SOCK_STREAM)}
    ports["tls"] = free_port(socket.SOCK_STREAM)
    conf = root / "rsyslog.conf"
    conf.write_text(CONFIG.format(work=root / "work", ca=ca, cert=cert, key=key, out=root, **ports))
    check = subprocess.run(
        [binary, "-N1", "-f", str(conf)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [binary, "-n", "-f", str(conf), "-i", str(root / "rsyslogd.pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Rsyslog(root, ports, ca)
    try:
        _wait_listening(process, ports)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _wait_listening(process: subprocess.Popen[bytes], ports: dict[str, int]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, (process.stderr.read() if process.stderr else b"").decode()
        try:
            for protocol in ("tcp", "tls"):
                socket.create_connection(("127.0.0.1", ports[protocol]), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise AssertionError("rsyslogd did not start listening")


def deliveries(count: int, tag: str) -> list[Delivery]:
    found = []
    for n in range(count):
        [finding] = sample_findings(
            [KINDS[n % len(KINDS)]],
            now=dt.datetime(2025, 3, 2, 11, n, tzinfo=dt.UTC),
            detector_id=f"{n:032x}",
            account="111122223333",
            region="eu-west-1",
        )
        guardduty = to_guardduty(finding)
        guardduty["title"] = f"{tag} #{n} | pipe and back\\slash"
        guardduty["description"] = f"a=b\nsecond line {tag}"
        found.append(Delivery(f"{tag}-{n}", guardduty))
    return found


@pytest.fixture
def build() -> Iterator[Callable[..., Any]]:
    """Builds syslog destinations from options; closes them after the test."""
    load_destination_types()
    built: list[Any] = []

    def make(**options: Any) -> Any:
        destination = DESTINATION_TYPES.get("syslog").build(
            "siem", {"hostname": "sensor-1", **options}
        )
        built.append(destination)
        return destination

    yield make
    for destination in built:
        destination.close()


def _probe_udp(server: Rsyslog, build: Callable[..., Any]) -> int:
    """Send UDP probes until rsyslog shows one (UDP has no handshake); the lines seen."""
    destination = build(host="127.0.0.1", port=server.ports["udp"], protocol="udp")
    for attempt in range(50):
        destination.deliver(deliveries(1, f"probe{attempt}"))
        if server.wait_for("udp", 1, timeout=0.2):
            break
    time.sleep(0.5)
    return len(server.lines("udp"))


@pytest.mark.parametrize("protocol", ["udp", "tcp", "tls"])
def test_cef_lines_arrive_and_parse(
    rsyslog: Rsyslog, build: Callable[..., Any], protocol: str
) -> None:
    before = _probe_udp(rsyslog, build) if protocol == "udp" else len(rsyslog.lines(protocol))
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": rsyslog.ports[protocol],
        "protocol": protocol,
    }
    if protocol == "tls":
        options |= {"ca_file": str(rsyslog.ca_file), "server_name": "localhost"}
    sent = deliveries(6, protocol)
    destination = build(**options)
    destination.deliver(sent[:3])
    destination.deliver(sent[3:])

    lines = rsyslog.wait_for(protocol, before + 6)[before:]
    assert len(lines) == 6
    by_event: dict[str, tuple[list[str], dict[str, str]]] = {}
    for line in lines:
        app, host, severity, facility, message = line.split("|", 4)
        assert (app, host, facility) == ("duskwatch", "sensor-1", "local0")
        assert message.startswith("CEF:0|Amazon|GuardDuty|2.0|")
        header, extensions = parse_cef(message)
        by_event[extensions["cs6"]] = (header, extensions)
        assert severity == {"2": "5", "5": "4"}[header[6]]
    assert set(by_event) == {d.event_id for d in sent}
    for delivery in sent:
        header, extensions = by_event[delivery.event_id]
        assert header[4] == delivery.finding["type"]
        assert header[5] == delivery.finding["title"]
        assert extensions["externalId"] == delivery.finding["id"]
        assert extensions["msg"] == delivery.finding["description"]
        assert extensions["src"] == "198.51.100.1"


def test_leef_over_tcp(rsyslog: Rsyslog, build: Callable[..., Any]) -> None:
    before = len(rsyslog.lines("tcp"))
    sent = deliveries(2, "leef")
    build(host="127.0.0.1", port=rsyslog.ports["tcp"], protocol="tcp", format="leef").deliver(sent)
    lines = rsyslog.wait_for("tcp", before + 2)[before:]
    assert len(lines) == 2
    for line in lines:
        message = line.split("|", 4)[4]
        head, _, body = message.partition("|x09|")
        assert head.startswith("LEEF:2.0|Amazon|GuardDuty|2.0|")
        attributes = dict(pair.split("=", 1) for pair in body.split("\t"))
        assert attributes["eventId"] in {d.event_id for d in sent}
        assert attributes["msg"].startswith("a=b second line")


def test_tls_with_an_unknown_ca_fails_retryably(
    rsyslog: Rsyslog, build: Callable[..., Any], tmp_path: Path
) -> None:
    other_ca, _, _ = certificates(tmp_path)
    destination = build(
        host="127.0.0.1",
        port=rsyslog.ports["tls"],
        protocol="tls",
        ca_file=str(other_ca),
        server_name="localhost",
    )
    with pytest.raises(DeliveryError) as err:
        destination.deliver(deliveries(1, "untrusted"))
    assert err.value.retryable is True
    assert err.value.failed is None


def test_tcp_server_down_fails_retryably(build: Callable[..., Any]) -> None:
    port = free_port(socket.SOCK_STREAM)
    with pytest.raises(DeliveryError) as err:
        build(host="127.0.0.1", port=port, protocol="tcp").deliver(deliveries(1, "down"))
    assert err.value.retryable is True
