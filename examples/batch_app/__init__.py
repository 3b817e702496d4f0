"""A small application that follows Trigger.dev batches over httpx."""

from batch_app.client import (
    AsyncTriggerClient,
    AuthenticationError,
    Batch,
    BatchNotFound,
    ItemError,
    MissingSecretKey,
    RetryPolicy,
    TriggerApiError,
    TriggerClient,
)
from batch_app.poller import BatchTimeout, wait_for_batch, wait_for_batch_async
from batch_app.resubmit import FailedItem, FailureReport, ResubmitPlan, plan_resubmit

__all__ = [
    "AsyncTriggerClient",
    "AuthenticationError",
    "Batch",
    "BatchNotFound",
    "BatchTimeout",
    "FailedItem",
    "FailureReport",
    "ItemError",
    "MissingSecretKey",
    "ResubmitPlan",
    "RetryPolicy",
    "TriggerApiError",
    "TriggerClient",
    "plan_resubmit",
    "wait_for_batch",
    "wait_for_batch_async",
]
