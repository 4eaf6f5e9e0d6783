"""Labelled behaviour scenarios: flow (filled in by the behaviour-detector work)."""
