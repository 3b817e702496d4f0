"""Public access tokens for the front end: the service triggers, the browser follows.

The secret key stays on the server. Once the service has triggered a batch, it mints a
public access token that may read that batch and its runs (`read:batch:<id>`) and nothing
else, for an hour, and hands it to the browser, which then polls Trigger.dev with it
directly. A single run gets a token for that run only (`read:runs:<id>`).

The platform mints the token (`POST /api/v1/auth/public-tokens`), which works with any
secret key, an additional one (`tr_<env>_sk_...`) too; the official SDK, given a root key,
signs the same kind of token itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from batch_app.client import TriggerClient
from batch_app.trigger import Job, trigger_one_shot

TOKEN_LIFETIME = "1h"


@dataclass(frozen=True, slots=True)
class FrontEndAccess:
    """What the service gives its front end: the batch it triggered, and the token to
    follow the batch and its runs with."""

    batch_id: str
    runs: tuple[str, ...]
    token: str


def batch_token(client: TriggerClient, batch_id: str) -> str:
    """A token that reads `batch_id` and the runs it lists."""
    return client.create_public_token([f"read:batch:{batch_id}"], expiration_time=TOKEN_LIFETIME)


def run_token(client: TriggerClient, run_id: str) -> str:
    """A token that reads `run_id` only."""
    return client.create_public_token([f"read:runs:{run_id}"], expiration_time=TOKEN_LIFETIME)


def trigger_for_front_end(client: TriggerClient, jobs: Iterable[Job]) -> FrontEndAccess:
    """Trigger `jobs` in one batch and mint the front end's token for it."""
    sent = trigger_one_shot(client, jobs)
    return FrontEndAccess(sent.batch_id, sent.runs, batch_token(client, sent.batch_id))
