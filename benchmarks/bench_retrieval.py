"""2. Per-retrieval overhead: one GET answered by mock_trigger_api, bare respx, pytest-httpx."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack

import httpx
import respx
from _harness import (
    ORIGIN,
    BenchmarkError,
    Context,
    Row,
    Section,
    fmt_ratio,
    fmt_time,
    interleave,
    median,
    paired_ratios,
    time_loop,
    verdict,
)

from pytest_trigger_batches.factory import BatchFactory
from pytest_trigger_batches.mock import MockTriggerApi

MAX_RATIO = 1.25
BASE_URL = ORIGIN


class _Variant:
    """One way of answering the GET: started and stopped around each timed block."""

    def __init__(self, name: str, start: Callable[[ExitStack], None]) -> None:
        self.name = name
        self._start = start

    def measure(
        self, client: httpx.Client, url: str, headers: dict[str, str], body: bytes, n: int
    ) -> float:
        with ExitStack() as stack:
            self._start(stack)

            def get() -> httpx.Response:
                return client.get(url, headers=headers)

            for _ in range(10):
                response = get()
            if response.status_code != 200 or response.content != body:
                raise BenchmarkError(
                    f"{self.name} answered {response.status_code} "
                    f"{response.content[:80]!r}, not the batch"
                )
            return time_loop(get, n)


def _ours(key: str, batch: object) -> Callable[[ExitStack], None]:
    def start(stack: ExitStack) -> None:
        api = MockTriggerApi(base_url=BASE_URL, secret_key=key)
        api.add_batch(batch)  # type: ignore[arg-type]
        # The platform's bucket (750 tokens, 250 per 10 s) would answer 429 after 750
        # requests; the benchmark makes more, so the bucket is made big (still consulted).
        api.rate_limit(limit=10**9, refill=10**9)
        stack.enter_context(api)

    return start


def _respx(url: str, body: bytes, headers: dict[str, str]) -> Callable[[ExitStack], None]:
    def start(stack: ExitStack) -> None:
        router = respx.MockRouter(assert_all_called=False)
        router.get(url).respond(200, content=body, headers=headers)
        stack.enter_context(router)

    return start


def _pytest_httpx(url: str, body: bytes, content_type: str) -> Callable[[ExitStack], None] | None:
    """The `httpx_mock` fixture's own patching, done programmatically (pytest-httpx 0.3x)."""
    try:
        import pytest
        from pytest_httpx import HTTPXMock
        from pytest_httpx._options import _HTTPXMockOptions
    except ImportError:
        return None

    def start(stack: ExitStack) -> None:
        options = _HTTPXMockOptions(
            assert_all_responses_were_requested=False, can_send_already_matched_responses=True
        )
        mock = HTTPXMock(options)
        mock.add_response(
            url=url, method="GET", content=body, headers={"content-type": content_type}
        )
        real = httpx.HTTPTransport.handle_request

        def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> object:
            if options.should_mock(request):
                return mock._handle_request(transport, request)
            return real(transport, request)

        patch: AbstractContextManager[pytest.MonkeyPatch] = pytest.MonkeyPatch.context()
        monkeypatch = stack.enter_context(patch)
        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
        stack.callback(mock.reset)

    return start


def _compare(
    ctx: Context, client: httpx.Client, label: str, call: dict[str, object], *, same_headers: bool
) -> tuple[dict[str, list[float]], int]:
    factory = BatchFactory(seed=20260301)
    batch = factory(**call)  # type: ignore[arg-type]
    key = "tr_dev_" + "Bench0Key0Bench0Key0Ab12"
    url = f"{BASE_URL}/api/v1/batches/{batch.id}"
    headers = {"authorization": f"Bearer {key}"}
    # The exact bytes and content type the mock answers with serve as the static body.
    with MockTriggerApi(base_url=BASE_URL, secret_key=key) as api:
        api.add_batch(batch)
        first = client.get(url, headers=headers)
    body, content_type = first.content, first.headers["content-type"]
    variants = [
        _Variant("mock_trigger_api", _ours(key, batch)),
        _Variant("respx", _respx(url, body, {"content-type": content_type})),
    ]
    if same_headers:
        answered = {k: v for k, v in first.headers.items() if k != "content-length"}
        variants.append(_Variant("respx, same headers", _respx(url, body, answered)))
    httpx_mock = _pytest_httpx(url, body, content_type)
    if httpx_mock is not None:
        variants.append(_Variant("pytest-httpx", httpx_mock))
    n = ctx.size(150, 40)
    ctx.log(f"2. retrieval ({label}): {len(variants)} variants x {n} GETs per round")
    samples = interleave(
        {v.name: (lambda v=v: v.measure(client, url, headers, body, n)) for v in variants},
        ctx.size(60, 3),
    )
    return samples, len(body)


def run(ctx: Context) -> Section:
    section = Section(
        2,
        "Per-retrieval overhead",
        "In one process, one reused `httpx.Client` sends `GET /api/v1/batches/{id}` with a "
        "bearer key. `mock_trigger_api` is a started `MockTriggerApi` with the batch "
        "registered (the full pipeline: record the call, route, faults, auth, rate-limit "
        "bucket, look-up, cached body). Bare respx is a `respx.MockRouter` route answering "
        "the same bytes with the same content type; pytest-httpx is its `HTTPXMock` with "
        "`add_response(...)`, patched in exactly as its `httpx_mock` fixture does. Each "
        "round starts each mock, sends 10 warm-up requests (checking the answer is the "
        "batch), then times a block of GETs (CPU time of the process: this work never "
        "waits, so that is its wall time less other load) with the garbage collector "
        "paused, and stops the mock; the variants rotate order each round and ratios are "
        "per round.",
    )
    with httpx.Client() as client:
        default, default_size = _compare(ctx, client, "default", {}, same_headers=True)
        big, big_size = _compare(
            ctx,
            client,
            "1,000 runs",
            {"status": "PARTIAL_FAILED", "run_count": 1000},
            same_headers=False,
        )
    small = f"10-run batch ({default_size:,} B)"
    large = f"1,000-run batch ({big_size:,} B)"
    plan = (
        ("2a", default, small, "bare respx", "respx", True),
        ("2b", default, small, "pytest-httpx", "pytest-httpx", False),
        ("2c", default, small, "respx with the mock's headers", "respx, same headers", False),
        ("2d", big, large, "bare respx", "respx", True),
    )
    for key, samples, batch, label, reference, target in plan:
        if reference not in samples:
            section.rows.append(Row(key, f"one GET vs {label}", "", "not installed", ""))
            continue
        ours = samples["mock_trigger_api"]
        ratios = paired_ratios(ours, samples[reference])
        section.rows.append(
            Row(
                key,
                f"one GET, {batch}: vs {label}",
                fmt_time(median(ours)),
                fmt_time(median(samples[reference])),
                fmt_ratio(ratios),
                "<= 1.25x" if target else "",
                verdict(median(ratios) <= MAX_RATIO) if target else "info",
            )
        )
    for label, samples in (("10-run batch", default), ("1,000-run batch", big)):
        extra = median(samples["mock_trigger_api"]) - median(samples["respx"])
        section.details.append(
            f"- {label}: {len(samples['respx'])} rounds of {ctx.size(150, 40)} GETs per "
            f"variant; the mock adds {fmt_time(extra)} per GET over bare respx"
        )
    section.details.append(
        "- 2c separates the pipeline from the answer's realism: the mock sends the real "
        "API's headers (content type, three x-ratelimit-*, CORS), which httpx and respx "
        "normalize and copy on every response"
    )
    return section
