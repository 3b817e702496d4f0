import os
import subprocess
import sys

import pytest

from pytest_trigger_batches import TriggerApiServer, TriggerBatch

WORKER = """
import json, os, sys, urllib.request
url = os.environ["TRIGGER_API_URL"] + "/api/v1/batches/" + sys.argv[1]
key = os.environ["TRIGGER_SECRET_KEY"]
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
print(json.load(urllib.request.urlopen(request))["failedRunCount"])
"""


@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=10, failed_count=3)
def test_a_worker_in_another_process(
    trigger_api_server: TriggerApiServer, trigger_batch: TriggerBatch
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, trigger_batch.id],
        env={**os.environ, **trigger_api_server.env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "3"
    trigger_api_server.assert_retrieved(trigger_batch, times=1)
