"""Download and assemble the pinned OpenSearch distribution into the cache, idempotently.

Layout under the cache directory::

    m2/                          Maven's local repository (downloads, reused)
    downloads/<version>/         artifacts copied out of m2, ``.complete`` when whole
    dist/opensearch-<version>/   the assembled home, ``duskwatch-manifest.json`` when whole

A directory without its marker is a half-finished run and is redone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from exporter.errors import ServerError
from exporter.server import maven
from exporter.server.distribution import (
    DIST_COORDINATE,
    MODULE_GROUP,
    MODULES,
    OPENSEARCH_VERSION,
    PLUGIN_VERSION,
    PLUGINS,
    Module,
)

MANIFEST = "duskwatch-manifest.json"
_VERSIONED_JAR = re.compile(r"-\d[^-]*(?:-[A-Za-z]+)?\.jar$")


@dataclass
class Distribution:
    """An assembled OpenSearch home and what is installed in it."""

    home: Path
    version: str
    modules: list[str]
    plugins: list[str]
    missing_plugins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, home: Path) -> Distribution | None:
        """The distribution at ``home``, or None if it is absent or half-built."""
        try:
            data = json.loads((home / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return cls(home=home, **data)

    def write(self) -> None:
        """Record the manifest: the marker of a complete assembly."""
        data = {
            "version": self.version,
            "modules": self.modules,
            "plugins": self.plugins,
            "missing_plugins": self.missing_plugins,
        }
        (self.home / MANIFEST).write_text(json.dumps(data, indent=2), "utf-8")


def default_cache_dir() -> Path:
    """~/.cache/duskwatch, or /var/cache/duskwatch as root (the node user cannot enter /root)."""
    if os.geteuid() == 0:
        return Path("/var/cache/duskwatch")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "duskwatch"


def ensure_distribution(cache: Path, java_home: Path, log: list[str]) -> Distribution:
    """The assembled distribution, downloading and assembling whatever is missing."""
    home = cache / "dist" / f"opensearch-{OPENSEARCH_VERSION}"
    existing = Distribution.read(home)
    if existing is not None:
        log.append(f"reusing {home}")
        return existing
    downloads = _ensure_downloads(cache, log)
    return _assemble(downloads, home, java_home, log)


def _ensure_downloads(cache: Path, log: list[str]) -> Path:
    out = cache / "downloads" / OPENSEARCH_VERSION
    if (out / ".complete").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.monotonic()
    groups: dict[str, tuple[list[str], bool]] = {"dist": ([DIST_COORDINATE], True)}
    for module in MODULES:
        groups[module.name] = ([f"{MODULE_GROUP}:{module.artifact}:{OPENSEARCH_VERSION}"], False)
    required = [p for p in PLUGINS if p.required]
    groups["plugins"] = ([p.coordinate for p in required], True)
    maven.fetch_groups(groups, out, cache / "m2")
    missing = {}
    for plugin in (p for p in PLUGINS if not p.required):
        error = maven.fetch_one(plugin.coordinate, out / "plugins", cache / "m2")
        if error:
            missing[plugin.name] = f"{plugin.coordinate}: {error.splitlines()[0]}"
    (out / "missing-plugins.json").write_text(json.dumps(missing, indent=2), "utf-8")
    (out / ".complete").write_text("", "utf-8")
    log.append(f"downloaded artifacts in {time.monotonic() - started:.1f}s")
    return out


def _assemble(downloads: Path, home: Path, java_home: Path, log: list[str]) -> Distribution:
    started = time.monotonic()
    staging = home.with_name(home.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    _unzip_distribution(downloads / "dist" / f"opensearch-{OPENSEARCH_VERSION}.zip", staging)
    lib_names = {_base_name(p.name) for p in (staging / "lib").glob("*.jar")}
    for module in MODULES:
        _install_module(
            module, downloads / module.name, staging / "modules" / module.name, lib_names
        )
    missing: dict[str, str] = json.loads((downloads / "missing-plugins.json").read_text("utf-8"))
    installed = []
    for plugin in PLUGINS:
        if plugin.name in missing:
            continue
        zip_path = downloads / "plugins" / f"{plugin.artifact}-{PLUGIN_VERSION}.zip"
        _install_plugin(staging, zip_path, java_home)
        installed.append(plugin.name)
    staging.rename(home)
    dist = Distribution(
        home=home,
        version=OPENSEARCH_VERSION,
        modules=[m.name for m in MODULES],
        plugins=installed,
        missing_plugins=missing,
    )
    dist.write()
    log.append(f"assembled {home} in {time.monotonic() - started:.1f}s")
    return dist


def _unzip_distribution(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        top = f"opensearch-{OPENSEARCH_VERSION}/"
        for info in zipped.infolist():
            if not info.filename.startswith(top):
                continue
            dest = target / info.filename[len(top) :]
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                dest.chmod(mode)
    for script in (target / "bin").iterdir():
        script.chmod(0o755)


def _base_name(jar: str) -> str:
    return _VERSIONED_JAR.sub("", jar)


def _install_module(module: Module, jars: Path, target: Path, lib_names: set[str]) -> None:
    """Copy a module's jars (minus those already in lib/), then its descriptor and policy."""
    target.mkdir(parents=True)
    for jar in sorted(jars.glob("*.jar")):
        if _base_name(jar.name) not in lib_names:
            shutil.copy2(jar, target / jar.name)
    descriptor = {
        "description": f"{module.name} module",
        "version": OPENSEARCH_VERSION,
        "name": module.name,
        "classname": module.classname,
        "java.version": "11",
        "opensearch.version": OPENSEARCH_VERSION,
        "extended.plugins": module.extended,
        "has.native.controller": "false",
    }
    lines = "".join(f"{key}={value}\n" for key, value in descriptor.items())
    (target / "plugin-descriptor.properties").write_text(lines, "utf-8")
    if module.policy:
        (target / "plugin-security.policy").write_text(module.policy, "utf-8")


def _install_plugin(home: Path, archive: Path, java_home: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(java_home), "OPENSEARCH_PATH_CONF": str(home / "config")}
    command = [str(home / "bin" / "opensearch-plugin"), "install", "--batch", archive.as_uri()]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServerError(
            f"installing {archive.name} failed:\n{(result.stdout + result.stderr)[-2000:]}",
            hint="remove the cache directory's dist/ folder and run `duskwatch server start` again",
        )
