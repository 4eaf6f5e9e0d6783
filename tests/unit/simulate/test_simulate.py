"""The activity simulator: layouts, counts, record validity, determinism, labels, scenarios."""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from exporter.errors import ConfigError
from exporter.registry import Registry
from exporter.simulate import (
    SCENARIOS,
    Model,
    Scenario,
    ScenarioFn,
    ScenarioWriter,
    SimulationConfig,
    SimulationSummary,
    simulate,
)
from exporter.simulate.cloudtrail import Caller, api_call, user_identity
from exporter.simulate.eks_audit import ObjectRef, audit_event, system_user
from exporter.simulate.route53 import query
from exporter.simulate.run import time_range
from exporter.simulate.vpcflow import probe

END = datetime(2025, 3, 4, tzinfo=UTC)  # the run covers Monday 2025-03-03
START = END - timedelta(days=1)
TINY: dict[str, Any] = {"days": 1, "scale": 0.02, "end": END}
STAMP = r"(?P<stamp>\d{8}T\d{4}Z)"
DATE = r"(?P<date>\d{4}/\d{2}/\d{2})"
LAYOUTS = {
    "cloudtrail": re.compile(
        rf"AWSLogs/(?P<a>\d{{12}})/CloudTrail/(?P<r>[a-z0-9-]+)/{DATE}/"
        rf"(?P=a)_CloudTrail_(?P=r)_{STAMP}_[A-Za-z0-9]{{16}}\.json\.gz"
    ),
    "vpcflow": re.compile(
        rf"AWSLogs/(?P<a>\d{{12}})/vpcflowlogs/(?P<r>[a-z0-9-]+)/{DATE}/"
        rf"(?P=a)_vpcflowlogs_(?P=r)_fl-[0-9a-f]{{17}}_{STAMP}_[0-9a-f]{{8}}\.log\.gz"
    ),
    "route53": re.compile(
        rf"AWSLogs/(?P<a>\d{{12}})/vpcdnsquerylogs/(?P<v>vpc-[0-9a-f]{{17}})/{DATE}/"
        rf"(?P=a)_vpcdnsquerylogs_(?P=v)_{STAMP}_[0-9a-f]{{8}}\.log\.gz"
    ),
    "eks-audit": re.compile(
        rf"eks-audit/\d{{12}}/[a-z0-9-]+/[a-z0-9-]+-eks/{DATE}/"
        r"kube-apiserver-audit-[0-9a-f]{32}-(?P<hour>\d{2})\.log\.gz"
    ),
}
WINDOWS = {"cloudtrail": 300, "vpcflow": 600, "route53": 300, "eks-audit": 3600}
NOT_INTERNET = [
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16")
    + ("100.64.0.0/10", "224.0.0.0/3")
]


@dataclass
class Run:
    summary: SimulationSummary
    out: Path
    progress: Counter[str]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("sim") / "out"
    progress: Counter[str] = Counter()
    summary = simulate(SimulationConfig(out, **TINY), lambda s, n: progress.update({s: n}))
    return Run(summary, out, progress)


def source_of(relpath: str) -> str:
    for source, layout in LAYOUTS.items():
        if layout.fullmatch(relpath):
            return source
    raise AssertionError(f"unexpected file {relpath}")


def files(out: Path) -> Iterator[tuple[str, str, Path]]:
    """(source, relative path, path) of every log file."""
    for path in sorted(out.rglob("*.gz")):
        rel = path.relative_to(out).as_posix()
        yield source_of(rel), rel, path


def records(source: str, path: Path) -> list[Any]:
    text = gzip.decompress(path.read_bytes()).decode()
    if source == "cloudtrail":
        return list(json.loads(text)["Records"])
    lines = text.splitlines()
    if source == "vpcflow":
        return [line.split(" ") for line in lines]
    return [json.loads(line) for line in lines]


def timestamp(source: str, record: Any) -> float:
    if source == "vpcflow":
        return float(record[10])
    field = {"cloudtrail": "eventTime", "route53": "query_timestamp"}.get(source)
    return datetime.fromisoformat(record[field or "requestReceivedTimestamp"]).timestamp()


def hashes(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in out.rglob("*")
        if p.is_file()
    }


def test_every_file_follows_its_aws_layout(run: Run) -> None:
    seen = Counter(source for source, _, _ in files(run.out))
    assert set(seen) == set(LAYOUTS)
    assert sum(seen.values()) == run.summary.files
    for source, rel, _ in files(run.out):
        match = LAYOUTS[source].fullmatch(rel)
        assert match is not None
        if "stamp" in match.groupdict():
            assert match["stamp"][:8] == match["date"].replace("/", "")


def test_counts_equal_what_was_written(run: Run) -> None:
    counted: Counter[str] = Counter()
    data = 0
    for source, _, path in files(run.out):
        found = records(source, path)
        counted[source] += len(found) - (source == "vpcflow")
        if source == "cloudtrail":
            data += sum(r["eventCategory"] == "Data" for r in found)
    assert dict(counted) == run.summary.counts
    assert data == run.summary.data_events > 0
    assert run.progress == Counter(run.summary.counts)


def test_records_fall_in_their_file_window_and_the_run(run: Run) -> None:
    for source, rel, path in files(run.out):
        match = LAYOUTS[source].fullmatch(rel)
        assert match is not None
        if source == "eks-audit":
            begin = datetime.strptime(match["date"], "%Y/%m/%d").replace(tzinfo=UTC)
            begin += timedelta(hours=int(match["hour"]))
        else:
            begin = datetime.strptime(match["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        found = records(source, path)[1:] if source == "vpcflow" else records(source, path)
        times = [timestamp(source, r) for r in found]
        assert times == sorted(times)
        low = begin.timestamp()
        assert all(low <= t < low + WINDOWS[source] for t in times), rel
        assert all(START.timestamp() <= t < END.timestamp() for t in times)


def test_cloudtrail_records_look_like_cloudtrail(run: Run) -> None:
    kinds: Counter[str] = Counter()
    logins = 0
    for source, _, path in files(run.out):
        if source != "cloudtrail":
            continue
        for r in records(source, path):
            kinds[r["userIdentity"]["type"]] += 1
            assert r["eventVersion"] in ("1.08", "1.09")
            assert re.fullmatch(
                r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-\w{12}", r["eventID"]
            )
            assert r["eventType"] in ("AwsApiCall", "AwsConsoleSignIn")
            assert r["managementEvent"] is (r["eventCategory"] == "Management")
            key = r["userIdentity"].get("accessKeyId", "")
            assert key == "" or re.fullmatch(r"(AKIA|ASIA)[A-Z2-7]{16}", key)
            if r["eventCategory"] == "Data":
                assert r["eventSource"] == "s3.amazonaws.com"
                assert r["resources"]
                assert {"bytesTransferredIn", "bytesTransferredOut"} <= set(
                    r["additionalEventData"]
                )
            if r["eventName"] == "ConsoleLogin":
                assert r["responseElements"] == {"ConsoleLogin": "Success"}
                assert r["additionalEventData"]["MFAUsed"] == "Yes"
                assert "accessKeyId" not in r["userIdentity"]
                logins += 1
    assert {"IAMUser", "AssumedRole", "AWSService", "Root"} <= set(kinds)
    # two admins per account on a Monday, the root scenario, and the two console-login
    # behaviour scenarios (two sign-ins each)
    assert logins == 2 * 2 + 1 + 2 * 2


def test_flow_records_match_the_header_and_never_use_private_internet_peers(run: Run) -> None:
    nodata = versions = 0
    for source, _, path in files(run.out):
        if source != "vpcflow":
            continue
        header, *rows = records(source, path)
        versions |= 1 << len(header)
        for row in rows:
            assert len(row) == len(header)
            assert row[0] in ("2", "5")
            nodata += row[13] == "NODATA"
            if row[13] == "OK":
                assert row[12] in ("ACCEPT", "REJECT")
                for address in map(ipaddress.ip_address, row[3:5]):
                    if not str(address).startswith("10."):
                        assert not any(address in net for net in NOT_INTERNET), address
    assert nodata > 0
    assert versions == (1 << 14) | (1 << 25)


def test_dns_and_eks_records_are_well_formed(run: Run) -> None:
    for source, _, path in files(run.out):
        for r in records(source, path) if source in ("route53", "eks-audit") else ():
            if source == "route53":
                assert r["version"] == "1.100000"
                assert r["query_name"].endswith(".")
                assert r["srcaddr"].startswith("10.")
                assert r["srcids"]["instance"]
                assert all(set(a) == {"Rdata", "Type", "Class"} for a in r["answers"])
            else:
                assert r["kind"] == "Event"
                assert r["apiVersion"] == "audit.k8s.io/v1"
                assert r["stage"] == "ResponseComplete"
                assert r["user"]["username"]
                assert r["annotations"]["authorization.k8s.io/decision"] == "allow"


def test_labels_json_describes_the_run(run: Run) -> None:
    labels = json.loads(run.summary.labels_path.read_text())
    assert labels["seed"] == 1
    assert (labels["start"], labels["end"]) == ("2025-03-03T00:00:00Z", "2025-03-04T00:00:00Z")
    assert labels["accounts"] == ["111122223333", "444455556666"]
    assert labels["counts"] == run.summary.counts
    assert labels["data_events"] == run.summary.data_events
    names = [s["name"] for s in labels["scenarios"]]  # a scenario may carry several labels
    assert list(dict.fromkeys(names)) == SCENARIOS.names()


def test_same_seed_same_bytes_other_seed_other_bytes(run: Run, tmp_path: Path) -> None:
    simulate(SimulationConfig(tmp_path / "same", **TINY))
    simulate(SimulationConfig(tmp_path / "other", seed=2, **TINY))
    assert hashes(tmp_path / "same") == hashes(run.out)
    other = hashes(tmp_path / "other")
    assert not set(other.values()) & set(hashes(run.out).values())


def test_workers_write_the_same_bytes(run: Run, tmp_path: Path) -> None:
    progress: Counter[str] = Counter()
    config = SimulationConfig(tmp_path / "parallel", workers=2, **TINY)
    summary = simulate(config, lambda s, n: progress.update({s: n}))
    assert hashes(tmp_path / "parallel") == hashes(run.out)
    assert (summary.counts, summary.data_events, summary.files) == (
        run.summary.counts,
        run.summary.data_events,
        run.summary.files,
    )
    assert progress == run.progress


def tiny_scenario(model: Model, rng: random.Random, writer: ScenarioWriter) -> list[Scenario]:
    """One record for every source, at 12:00:30 on the simulated day."""
    at = model.start + 12 * 3600 + 30
    account = model.accounts[0]
    vpc, cluster = account.vpcs[0], account.clusters[0]
    user = account.users_of("admin")[0]
    caller = Caller(user_identity(account.id, user), account.id, "203.0.113.9", "test")
    call = ("ec2.amazonaws.com", "DescribeInstances", True, None)
    writer.cloudtrail(api_call(rng, at, caller, vpc.region, call))
    writer.vpcflow(vpc, probe(vpc.instances[0].iface, "203.0.113.9", 4444, 22, at))
    writer.route53(query(rng, at, vpc, vpc.instances[0], "c2.example.", result=("NXDOMAIN", ())))
    event = audit_event(
        rng, at, system_user("tester"), "list", ObjectRef("secrets"), ("203.0.113.9", "curl/8")
    )
    writer.eks_audit(cluster, event)
    moment = datetime.fromtimestamp(at, UTC)
    return [
        Scenario(
            "tiny",
            "Recon:EC2/PortProbeUnprotectedPort",
            vpc.instances[0].id,
            account.id,
            vpc.region,
            "positive",
            moment,
            moment,
            "test",
        )
    ]


def test_scenarios_add_labelled_records_to_the_same_files(tmp_path: Path) -> None:
    registry: Registry[ScenarioFn] = Registry("scenario")
    base = simulate(SimulationConfig(tmp_path / "base", **TINY), scenarios=registry)
    registry.add("tiny", tiny_scenario)
    summary = simulate(SimulationConfig(tmp_path / "with", **TINY), scenarios=registry)
    assert summary.counts == {source: n + 1 for source, n in base.counts.items()}
    before, after = hashes(tmp_path / "base"), hashes(tmp_path / "with")
    changed = {rel for rel, digest in after.items() if before.get(rel) != digest}
    logs = changed - {"labels.json"}
    assert len(logs) == 4
    assert {source_of(rel) for rel in logs} == set(LAYOUTS)
    for rel in logs:
        text = gzip.decompress((tmp_path / "with" / rel).read_bytes()).decode()
        assert "203.0.113.9" in text or "c2.example." in text
    labels = json.loads(summary.labels_path.read_text())["scenarios"]
    assert labels == [
        {
            "name": "tiny",
            "finding_type": "Recon:EC2/PortProbeUnprotectedPort",
            "resource": labels[0]["resource"],
            "account": "111122223333",
            "region": "us-east-1",
            "expected": "positive",
            "start": "2025-03-03T12:00:30Z",
            "end": "2025-03-03T12:00:30Z",
            "notes": "test",
        }
    ]


def test_scenario_records_must_fall_in_the_run(tmp_path: Path) -> None:
    def too_late(model: Model, rng: random.Random, writer: ScenarioWriter) -> list[Scenario]:
        vpc = model.accounts[0].vpcs[0]
        writer.vpcflow(vpc, probe(vpc.instances[0].iface, "203.0.113.9", 1, 22, model.end))
        return []

    registry: Registry[ScenarioFn] = Registry("scenario")
    registry.add("late", too_late)
    with pytest.raises(ValueError, match="outside the simulated time range"):
        simulate(SimulationConfig(tmp_path / "late", **TINY), scenarios=registry)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accounts": ("1234",)}, "12-digit"),
        ({"regions": ("mars",)}, "Region"),
        ({"scale": 0}, "scale"),
        ({"days": 0}, "days"),
        ({"workers": 0}, "workers"),
        ({"end": datetime(2025, 3, 4, 5, tzinfo=UTC)}, "midnight"),
    ],
)
def test_bad_configs_are_config_errors(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        simulate(SimulationConfig(tmp_path / "x", **{**TINY, **change}))


def test_refuses_a_non_empty_output_directory(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        simulate(SimulationConfig(tmp_path, **TINY))


def test_default_end_is_the_last_utc_midnight() -> None:
    start, end = time_range(SimulationConfig(Path("unused")))
    now = datetime.now(UTC)
    assert end <= now < end + timedelta(days=1)
    assert end.hour == end.minute == 0
    assert end - start == timedelta(days=8)
