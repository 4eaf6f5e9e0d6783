"""Duskwatch: self-hosted, GuardDuty-compatible threat detection on OpenSearch."""

__version__ = "0.1.0"
