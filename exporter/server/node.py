"""Start, stop and inspect the local single-node OpenSearch.

OpenSearch refuses to run as root, so when Duskwatch runs as root the node runs as an
unprivileged user created for the purpose. The node binds to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.config import ServerSettings
from exporter.errors import ServerError
from exporter.server import provision

CLUSTER_NAME = "duskwatch"
_JAVA_CANDIDATES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64")


@dataclass(frozen=True)
class NodePaths:
    """Where one node keeps its config, data, logs and pid file."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pid_file(self) -> Path:
        return self.root / "opensearch.pid"

    @property
    def log_file(self) -> Path:
        return self.logs / f"{CLUSTER_NAME}.log"


@dataclass(frozen=True)
class StartReport:
    """What ``start`` did and how long each part took."""

    url: str
    already_running: bool
    provision_seconds: float
    start_seconds: float
    steps: list[str]


def cache_dir(settings: ServerSettings) -> Path:
    """The configured cache directory, or the default one."""
    return (
        Path(settings.cache_dir).expanduser()
        if settings.cache_dir
        else provision.default_cache_dir()
    )


def node_paths(settings: ServerSettings) -> NodePaths:
    """The node's directories for the configured port."""
    if settings.data_dir:
        return NodePaths(Path(settings.data_dir).expanduser())
    return NodePaths(cache_dir(settings) / f"node-{settings.port}")


def local_url(settings: ServerSettings) -> str:
    """The node's HTTP address."""
    return f"http://127.0.0.1:{settings.port}"


def java_home(settings: ServerSettings) -> Path:
    """A JDK 11-21 home: configured, $JAVA_HOME, or the system OpenJDK 17."""
    candidates = [settings.java_home, os.environ.get("JAVA_HOME"), *_JAVA_CANDIDATES]
    for candidate in candidates:
        if candidate and (Path(candidate) / "bin" / "java").is_file():
            return Path(candidate)
    raise ServerError(
        "no Java 17 found for OpenSearch 2.19",
        hint="apt-get install -y openjdk-17-jdk-headless, or set server.java_home / JAVA_HOME",
    )


def http_get(url: str, timeout: float = 5.0) -> Any:
    """GET a JSON document from the node (no client library needed before it is up)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local node)
        return json.loads(response.read())


def is_ready(url: str) -> bool:
    """True when the node answers and the cluster is at least yellow."""
    try:
        health = http_get(f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s", 3.0)
    except (OSError, ValueError):
        return False
    return health.get("status") in ("yellow", "green")


def running_pid(paths: NodePaths) -> int | None:
    """The node's pid when its pid file names a live process."""
    try:
        pid = int(paths.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(settings: ServerSettings) -> StartReport:
    """Provision (if needed) and start the node; return once the cluster is yellow."""
    url, paths = local_url(settings), node_paths(settings)
    if running_pid(paths) and is_ready(url):
        return StartReport(url, True, 0.0, 0.0, [f"already running at {url}"])
    if is_ready(url):
        raise ServerError(
            f"port {settings.port} is already served by another OpenSearch (not this node)",
            hint="stop it, or choose another port with --port / DUSKWATCH_SERVER_PORT",
        )
    steps: list[str] = []
    began = time.monotonic()
    java = java_home(settings)
    dist = provision.ensure_distribution(cache_dir(settings), java, steps)
    provisioned = time.monotonic()
    _write_config(paths, dist.home, settings)
    user = _run_user(settings, paths)
    _launch(dist.home, paths, java, settings.heap, user)
    _wait_ready(url, paths, settings.start_timeout)
    steps.append(f"node ready at {url}")
    return StartReport(url, False, provisioned - began, time.monotonic() - provisioned, steps)


def _write_config(paths: NodePaths, home: Path, settings: ServerSettings) -> None:
    paths.config.mkdir(parents=True, exist_ok=True)
    paths.data.mkdir(exist_ok=True)
    paths.logs.mkdir(exist_ok=True)
    shutil.copy2(home / "config" / "log4j2.properties", paths.config / "log4j2.properties")
    jvm = (home / "config" / "jvm.options").read_text("utf-8")
    jvm = jvm.replace("=logs/", f"={paths.logs}/").replace(":logs/", f":{paths.logs}/")
    jvm = jvm.replace("HeapDumpPath=data", f"HeapDumpPath={paths.data}")
    jvm = jvm.replace("-Xms1g", f"-Xms{settings.heap}").replace("-Xmx1g", f"-Xmx{settings.heap}")
    (paths.config / "jvm.options").write_text(jvm, "utf-8")
    (paths.config / "opensearch.yml").write_text(
        f"cluster.name: {CLUSTER_NAME}\nnode.name: duskwatch-local\n"
        "discovery.type: single-node\nnetwork.host: 127.0.0.1\n"
        f"http.port: {settings.port}\ntransport.port: {settings.port + 100}\n"
        f"path.data: {paths.data}\npath.logs: {paths.logs}\n"
        "cluster.routing.allocation.disk.threshold_enabled: false\n"
        "action.destructive_requires_name: true\n",
        "utf-8",
    )
    (paths.config / "opensearch.keystore").unlink(missing_ok=True)


def _run_user(settings: ServerSettings, paths: NodePaths) -> str | None:
    """Create the unprivileged node user when running as root and hand it the node dir."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(settings.user)
    except KeyError:
        command = [
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            settings.user,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServerError(
                f"could not create user {settings.user}: {result.stderr.strip()}",
                hint="create it by hand or set server.user",
            ) from None
    subprocess.run(["chown", "-R", f"{settings.user}:", str(paths.root)], check=True)
    return settings.user


def _launch(home: Path, paths: NodePaths, java: Path, heap: str, user: str | None) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "JAVA_HOME": str(java),
        "OPENSEARCH_PATH_CONF": str(paths.config),
        "OPENSEARCH_JAVA_OPTS": "",
        "HOME": str(paths.root),
        "LANG": "C.UTF-8",
    }
    command = [str(home / "bin" / "opensearch"), "-d", "-p", str(paths.pid_file)]
    if user:
        command = [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            *(f"{k}={v}" for k, v in env.items()),
            *command,
        ]
    paths.pid_file.unlink(missing_ok=True)
    launch_log = paths.logs / "launch.log"
    # The daemon inherits these descriptors: a file, not a pipe, or we would wait on it forever.
    with launch_log.open("w", encoding="utf-8") as out:
        code = subprocess.run(
            command,
            env=env,
            cwd=paths.root,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        ).returncode
    if code != 0:
        output = launch_log.read_text("utf-8", "replace").strip()[-3000:]
        raise ServerError(
            f"OpenSearch did not start:\n{output}",
            hint=f"see {paths.log_file}; `duskwatch server logs` shows its end",
        )


def _wait_ready(url: str, paths: NodePaths, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready(url):
            return
        if paths.pid_file.exists() and running_pid(paths) is None:
            break
        time.sleep(1.0)
    raise ServerError(
        f"OpenSearch was not ready within {timeout:.0f}s. Last lines of {paths.log_file}:\n"
        + "\n".join(tail(paths, 25)),
        hint="fix what the log says (memory, port, permissions), then `duskwatch server start`",
    )


def stop(settings: ServerSettings, timeout: float = 60.0) -> bool:
    """Stop the node gracefully (SIGTERM, then SIGKILL after ``timeout``); False if not running."""
    paths = node_paths(settings)
    pid = running_pid(paths)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running_pid(paths) is None:
            break
        time.sleep(0.5)
    else:
        os.kill(pid, signal.SIGKILL)
    paths.pid_file.unlink(missing_ok=True)
    return True


def tail(paths: NodePaths, lines: int) -> list[str]:
    """The last ``lines`` lines of the node's log."""
    try:
        with paths.log_file.open(encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]
    except OSError:
        return [f"(no log at {paths.log_file})"]
