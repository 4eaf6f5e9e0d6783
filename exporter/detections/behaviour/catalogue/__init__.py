"""The shipped detectors: one module per detector (or family of detectors), beside the
shared helpers of their source (``flow_fields``, ``dns``, ``cloudtrail``)."""

from __future__ import annotations

import importlib

MODULES = (
    "flow",
    "dns_exfiltration",
    "dns_dga",
    "dns_resolver",
    "cloudtrail_anomalous",
    "cloudtrail_instance",
    "cloudtrail_logins",
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
