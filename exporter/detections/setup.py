"""Put the detections in place: signature rules and built-in lists, and the ingest matcher."""

from __future__ import annotations

from dataclasses import dataclass

from opensearchpy import OpenSearch

from exporter.config import Settings
from exporter.detections.matcher import Matcher
from exporter.detections.rules import install, load_rules
from exporter.detections.threatintel.builtin import install_builtin
from exporter.errors import StoreError
from exporter.export.config import outbox_for
from exporter.findings.store import detector_id
from exporter.findings.writer import FindingWriter
from exporter.remediation.log import RemediationLog
from exporter.remediation.service import Remediator
from exporter.suppression.suppressor import suppressor_for


@dataclass(frozen=True)
class Installed:
    """One row of what was installed."""

    kind: str
    name: str
    outcome: str
    detail: str = ""


def install_detections(client: OpenSearch, settings: Settings) -> list[Installed]:
    """Install the rule catalogue (plus ``detection.rules_dirs``) and the built-in lists."""
    rules = load_rules(settings.detection.rules_dirs)
    result = install(client, rules)
    rows = [
        Installed(
            "rules",
            "duskwatch-rules",
            "installed",
            f"{len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.deleted)} deleted",
        )
    ]
    rows += [
        Installed("rules", rule, "failed", f"unmapped fields: {', '.join(fields)}")
        for rule, fields in result.skipped.items()
    ]
    rows += [Installed("rules", rule, "failed", reason) for rule, reason in result.failed.items()]
    for loaded in install_builtin(client):
        outcome = "unchanged" if loaded.unchanged else "installed"
        rows.append(
            Installed(
                "threatlist", loaded.meta.name, outcome, f"{loaded.meta.entries} entries (built-in)"
            )
        )
    return rows


def finding_writer(client: OpenSearch, settings: Settings) -> FindingWriter:
    """The write path of every detection: suppression rules, the findings store, the export
    outbox of the enabled destinations, and remediation when enabled."""
    responder = (
        Remediator(settings.remediation, RemediationLog(client))
        if settings.remediation.enabled
        else None
    )
    return FindingWriter(
        client,
        suppressor=suppressor_for(client),
        outbox=outbox_for(client, settings),
        responder=responder,
    )


def ingest_matcher(client: OpenSearch, settings: Settings) -> Matcher:
    """The matcher that turns newly ingested documents into findings, rules in place."""
    rules = load_rules(settings.detection.rules_dirs)
    result = install(client, rules)
    if not result.ok:
        problems = {
            **{r: f"unmapped {', '.join(f)}" for r, f in result.skipped.items()},
            **result.failed,
        }
        shown = "; ".join(f"{rule}: {why}" for rule, why in sorted(problems.items())[:5])
        raise StoreError(
            f"{len(problems)} rules could not be installed: {shown}",
            hint="run `duskwatch bootstrap` so the templates map their fields",
        )
    return Matcher(
        client,
        rules,
        detector_id=detector_id(client, settings.detection.detector_id),
        concurrency=settings.detection.concurrency,
        writer=finding_writer(client, settings),
    )
