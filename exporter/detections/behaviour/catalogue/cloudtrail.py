"""Behaviour detectors: cloudtrail (filled in by the catalogue work)."""
