"""3. Per-test fixture cost: set-up + tear-down of the plugin's fixtures against respx_mock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _harness import (
    ORIGIN,
    Context,
    Row,
    Section,
    fmt_ratio,
    fmt_time,
    median,
    paired_ratios,
    pytest_command,
    run_command,
    verdict,
)

from pytest_trigger_batches.factory import BatchFactory

MAX_RATIO = 1.25
URL = f"{ORIGIN}/api/v1/batches/"

TIMING = '''
"""Benchmark probe: per test, the CPU time of its whole run protocol and pytest's durations.

With BENCH_TOGGLE=<plugin name>, that plugin's hooks are taken out of pytest for every
other test (before the clock starts) and put back for the next: its per-test cost then
shows as the difference between alternate tests of the same process.
"""
import json, os, time

import pytest

_tests = []
_durations = {}
_toggle = os.environ.get("BENCH_TOGGLE")
_removed = []
_hooks = set()


def _enable(config, enabled):
    plugin = config.pluginmanager.get_plugin(_toggle)
    if enabled:
        for caller, impl in _removed:
            caller._add_hookimpl(impl)
        _removed.clear()
    elif not _removed:
        for caller in config.pluginmanager.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    _removed.append((caller, impl))
                    _hooks.add(caller.name)
            caller._remove_plugin(plugin)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    state = "on"
    if _toggle:
        state = "on" if len(_tests) % 2 == 0 else "off"
        _enable(item.config, state == "on")
    start = time.process_time()
    try:
        return (yield)
    finally:
        _tests.append((item.nodeid, time.process_time() - start, state))


def pytest_runtest_logreport(report):
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    if _toggle:
        _enable(session.config, True)
    with open(os.environ["BENCH_TIMING_OUT"], "w") as handle:
        json.dump(
            {
                "tests": [[n, cpu, _durations.get(n, 0.0), state] for n, cpu, state in _tests],
                "toggled_hooks": sorted(_hooks),
            },
            handle,
        )
'''

VARIANTS = {
    "ours_batch": (
        "def test_{i:04d}_ours_batch(mock_trigger_api, trigger_batch_factory):\n"
        "    mock_trigger_api.add_batch(trigger_batch_factory())\n"
    ),
    "respx_route": (
        "@pytest.mark.respx(assert_all_called=False)\n"
        "def test_{i:04d}_respx_route(respx_mock):\n"
        "    respx_mock.get(URL).respond(200, content=BODY, headers=HEADERS)\n"
    ),
    "ours_bare": "def test_{i:04d}_ours_bare(mock_trigger_api, trigger_batch_factory):\n    pass\n",
    "respx_bare": "def test_{i:04d}_respx_bare(respx_mock):\n    pass\n",
    "empty": "def test_{i:04d}_empty():\n    pass\n",
}
SKIP_FIRST = 3  # warm-up tests of each variant left out of the steady-state median


def _interleaved_suite(ctx: Context, per_variant: int) -> Path:
    """One file whose tests rotate through the variants: A B C D E, B C D E A, ..."""
    suite = ctx.directory("fixtures", ini=f"trigger_api_url = {ORIGIN}\n")
    batch = BatchFactory(seed=20260301)()
    body = json.dumps(batch.to_payload(), separators=(",", ":")).encode()
    parts = [
        "import pytest\n\n",
        f"URL = {URL + batch.id!r}\n",
        f"BODY = {body!r}\n",
        "HEADERS = {'content-type': 'application/json; charset=utf-8'}\n\n\n",
    ]
    names = list(VARIANTS)
    for i in range(per_variant):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            parts.append(VARIANTS[name].format(i=i) + "\n\n")
    (suite / "test_fixture_cost.py").write_text("".join(parts), encoding="utf-8")
    empty = "".join(f"def test_{i:04d}():\n    pass\n\n\n" for i in range(per_variant * 3))
    (suite / "test_empty_only.py").write_text(empty, encoding="utf-8")
    (suite / "_bench_timing.py").write_text(TIMING, encoding="utf-8")
    return suite


def _pytest(ctx: Context, suite: Path, target: str, count: int, **env: str) -> dict[str, Any]:
    """tests: [nodeid, CPU seconds of its protocol, pytest's durations, "on"/"off"]."""
    out = ctx.scratch / "timing.json"
    args = pytest_command("-q", "-p", "no:randomly", "-p", "_bench_timing", target)
    env = ctx.env(BENCH_TIMING_OUT=str(out), **env)
    run_command(args, cwd=suite, env=env, expect=f"{count} passed")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def run(ctx: Context) -> Section:
    per_variant = ctx.size(300, 10)
    section = Section(
        3,
        "Per-test fixture cost",
        f"One generated file of {per_variant} tests per variant, the variants interleaved "
        "test by test (A B C D E, then B C D E A, ...), run by `pytest -p no:randomly` in a "
        "fresh process per round. A test's cost is the CPU time of its whole run protocol "
        "(set-up, call, tear-down and their reports; `time.process_time()` in a "
        "`pytest_runtest_protocol` wrapper): in one single-threaded process that is its "
        "wall time without the moments other load held the CPU. Per round the "
        "steady-state cost of a variant is the median over its tests (first "
        f"{SKIP_FIRST} left out) minus that of an empty test; the one-off first use in a "
        "process (lazy imports, faker's text pools) is reported apart. Interleaving in one "
        "process means both sides share the same moments, interpreter and pytest state, "
        "and interpreter start and collection, the same for all, stay out. The respx side "
        "with a route needs `@pytest.mark.respx(assert_all_called=False)` (the route is "
        "never called), which makes respx build a fresh router per test, as "
        "`mock_trigger_api` always does; bare `respx_mock` reuses respx's global router. "
        "3c measures what the installed plugin costs a test that does not use it: in "
        "one process of empty tests, the plugin's hooks are taken out of pytest's hook "
        "callers before every other test and put back for the next (outside the timed "
        "protocol), so both sides alternate test by test, as with "
        "`-p no:trigger_batches` but without the between-process noise.",
    )
    suite = _interleaved_suite(ctx, per_variant)
    total = per_variant * len(VARIANTS)
    rounds = ctx.size(7, 1)
    steady: dict[str, list[float]] = {name: [] for name in VARIANTS}
    wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
    first_use: list[float] = []
    for number in range(rounds):
        ctx.log(f"3. fixtures: round {number + 1}/{rounds} ({total} tests)")
        cpu_by: dict[str, list[float]] = {name: [] for name in VARIANTS}
        wall_by: dict[str, list[float]] = {name: [] for name in VARIANTS}
        result = _pytest(ctx, suite, "test_fixture_cost.py", total)
        for nodeid, cpu, duration, _ in result["tests"]:
            name = nodeid.split("::")[-1][len("test_0000_") :]  # test_0042_<variant>
            cpu_by[name].append(cpu)
            wall_by[name].append(duration)
        for name in VARIANTS:
            steady[name].append(median(cpu_by[name][SKIP_FIRST:]))
            wall[name].append(median(wall_by[name][SKIP_FIRST:]))
        first = max(cpu_by["ours_batch"][0], cpu_by["ours_bare"][0])
        first_use.append(first - steady["ours_batch"][-1])

    def net(values: dict[str, list[float]], name: str) -> list[float]:
        return [x - e for x, e in zip(values[name], values["empty"], strict=True)]

    for key, ours, ref, label in (
        ("3a", "ours_batch", "respx_route", "fixtures + one batch vs respx_mock + one route"),
        ("3b", "ours_bare", "respx_bare", "fixtures alone vs respx_mock alone"),
    ):
        ratios = paired_ratios(net(steady, ours), net(steady, ref))
        section.rows.append(
            Row(
                key,
                f"per test: {label}",
                fmt_time(median(net(steady, ours))),
                fmt_time(median(net(steady, ref))),
                fmt_ratio(ratios),
                "<= 1.25x",
                verdict(median(ratios) <= MAX_RATIO),
            )
        )
        by_wall = paired_ratios(net(wall, ours), net(wall, ref))
        section.details.append(
            f"- {key} by pytest's own wall-clock durations (set-up + call + tear-down, net of "
            f"an empty test): {fmt_time(median(net(wall, ours)))} vs "
            f"{fmt_time(median(net(wall, ref)))}, {fmt_ratio(by_wall)}"
        )
    section.details.append(
        f"- {rounds} rounds; steady per-test CPU medians, empty test included: "
        + ", ".join(f"{name} {fmt_time(median(values))}" for name, values in steady.items())
    )
    section.details.append(
        f"- first use of the plugin's fixtures in a process (importing the factory, the mock "
        f"and respx's router, faker building its text pools): {fmt_time(median(first_use))} "
        f"once, i.e. {fmt_time(median(first_use) / per_variant)} per test over "
        f"{per_variant} tests"
    )

    empty_count = per_variant * 3
    ctx.log(f"3. fixtures: plugin unused, {empty_count} empty tests")
    on: list[float] = []
    off: list[float] = []
    hooks: list[str] = []
    for _ in range(ctx.size(5, 1)):
        result = _pytest(
            ctx, suite, "test_empty_only.py", empty_count, BENCH_TOGGLE="trigger_batches"
        )
        tests = result["tests"][SKIP_FIRST:]
        on.append(median([cpu for _, cpu, _, state in tests if state == "on"]))
        off.append(median([cpu for _, cpu, _, state in tests if state == "off"]))
        hooks = result["toggled_hooks"]
    ratios = paired_ratios(on, off)
    added = [a - b for a, b in zip(on, off, strict=True)]
    section.rows.append(
        Row(
            "3c",
            "per empty test: plugin's hooks on vs off (plugin unused)",
            fmt_time(median(on)),
            fmt_time(median(off)),
            fmt_ratio(ratios),
            "",
            "info",
        )
    )
    section.details.append(
        f"- 3c: {len(on)} processes of {empty_count} empty tests, the plugin's hooks "
        f"({', '.join(f'`{h}`' for h in hooks if h.startswith('pytest_runtest'))} among "
        f"them per test) taken out of pytest for every other test; they add "
        f"{fmt_time(median(added))} per test (median over processes)"
    )
    return section
