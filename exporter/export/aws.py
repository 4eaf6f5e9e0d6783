"""boto3 clients for the AWS destinations, and how AWS errors become delivery errors.

Every AWS destination takes the same connection options (:data:`AWS_OPTIONS`): ``region``,
``endpoint_url`` (moto, LocalStack, a VPC endpoint), and optional static credentials or a
``profile``; without them boto3's usual chain applies (environment, config files, instance
role). :func:`retryable` sorts AWS error codes: a code that retrying cannot fix (bad
credentials, a payload the service rejects, a missing bucket or topic) parks the delivery at
once; anything else (throttling, 5xx, a connection that failed) is retried by the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.export.destination import DeliveryError

AWS_OPTIONS: dict[str, Any] = {
    "region": {"type": "string", "description": "AWS region (default: boto3's chain)"},
    "endpoint_url": {"type": "string", "description": "service endpoint (moto, VPC endpoint)"},
    "profile": {"type": "string", "description": "named profile of ~/.aws/config"},
    "aws_access_key_id": {"type": "string"},
    "aws_secret_access_key": {"type": "string"},
    "aws_session_token": {"type": "string"},
    "connect_timeout_seconds": {"type": "number", "minimum": 0.1, "default": 5},
    "read_timeout_seconds": {"type": "number", "minimum": 0.1, "default": 30},
}
"""JSON Schema properties every AWS destination accepts."""

PERMANENT_CODES = frozenset(
    {
        "AccessDenied", "AccessDeniedException", "AuthorizationError",
        "AuthorizationErrorException", "InvalidAccessKeyId", "InvalidClientTokenId",
        "InvalidSignatureException", "SignatureDoesNotMatch", "UnrecognizedClientException",
        "ExpiredToken", "ExpiredTokenException", "ValidationError", "ValidationException",
        "InvalidArgument", "InvalidParameter", "InvalidParameterException",
        "InvalidParameterValue", "InvalidParameterValueException", "InvalidInput",
        "InvalidInputException", "MalformedDetail", "MissingParameter", "EntryTooLarge",
        "NoSuchBucket", "NotFound", "NotFoundException", "ResourceNotFoundException",
        "KMS.NotFoundException", "KMS.DisabledException", "KMS.InvalidKeyUsageException",
        "KMSAccessDenied", "KMSDisabled", "KMSNotFound", "InvalidSecurity",
    }
)  # fmt: skip
"""Error codes that retrying cannot fix; every other code is retried."""


def retryable(code: str | None) -> bool:
    """False for a code in :data:`PERMANENT_CODES`; unknown codes and None are retryable."""
    return code not in PERMANENT_CODES


def client(service: str, options: Mapping[str, Any]) -> Any:
    """A boto3 client of ``service`` configured by a destination's AWS options."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=options.get("aws_access_key_id"),
        aws_secret_access_key=options.get("aws_secret_access_key"),
        aws_session_token=options.get("aws_session_token"),
        region_name=options.get("region"),
        profile_name=options.get("profile"),
    )
    config = Config(
        connect_timeout=options.get("connect_timeout_seconds", 5),
        read_timeout=options.get("read_timeout_seconds", 30),
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return session.client(service, endpoint_url=options.get("endpoint_url"), config=config)


def error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (None for connection errors etc.)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


def delivery_error(action: str, exc: Exception) -> DeliveryError:
    """A whole-batch :class:`DeliveryError` for an exception raised by boto3's ``action``."""
    code = error_code(exc)
    return DeliveryError(
        f"{action}: {code or type(exc).__name__}: {exc}", retryable=retryable(code)
    )


def item_failures(
    action: str, failures: Mapping[str, str | None], messages: Mapping[str, str]
) -> DeliveryError:
    """A per-item :class:`DeliveryError`: ``failures`` maps event ids to AWS error codes.

    The batch is retryable unless every failed item's code is permanent (a permanent item
    mixed with retryable ones is retried with them until the outbox parks it).
    """
    detail = "; ".join(f"{eid}: {code} {messages.get(eid, '')}" for eid, code in failures.items())
    return DeliveryError(
        f"{action}: {len(failures)} failed ({detail[:1000]})",
        retryable=any(retryable(code) for code in failures.values()),
        failed=list(failures),
    )
