"""Labelled behaviour scenarios: kubernetes (filled in by the behaviour-detector work)."""
