"""OpenSearch Dashboards saved objects: load, validate, canonicalize, install and export."""

from __future__ import annotations

from exporter.dashboards.api import Auth, DashboardsError, ImportResult, export, install
from exporter.dashboards.objects import DASHBOARDS_DIR, SavedObject, load, write
from exporter.dashboards.validate import check

__all__ = [
    "DASHBOARDS_DIR",
    "Auth",
    "DashboardsError",
    "ImportResult",
    "SavedObject",
    "check",
    "export",
    "install",
    "load",
    "write",
]
