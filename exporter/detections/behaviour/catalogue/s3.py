"""Behaviour detectors: s3 (filled in by the catalogue work)."""
