"""Lists shipped with Duskwatch, versioned in their header (``# version: ...``).

- ``duskwatch-cryptomining-pools`` (``cryptomining-pools.txt``): mining pool domains;
- ``duskwatch-guardduty-tester`` (``guardduty-tester.txt``, CSV with a category column):
  the test domains of amazon-guardduty-tester, one per DNS threat-intel finding type.

They are stored like any threat list (``origin`` ``builtin``, shown as ``builtin: true``),
do not count against the user list quota, and are refreshed from the package.
"""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources

from opensearchpy import OpenSearch

from exporter.detections.threatintel import store
from exporter.detections.threatintel.location import BUILTIN_PACKAGE, BUILTIN_SCHEME
from exporter.detections.threatintel.meta import ListSpec
from exporter.detections.threatintel.queries import THREATINTEL_INDEX

BUILTIN_LISTS: tuple[ListSpec, ...] = (
    ListSpec(
        name="duskwatch-cryptomining-pools",
        list_kind="threat",
        location=BUILTIN_SCHEME + "cryptomining-pools.txt",
        list_format="txt",
        kind="domain",
        category="cryptomining",
        origin="builtin",
    ),
    ListSpec(
        name="duskwatch-guardduty-tester",
        list_kind="threat",
        location=BUILTIN_SCHEME + "guardduty-tester.txt",
        list_format="csv",
        kind="domain",
        category="malicious",
        origin="builtin",
    ),
)
_VERSION = re.compile(r"^#\s*version:\s*(\S+)", re.MULTILINE)


def version(spec: ListSpec) -> str | None:
    """The ``# version:`` of a built-in list file's header."""
    name = spec.location.removeprefix(BUILTIN_SCHEME)
    text = resources.files(BUILTIN_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    found = _VERSION.search(text)
    return found.group(1) if found else None


def install_builtin(
    client: OpenSearch, *, index: str = THREATINTEL_INDEX
) -> list[store.LoadResult]:
    """Store (or refresh) every built-in list; unchanged ones are left alone."""
    results = []
    for spec in BUILTIN_LISTS:
        results.append(store.add(client, replace(spec, version=version(spec)), index=index))
    return results
