"""Put the detectors to work: which ones run, with which parameters, and on what schedule."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from opensearchpy import OpenSearch

from exporter.config import DetectorSettings, Settings
from exporter.detections.behaviour.model import DETECTORS, Detector
from exporter.detections.behaviour.params import check_names, resolve
from exporter.detections.behaviour.runner import DetectorRun, Runner, RunOptions
from exporter.detections.behaviour.trusted import load_trusted
from exporter.detections.setup import finding_writer
from exporter.errors import ConfigError
from exporter.findings.store import detector_id

log = logging.getLogger(__name__)


def select(settings: DetectorSettings, names: Sequence[str] = ()) -> list[Detector]:
    """The detectors ``names`` (every enabled one when empty); unknown names fail fast."""
    known = DETECTORS.names()
    check_names(settings.overrides, known)
    for name in [*names, *settings.disabled]:
        if name not in DETECTORS:
            raise ConfigError(
                f"{name!r}: no such detector", hint="`duskwatch detectors list` names them"
            )
    chosen = list(names) or [name for name in known if name not in settings.disabled]
    return [DETECTORS.get(name) for name in chosen]


def runner_for(client: OpenSearch, settings: Settings) -> Runner:
    """A runner with every detector's resolved parameters and the current trusted lists."""
    overrides = settings.detectors.overrides
    check_names(overrides, DETECTORS.names())
    return Runner(
        client,
        detector_id=detector_id(client, settings.detection.detector_id),
        params={name: resolve(d, overrides) for name, d in DETECTORS.items()},
        trusted=load_trusted(client),
        concurrency=settings.detectors.concurrency,
        writer=finding_writer(client, settings),
    )


def catch_up(settings: DetectorSettings) -> RunOptions:
    """Options of a scheduled round: every due window since the checkpoints."""
    return RunOptions(max_catchup=timedelta(days=settings.max_catchup_days))


def run_forever(
    make_runner: Callable[[], Runner],
    detectors: Sequence[Detector],
    settings: DetectorSettings,
    on_round: Callable[[list[DetectorRun]], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Run a round of due windows every ``poll_seconds`` until ``should_stop()``.

    A fresh runner per round picks up new trusted lists; a round that fails on the cluster
    is logged and retried at the next poll."""
    while not should_stop():
        began = time.monotonic()
        try:
            on_round(make_runner().run(detectors, catch_up(settings)))
        except Exception as exc:  # noqa: BLE001 - the worker must outlive a cluster outage
            log.error("detector round failed", extra={"error": str(exc)})
        wait = settings.poll_seconds - (time.monotonic() - began)
        deadline = time.monotonic() + max(wait, 0)
        while time.monotonic() < deadline and not should_stop():
            time.sleep(min(1.0, deadline - time.monotonic()))
