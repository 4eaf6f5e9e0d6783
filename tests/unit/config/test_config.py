from __future__ import annotations

from pathlib import Path

import pytest

from exporter import config
from exporter.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "duskwatch.yaml"
    path.write_text(text)
    return path


def test_defaults_point_at_the_local_node() -> None:
    settings = config.load(env={})
    assert settings.opensearch.url == "http://127.0.0.1:9200"
    assert settings.server.port == 9200
    assert settings.source is None


def test_url_follows_the_server_port_unless_set() -> None:
    assert config.load(env={"DUSKWATCH_SERVER_PORT": "9250"}).opensearch.url.endswith(":9250")
    explicit = config.load(
        env={
            "DUSKWATCH_SERVER_PORT": "9250",
            "DUSKWATCH_OPENSEARCH_URL": "https://search.example:443",
        }
    )
    assert explicit.opensearch.url == "https://search.example:443"


def test_file_values_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "opensearch:\n  url: https://os.internal:9200\n  verify_certs: false\n")
    settings = config.load(path, env={})
    assert settings.opensearch.url == "https://os.internal:9200"
    assert settings.opensearch.verify_certs is False
    assert settings.source == str(path)


def test_env_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ingest:\n  batch_docs: 10\n")
    settings = config.load(
        path, env={"DUSKWATCH_INGEST_BATCH_DOCS": "77", "DUSKWATCH_INGEST_KEEP_ORIGINAL": "false"}
    )
    assert settings.ingest.batch_docs == 77
    assert settings.ingest.keep_original is False


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  heap: 2g\n")
    assert config.load(env={"DUSKWATCH_CONFIG": str(path)}).server.heap == "2g"


def test_unknown_key_names_file_key_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "opensearch:\n  urll: http://x\n")
    with pytest.raises(ConfigError) as caught:
        config.load(path, env={})
    message = str(caught.value)
    assert str(path) in message
    assert "opensearch.urll" in message
    assert "url" in message.split("expected one of:")[1]


def test_wrong_type_names_the_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  heap: lots\n")
    with pytest.raises(ConfigError, match=r"server\.heap.*\[0-9\]\+\[mg\]"):
        config.load(path, env={})


def test_bad_environment_value_is_named() -> None:
    with pytest.raises(ConfigError, match="DUSKWATCH_SERVER_PORT='many'"):
        config.load(env={"DUSKWATCH_SERVER_PORT": "many"})
    with pytest.raises(ConfigError, match="environment"):
        config.load(env={"DUSKWATCH_SERVER_PORT": "80"})


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(write(tmp_path, "opensearch: [\n"), env={})


def test_list_and_object_settings_from_environment() -> None:
    settings = config.load(
        env={
            "DUSKWATCH_DETECTION_RULES_DIRS": "/a, /b",
            "DUSKWATCH_INTEL_FEEDS": '{"tor": "https://example.org/tor"}',
        }
    )
    assert settings.detection.rules_dirs == ["/a", "/b"]
    assert settings.intel.feeds == {"tor": "https://example.org/tor"}
    with pytest.raises(ConfigError, match="expected a JSON object"):
        config.load(env={"DUSKWATCH_INTEL_FEEDS": "tor=https://x"})


def test_detector_id_must_be_32_hex() -> None:
    with pytest.raises(ConfigError, match="detection.detector_id"):
        config.load(env={"DUSKWATCH_DETECTION_DETECTOR_ID": "not-hex"})
    assert config.load(env={}).detection.detector_id is None
