"""A small application that triggers and follows Trigger.dev batches over httpx."""

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
from batch_app.trigger import (
    BatchNotSealed,
    FailedJob,
    Job,
    JobReport,
    RecordsMismatch,
    SentBatch,
    run_batch,
    trigger_one_shot,
    trigger_streaming,
)

__all__ = [
    "AsyncTriggerClient",
    "AuthenticationError",
    "Batch",
    "BatchNotFound",
    "BatchNotSealed",
    "BatchTimeout",
    "FailedItem",
    "FailedJob",
    "FailureReport",
    "ItemError",
    "Job",
    "JobReport",
    "MissingSecretKey",
    "RecordsMismatch",
    "ResubmitPlan",
    "RetryPolicy",
    "SentBatch",
    "TriggerApiError",
    "TriggerClient",
    "plan_resubmit",
    "run_batch",
    "trigger_one_shot",
    "trigger_streaming",
    "wait_for_batch",
    "wait_for_batch_async",
]
