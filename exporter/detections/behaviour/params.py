"""Detector parameters: each detector's defaults with ``detectors.overrides`` applied."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.detections.behaviour.model import Detector, Params
from exporter.errors import ConfigError

SETTING = "detectors.overrides"


def resolve(detector: Detector, overrides: Mapping[str, Mapping[str, Any]]) -> Params:
    """``detector.params`` with its overrides; an unknown name or a value of the wrong type
    is a :class:`ConfigError` naming the setting and what was expected."""
    given = overrides.get(detector.name, {})
    if not isinstance(given, Mapping):
        raise ConfigError(f"{SETTING}.{detector.name}: expected a mapping of parameter: value")
    resolved = dict(detector.params)
    for name, value in given.items():
        where = f"{SETTING}.{detector.name}.{name}"
        if name not in detector.params:
            known = ", ".join(sorted(detector.params)) or "none"
            raise ConfigError(f"{where}: unknown parameter (known: {known})")
        resolved[name] = _checked(where, detector.params[name], value)
    return resolved


def check_names(overrides: Mapping[str, Any], known: list[str]) -> None:
    """Every overridden detector exists (else :class:`ConfigError` listing the known ones)."""
    for name in overrides:
        if name not in known:
            raise ConfigError(
                f"{SETTING}.{name}: unknown detector", hint="`duskwatch detectors list` names them"
            )


def _checked(where: str, default: Any, value: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(default, int | float):
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return type(default)(value) if isinstance(default, float) else _whole(where, value)
        raise ConfigError(f"{where}: expected a non-negative number, got {value!r}")
    if isinstance(default, list | tuple):
        if isinstance(value, list | tuple):
            return list(value)
        raise ConfigError(f"{where}: expected a list, got {value!r}")
    if isinstance(value, str):
        return value
    raise ConfigError(f"{where}: expected text, got {value!r}")


def _whole(where: str, value: float) -> int:
    if int(value) != value:
        raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    return int(value)
