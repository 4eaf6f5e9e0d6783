"""Which configured remediation rules apply to a finding; running, recording and undoing them.

Configuration (``remediation`` in ``duskwatch.yaml``)::

    remediation:
      enabled: true          # act on new and updated findings automatically
      dry_run: true          # record what would be done, change nothing (the default)
      actions:
        - action: block-ip-nacl
          finding_types: ["UnauthorizedAccess:EC2/SSHBruteForce", "Recon:EC2/*"]
          min_severity: 5
          rule_range: [1, 99]           # action options sit beside the rule's keys
        - action: deactivate-access-key
          finding_types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"]

``finding_types`` entries may use ``*`` and ``?`` wildcards. Archived findings are never acted
on automatically. An automatic run of the same action on the same target for the same
finding is recorded once, however often the finding is updated.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema
import orjson

from exporter.config import RemediationSettings
from exporter.errors import ConfigError, DuskwatchError
from exporter.remediation.actions import (
    ACTIONS,
    ClientFactory,
    NotApplicable,
    Plan,
)
from exporter.remediation.log import Record, RemediationLog, Status

log = logging.getLogger(__name__)

RULE_KEYS: dict[str, Any] = {
    "action": {"type": "string"},
    "finding_types": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    "min_severity": {"type": "number", "minimum": 1, "maximum": 10, "default": 1},
}


@dataclass(frozen=True)
class Rule:
    """One configured action: which findings it applies to, and the action's options."""

    action: str
    finding_types: tuple[str, ...]
    min_severity: float = 1.0
    options: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, finding: Mapping[str, Any]) -> bool:
        """True when the finding's type and severity are covered."""
        kind = str(finding.get("type", ""))
        return float(finding.get("severity", 0)) >= self.min_severity and any(
            fnmatch.fnmatchcase(kind, pattern) for pattern in self.finding_types
        )


def rules(settings: RemediationSettings) -> list[Rule]:
    """The configured rules, validated; ConfigError lists every problem."""
    problems: list[str] = []
    found: list[Rule] = []
    for index, item in enumerate(settings.actions):
        where = f"remediation.actions[{index}]"
        name = item.get("action")
        if name not in ACTIONS:
            known = ", ".join(ACTIONS.names())
            problems.append(f"{where}.action: unknown action {name!r} (known: {known})")
            continue
        schema = {
            "type": "object",
            "required": ["action", "finding_types"],
            "additionalProperties": False,
            "properties": {**RULE_KEYS, **ACTIONS.get(str(name)).options_schema},
        }
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(item))
        problems += [f"{where}: {error.message}" for error in errors]
        if not errors:
            options = {k: v for k, v in item.items() if k not in RULE_KEYS}
            types = tuple(item["finding_types"])
            found.append(Rule(str(name), types, float(item.get("min_severity", 1)), options))
    if problems:
        raise ConfigError("\n".join(problems), hint="fix remediation.actions in duskwatch.yaml")
    return found


def default_clients(service: str, region: str | None) -> Any:
    """A boto3 client from the usual chain (``AWS_ENDPOINT_URL`` points it at moto etc.)."""
    import boto3

    return boto3.client(service, region_name=region)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dedup_key(action: str, finding_id: str, target: Mapping[str, Any]) -> str:
    """Stable key of (action, finding, target)."""
    blob = orjson.dumps([action, finding_id, target], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:32]


class Remediator:
    """Runs remediation actions for findings and records every run."""

    def __init__(
        self,
        settings: RemediationSettings,
        records: RemediationLog,
        clients: ClientFactory = default_clients,
        now: Callable[[], str] = _now,
    ) -> None:
        self.settings = settings
        self.rules = rules(settings)
        self.records = records
        self.clients = clients
        self.now = now

    def handle(self, findings: Iterable[Mapping[str, Any]]) -> list[Record]:
        """Automatic remediation of stored findings (a no-op unless ``enabled``)."""
        if not self.settings.enabled:
            return []
        done: list[Record] = []
        for finding in findings:
            if (finding.get("service") or {}).get("archived"):
                continue
            for rule in self.rules:
                if rule.matches(finding):
                    record = self.run(finding, rule, execute=not self.settings.dry_run, once=True)
                    if record is not None:
                        done.append(record)
        return done

    def matching(self, finding: Mapping[str, Any]) -> list[Rule]:
        """The configured rules that cover ``finding``."""
        return [rule for rule in self.rules if rule.matches(finding)]

    def run(
        self,
        finding: Mapping[str, Any],
        rule: Rule,
        *,
        execute: bool,
        once: bool = False,
        trigger: str = "auto",
    ) -> Record | None:
        """Plan, then execute (or only record, in a dry run) one rule's action for a finding.

        With ``once``, nothing happens (None is returned) when the same action on the same
        target was already executed for this finding, or, in a dry run, already planned.
        """
        action = ACTIONS.get(rule.action)
        record = self._record(finding, rule.action, execute, trigger)
        try:
            plan = action.plan(finding, rule.options)
        except NotApplicable as exc:
            record.status, record.error = Status.SKIPPED, str(exc)
            return self._finish(record)
        record.summary, record.target, record.region = plan.summary, plan.target, plan.region
        record.key = dedup_key(rule.action, record.finding_id, plan.target)
        if once and self._already(record.key, execute):
            return None
        if not execute:
            record.status = Status.PLANNED
            return self._finish(record)
        return self._finish(self._execute(record, plan, rule))

    def _execute(self, record: Record, plan: Plan, rule: Rule) -> Record:
        try:
            record.undo = ACTIONS.get(rule.action).execute(plan, self.clients, rule.options)
        except Exception as exc:  # noqa: BLE001 - RemediationFailed or any AWS error, recorded
            record.status, record.error = Status.FAILED, f"{type(exc).__name__}: {exc}"
            return record
        record.status = Status.EXECUTED
        return record

    def _already(self, key: str, execute: bool) -> bool:
        """True when this was executed (or, for a dry run, at least planned) before."""
        statuses = (Status.EXECUTED,) if execute else (Status.PLANNED, Status.EXECUTED)
        return bool(self.records.search(key=key, statuses=statuses))

    def undo(self, record_id: str) -> Record:
        """Revert an executed action; DuskwatchError when the record was not executed."""
        record = self.records.get(record_id)
        if record.status != Status.EXECUTED:
            raise DuskwatchError(
                f"remediation {record_id} is {record.status.value}; only executed actions "
                "can be undone",
                hint="duskwatch remediation list shows each record's status",
            )
        action = ACTIONS.get(record.action)
        try:
            outcome = action.undo(record.target, record.undo, self.clients, record.region)
        except Exception as exc:  # noqa: BLE001 - any AWS error is recorded
            record.status, record.error = Status.UNDO_FAILED, f"{type(exc).__name__}: {exc}"
            self._finish(record)
            raise DuskwatchError(f"undo of {record_id} failed: {record.error}") from exc
        record.status, record.undone_at = Status.UNDONE, self.now()
        record.summary = f"{record.summary}; undone: {outcome}"
        return self._finish(record)

    def _record(
        self, finding: Mapping[str, Any], action: str, execute: bool, trigger: str
    ) -> Record:
        now = self.now()
        return Record(
            id=uuid.uuid4().hex[:20],
            key="",
            action=action,
            status=Status.PLANNED,
            dry_run=not execute,
            trigger=trigger,
            finding_id=str(finding.get("id", "")),
            finding_type=str(finding.get("type", "")),
            account_id=str(finding.get("accountId", "")),
            region=finding.get("region"),
            severity=float(finding.get("severity", 0)),
            created_at=now,
            updated_at=now,
        )

    def _finish(self, record: Record) -> Record:
        record.updated_at = self.now()
        self.records.save(record)
        level = (
            logging.WARNING
            if record.status in (Status.FAILED, Status.UNDO_FAILED)
            else logging.INFO
        )
        log.log(
            level,
            "remediation %s",
            record.status.value,
            extra={
                "remediation_id": record.id,
                "action": record.action,
                "finding_id": record.finding_id,
                "dry_run": record.dry_run,
                "summary": record.summary,
                "error": record.error,
            },
        )
        return record


def rules_for(
    remediator: Remediator, finding: Mapping[str, Any], action: str | None
) -> Sequence[Rule]:
    """The rules a manual run uses: the configured ones matching the finding, or ``action``
    alone (with its configured options when a rule names it)."""
    if action is None:
        return remediator.matching(finding)
    if action not in ACTIONS:
        raise DuskwatchError(
            f"unknown remediation action {action!r}",
            hint=f"known actions: {', '.join(ACTIONS.names())}",
        )
    configured = [r for r in remediator.rules if r.action == action]
    options = configured[0].options if configured else {}
    return [Rule(action, ("*",), 1.0, options)]
