"""No container engine runs on the build machines: check docker-compose.yml by structure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from exporter.server.distribution import OPENSEARCH_VERSION

REPO = Path(__file__).resolve().parents[3]

_HEALTHCHECK = {
    "type": "object",
    "required": ["test", "interval", "timeout", "retries"],
    "properties": {"test": {"type": "array", "minItems": 2, "items": {"type": "string"}}},
}
_SERVICE = {
    "type": "object",
    "anyOf": [{"required": ["image"]}, {"required": ["build"]}],
    "required": ["healthcheck"],
    "properties": {
        "image": {"type": "string", "pattern": r"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$"},
        "healthcheck": _HEALTHCHECK,
        "ports": {"type": "array", "items": {"type": "string", "pattern": r"^127\.0\.0\.1:"}},
        "depends_on": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["condition"],
                "properties": {"condition": {"enum": ["service_healthy", "service_started"]}},
            },
        },
    },
}
_COMPOSE = {
    "type": "object",
    "required": ["services", "volumes"],
    "properties": {"services": {"type": "object", "additionalProperties": _SERVICE}},
}


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def test_compose_structure() -> None:
    compose = load()
    jsonschema.validate(compose, _COMPOSE)
    assert set(compose["services"]) == {"opensearch", "dashboards", "worker"}


def test_images_match_the_embedded_node_version() -> None:
    services = load()["services"]
    assert services["opensearch"]["image"].endswith(f":{OPENSEARCH_VERSION}")
    assert services["dashboards"]["image"].endswith(f":{OPENSEARCH_VERSION}")


def test_references_resolve() -> None:
    compose = load()
    services, volumes = compose["services"], set(compose["volumes"])
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith((".", "/")) or source in volumes, f"{name}: {source}"
    assert (REPO / services["worker"]["build"] / "Dockerfile").is_file()


def test_dockerfile_installs_the_package_and_runs_duskwatch() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "pip install" in dockerfile
    assert 'ENTRYPOINT ["duskwatch"]' in dockerfile
    for needed in ("COPY pyproject.toml", "COPY exporter", "COPY mappings", "COPY dashboards"):
        assert needed in dockerfile
