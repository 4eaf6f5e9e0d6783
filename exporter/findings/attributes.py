"""GuardDuty's filterable finding attributes (the ``findingCriteria`` keys of its API model)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def filter_attributes() -> tuple[str, ...]:
    """Every attribute name GuardDuty's filter API accepts, e.g. ``service.archived``."""
    text = resources.files(__package__).joinpath("filter_attributes.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())
