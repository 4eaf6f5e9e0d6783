"""Behaviour detectors: kubernetes (filled in by the catalogue work)."""
