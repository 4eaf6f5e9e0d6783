"""Fetch artifacts from Maven Central with the ``mvn`` client into a private local repository."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from exporter.errors import ServerError

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

_MODULE_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>duskwatch.fetch</groupId><artifactId>{name}</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>{dependencies}</dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId>
    <version>3.6.1</version>
    <configuration><outputDirectory>{output}</outputDirectory>
      <includeScope>runtime</includeScope><excludeTransitive>{flat}</excludeTransitive>
    </configuration>
  </plugin></plugins></build>
</project>
"""
_DEPENDENCY = (
    "<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
    "<type>{t}</type></dependency>"
)
_AGGREGATOR = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>duskwatch.fetch</groupId><artifactId>all</artifactId><version>1</version>
  <packaging>pom</packaging><modules>{modules}</modules>
</project>
"""


def _dependency(coordinate: str) -> str:
    parts = coordinate.split(":")
    group, artifact, version = parts[:3]
    kind = parts[3] if len(parts) > 3 else "jar"
    return _DEPENDENCY.format(g=escape(group), a=escape(artifact), v=escape(version), t=kind)


def _mvn() -> str:
    path = shutil.which("mvn")
    if not path:
        raise ServerError(
            "Maven (mvn) is not installed; it is needed to download OpenSearch from Maven Central",
            hint="apt-get install -y maven (or install Apache Maven 3.8+ and put mvn on PATH)",
        )
    return path


def run_mvn(args: list[str], repo: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run mvn in batch mode against ``repo`` as the local repository."""
    command = [_mvn(), "-B", "-q", "-U", f"-Dmaven.repo.local={repo}", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def fetch_groups(groups: dict[str, tuple[list[str], bool]], out: Path, repo: Path) -> None:
    """Copy each group's artifacts (with runtime deps unless flat) into ``out/<group>/``.

    ``groups`` maps a group name to (coordinates, flat). One mvn run fetches everything.
    """
    work = out / ".pom"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name, (coordinates, flat) in groups.items():
        (work / name).mkdir()
        deps = "".join(_dependency(c) for c in coordinates)
        pom = _MODULE_POM.format(
            name=escape(name),
            dependencies=deps,
            output=escape(str(out / name)),
            flat=str(flat).lower(),
        )
        (work / name / "pom.xml").write_text(pom, "utf-8")
    modules = "".join(f"<module>{escape(n)}</module>" for n in groups)
    (work / "pom.xml").write_text(_AGGREGATOR.format(modules=modules), "utf-8")
    result = run_mvn([f"{DEPENDENCY_PLUGIN}:copy-dependencies"], repo, work)
    if result.returncode != 0:
        raise ServerError(
            "Maven could not download the OpenSearch artifacts:\n" + _errors(result.stdout),
            hint="check that Maven Central is reachable (proxy settings go in ~/.m2/settings.xml)",
        )


def fetch_one(coordinate: str, out: Path, repo: Path) -> str | None:
    """Copy one artifact (no dependencies) into ``out``; the Maven error text if it fails."""
    out.mkdir(parents=True, exist_ok=True)
    args = [f"{DEPENDENCY_PLUGIN}:copy", f"-Dartifact={coordinate}", f"-DoutputDirectory={out}"]
    result = run_mvn(args, repo, out)
    return None if result.returncode == 0 else _errors(result.stdout)


def _errors(output: str) -> str:
    lines: Iterable[str] = (line for line in output.splitlines() if "[ERROR]" in line)
    picked = [line.replace("[ERROR]", "").strip() for line in lines]
    return "\n".join(line for line in picked if line)[:2000] or output[-2000:]
