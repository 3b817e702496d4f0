import pytest

from pytest_trigger_batches.neighbours import redact_request


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, object]:
    return {
        "ignore_hosts": ["api.trigger.dev"],
        "ignore_localhost": True,
        "before_record_request": redact_request,
        "match_on": ["method", "uri", "body"],
    }
