"""Where the shared reference docs and sample logs are: ``../shared`` beside the repository.

A clone made elsewhere (e.g. ``git clone /work/main /tmp/x``) finds them beside the repository
it was cloned from; ``DUSKWATCH_SHARED_DIR`` overrides both.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``$DUSKWATCH_SHARED_DIR``, else ``../shared``, else the origin clone's ``../shared``."""
    configured = os.environ.get("DUSKWATCH_SHARED_DIR")
    if configured:
        return Path(configured).resolve()
    beside = REPO.parent / "shared"
    if beside.is_dir():
        return beside.resolve()
    origin = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if origin and Path(origin).is_dir():
        return (Path(origin).resolve().parent / "shared").resolve()
    return beside


SHARED = shared_dir()
