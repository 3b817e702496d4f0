"""1. Start-up: what installing the plugin adds to every pytest run that does not use it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from _harness import (
    PYTHON,
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
    quartiles,
    run_command,
    verdict,
)

TESTS = 50
HEAVY = ("faker", "respx", "httpx", "httpcore", "pydantic", "polyfactory")
MAX_ADDED = 0.05

PROBE = '''
"""Records which heavy modules are loaded once pytest has collected (benchmark probe)."""
import json, os, sys

HEAVY = {heavy!r}


def _loaded():
    return sorted(m for m in HEAVY if m in sys.modules)


def pytest_collection_finish(session):
    out = os.environ["BENCH_PROBE_OUT"]
    with open(out, "w") as handle:
        json.dump({{"after_collection": _loaded()}}, handle)
'''

_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _suite(ctx: Context) -> Path:
    suite = ctx.directory("startup")
    per_file = 10
    for number in range(TESTS // per_file):
        body = "".join(f"def test_{i}():\n    pass\n\n\n" for i in range(per_file))
        (suite / f"test_trivial_{number}.py").write_text(body, encoding="utf-8")
    (suite / "_bench_probe.py").write_text(PROBE.format(heavy=HEAVY), encoding="utf-8")
    return suite


def _collect_pair(
    ctx: Context,
    suite: Path,
    with_plugin: list[str],
    without: list[str],
    env: dict[str, str],
    rounds_full: int,
) -> tuple[list[Timing], list[Timing]]:
    expect = f"{TESTS} tests collected"
    base = pytest_command("--collect-only", "-q")

    def run(extra: list[str]) -> Timing:
        timing, _ = run_command([*base, *extra], cwd=suite, env=env, expect=expect)
        return timing

    if not ctx.quick:  # fill the bytecode cache, page in the interpreter
        run(with_plugin)
        run(without)
    rounds = ctx.size(rounds_full, 1)
    samples = interleave({"on": lambda: run(with_plugin), "off": lambda: run(without)}, rounds)
    return samples["on"], samples["off"]


def _own_lines(ctx: Context, env: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    """The issue's exact command: median (self, cumulative) us of each own module's line."""
    code = "import pytest_trigger_batches.plugin"
    found: dict[str, list[tuple[int, int]]] = {}
    for _ in range(runs):
        _, result = run_command([PYTHON, "-X", "importtime", "-c", code], cwd=ctx.scratch, env=env)
        for match in map(_IMPORTTIME.match, result.stderr.splitlines()):
            if match and match.group(4).startswith("pytest_trigger_batches"):
                found.setdefault(match.group(4), []).append(
                    (int(match.group(1)), int(match.group(2)))
                )
    return {
        name: (median([s for s, _ in pairs]), median([c for _, c in pairs]))
        for name, pairs in found.items()
    }


def _importtime(
    ctx: Context, env: dict[str, str], runs: int
) -> tuple[list[int], list[int], list[str]]:
    """Per run: the plugin's cumulative import cost (us), `import pytest`'s, new modules."""
    code = "import pytest; import pytest_trigger_batches.plugin"
    plugin_costs: list[int] = []
    pytest_costs: list[int] = []
    added: list[str] = []
    for _ in range(runs):
        _, result = run_command([PYTHON, "-X", "importtime", "-c", code], cwd=ctx.scratch, env=env)
        lines = [m.groups() for m in map(_IMPORTTIME.match, result.stderr.splitlines()) if m]
        top = [
            i for i, (_, _, indent, name) in enumerate(lines) if name == "pytest" and indent == " "
        ]
        if not top:
            raise RuntimeError("no `import pytest` line in -X importtime output")
        start = top[-1]
        pytest_costs.append(int(lines[start][1]))
        ours = lines[start + 1 :]
        plugin_costs.append(sum(int(self_us) for self_us, _, _, _ in ours))
        added = [name for _, _, _, name in ours]
    return plugin_costs, pytest_costs, added


IN_PROCESS = """
import contextlib, io, json, sys, time

import pytest

start = time.process_time()
import pytest_trigger_batches.plugin  # noqa: E402,F401
imported = time.process_time() - start
args = ["--collect-only", "-q", "-p", "no:cacheprovider"]
sessions = {"on": [], "off": []}
for number in range(int(sys.argv[1])):
    order = ("on", "off") if number % 2 else ("off", "on")
    for name in order:
        extra = ["-p", "pytest_trigger_batches.plugin"] if name == "on" else []
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.process_time()
            pytest.main(args + extra)
            sessions[name].append(time.process_time() - start)
print(json.dumps({"import": imported, **sessions}))
"""


def _in_process(ctx: Context, suite: Path, pairs: int) -> tuple[float, list[float]]:
    """The plugin's import CPU time, and per pair the CPU time it adds to a pytest session.

    pytest runs in one process again and again, alternately with and without the plugin
    (bare pytest); the first pairs warm up and are left out.
    """
    env = ctx.env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    _, result = run_command([PYTHON, "-c", IN_PROCESS, str(pairs + 3)], cwd=suite, env=env)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    added = [a - b for a, b in zip(found["on"][3:], found["off"][3:], strict=True)]
    return float(found["import"]), added


def _heavy_on_import(ctx: Context, env: dict[str, str]) -> list[str]:
    code = (
        "import json, sys\n"
        "import pytest_trigger_batches.plugin, pytest_trigger_batches\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    _, result = run_command([PYTHON, "-c", code], cwd=ctx.scratch, env=env)
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def _heavy_in_pytest(ctx: Context, suite: Path) -> list[str]:
    out = ctx.scratch / "probe.json"
    env = ctx.env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", BENCH_PROBE_OUT=str(out))
    args = pytest_command(
        "--collect-only", "-q", "-p", "pytest_trigger_batches.plugin", "-p", "_bench_probe"
    )
    run_command(args, cwd=suite, env=env, expect=f"{TESTS} tests collected")
    loaded: list[str] = json.loads(out.read_text(encoding="utf-8"))["after_collection"]
    return loaded


def run(ctx: Context) -> Section:
    section = Section(
        1,
        "Start-up",
        f"`pytest --collect-only -q` on {TESTS} trivial tests in a temporary directory, "
        "each run a fresh process, the two variants alternating run by run; the ratio is "
        "taken per pair and the median reported. The figure is the process's CPU time "
        "(user + system, interpreter start included, from `getrusage`): start-up is "
        "single-threaded and CPU-bound, so that is its wall time on an idle machine, "
        "without the scheduling noise of a shared one (wall-clock figures are in the "
        "details). *Installed environment*: every installed plugin loads "
        "(pytest-randomly, pytest-httpx, respx, xdist, ...), against the same command with "
        "`-p no:trigger_batches`. *Bare pytest*: `PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`, so "
        "pytest alone against pytest + `-p pytest_trigger_batches.plugin` (the stricter "
        "test: a smaller denominator). A few percent is within the noise of separate "
        "processes on a loaded 2-core machine, so 1c also measures the plugin's own cost "
        "directly (import, then pytest sessions alternating with and without it in one "
        "process). Bytecode is cached for both (as after `pip "
        "install`); `-X importtime` runs `import pytest` first so the plugin's line is its "
        "own marginal cost.",
    )
    suite = _suite(ctx)
    env = ctx.env()

    ctx.log("1. start-up: installed environment")
    on, off = _collect_pair(ctx, suite, [], ["-p", "no:trigger_batches"], env, 25)
    ctx.log("1. start-up: bare pytest")
    bare_env = ctx.env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    bare_on, bare_off = _collect_pair(
        ctx, suite, ["-p", "pytest_trigger_batches.plugin"], [], bare_env, 41
    )
    for key, label, on_timings, off_timings in (
        ("1a", "installed env: plugin vs `-p no:trigger_batches`", on, off),
        ("1b", "bare pytest: + `-p` plugin vs without", bare_on, bare_off),
    ):
        a = [t.cpu for t in on_timings]
        b = [t.cpu for t in off_timings]
        ratios = paired_ratios(a, b)
        added = [x - y for x, y in zip(a, b, strict=True)]
        wall_on = [t.wall for t in on_timings]
        wall_off = [t.wall for t in off_timings]
        section.rows.append(
            Row(
                key,
                f"start-up, `pytest --collect-only`, {label}",
                fmt_time(median(a)),
                fmt_time(median(b)),
                fmt_ratio(ratios),
                "<= 1.05x",
                verdict(median(ratios) <= 1 + MAX_ADDED),
            )
        )
        q1, q3 = quartiles(added)
        section.details.append(
            f"- {key}: {len(a)} pairs; CPU time added per run: median "
            f"{fmt_time(median(added))} (IQR {fmt_time(q1)} to {fmt_time(q3)}); wall clock: "
            f"on {fmt_time(median(wall_on))}, off {fmt_time(median(wall_off))}, ratio "
            f"{fmt_ratio(paired_ratios(wall_on, wall_off))}"
        )

    ctx.log("1. start-up: the plugin's own cost, in-process")
    imported, added_by_hooks = _in_process(ctx, suite, ctx.size(41, 3))
    own = imported + median(added_by_hooks)
    bare_off_cpu = median([t.cpu for t in bare_off])
    section.rows.append(
        Row(
            "1c",
            "start-up, bare pytest: the plugin's own CPU (import + registration + hooks)",
            fmt_time(own),
            f"{fmt_time(bare_off_cpu)} (1b without)",
            f"{(bare_off_cpu + own) / bare_off_cpu:.3f}x",
            "<= 1.05x",
            verdict(own <= MAX_ADDED * bare_off_cpu),
        )
    )
    q1, q3 = quartiles(added_by_hooks)
    section.details.append(
        f"- 1c: what the plugin adds, measured where the noise of separate processes does "
        f"not reach: its import ({fmt_time(imported)} of CPU, first import in a process "
        f"that has pytest) plus what it adds to a `pytest --collect-only` session run in "
        f"the same process again and again, alternately with and without `-p "
        f"pytest_trigger_batches.plugin` ({fmt_time(median(added_by_hooks))} median of "
        f"{len(added_by_hooks)} pairs, IQR {fmt_time(q1)} to {fmt_time(q3)}: registering "
        f"it, its options, ini key, markers, seed and report header); the ratio is "
        f"against 1b's bare start-up"
    )

    ctx.log("1. start-up: import time")
    plugin_us, pytest_us, added_modules = _importtime(ctx, env, ctx.size(15, 1))
    shares = paired_ratios(plugin_us, pytest_us)
    section.rows.append(
        Row(
            "1d",
            "plugin import after `import pytest` (-X importtime)",
            fmt_time(median(plugin_us) / 1e6),
            f"{fmt_time(median(pytest_us) / 1e6)} (import pytest)",
            f"{median(shares) * 100:.1f}% of import pytest",
            "",
            "info",
        )
    )
    section.details.append(
        f"- 1d: modules the plugin import adds to a process that has pytest: "
        f"{', '.join(f'`{m}`' for m in added_modules)} (the sum of their self times, median "
        f"of {len(plugin_us)} runs)"
    )
    own = _own_lines(ctx, env, ctx.size(9, 1))
    section.details.append(
        "- 1d, the issue's command `python -X importtime -c \"import "
        "pytest_trigger_batches.plugin\"` (medians; the plugin's cumulative includes "
        "importing pytest itself): "
        + "; ".join(
            f"`{name}` self {fmt_time(s / 1e6)}, cumulative {fmt_time(c / 1e6)}"
            for name, (s, c) in own.items()
        )
    )
    if not ctx.quick:
        nocache_env = ctx.env(
            PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(ctx.scratch / "empty-pycache")
        )
        ctx.log("1. start-up: import time without bytecode cache")
        cold, _, _ = _importtime(ctx, nocache_env, 3)
        section.details.append(
            f"- 1d without any bytecode cache (`PYTHONDONTWRITEBYTECODE=1`, e.g. an editable "
            f"install in such an environment): {fmt_time(median(cold) / 1e6)}, the difference "
            f"being the compilation of the plugin's sources"
        )

    ctx.log("1. start-up: heavy modules")
    on_import = _heavy_on_import(ctx, env)
    in_pytest = _heavy_in_pytest(ctx, suite)
    clean = not on_import and not in_pytest
    shown = ", ".join(HEAVY)
    section.rows.append(
        Row(
            "1e",
            "heavy modules imported by the plugin (faker, respx, httpx, ...)",
            "none" if clean else ", ".join(sorted(set(on_import) | set(in_pytest))),
            "none",
            "",
            "none",
            verdict(clean),
        )
    )
    section.details.append(
        f"- 1e: after `import pytest_trigger_batches.plugin, pytest_trigger_batches`: "
        f"{on_import or 'none'} of {shown} loaded; after a bare-pytest collection with the "
        f"plugin: {in_pytest or 'none'}. (In the installed environment faker and polyfactory "
        f"are loaded anyway: pytest-randomly imports them to reseed them, and pytest-httpx "
        f"imports httpx.)"
    )
    return section
