"""Local files and directories (recursive), read whole; gzip is handled by the parsers' edge."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from exporter.errors import DuskwatchError

SKIPPED_NAMES = (".DS_Store", "labels.json")  # labels.json: the simulator's answer key
SKIPPED_SUFFIXES = (".md", ".sha256", ".partial")


def expand(paths: Iterable[str]) -> list[Path]:
    """Every file under the given paths, sorted, skipping hidden and marker files."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p, path)))
        else:
            raise DuskwatchError(f"{raw}: no such file or directory")
    return found


def _wanted(path: Path, root: Path) -> bool:
    relative = path.relative_to(root).parts
    if any(part.startswith(".") for part in relative):
        return False
    return path.name not in SKIPPED_NAMES and not path.name.endswith(SKIPPED_SUFFIXES)


def read_files(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    """(origin, bytes) for each file; an unreadable file raises with its name."""
    for path in paths:
        try:
            yield str(path), path.read_bytes()
        except OSError as exc:
            raise DuskwatchError(f"{path}: cannot read ({exc.strerror})") from exc
