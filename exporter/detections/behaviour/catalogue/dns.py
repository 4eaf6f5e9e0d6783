"""Behaviour detectors: dns (filled in by the catalogue work)."""
