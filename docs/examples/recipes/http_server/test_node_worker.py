import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_trigger_batches import TriggerApiServer, TriggerBatch

HERE = Path(__file__).parent
# This repository installs the SDK for its own tests; your project has its node_modules.
SDK = HERE.parents[3] / "tests" / "sdk" / "node_modules"


@pytest.fixture
def worker(tmp_path: Path) -> list[str]:
    """`node worker.mjs`, next to an installed @trigger.dev/sdk."""
    node = shutil.which("node")
    if node is None or not (SDK / "@trigger.dev" / "sdk").is_dir():
        reason = "needs node and `npm ci --prefix tests/sdk`"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the example {reason}", pytrace=False)
        pytest.skip(reason)
    shutil.copy(HERE / "worker.mjs", tmp_path)
    (tmp_path / "node_modules").symlink_to(SDK, target_is_directory=True)
    return [node, str(tmp_path / "worker.mjs")]


# --8<-- [start:test]
@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=10, failed_count=3)
def test_the_node_worker_reads_the_batch(
    trigger_api_server: TriggerApiServer, trigger_batch: TriggerBatch, worker: list[str]
) -> None:
    done = subprocess.run(
        [*worker, trigger_batch.id],
        env={
            **os.environ,
            **trigger_api_server.env,
        },  # TRIGGER_API_URL, TRIGGER_SECRET_KEY
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    [entry] = trigger_batch.errors  # the three failures, collapsed into one entry
    assert json.loads(done.stdout) == {
        "status": "PARTIAL_FAILED",
        "runs": 7,
        "failed": [entry.index],
    }
    trigger_api_server.assert_retrieved(trigger_batch, times=1)
    # --8<-- [end:test]
