"""File layouts, names, framing and compression of the simulated logs.

Layouts under OUT_DIR, as AWS delivers them to S3 (EKS: as exported from CloudWatch Logs)::

    AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 alnum>.json.gz     {"Records":[...]}, 5 min
    AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/
        <account>_vpcflowlogs_<region>_<fl-id>_YYYYMMDDTHHmmZ_<8 hex>.log.gz header + lines, 10 min
    AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/
        <account>_vpcdnsquerylogs_<vpc-id>_YYYYMMDDTHHmmZ_<8 hex>.log.gz    JSON lines, 5 min
    eks-audit/<account>/<region>/<cluster>/YYYY/MM/DD/
        kube-apiserver-audit-<32 hex>-<HH>.log.gz                           JSON lines, 1 hour

The timestamp in a name is the start of the window the file covers; a window without records
writes no file (flow logs always have records: idle interfaces report NODATA). Records inside a
file are sorted by time. Files are gzip level 1 (the simulator is CPU-bound and level 1 is about
3x faster than the default 6 for ~25 % larger files) with mtime 0, so output is byte-identical
for a given configuration.
"""

from __future__ import annotations

import gzip
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from exporter.simulate.activity import Activity, Line
from exporter.simulate.ids import DAY, alnum, derive_rng, hex_id

GZIP_LEVEL = 1
SOURCES = ("cloudtrail", "vpcflow", "route53", "eks-audit")
DATA_EVENT_MARK = '"eventCategory":"Data"'
Progress = Callable[[str, int], None]
PendingKey = tuple[str, str, int]
Pending = dict[PendingKey, list[Line]]


@dataclass(frozen=True)
class StreamSpec:
    """One log stream: which source, its identity, window length, naming and background."""

    source: str
    key: str
    window: int
    name: Callable[[int, random.Random], str]
    activities: tuple[Activity, ...]
    header: str | None = None
    json_records: bool = False

    def window_of(self, ts: float) -> int:
        """Start of the file window containing ``ts``."""
        return int(ts) - int(ts) % self.window


def _stamp(ts: int) -> str:
    return time.strftime("%Y%m%dT%H%MZ", time.gmtime(ts))


def _date_dir(ts: int) -> str:
    return time.strftime("%Y/%m/%d", time.gmtime(ts))


def cloudtrail_name(account: str, region: str, ts: int, rng: random.Random) -> str:
    """Relative path of a CloudTrail log file."""
    folder = f"AWSLogs/{account}/CloudTrail/{region}/{_date_dir(ts)}"
    return f"{folder}/{account}_CloudTrail_{region}_{_stamp(ts)}_{alnum(rng, 16)}.json.gz"


def vpcflow_name(account: str, region: str, flow_log: str, ts: int, rng: random.Random) -> str:
    """Relative path of a VPC flow log file."""
    folder = f"AWSLogs/{account}/vpcflowlogs/{region}/{_date_dir(ts)}"
    name = f"{account}_vpcflowlogs_{region}_{flow_log}_{_stamp(ts)}_{hex_id(rng, 8)}.log.gz"
    return f"{folder}/{name}"


def route53_name(account: str, vpc: str, ts: int, rng: random.Random) -> str:
    """Relative path of a Route 53 Resolver query log file."""
    folder = f"AWSLogs/{account}/vpcdnsquerylogs/{vpc}/{_date_dir(ts)}"
    return f"{folder}/{account}_vpcdnsquerylogs_{vpc}_{_stamp(ts)}_{hex_id(rng, 8)}.log.gz"


def eks_audit_name(
    account: str, region: str, cluster: str, stream: str, ts: int, _rng: random.Random
) -> str:
    """Relative path of one hour of an EKS cluster's kube-apiserver-audit log stream."""
    hour = ts % DAY // 3600
    folder = f"eks-audit/{account}/{region}/{cluster}/{_date_dir(ts)}"
    return f"{folder}/kube-apiserver-audit-{stream}-{hour:02d}.log.gz"


class FileSink:
    """Writes gzip files under ``root`` and counts what it wrote."""

    def __init__(self, root: Path, progress: Progress | None = None) -> None:
        self.root = root
        self.progress = progress
        self.counts = dict.fromkeys(SOURCES, 0)
        self.data_events = 0
        self.files = 0
        self._dirs: set[Path] = set()

    def write(self, spec: StreamSpec, relpath: str, lines: Sequence[str]) -> None:
        """Frame ``lines`` for the spec's format, gzip them to ``relpath`` and count them."""
        data_events = 0
        if spec.json_records:
            payload = '{"Records":[' + ",".join(lines) + "]}"
            data_events = sum(DATA_EVENT_MARK in line for line in lines)
        else:
            head = spec.header + "\n" if spec.header else ""
            payload = head + "\n".join(lines) + "\n"
        path = self.root / relpath
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        path.write_bytes(gzip.compress(payload.encode(), compresslevel=GZIP_LEVEL, mtime=0))
        self.absorb(spec.source, len(lines), data_events, 1)

    def absorb(self, source: str, records: int, data_events: int, files: int) -> None:
        """Count records and files written (here or by a worker) and report progress."""
        self.counts[source] += records
        self.data_events += data_events
        self.files += files
        if self.progress is not None:
            self.progress(source, records)


def write_stream(
    spec: StreamSpec, span: tuple[int, int], seed: int, sink: FileSink, pending: Pending
) -> None:
    """Every file of one stream over the run ``span`` [start, end), pending records merged.

    Background records draw from one RNG per stream-day, file names from one RNG per file, so
    injected records never shift the background. A record emitted past its window (a burst
    that straddles the boundary) moves to the next window, or is dropped past the run's end.
    """
    for day in range(span[0], span[1], DAY):
        rng = derive_rng(seed, spec.source, spec.key, day)
        for start in range(day, day + DAY, spec.window):
            lines = _window_lines(spec, rng, start, span[1], pending)
            if lines:
                lines.sort(key=itemgetter(0))
                name = spec.name(start, derive_rng(seed, "file", spec.source, spec.key, start))
                sink.write(spec, name, [text for _, text in lines])


def _window_lines(
    spec: StreamSpec, rng: random.Random, start: int, stop: int, pending: Pending
) -> list[Line]:
    end = start + spec.window
    lines = pending.pop((spec.source, spec.key, start), [])
    for activity in spec.activities:
        for line in activity(rng, start, end):
            if line[0] < end:
                lines.append(line)
            elif line[0] < stop:
                pending.setdefault((spec.source, spec.key, spec.window_of(line[0])), []).append(
                    line
                )
    return lines
