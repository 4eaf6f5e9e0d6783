"""Built-in labelled scenarios (registered in :data:`~exporter.simulate.labels.SCENARIOS`)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from exporter.simulate.cloudtrail import Caller, api_call, console_login, root_identity
from exporter.simulate.cloudtrail_catalog import BROWSERS
from exporter.simulate.ids import DAY, HOUR, stable_key
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.labels import SCENARIOS, Scenario
from exporter.simulate.model import Model

ROOT_CALLS = (
    ("iam.amazonaws.com", "GetAccountSummary", True, None),
    ("iam.amazonaws.com", "ListMFADevices", True, None),
    ("ce.amazonaws.com", "GetCostAndUsage", True, {"granularity": "MONTHLY"}),
)


@SCENARIOS.register("root-console-signin")
def root_console_signin(model: Model, rng: random.Random, writer: ScenarioWriter) -> list[Scenario]:
    """The first account's root user signs in (with MFA) from the office and looks at billing.

    Benign by intent but exactly what ``Policy:IAMUser/RootCredentialUsage`` reports.
    """
    account = model.accounts[0]
    day = model.start + rng.randrange((model.end - model.start) // DAY) * DAY
    ts = day + (10 - account.utc_offset) * HOUR + rng.randint(0, 1800)
    key = stable_key("ASIA", 16, model.seed, account.id, "root", day)
    ip, agent = account.office_ips[0], BROWSERS[0]
    home = account.home_region
    writer.cloudtrail(console_login(rng, ts, root_identity(account.id), ip, agent), home)
    caller = Caller(root_identity(account.id, key), account.id, ip, agent, from_console=True)
    for n, call in enumerate(ROOT_CALLS, start=1):
        writer.cloudtrail(api_call(rng, ts + 20 * n, caller, "us-east-1", call), home)
    at = datetime.fromtimestamp(ts, UTC)
    end = datetime.fromtimestamp(ts + 20 * len(ROOT_CALLS) + 1, UTC)
    note = "root console sign-in with MFA from the office IP, then read-only billing/IAM calls"
    return [
        Scenario(
            "root-console-signin",
            "Policy:IAMUser/RootCredentialUsage",
            key,
            account.id,
            home,
            "positive",
            at,
            end,
            note,
        )
    ]
