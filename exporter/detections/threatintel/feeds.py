"""Public threat-intel feeds, refreshed by ``duskwatch intel update``.

The defaults are free, key-less, plain-text feeds, one per GuardDuty threat-intel family:

| feed | category | what |
|---|---|---|
| ``tor-exit-nodes`` | tor | the Tor Project's bulk exit list (one IP per line) |
| ``feodo-c2`` | c2 | abuse.ch Feodo Tracker's recommended botnet C2 IP blocklist |
| ``urlhaus-hosts`` | malicious | abuse.ch URLhaus malware-distribution hosts (hosts file) |

Feeds are threat lists with ``origin`` ``feed``: they do not count against the user quota of
threat lists, and each is replaced as a whole on update (unchanged feeds are left alone).
A feed that cannot be fetched or parsed is reported, and the others are still updated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from opensearchpy import OpenSearch

from exporter.detections.threatintel import store
from exporter.detections.threatintel.meta import ListSpec
from exporter.detections.threatintel.model import (
    CATEGORIES,
    EntryKind,
    Limits,
    ListFormat,
    ThreatListError,
)
from exporter.detections.threatintel.queries import THREATINTEL_INDEX
from exporter.errors import DuskwatchError


@dataclass(frozen=True)
class Feed:
    """A feed: the list it is stored as, and where it is fetched from."""

    name: str
    url: str
    category: str
    about: str = ""
    list_format: ListFormat | None = "txt"
    kind: EntryKind = "auto"

    def spec(self) -> ListSpec:
        """The threat list this feed is stored as."""
        return ListSpec(
            name=self.name,
            list_kind="threat",
            location=self.url,
            list_format=self.list_format,
            kind=self.kind,
            category=self.category,
            origin="feed",
        )


DEFAULT_FEEDS: tuple[Feed, ...] = (
    Feed(
        "tor-exit-nodes",
        "https://check.torproject.org/torbulkexitlist",
        "tor",
        "Tor Project bulk exit list",
        kind="ip",
    ),
    Feed(
        "feodo-c2",
        "https://feodotracker.abuse.ch/downloads/ipblocklist_recommended.txt",
        "c2",
        "abuse.ch Feodo Tracker botnet C2 IP blocklist (recommended)",
        kind="ip",
    ),
    Feed(
        "urlhaus-hosts",
        "https://urlhaus.abuse.ch/downloads/hostfile/",
        "malicious",
        "abuse.ch URLhaus malware distribution hosts",
    ),
)


@dataclass(frozen=True)
class FeedResult:
    """One feed's update: the load result, or why it failed."""

    feed: Feed
    result: store.LoadResult | None = None
    error: str | None = None


def parse_feed_option(value: str, defaults: Sequence[Feed] = DEFAULT_FEEDS) -> Feed:
    """``NAME=URL`` (a default feed from another URL) or ``NAME:CATEGORY=URL`` (a new feed)."""
    head, sep, url = value.partition("=")
    name, _, category = head.partition(":")
    if not sep or not name or not url:
        raise ThreatListError(f"feed {value!r}: expected NAME=URL or NAME:CATEGORY=URL")
    known = {feed.name: feed for feed in defaults}
    if category:
        if category not in CATEGORIES:
            raise ThreatListError(
                f"feed {value!r}: unknown category {category!r}",
                hint="one of " + ", ".join(CATEGORIES),
            )
        base = known.get(name, Feed(name, url, category, list_format=None))
        return replace(base, url=url, category=category)
    if name not in known:
        raise ThreatListError(
            f"feed {value!r}: {name!r} is not a default feed",
            hint="name a default feed (" + ", ".join(known) + ") or give NAME:CATEGORY=URL",
        )
    return replace(known[name], url=url)


def configured_feeds(
    overrides: Mapping[str, str], defaults: Sequence[Feed] = DEFAULT_FEEDS
) -> tuple[Feed, ...]:
    """The feeds of the ``intel.feeds`` setting: ``NAME: URL`` moves a default feed (a mirror),
    ``NAME:CATEGORY: URL`` adds one; the other defaults stay."""
    feeds = {feed.name: feed for feed in defaults}
    for key, url in overrides.items():
        feed = parse_feed_option(f"{key}={url}", defaults)
        feeds[feed.name] = feed
    return tuple(feeds.values())


def update(
    client: OpenSearch,
    feeds: Sequence[Feed] = DEFAULT_FEEDS,
    *,
    index: str = THREATINTEL_INDEX,
    limits: Limits | None = None,
    s3: Any = None,
) -> list[FeedResult]:
    """Fetch and store every feed; failures are reported per feed, never raised."""
    results = []
    for feed in feeds:
        try:
            loaded = store.add(client, feed.spec(), index=index, limits=limits, s3=s3)
        except DuskwatchError as exc:
            results.append(FeedResult(feed, error=str(exc)))
        else:
            results.append(FeedResult(feed, loaded))
    return results
