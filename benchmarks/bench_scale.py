"""5. Scale: a 2,000-test suite using the fixtures, serially and with `pytest -n 2`, and leaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _harness import (
    ORIGIN,
    Context,
    Row,
    Section,
    Timing,
    fmt_ratio,
    fmt_time,
    interleave,
    median,
    paired_ratios,
    pytest_command,
    run_command,
)

from pytest_trigger_batches.factory import BatchFactory

PER_FILE = 100
MAX_EXTRA_OBJECTS = 2.0  # retained per test beyond an empty test's (pytest keeps items)

CONFTEST = '''
"""Benchmark suite: a shared client, and leak checks written out when the session ends."""
import gc, json, os, threading, time

import httpx
import pytest

WARM = int(os.environ["BENCH_WARM"])
TYPES = (
    "MockTriggerApi", "TriggerApi", "_Router", "MockRouter", "Route", "BatchFactory",
    "TriggerBatch", "BatchHandle", "RecordedCall", "Response", "Request",
)
_state = {"tests": 0, "protocol_cpu": 0.0}


def _rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.fixture(scope="session")
def client():
    with httpx.Client() as shared:
        yield shared


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.process_time()
    try:
        return (yield)
    finally:
        _state["protocol_cpu"] += time.process_time() - start


def pytest_sessionstart(session):
    _state["threads_at_start"] = sorted(t.name for t in threading.enumerate())


def pytest_runtest_logfinish(nodeid, location):
    _state["tests"] += 1
    if _state["tests"] == WARM:
        gc.collect()
        _state["warm"] = (_rss_kb(), len(gc.get_objects()))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if not _state["tests"] or session.config.pluginmanager.has_plugin("dsession"):
        return  # the xdist controller runs no tests (it only relays their reports)
    import httpcore
    import respx.mocks

    gc.collect()
    objects = gc.get_objects()
    live = dict.fromkeys(TYPES, 0)
    for obj in objects:
        name = type(obj).__name__
        if name in live:
            live[name] += 1
    warm_rss, warm_objects = _state["warm"]
    handle = httpcore.ConnectionPool.__dict__["handle_request"]
    report = {
        "tests": _state["tests"],
        "protocol_cpu": _state["protocol_cpu"],
        "after_warm": _state["tests"] - WARM,
        "rss_growth_kb": _rss_kb() - warm_rss,
        "object_growth": len(objects) - warm_objects,
        "live": live,
        "mockers": {
            name: [len(mocker.routers), len(mocker._patches)]
            for name, mocker in respx.mocks.Mocker.registry.items()
        },
        "httpcore_unpatched": type(handle).__name__ == "function",
        "threads_at_start": _state["threads_at_start"],
        "threads_at_end": sorted(t.name for t in threading.enumerate()),
    }
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.environ["BENCH_SCALE_OUT"] + "." + worker + ".json", "w") as out:
        json.dump(report, out)
'''

OURS = """
def test_{i:04d}(mock_trigger_api, trigger_batch_factory, client):
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    response = client.get(
        f"{{mock_trigger_api.base_url}}/api/v1/batches/{{batch.id}}",
        headers={{"authorization": f"Bearer {{mock_trigger_api.secret_key}}"}},
    )
    assert response.status_code == 200
    assert response.json()["id"] == batch.id
    mock_trigger_api.assert_retrieved(batch, times=1)

"""

RESPX = """
def test_{i:04d}(respx_mock, client):
    route = respx_mock.get(URL).respond(200, content=BODY, headers=HEADERS)
    response = client.get(URL, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["id"] == BATCH_ID
    assert route.call_count == 1

"""

EMPTY = """
def test_{i:04d}(client):
    pass

"""


def _suites(ctx: Context, tests: int) -> dict[str, Path]:
    batch = BatchFactory(seed=20260301)()
    body = json.dumps(batch.to_payload(), separators=(",", ":")).encode()
    header = (
        f"BATCH_ID = {batch.id!r}\n"
        f"URL = '{ORIGIN}/api/v1/batches/' + BATCH_ID\n"
        f"BODY = {body!r}\n"
        "HEADERS = {'content-type': 'application/json; charset=utf-8'}\n"
        "AUTH = {'authorization': 'Bearer tr_dev_Bench0Key0Bench0Key0Ab12'}\n\n"
    )
    suites = {}
    for name, template in (("ours", OURS), ("respx", RESPX), ("empty", EMPTY)):
        suite = ctx.directory(f"scale/{name}", ini=f"trigger_api_url = {ORIGIN}\n")
        (suite / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        for start in range(0, tests, PER_FILE):
            body_text = "".join(
                template.format(i=i) for i in range(start, min(tests, start + PER_FILE))
            )
            (suite / f"test_scale_{start // PER_FILE:03d}.py").write_text(
                header + body_text, encoding="utf-8"
            )
        suites[name] = suite
    return suites


def _run(
    ctx: Context, suite: Path, tests: int, workers: int
) -> tuple[Timing, list[dict[str, Any]]]:
    out = suite / "leaks"
    for old in suite.glob("leaks.*.json"):
        old.unlink()
    per_process = tests // max(1, workers)
    env = ctx.env(BENCH_SCALE_OUT=str(out), BENCH_WARM=str(max(1, per_process // 10)))
    args = ["-q", "-p", "no:randomly"] + (["-n", str(workers)] if workers else [])
    timing, _ = run_command(pytest_command(*args), cwd=suite, env=env, expect=f"{tests} passed")
    reports = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(suite.glob("leaks.*.json"))
    ]
    return timing, reports


def _leak_problems(report: dict[str, Any], empty_growth: float, *, judge_growth: bool) -> list[str]:
    problems = []
    ours = (
        "MockTriggerApi",
        "TriggerApi",
        "_Router",
        "BatchFactory",
        "TriggerBatch",
        "BatchHandle",
    )
    alive = {name: report["live"][name] for name in ours if report["live"][name]}
    if alive:
        problems.append(f"still alive after the session: {alive}")
    busy = {name: rp for name, rp in report["mockers"].items() if any(rp)}
    if busy:
        problems.append(f"respx mockers still registered/patched [routers, patches]: {busy}")
    if not report["httpcore_unpatched"]:
        problems.append("httpcore.ConnectionPool.handle_request is still patched")
    if report["threads_at_end"] != report["threads_at_start"]:
        problems.append(f"threads left: {report['threads_at_end']}")
    per_test = report["object_growth"] / max(1, report["after_warm"])
    if judge_growth and per_test - empty_growth > MAX_EXTRA_OBJECTS:
        problems.append(
            f"{per_test:.1f} objects retained per test (empty test: {empty_growth:.1f})"
        )
    return problems


def run(ctx: Context) -> Section:
    tests = ctx.size(2000, 40)
    section = Section(
        5,
        "Scale",
        f"A generated suite of {tests:,} tests in {max(1, tests // PER_FILE)} files, each "
        "test registering a fresh factory batch with `mock_trigger_api`, retrieving it "
        "through a session-wide `httpx.Client`, asserting on status, body and "
        "`assert_retrieved`. The same suite written with `respx_mock` (a route with a "
        "static body, the same assertions) is the reference, and a suite of empty tests "
        "(with the same client fixture) the baseline. Each is run by `pytest -p "
        "no:randomly`, serially and with `-n 2`, as a fresh process; the six runs rotate "
        "per round. A suite's per-test cost is the CPU time of all its tests' run "
        "protocols (set-up, call, tear-down, reports; summed over xdist workers) / tests, "
        "net of the empty suite's: start-up and collection, and the other load on a "
        "shared 2-core machine (which swings whole-run wall clock by tens of percent), "
        "stay out; whole-run wall-clock and CPU times are in the details. The suites run "
        "in separate processes, so their ratio swings with the machine's load (sections "
        "2 and 3 compare the same work interleaved in one process). "
        "Leak checks run in each test process (each xdist worker) after its last test: "
        "no instance of the plugin's classes left alive after `gc.collect()`, every respx "
        "mocker without routers or patches, httpcore's transport method restored, the "
        "same threads as at start, and gc-tracked objects retained per test (from the "
        "10% mark to the end) no more than 2 above the empty suite's (pytest keeps every "
        "test item for the whole session).",
    )
    suites = _suites(ctx, tests)
    if not ctx.quick:  # compile and rewrite the generated test modules into the cache
        for suite in suites.values():
            env = ctx.env(BENCH_WARM="1", BENCH_SCALE_OUT=str(suite / "leaks"))
            run_command(pytest_command("--collect-only", "-q"), cwd=suite, env=env)
    reports: dict[str, list[list[dict[str, Any]]]] = {}

    def variant(name: str, workers: int) -> Any:
        def measure() -> Timing:
            timing, found = _run(ctx, suites[name], tests, workers)
            reports.setdefault(f"{name}/{workers}", []).append(found)
            return timing

        return measure

    modes = [(0, "serial"), (2, "-n 2")]
    plan = {
        f"{name}/{workers}": variant(name, workers)
        for workers, _ in modes
        for name in ("ours", "respx", "empty")
        if not (ctx.quick and workers and name != "ours")
    }
    rounds = ctx.size(3, 1)
    ctx.log(f"5. scale: {len(plan)} runs of {tests} tests x {rounds} rounds")
    timings = interleave(plan, rounds)

    def per_test(name: str, workers: int) -> list[float]:
        """Per round: CPU time of the tests' run protocols (all workers) / tests."""
        runs = reports[f"{name}/{workers}"]
        return [sum(r["protocol_cpu"] for r in run) / tests for run in runs]

    for workers, label in modes:
        key = "5a" if not workers else "5b"
        ours = per_test("ours", workers)
        if f"respx/{workers}" not in timings:  # quick mode: -n 2 only for the plugin's suite
            section.rows.append(
                Row(key, f"per test, {tests:,}-test suite, {label}", fmt_time(median(ours)), "", "")
            )
            section.rows[-1].reference = "(full mode only)"
            continue
        empty = per_test("empty", workers)
        net_ours = [a - e for a, e in zip(ours, empty, strict=True)]
        net_ref = [r - e for r, e in zip(per_test("respx", workers), empty, strict=True)]

        def whole(name: str, workers: int = workers) -> str:
            runs = timings[f"{name}/{workers}"]
            wall = median([t.wall for t in runs])
            return (
                f"{fmt_time(wall)} wall ({fmt_time(wall / tests)} a test), "
                f"{fmt_time(median([t.cpu for t in runs]))} CPU"
            )

        section.rows.append(
            Row(
                key,
                f"per test, {tests:,}-test suite, {label}: vs respx_mock suite",
                fmt_time(median(net_ours)),
                fmt_time(median(net_ref)),
                fmt_ratio(paired_ratios(net_ours, net_ref)),
                "",
                "info",
            )
        )
        section.details.append(
            f"- {label}: per test, all included (set-up, call, tear-down, reports): plugin "
            f"suite {fmt_time(median(ours))}, empty test {fmt_time(median(empty))}; whole "
            f"runs (median of {len(ours)}, start-up and collection included): plugin suite "
            f"{whole('ours')}; respx suite {whole('respx')}; empty suite {whole('empty')}"
        )

    def growth(name: str, workers: int) -> float:
        found = [r for run in reports.get(f"{name}/{workers}", []) for r in run]
        return median([r["object_growth"] / max(1, r["after_warm"]) for r in found] or [0.0])

    problems: list[str] = []
    checked = 0
    for workers, label in modes:
        baseline = growth("empty", workers) if f"empty/{workers}" in reports else growth("empty", 0)
        for run in reports[f"ours/{workers}"]:
            for report in run:
                checked += 1
                found = _leak_problems(report, baseline, judge_growth=not ctx.quick)
                problems += [f"{label}: {p}" for p in found]
        last = reports[f"ours/{workers}"][-1]

        def mib(run: list[dict[str, Any]]) -> str:
            return ", ".join(
                f"{r['rss_growth_kb'] / 1024 * 1000 / max(1, r['after_warm']):.2f}" for r in run
            )

        reference = reports.get(f"respx/{workers}")
        section.details.append(
            f"- {label}, last round, per test process (from the 10% mark to the end): RSS "
            f"growth per 1,000 tests: plugin suite {mib(last)} MiB"
            + (f", respx suite {mib(reference[-1])} MiB" if reference else "")
            + "; gc objects retained per test: plugin suite "
            + ", ".join(f"{r['object_growth'] / max(1, r['after_warm']):.1f}" for r in last)
            + f", empty suite {baseline:.1f}"
        )
    section.rows.append(
        Row(
            "5c",
            f"leaks after the suite ({checked} test processes checked)",
            "none" if not problems else f"{len(problems)} problem(s)",
            "",
            "",
            "no leak",
            "ok" if not problems else "LEAK",
        )
    )
    if problems:
        section.details.extend(f"- LEAK: {p}" for p in problems)
    else:
        section.details.append(
            "- leak checks passed in every test process: no plugin object alive, respx "
            "mockers empty and unpatched, httpcore restored, no thread left"
        )
    return section
