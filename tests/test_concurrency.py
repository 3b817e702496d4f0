"""500 concurrent (threaded) retrievals: every call recorded once, the lifecycle moves on.

Each request carries its own number in an `x-seq` header, which the API records with
the call; the recorded order is the order the API answered in. So for the i-th
recorded call the body must be exactly the i-th state of the batch's timeline, every
number must appear exactly once, and the statuses, read in that order, only move
forward. Faults and the rate-limit bucket are checked the same way: consumed exactly
as many times as asked, in order, never twice.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, BatchHandle, TriggerBatch
from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.server import TriggerApiServer

REQUESTS = 500
POLLS = 300  # the first 300 retrievals walk the lifecycle, the other 200 see the final state
THREADS = 16
BASE = "https://api.trigger.dev"
Result = tuple[int, httpx.Response | BaseException]
# Shared by every client: building an SSL context per client costs ~25 ms each.
SSL = ssl.create_default_context()


@pytest.fixture
def final(trigger_batch_factory: BatchFactory) -> TriggerBatch:
    """A batch whose history is PENDING, PROCESSING, PARTIAL_FAILED, COMPLETED."""
    return trigger_batch_factory("COMPLETED", run_count=40, failed_count=4)


def headers(api: TriggerApi, seq: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.secret_key}", "x-seq": str(seq)}


def recorded_order(api: TriggerApi) -> list[int]:
    """The request numbers in the order the API recorded (and answered) them."""
    return [int(call.headers["x-seq"]) for call in api.calls]


def check_lifecycle(api: TriggerApi, handle: BatchHandle, results: list[Result]) -> Counter[str]:
    """Every call recorded once, each body the state due at its place; returns statuses."""
    order = recorded_order(api)
    assert len(api.calls) == REQUESTS
    assert sorted(order) == list(range(REQUESTS)), "a request was lost or recorded twice"
    assert handle.served == REQUESTS
    responses = dict(results)
    assert len(responses) == REQUESTS
    distinct = list(dict.fromkeys(handle.states))  # the lifecycle, each state once
    assert [s.status for s in distinct] == ["PENDING", "PROCESSING", "PARTIAL_FAILED", "COMPLETED"]
    ranks = []
    for position, seq in enumerate(order):
        response = responses[seq]
        assert isinstance(response, httpx.Response), repr(response)
        assert response.status_code == 200
        due = handle.states[min(position, len(handle.states) - 1)]
        assert response.json() == due.to_payload(), f"call {position} got the wrong state"
        ranks.append(distinct.index(due))
        assert api.calls[position].status_code == 200
    assert ranks == sorted(ranks), "the lifecycle went backwards"
    assert ranks[0] == 0
    assert ranks[-1] == len(distinct) - 1
    seen = Counter(responses[seq].json()["status"] for seq in order)  # type: ignore[union-attr]
    assert seen["COMPLETED"] == REQUESTS - POLLS
    return seen


# -- asyncio ---------------------------------------------------------------------------


# Each request is handled atomically: `TriggerApi.handle` runs the whole pipeline under
# the API's lock and never yields, on the async transport too (the handler awaits only
# the request body, before the pipeline). So concurrent coroutines cannot interleave
# inside one request, and there is nothing async-specific to race: the threaded tests
# below are the concurrency tests. (The former "500 concurrent async retrievals" tests
# could not fail for the reason they named and were removed; see README, "Concurrency".)


# -- threads ---------------------------------------------------------------------------


def _run_threads(get: Callable[[int], httpx.Response]) -> list[Result]:
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(zip(range(REQUESTS), pool.map(get, range(REQUESTS)), strict=True))


@pytest.fixture(params=["shared-client", "client-per-thread"])
def threaded_get(request: pytest.FixtureRequest) -> Iterator[Callable[[str, TriggerApi], Any]]:
    """`get(url, api)(seq)`: GET from 16 threads, through one client or one per thread."""
    clients: list[httpx.Client] = []
    local = threading.local()
    lock = threading.Lock()

    def client() -> httpx.Client:
        if request.param == "shared-client" and clients:
            return clients[0]
        if request.param == "client-per-thread" and hasattr(local, "client"):
            return local.client  # type: ignore[no-any-return]
        with lock:
            made = httpx.Client(verify=SSL, limits=httpx.Limits(max_connections=THREADS))
            clients.append(made)
            local.client = made
            return made

    if request.param == "shared-client":
        client()

    def make(url: str, api: TriggerApi) -> Callable[[int], httpx.Response]:
        return lambda seq: client().get(url, headers=headers(api, seq))

    yield make
    for made in clients:
        made.close()
    if request.param == "shared-client":
        assert len(clients) == 1
    else:
        assert 1 <= len(clients) <= THREADS


def test_500_threaded_retrievals_walk_the_lifecycle_in_order(
    mock_trigger_api: MockTriggerApi,
    final: TriggerBatch,
    threaded_get: Callable[[str, TriggerApi], Callable[[int], httpx.Response]],
) -> None:
    handle = mock_trigger_api.add_batch(final, progress_after=POLLS)
    url = f"{BASE}/api/v1/batches/{final.id}"
    results = _run_threads(threaded_get(url, mock_trigger_api))
    check_lifecycle(mock_trigger_api, handle, results)


def test_threaded_faults_are_consumed_exactly_once_each(
    mock_trigger_api: MockTriggerApi, final: TriggerBatch, trigger_batch_factory: BatchFactory
) -> None:
    handle = mock_trigger_api.add_batch(final)
    other = mock_trigger_api.add_batch(trigger_batch_factory("PENDING"))
    mock_trigger_api.fail_next("server_error", times=100, status_code=503)
    mock_trigger_api.fail_next("rate_limit", times=40, batch_id=other.id)

    def get(seq: int) -> httpx.Response:
        batch_id = other.id if seq % 5 == 0 else final.id
        return client.get(
            f"{BASE}/api/v1/batches/{batch_id}", headers=headers(mock_trigger_api, seq)
        )

    with httpx.Client(verify=SSL) as client:
        results = dict(_run_threads(get))
    codes = Counter(r.status_code for r in results.values())  # type: ignore[union-attr]
    assert codes == {503: 100, 429: 40, 200: REQUESTS - 140}
    recorded = [call.status_code for call in mock_trigger_api.calls]
    assert recorded[:100] == [503] * 100, "faults are taken in the order requests arrive"
    assert Counter(recorded) == codes
    assert sorted(recorded_order(mock_trigger_api)) == list(range(REQUESTS))
    assert handle.served + other.served == REQUESTS - 140


def test_threaded_token_bucket_never_overspends(
    mock_trigger_api: MockTriggerApi, final: TriggerBatch
) -> None:
    handle = mock_trigger_api.add_batch(final)
    mock_trigger_api.rate_limit(limit=300, refill=1, interval=3600)
    url = f"{BASE}/api/v1/batches/{final.id}"
    with httpx.Client(verify=SSL) as client:
        results = dict(
            _run_threads(lambda seq: client.get(url, headers=headers(mock_trigger_api, seq)))
        )
    in_order = [results[seq] for seq in recorded_order(mock_trigger_api)]
    codes = [r.status_code for r in in_order]  # type: ignore[union-attr]
    assert codes == [200] * 300 + [429] * 200
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in in_order]  # type: ignore[union-attr]
    assert remaining[:300] == list(range(299, -1, -1)), "a token was spent twice or skipped"
    assert set(remaining[300:]) == {0}
    assert handle.served == 300


# -- the HTTP server, from threads -----------------------------------------------------


def test_500_threaded_retrievals_through_the_http_server(
    trigger_api_server: TriggerApiServer,
    final: TriggerBatch,
    threaded_get: Callable[[str, TriggerApi], Callable[[int], httpx.Response]],
) -> None:
    api = trigger_api_server
    handle = api.add_batch(final, progress_after=POLLS)
    url = f"{trigger_api_server.base_url}/api/v1/batches/{final.id}"
    results = _run_threads(threaded_get(url, api))
    check_lifecycle(api, handle, results)
    assert all(call.url.startswith(trigger_api_server.base_url) for call in api.calls)


def test_threaded_faults_through_the_http_server(
    trigger_api_server: TriggerApiServer, final: TriggerBatch
) -> None:
    api = trigger_api_server
    handle = api.add_batch(final)
    api.fail_next("server_error", times=60, status_code=502)
    api.fail_next("connect_error", times=20)
    url = f"{trigger_api_server.base_url}/api/v1/batches/{final.id}"

    def get(seq: int) -> httpx.Response | BaseException:
        # A fresh connection each time: a dropped one must not poison the next request.
        try:
            with httpx.Client(verify=SSL) as client:
                return client.get(url, headers=headers(api, seq))
        except httpx.TransportError as dropped:
            return dropped

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(get, range(200)))
    dropped = [r for r in results if isinstance(r, BaseException)]
    codes = Counter(r.status_code for r in results if isinstance(r, httpx.Response))
    assert len(dropped) == 20
    assert codes == {502: 60, 200: 120}
    outcomes = Counter(call.outcome for call in api.calls)
    assert outcomes == {"answered": 180, "connect_error": 20}
    assert handle.served == 120
    body = json.loads(
        next(r for r in results if isinstance(r, httpx.Response) and r.is_success).text
    )
    assert body == final.to_payload()


# -- every read of shared state under the lock -----------------------------------------


def _race(*actions: Callable[[int], object], rounds: int = 400) -> list[BaseException]:
    """Run each action `rounds` times in its own thread, all at once; what they raised."""
    problems: list[BaseException] = []
    start = threading.Barrier(len(actions))

    def loop(action: Callable[[int], object]) -> None:
        start.wait()
        for number in range(rounds):
            try:
                action(number)
            except AssertionError:
                pass  # the assertions' own verdicts, right or wrong, are not the point
            except BaseException as problem:  # a RuntimeError of a dict changing size
                problems.append(problem)
                return

    threads = [threading.Thread(target=loop, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def test_assertions_and_key_reads_race_set_up_safely(trigger_batch_factory: BatchFactory) -> None:
    from pytest_trigger_batches.ids import secret_key

    api = TriggerApi()
    batches = [trigger_batch_factory("COMPLETED", run_count=1) for _ in range(50)]
    keys = [secret_key("prod") for _ in range(400)]
    problems = _race(
        lambda n: api.add_batch(batches[n % 50]),
        lambda n: api.assert_all_retrieved(),
        lambda n: [api.retrievals(h) for h in api.batches],
        lambda n: api.accept_key(keys[n]),
        lambda n: api.secret_key,
        lambda n: (repr(api), api.environment_id()),
    )
    assert problems == [], problems[:3]
    assert len(api.batches) == 50
