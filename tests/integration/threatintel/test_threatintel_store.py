"""Threat and trusted lists on the real node: add / refresh / remove, percolation, limits,
s3:// (moto's server), http:// and feeds (a local HTTP server), built-in lists, the CLI."""

from __future__ import annotations

import functools
import gzip
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from moto.server import ThreadedMotoServer
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from exporter import config
from exporter.chores import refresh_lists
from exporter.cli.context import AppContext
from exporter.cli.threatintel import intel_app, threatlist_app, trustedlist_app
from exporter.detections.percolate import percolate
from exporter.detections.threatintel import feeds, store
from exporter.detections.threatintel.builtin import install_builtin
from exporter.detections.threatintel.findings import intel_findings
from exporter.detections.threatintel.meta import ListSpec, meta_id
from exporter.detections.threatintel.model import IntelHit, Limits, ListLimitError, ThreatListError
from exporter.detections.threatintel.queries import percolatable
from exporter.store.state import STATE_INDEX

LIST = """# test list
203.0.113.0/24
198.51.100.7
evil.example
10.0.0.1
"""


@pytest.fixture
def index(client: OpenSearch) -> Iterator[str]:
    """A percolator index of this test only (the template applies); deleted by exact name."""
    name = f"duskwatch-threatintel-test-{uuid.uuid4().hex}"
    yield name
    for meta in store.lists(client, index=name):
        client.delete(index=STATE_INDEX, id=meta_id(meta.list_kind, name, meta.name), ignore=[404])
    client.indices.delete(index=name, ignore=[404])


@pytest.fixture
def prefix(client: OpenSearch) -> Iterator[str]:
    """A unique list-name prefix; state documents with it are deleted afterwards."""
    value = f"t{uuid.uuid4().hex[:10]}"
    yield value
    client.delete_by_query(
        index=STATE_INDEX,
        body={"query": {"prefix": {"key": value}}},
        refresh=True,
        conflicts="proceed",
    )


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def spec(name: str, location: str, **options: Any) -> ListSpec:
    return ListSpec(name, options.pop("list_kind", "threat"), location, **options)


def test_add_refresh_remove_are_idempotent(
    client: OpenSearch, index: str, prefix: str, tmp_path: Path
) -> None:
    name = f"{prefix}-bad"
    source = write(tmp_path / "bad.txt", LIST)
    first = store.add(client, spec(name, source), index=index)
    assert (first.written, first.removed, first.unchanged) == (3, 0, False)
    assert [e.line for e in first.errors] == [5]
    again = store.add(client, spec(name, source), index=index)
    assert (again.written, again.unchanged, again.meta.added_at) == (0, True, first.meta.added_at)
    assert store.count(client, name, "threat", index=index) == 3

    write(tmp_path / "bad.txt", "203.0.113.0/24\nc2.example\n")
    [outcome] = store.refresh(client, "threat", name, index=index)
    assert outcome.result is not None
    assert (outcome.result.written, outcome.result.removed) == (2, 2)
    [again_outcome] = store.refresh(client, "threat", name, index=index)
    assert again_outcome.result is not None
    assert again_outcome.result.unchanged
    view = store.show(client, name, "threat", index=index)
    assert view is not None
    assert [e["indicator"] for e in view.entries] == ["203.0.113.0/24", "c2.example"]
    assert (view.stored, view.meta.entries, view.meta.location) == (2, 2, source)

    assert store.remove(client, name, "threat", index=index) == 2
    assert store.remove(client, name, "threat", index=index) is None
    assert store.get(client, name, "threat", index=index) is None


def test_replacing_writes_new_entries_before_deleting_old_ones(
    client: OpenSearch, index: str, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"{prefix}-swap"
    store.add(client, spec(name, write(tmp_path / "a.txt", "198.51.100.1\n")), index=index)

    def crash(*_: object) -> int:
        raise RuntimeError("crashed between write and delete")

    monkeypatch.setattr(store, "_delete_older", crash)
    with pytest.raises(RuntimeError):
        store.add(client, spec(name, write(tmp_path / "a.txt", "198.51.100.2\n")), index=index)
    assert store.count(client, name, "threat", index=index) == 2  # never empty
    monkeypatch.undo()
    result = store.add(client, spec(name, str(tmp_path / "a.txt")), index=index)
    assert (result.written, result.removed) == (1, 1)


def test_cidr_and_domain_entries_match_events(
    client: OpenSearch, index: str, prefix: str, tmp_path: Path
) -> None:
    threats = f"{prefix}-threats"
    trusted = f"{prefix}-office"
    store.add(client, spec(threats, write(tmp_path / "t.txt", LIST), category="c2"), index=index)
    office = spec(trusted, write(tmp_path / "o.txt", "198.51.100.7\n"), list_kind="trusted")
    store.add(client, office, index=index)
    events: list[dict[str, Any]] = [
        {"related": {"ip": ["10.0.3.25", "203.0.113.77"]},
         "source": {"ip": "10.0.3.25"}, "destination": {"ip": "203.0.113.77"}},
        {"duskwatch": {"dns": {"parent_domains": ["x.y.evil.example", "y.evil.example",
                                                  "evil.example"]}},
         "dns": {"question": {"name": "x.y.evil.example"}}},
        {"related": {"ip": ["198.51.100.7"]}, "source": {"ip": "198.51.100.7"},
         "event": {"action": "ListUsers"}},
        {"related": {"ip": ["192.0.2.1"]}},
    ]  # fmt: skip
    hits: dict[int, list[IntelHit]] = {}
    for match in percolate(client, [index], [percolatable(e) for e in events]):
        hits.setdefault(match.slot, []).append(IntelHit.from_source(match.source))
    assert {slot: [h.indicator for h in found] for slot, found in hits.items()} == {
        0: ["203.0.113.0/24"],
        1: ["evil.example"],
        2: ["198.51.100.7", "198.51.100.7"],
    }
    assert [s.type for s in intel_findings(events[0], "vpcflow", hits[0])] == [
        "Backdoor:EC2/C&CActivity.B"
    ]
    assert [s.type for s in intel_findings(events[1], "route53", hits[1])] == [
        "Backdoor:EC2/C&CActivity.B!DNS"
    ]
    assert intel_findings(events[2], "cloudtrail", hits[2]) == []  # trusted wins


def test_limits(client: OpenSearch, index: str, prefix: str, tmp_path: Path) -> None:
    source = write(tmp_path / "l.txt", "198.51.100.1\n198.51.100.2\n198.51.100.3\n")
    small = Limits(threat_entries=2, threat_lists=1, trusted_lists=1)
    with pytest.raises(ListLimitError, match=r"l\.txt: 3 entries, more than the 2 a threat list"):
        store.add(client, spec(f"{prefix}-big", source), index=index, limits=small)
    assert store.get(client, f"{prefix}-big", "threat", index=index) is None

    one = write(tmp_path / "one.txt", "198.51.100.1\n")
    store.add(client, spec(f"{prefix}-a", one), index=index, limits=small)
    store.add(client, spec(f"{prefix}-a", one), index=index, limits=small)  # same name: fine
    feed = spec(f"{prefix}-feed", one, origin="feed")
    store.add(client, feed, index=index, limits=small)  # feeds do not count
    with pytest.raises(ListLimitError, match=f"1 threat list.*{prefix}-a"):
        store.add(client, spec(f"{prefix}-b", one), index=index, limits=small)
    store.add(client, spec(f"{prefix}-t", one, list_kind="trusted"), index=index, limits=small)
    with pytest.raises(ListLimitError, match="trusted"):
        store.add(client, spec(f"{prefix}-u", one, list_kind="trusted"), index=index, limits=small)
    with pytest.raises(ListLimitError, match="byte limit"):
        store.add(client, spec(f"{prefix}-c", one), index=index, limits=Limits(max_bytes=5))


def test_bad_names_categories_and_empty_results(
    client: OpenSearch, index: str, prefix: str, tmp_path: Path
) -> None:
    source = write(tmp_path / "x.txt", "198.51.100.1\n")
    with pytest.raises(ThreatListError, match="not a list name"):
        store.add(client, spec("bad name", source), index=index)
    with pytest.raises(ThreatListError, match="not a list category"):
        store.add(client, spec(f"{prefix}-x", source, category="evil"), index=index)
    garbage = write(tmp_path / "g.txt", "<html>\n<body>oops</body>\n")
    with pytest.raises(ThreatListError, match="no valid entry"):
        store.add(client, spec(f"{prefix}-g", garbage), index=index)
    with pytest.raises(ThreatListError, match="cannot read"):
        store.add(client, spec(f"{prefix}-m", str(tmp_path / "missing.txt")), index=index)


# --- s3:// -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"  # noqa: SLF001 - the bound port
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="intel")
    yield client
    server.stop()


def test_s3_location(client: OpenSearch, index: str, prefix: str, s3: Any) -> None:
    s3.put_object(Bucket="intel", Key="lists/bad.txt.gz", Body=gzip.compress(LIST.encode()))
    name = f"{prefix}-s3"
    result = store.add(client, spec(name, "s3://intel/lists/bad.txt.gz"), index=index, s3=s3)
    assert (result.meta.entries, result.meta.location) == (3, "s3://intel/lists/bad.txt.gz")
    [outcome] = store.refresh(client, "threat", name, index=index, s3=s3)
    assert outcome.result is not None
    assert outcome.result.unchanged
    with pytest.raises(ThreatListError, match="cannot read s3://intel/nope.txt: NoSuchKey"):
        store.add(client, spec(name, "s3://intel/nope.txt"), index=index, s3=s3)


# --- http:// and feeds --------------------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """No request log on stderr."""


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, served folder) of a local HTTP server."""
    root = tmp_path_factory.mktemp("web")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_location(client: OpenSearch, index: str, prefix: str, web: tuple[str, Path]) -> None:
    base, root = web
    write(root / "bad.txt", LIST)
    result = store.add(client, spec(f"{prefix}-web", f"{base}/bad.txt"), index=index)
    assert result.meta.entries == 3
    with pytest.raises(ThreatListError, match="HTTP 404"):
        store.add(client, spec(f"{prefix}-web", f"{base}/missing.txt"), index=index)
    with pytest.raises(ThreatListError, match="cannot fetch http://127.0.0.1:9/"):
        store.add(client, spec(f"{prefix}-web", "http://127.0.0.1:9/x.txt"), index=index)


TOR = "185.220.101.1\n185.220.101.2\n2001:db8::77\n"
FEODO = """################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (recommended)  #
################################################################
#
# DstIP
50.16.16.211
162.243.103.246
"""


def test_feeds_update_reports_failures_per_feed(
    client: OpenSearch, index: str, prefix: str, web: tuple[str, Path]
) -> None:
    base, root = web
    write(root / "torbulkexitlist", TOR)
    write(root / "ipblocklist.txt", FEODO)
    chosen = [
        feeds.parse_feed_option(f"{prefix}-tor:tor={base}/torbulkexitlist"),
        feeds.parse_feed_option(f"{prefix}-feodo:c2={base}/ipblocklist.txt"),
        feeds.parse_feed_option(f"{prefix}-gone:malicious={base}/gone.txt"),
    ]
    results = feeds.update(client, chosen, index=index)
    summary = [(r.feed.name, r.result.meta.entries if r.result else r.error) for r in results]
    assert summary[:2] == [(f"{prefix}-tor", 3), (f"{prefix}-feodo", 2)]
    assert "HTTP 404" in str(summary[2][1])
    again = feeds.update(client, chosen[:2], index=index)
    assert [r.result.unchanged for r in again if r.result] == [True, True]
    metas = {m.name: m for m in store.lists(client, "threat", index=index)}
    assert (metas[f"{prefix}-tor"].origin, metas[f"{prefix}-tor"].category) == ("feed", "tor")


def test_feed_options() -> None:
    tor = feeds.parse_feed_option("tor-exit-nodes=http://127.0.0.1/tor")
    assert (tor.url, tor.category, tor.kind) == ("http://127.0.0.1/tor", "tor", "ip")
    with pytest.raises(ThreatListError, match="not a default feed"):
        feeds.parse_feed_option("mine=http://127.0.0.1/x")
    with pytest.raises(ThreatListError, match="unknown category"):
        feeds.parse_feed_option("mine:evil=http://127.0.0.1/x")
    with pytest.raises(ThreatListError, match="expected NAME=URL"):
        feeds.parse_feed_option("http://127.0.0.1/x")


def test_configured_feeds_move_defaults_and_add_new_ones() -> None:
    chosen = feeds.configured_feeds(
        {"tor-exit-nodes": "https://mirror.internal/tor", "mine:c2": "https://mirror.internal/c2"}
    )
    by_name = {feed.name: feed for feed in chosen}
    assert list(by_name) == [*(feed.name for feed in feeds.DEFAULT_FEEDS), "mine"]
    assert (by_name["tor-exit-nodes"].url, by_name["tor-exit-nodes"].kind) == (
        "https://mirror.internal/tor",
        "ip",
    )
    assert (by_name["mine"].category, by_name["mine"].url) == ("c2", "https://mirror.internal/c2")
    assert by_name["feodo-c2"] == feeds.DEFAULT_FEEDS[1]
    assert feeds.configured_feeds({}) == feeds.DEFAULT_FEEDS
    with pytest.raises(ThreatListError, match="not a default feed"):
        feeds.configured_feeds({"mine": "https://mirror.internal/x"})


def test_refresh_chore_rereads_every_list(
    client: OpenSearch, settings: config.Settings, index: str, prefix: str, tmp_path: Path
) -> None:
    threat = tmp_path / "threat.txt"
    trusted = tmp_path / "trusted.txt"
    store.add(client, spec(f"{prefix}-threat", write(threat, "198.51.100.7\n")), index=index)
    store.add(
        client,
        spec(f"{prefix}-trusted", write(trusted, "203.0.113.5\n"), list_kind="trusted"),
        index=index,
    )
    assert refresh_lists(client, settings, index) == "2 lists, 0 updated"

    write(threat, "198.51.100.7\n198.51.100.8\n")
    summary = refresh_lists(client, settings, index)
    assert summary == f"2 lists, 1 updated: {prefix}-threat"
    assert store.get(client, f"{prefix}-threat", "threat", index=index).entries == 2

    trusted.unlink()
    summary = refresh_lists(client, settings, index)
    assert summary.startswith(f"2 lists, 0 updated; 1 failed: {prefix}-trusted (")
    assert store.get(client, f"{prefix}-trusted", "trusted", index=index).entries == 1

    write(threat, "".join(f"198.51.100.{n}\n" for n in range(1, 6)))
    small = replace(settings, intel=replace(settings.intel, max_threat_entries=3))
    summary = refresh_lists(client, small, index)
    assert f"{prefix}-threat (" in summary
    assert "5 entries, more than the 3 a threat list may hold" in summary
    assert store.get(client, f"{prefix}-threat", "threat", index=index).entries == 2


# --- built-ins and the CLI ------------------------------------------------------------------


def test_install_builtin_lists(client: OpenSearch, index: str) -> None:
    results = install_builtin(client, index=index)
    assert all(r.meta.builtin and r.meta.version and r.meta.entries for r in results)
    assert [r.unchanged for r in install_builtin(client, index=index)] == [True, True]
    event = {
        "dns": {"question": {"name": "crypto.guarddutyc2activityb.com"}},
        "duskwatch": {"dns": {"parent_domains": ["crypto.guarddutyc2activityb.com",
                                                 "guarddutyc2activityb.com"]}},
        "cloud": {"instance": {"id": "i-0abc1234def567890"}},
    }  # fmt: skip
    hits = [IntelHit.from_source(m.source) for m in percolate(client, [index], [event])]
    assert [s.type for s in intel_findings(event, "route53", hits)] == [
        "CryptoCurrency:EC2/BitcoinTool.B!DNS"
    ]


def cli(settings: config.Settings) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = AppContext(settings)

    app.add_typer(threatlist_app, name="threatlist")
    app.add_typer(trustedlist_app, name="trustedlist")
    app.add_typer(intel_app, name="intel")
    return app


def test_cli_add_list_show_remove(
    settings: config.Settings, index: str, prefix: str, tmp_path: Path
) -> None:
    app, runner = cli(settings), CliRunner()
    source = write(tmp_path / "bad.txt", LIST)
    name = f"{prefix}-cli"
    added = runner.invoke(app, ["threatlist", "add", name, source, "--index", index])
    assert added.exit_code == 0, added.output
    assert "3 entries" in added.output
    assert "line 5: '10.0.0.1': not a public address" in added.output
    listed = runner.invoke(app, ["threatlist", "list", "--index", index])
    assert name in listed.output
    shown = runner.invoke(app, ["threatlist", "show", name, "--index", index, "--limit", "1"])
    assert "198.51.100.7" in shown.output
    assert "first 1 of 3" in shown.output
    removed = runner.invoke(app, ["threatlist", "remove", name, "--index", index])
    assert "removed threat list" in removed.output
    missing = runner.invoke(app, ["threatlist", "remove", name, "--index", index])
    assert isinstance(missing.exception, ThreatListError)


def test_cli_applies_the_configured_limits(
    settings: config.Settings, index: str, prefix: str, tmp_path: Path
) -> None:
    small = replace(settings, intel=replace(settings.intel, max_threat_entries=2))
    source = write(tmp_path / "three.txt", "198.51.100.1\n198.51.100.2\n198.51.100.3\n")
    added = CliRunner().invoke(
        cli(small), ["threatlist", "add", f"{prefix}-three", source, "--index", index]
    )
    assert isinstance(added.exception, ListLimitError)
    assert "more than the 2 a threat list may hold" in str(added.exception)
