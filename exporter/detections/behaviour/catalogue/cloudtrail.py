"""Fields and helpers shared by the behaviour detectors over CloudTrail events.

A principal is ``user.id``, the userIdentity ``principalId``: an IAM user's ``AIDA…``, a role
session's ``AROA…:<session>``. Every baseline is the principal's (or role's) history before
the window; one with less than ``learning_days`` of history is still learning and reports
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from opensearchpy.helpers.query import Q

from exporter.detections.behaviour.model import (
    Bucket,
    Params,
    Window,
)
from exporter.detections.behaviour.results import (
    buckets,
    moment,
)
from exporter.findings.fields import text

PRINCIPAL = "user.id"
ACTION = "event.action"
SOURCE_IP = "source.ip"
ROLE = "aws.cloudtrail.user_identity.session_context.session_issuer.arn"
EC2_DELIVERY = "aws.cloudtrail.user_identity.session_context.ec2_role_delivery"
DATA_EVENT = Q("term", **{"aws.cloudtrail.event_category": "Data"})
SINCE, FIRST = "since", "first"


def learned(history: Bucket, window: Window, params: Params) -> bool:
    """True when the history's earliest event is at least ``learning_days`` before the window."""
    since = moment(history, SINCE)
    return since is not None and since <= window.start - timedelta(days=params["learning_days"])


def who(event: Mapping[str, Any]) -> str:
    """How a finding names the caller: the user (or role) name, else the principal id."""
    return text(event, "user.name", PRINCIPAL) or "unknown"


def bucket_keys(bucket: Bucket, name: str) -> list[str]:
    return [str(found["key"]) for found in buckets(bucket, name)]
