"""The same application code over real HTTP, in another process: trigger_api_server.

mock_trigger_api only sees httpx calls made in the test process. A worker started as a
subprocess (a cron job, a CLI) reaches Trigger.dev through TRIGGER_API_URL and
TRIGGER_SECRET_KEY; trigger_api_server serves the same mock on 127.0.0.1 for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP_ROOT = Path(__file__).resolve().parents[1]
WORKER = """
import json, sys
from batch_app.client import TriggerClient
from batch_app.resubmit import FailureReport, plan_resubmit

with TriggerClient() as client:  # TRIGGER_API_URL and TRIGGER_SECRET_KEY from the environment
    report = FailureReport.of(client.retrieve(sys.argv[1]))
print(json.dumps({"failed": report.failed_count, "resubmit": list(plan_resubmit(report).indices)}))
"""


def run_worker(server, batch_id: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, batch_id],
        env={**os.environ, **server.env, "PYTHONPATH": str(APP_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.trigger_batch(
    "PARTIAL_FAILED", run_count=12, failed_count=4, error_code="TRIGGER_FAILED"
)
def test_a_worker_process_reports_and_plans_the_resubmit(trigger_api_server, trigger_batch):
    result = run_worker(trigger_api_server, trigger_batch.id)

    assert result["failed"] == 4
    assert result["resubmit"] == [e.index for e in trigger_batch.errors]
    trigger_api_server.assert_retrieved(trigger_batch, times=1)
    [call] = trigger_api_server.calls
    assert call.headers["authorization"].startswith("Bearer tr_dev_****")  # recorded, redacted


def test_a_worker_process_retries_a_429_from_the_server(trigger_api_server, trigger_batch_factory):
    batch = trigger_batch_factory("COMPLETED")
    trigger_api_server.add_batch(batch)
    trigger_api_server.fail_next("rate_limit", reset_after=0.2)

    assert run_worker(trigger_api_server, batch.id)["failed"] == 0
    codes = [call.status_code for call in trigger_api_server.retrievals(batch)]
    assert codes == [429, 200]
