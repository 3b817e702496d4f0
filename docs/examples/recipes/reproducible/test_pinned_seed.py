import json

import pytest

from pytest_trigger_batches import BatchFactory


@pytest.fixture
def trigger_seed() -> int:
    return 1234


def test_same_seed_same_bytes(trigger_batch_factory: BatchFactory) -> None:
    again = BatchFactory(seed=1234)  # the factory outside pytest, same seed
    assert json.dumps(
        trigger_batch_factory("PARTIAL_FAILED").to_payload()
    ) == json.dumps(again("PARTIAL_FAILED").to_payload())
