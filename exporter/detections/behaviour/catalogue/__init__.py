"""The shipped detectors, one module per source family."""

from __future__ import annotations

import importlib

MODULES = (
    "flow",
    "dns",
    "cloudtrail",
    "s3",
    "kubernetes",
    "flow_scan",
    "flow_unusual",
    "flow_flood",
    "flow_mail",
)


def load_catalogue() -> None:
    """Import every catalogue module (each registers its detectors)."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
