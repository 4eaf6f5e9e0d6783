"""Settings: ``duskwatch.yaml`` validated by a JSON Schema, overridden by environment variables.

Every key can be set as ``DUSKWATCH_<SECTION>_<KEY>`` (e.g. ``DUSKWATCH_OPENSEARCH_URL``,
``DUSKWATCH_SERVER_PORT``). Unknown keys are errors that name the file, the key and what
was expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import yaml

from exporter.errors import ConfigError

ENV_PREFIX = "DUSKWATCH_"
CONFIG_ENV = "DUSKWATCH_CONFIG"
DEFAULT_FILE = "duskwatch.yaml"


@dataclass(frozen=True)
class OpenSearchSettings:
    """How to reach the cluster."""

    url: str
    username: str | None
    password: str | None
    ca_file: str | None
    verify_certs: bool
    timeout: float
    aws_sigv4: bool
    aws_region: str | None
    aws_service: str


@dataclass(frozen=True)
class ServerSettings:
    """The embedded local node."""

    cache_dir: str | None
    data_dir: str | None
    port: int
    heap: str
    user: str
    start_timeout: float
    java_home: str | None


@dataclass(frozen=True)
class IngestSettings:
    """Bulk indexing."""

    keep_original: bool
    batch_bytes: int
    batch_docs: int
    concurrency: int
    max_retries: int


@dataclass(frozen=True)
class LoggingSettings:
    """Log level and format."""

    level: str
    format: str


@dataclass(frozen=True)
class DetectionSettings:
    """Percolator matching on ingest."""

    enabled: bool
    detector_id: str | None
    rules_dirs: list[str]
    concurrency: int


@dataclass(frozen=True)
class DetectorSettings:
    """Behaviour detectors: concurrency, catch-up, schedule, and per-detector parameters."""

    enabled: bool
    concurrency: int
    max_catchup_days: int
    poll_seconds: int
    disabled: list[str]
    overrides: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ExportSettings:
    """Export destinations and the outbox's retry policy."""

    destinations: dict[str, dict[str, Any]]
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    poll_seconds: float


@dataclass(frozen=True)
class RemediationSettings:
    """Opt-in remediation actions."""

    enabled: bool
    dry_run: bool
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class RetentionSettings:
    """Days events, findings and dead letters are kept (0: forever)."""

    events_days: int
    findings_days: int
    deadletter_days: int


@dataclass(frozen=True)
class IntelSettings:
    """Threat and trusted list limits and feeds."""

    max_threat_lists: int
    max_threat_entries: int
    max_trusted_entries: int
    feeds: dict[str, str]
    refresh_hours: float


@dataclass(frozen=True)
class Settings:
    """All of Duskwatch's settings, with the file they came from (None: defaults only)."""

    opensearch: OpenSearchSettings
    server: ServerSettings
    ingest: IngestSettings
    logging: LoggingSettings
    detection: DetectionSettings
    detectors: DetectorSettings
    intel: IntelSettings
    export: ExportSettings
    remediation: RemediationSettings
    retention: RetentionSettings
    source: str | None = None


def schema() -> dict[str, Any]:
    """The JSON Schema of ``duskwatch.yaml``."""
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Settings from ``path`` (or $DUSKWATCH_CONFIG, or ./duskwatch.yaml if present) plus env."""
    env = os.environ if env is None else env
    chosen = path or env.get(CONFIG_ENV) or (DEFAULT_FILE if Path(DEFAULT_FILE).is_file() else None)
    raw = _read_file(Path(chosen)) if chosen else {}
    where = str(chosen) if chosen else "defaults"
    spec = schema()
    _validate(raw, spec, where)
    merged = _apply_env(raw, spec, env)
    _validate(merged, spec, "environment (DUSKWATCH_* variables)")
    return _build(_with_defaults(merged, spec), str(chosen) if chosen else None)


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(
            f"{path}: config file not found", hint="pass --config FILE or unset DUSKWATCH_CONFIG"
        )
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def _validate(data: Mapping[str, Any], spec: Mapping[str, Any], where: str) -> None:
    validator = jsonschema.Draft202012Validator(spec)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("\n".join(_describe(where, error) for error in errors))


def _describe(where: str, error: jsonschema.ValidationError) -> str:
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        given: dict[str, Any] = error.instance if isinstance(error.instance, dict) else {}
        extra = sorted(set(given) - set(schema.get("properties", {})))
        allowed = ", ".join(sorted(schema.get("properties", {})))
        prefix = f"{key}." if error.absolute_path else ""
        return f"{where}: unknown key {prefix}{', '.join(extra)} (expected one of: {allowed})"
    expected = schema.get("description") or _expected(schema)
    return f"{where}: {key}: {error.message} (expected {expected})"


def _expected(prop: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return "one of " + ", ".join(map(str, prop["enum"]))
    if "pattern" in prop:
        return f"a string matching {prop['pattern']}"
    kinds = prop.get("type", "a value")
    return " or ".join(kinds) if isinstance(kinds, list) else str(kinds)


def _apply_env(
    raw: Mapping[str, Any], spec: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    merged = {section: dict(values) for section, values in raw.items() if isinstance(values, dict)}
    merged.update({k: v for k, v in raw.items() if not isinstance(v, dict)})
    for section, section_spec in spec["properties"].items():
        for key, prop in section_spec["properties"].items():
            name = f"{ENV_PREFIX}{section}_{key}".upper()
            if name in env:
                merged.setdefault(section, {})[key] = _coerce(env[name], prop, name)
    return merged


def _coerce(text: str, prop: Mapping[str, Any], name: str) -> Any:
    kinds = prop.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "null" in kinds and text == "":
        return None
    if "array" in kinds:
        return [item.strip() for item in text.split(",") if item.strip()]
    if "object" in kinds:
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r}: expected a JSON object") from None
    if "boolean" in kinds:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={text!r}: expected true or false")
    if "integer" in kinds or "number" in kinds:
        try:
            return int(text) if "integer" in kinds else float(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r}: expected a number") from None
    return text


def _with_defaults(data: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        section: {
            key: data.get(section, {}).get(key, prop.get("default"))
            for key, prop in section_spec["properties"].items()
        }
        for section, section_spec in spec["properties"].items()
    }


S = TypeVar("S")


def _section(cls: type[S], values: Mapping[str, Any]) -> S:
    return cls(**{f.name: values[f.name] for f in fields(cls)})  # type: ignore[arg-type]


def _build(data: Mapping[str, Mapping[str, Any]], source: str | None) -> Settings:
    cluster = dict(data["opensearch"])
    cluster["url"] = cluster["url"] or f"http://127.0.0.1:{data['server']['port']}"
    return Settings(
        opensearch=_section(OpenSearchSettings, cluster),
        server=_section(ServerSettings, data["server"]),
        ingest=_section(IngestSettings, data["ingest"]),
        logging=_section(LoggingSettings, data["logging"]),
        detection=_section(DetectionSettings, data["detection"]),
        detectors=_section(DetectorSettings, data["detectors"]),
        intel=_section(IntelSettings, data["intel"]),
        export=_section(ExportSettings, data["export"]),
        remediation=_section(RemediationSettings, data["remediation"]),
        retention=_section(RetentionSettings, data["retention"]),
        source=source,
    )
