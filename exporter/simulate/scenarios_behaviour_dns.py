"""Labelled behaviour scenarios: dns (filled in by the behaviour-detector work)."""
