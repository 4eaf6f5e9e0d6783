"""Labelled behaviour scenarios: cloudtrail (filled in by the behaviour-detector work)."""
