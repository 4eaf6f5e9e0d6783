"""Build an opensearch-py client from the settings: URL, basic auth, TLS, or AWS SigV4."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from opensearchpy import OpenSearch, RequestsHttpConnection

from exporter.config import OpenSearchSettings
from exporter.errors import ConfigError


def connect(settings: OpenSearchSettings, **overrides: Any) -> OpenSearch:
    """A client for the configured cluster (no request is made)."""
    options: dict[str, Any] = {
        "hosts": [settings.url],
        "timeout": settings.timeout,
        # gzip costs CPU on both ends: worth it over a network, not over loopback.
        "http_compress": not _is_loopback(settings.url),
        # A timed-out write may have been applied: never re-sent blindly by the transport.
        # Writers retry themselves, knowing what a timeout means for them (see ingest/bulk.py).
        "max_retries": 2,
        "retry_on_timeout": False,
    }
    if settings.url.startswith("https://"):
        options.update(
            use_ssl=True, verify_certs=settings.verify_certs, ssl_show_warn=settings.verify_certs
        )
        if settings.ca_file:
            options["ca_certs"] = settings.ca_file
    if settings.aws_sigv4:
        options.update(http_auth=_sigv4(settings), connection_class=RequestsHttpConnection)
    elif settings.username:
        options["http_auth"] = (settings.username, settings.password or "")
    options.update(overrides)
    return OpenSearch(**options)


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _sigv4(settings: OpenSearchSettings) -> Any:
    import boto3
    from opensearchpy import AWSV4SignerAuth

    session = boto3.Session()
    credentials = session.get_credentials()
    region = settings.aws_region or session.region_name
    if credentials is None or not region:
        raise ConfigError(
            "opensearch.aws_sigv4 is on but no AWS credentials or region were found",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and "
            "opensearch.aws_region (or AWS_REGION)",
        )
    return AWSV4SignerAuth(credentials, region, settings.aws_service)
