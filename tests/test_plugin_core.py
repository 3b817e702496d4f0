"""The plugin's core wiring, seen from a pytest run of a user's project (pytester)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_trigger_batches import plugin

# A user's test module: each test builds batches and writes their payloads to out/.
RECORDING_TESTS = """
import json
import os
import pathlib


def record(name, factory, seed):
    batches = [
        factory("PARTIAL_FAILED", run_count=25, idempotency_key=True),
        factory("COMPLETED", failed_count=2, task_identifier=["a-task", "b-task"]),
        factory("PENDING", legacy=True),
    ]
    out = pathlib.Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    data = {
        "seed": seed,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "payloads": [b.to_payload() for b in batches] + [b.to_payload(version=2) for b in batches],
    }
    (out / f"{name}.json").write_text(json.dumps(data))

"""


# Third-party plugins that cost time in every inner run and play no part here.
QUIET = ("-p", "no:hypothesispytest")


def run(pytester: pytest.Pytester, *args: str, shuffle: bool = False) -> pytest.RunResult:
    """An in-process inner run, in collection order unless `shuffle` (pytest-randomly)."""
    order = ("-p", "randomly") if shuffle else ("-p", "no:randomly")
    return pytester.runpytest(*QUIET, *order, *args)


def recording_module(count: int) -> str:
    tests = [
        f"def test_{i}(trigger_batch_factory, trigger_seed):\n"
        f"    record('test_{i}', trigger_batch_factory, trigger_seed)\n"
        for i in range(count)
    ]
    return RECORDING_TESTS + "\n\n".join(tests)


def collect(pytester: pytest.Pytester) -> dict[str, dict[str, object]]:
    """The records the last run wrote, by test name; clears them for the next run."""
    out = pytester.path / "out"
    records = {}
    for path in sorted(out.glob("*.json")):
        records[path.stem] = json.loads(path.read_text())
        path.unlink()
    return records


def payloads(records: dict[str, dict[str, object]]) -> dict[str, str]:
    return {name: json.dumps(record["payloads"]) for name, record in records.items()}


def header_seed(lines: list[str]) -> int:
    for line in lines:
        found = re.fullmatch(r"trigger-batches: seed (\d+) \(rerun with --trigger-seed=\1\)", line)
        if found:
            return int(found.group(1))
    raise AssertionError("no trigger-batches seed in the report header:\n" + "\n".join(lines))


# -- fixtures and markers ------------------------------------------------------------------


def test_fixtures_are_available_without_a_conftest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing but the pytest11 entry point may bring the plugin in: no conftest, no
    # PYTEST_PLUGINS, no -p. The inner test checks where its fixtures came from.
    monkeypatch.delenv("PYTEST_PLUGINS", raising=False)
    pytester.makepyfile(
        """
        import pytest_trigger_batches.plugin
        from pytest_trigger_batches import BatchFactory, TriggerBatch

        def test_fixtures(request, trigger_batch_factory, trigger_seed):
            manager = request.config.pluginmanager
            assert manager.get_plugin("trigger_batches") is pytest_trigger_batches.plugin
            [(_, dist)] = [
                (p, d) for p, d in manager.list_plugin_distinfo()
                if p is pytest_trigger_batches.plugin
            ]
            assert dist.project_name == "pytest-trigger-batches"
            assert isinstance(trigger_seed, int)
            assert isinstance(trigger_batch_factory, BatchFactory)
            assert trigger_batch_factory.seed == trigger_seed
            batch = trigger_batch_factory("PARTIAL_FAILED")
            assert isinstance(batch, TriggerBatch)
            assert batch.failed_run_count == 3
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)


def test_trigger_seed_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_trigger_batches import BatchFactory

        @pytest.fixture
        def trigger_seed():
            return 1234

        def test_pinned(trigger_batch_factory):
            assert trigger_batch_factory.seed == 1234
            expected = BatchFactory(seed=1234)("COMPLETED").to_payload()
            assert trigger_batch_factory("COMPLETED").to_payload() == expected
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_trigger_batch_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--markers")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["@pytest.mark.trigger_batch(status*): *"])


def test_trigger_batch_marker_passes_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.trigger_batch("COMPLETED")
        def test_marked():
            assert True
        """
    )
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*not found in `markers` configuration option*")


def test_unknown_marker_still_fails_strict_markers(pytester: pytest.Pytester) -> None:
    # Control for the test above: --strict-markers does refuse unregistered markers.
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.trigger_batches_typo
        def test_marked():
            pass
        """
    )
    result = run(pytester, "--strict-markers")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*'trigger_batches_typo' not found in `markers`*"])


def test_disabling_the_plugin_removes_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_factory(trigger_batch_factory):
            pass
        """
    )
    result = run(pytester, "-p", "no:trigger_batches")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'trigger_batch_factory' not found*"])
    result.stdout.no_fnmatch_line("*trigger-batches: seed*")


# -- seeds: header, failure section, reruns ------------------------------------------------


def test_report_header_shows_the_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    pinned = run(pytester, "--trigger-seed=31337")
    assert header_seed(pinned.outlines) == 31337
    # Unpinned, each run draws its own seed (of 10**8: two runs agree once in 10**8).
    drawn = {header_seed(run(pytester).outlines) for _ in range(2)}
    assert len(drawn) == 2, drawn


def test_failing_test_shows_seed_and_rerun_hint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fails="""
        def test_uses_factory(trigger_batch_factory):
            trigger_batch_factory("PARTIAL_FAILED")
            assert False, "application bug"

        def test_without_factory():
            assert False, "unrelated"
        """
    )
    result = run(pytester, "--trigger-seed=77")
    result.assert_outcomes(failed=2)
    nodeid = "test_fails.py::test_uses_factory"
    result.stdout.fnmatch_lines(
        [
            "*_ test_uses_factory _*",
            "*- trigger-batches -*",
            f"batches in this test were built from seed {plugin.seed_for_test(77, nodeid)} "
            "(run seed 77); rerun with:",
            f"  pytest --trigger-seed=77 '{nodeid}'",
            "*_ test_without_factory _*",
        ]
    )
    # Only the test that built batches gets the section.
    assert sum("- trigger-batches -" in line for line in result.outlines) == 1


def test_passing_test_has_no_trigger_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_ok(trigger_batch_factory):
            trigger_batch_factory()
        """
    )
    result = run(pytester, "--trigger-seed=5", "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*rerun with:*")


def test_rerun_hint_reproduces_the_failing_batch(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_flaky="""
        import json, pathlib

        def test_flaky(trigger_batch_factory):
            batch = trigger_batch_factory("COMPLETED", failed_count=1)
            out = pathlib.Path(__file__).parent / "batch.json"
            out.write_text(json.dumps(batch.to_payload()))
            assert False
        """
    )
    first = run(pytester)
    seed = header_seed(first.outlines)
    failed_with = (pytester.path / "batch.json").read_text()
    hint = next(line for line in first.outlines if line.startswith("  pytest --trigger-seed="))
    assert hint == f"  pytest --trigger-seed={seed} 'test_flaky.py::test_flaky'"
    run(pytester, f"--trigger-seed={seed}", "test_flaky.py::test_flaky")
    assert (pytester.path / "batch.json").read_text() == failed_with


def test_same_trigger_seed_gives_identical_payloads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_record=recording_module(3))
    run(pytester, "--trigger-seed=2024").assert_outcomes(passed=3)
    first = collect(pytester)
    run(pytester, "--trigger-seed=2024").assert_outcomes(passed=3)
    second = collect(pytester)
    assert set(first) == {"test_0", "test_1", "test_2"}
    assert payloads(first) == payloads(second)
    # Each test has its own stream: no two tests see the same batches.
    assert len(set(payloads(first).values())) == 3
    run(pytester, "--trigger-seed=2025").assert_outcomes(passed=3)
    other = collect(pytester)
    assert all(payloads(other)[name] != payloads(first)[name] for name in first)


def test_per_test_seed_does_not_depend_on_other_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_record=recording_module(4))
    run(pytester, "--trigger-seed=8").assert_outcomes(passed=4)
    together = payloads(collect(pytester))

    run(pytester, "--trigger-seed=8", "test_record.py::test_2").assert_outcomes(passed=1)
    assert payloads(collect(pytester)) == {"test_2": together["test_2"]}

    run(pytester, "--trigger-seed=8", "-k", "test_3 or test_1").assert_outcomes(passed=2)
    assert payloads(collect(pytester)) == {k: together[k] for k in ("test_1", "test_3")}

    orders = set()
    for randomly_seed in ("1", "2", "3", "4"):
        shuffled = run(
            pytester, "--trigger-seed=8", f"--randomly-seed={randomly_seed}", "-v", shuffle=True
        )
        shuffled.assert_outcomes(passed=4)
        orders.add(tuple(re.findall(r"::(test_\d) PASSED", shuffled.stdout.str())))
        assert payloads(collect(pytester)) == together
    assert len(orders) > 1, "pytest-randomly never changed the order"


@pytest.mark.slow  # two xdist workers: an inner run in three processes
def test_xdist_workers_share_the_run_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_record=recording_module(8))

    # No --trigger-seed: the controller draws one and hands it to every worker.
    parallel = run(pytester, "-n", "2")
    parallel.assert_outcomes(passed=8)
    seed = header_seed(parallel.outlines)
    parallel_records = collect(pytester)
    assert {r["worker"] for r in parallel_records.values()} == {"gw0", "gw1"}

    serial = run(pytester, f"--trigger-seed={seed}")
    serial.assert_outcomes(passed=8)
    serial_records = collect(pytester)
    assert payloads(parallel_records) == payloads(serial_records)
    assert {n: r["seed"] for n, r in parallel_records.items()} == {
        n: r["seed"] for n, r in serial_records.items()
    }


# -- import cost -----------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["pytest_trigger_batches.plugin", "pytest_trigger_batches"])
def test_importing_loads_nothing_heavy(tmp_path: Path, module: str) -> None:
    code = (
        f"import {module}; import sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('faker','respx','httpx','hypothesis','vcr','syrupy','pytest_socket')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.stdout.strip() == "[]"


LOADED_CONFTEST = """
import json, sys

def pytest_collection_finish(session):
    mine = ("pytest_trigger_batches", "faker", "respx", "httpx")
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in mine)
    with open("loaded.json", "w") as out:
        json.dump(loaded, out)
"""


def test_a_run_that_uses_no_fixture_loads_only_the_plugins_wiring(tmp_path: Path) -> None:
    """What every run of every project that installs the package pays: the plugin module,
    its settings and its reporting hooks; not redaction, ids, the model or the mock."""
    (tmp_path / "conftest.py").write_text(LOADED_CONFTEST)
    (tmp_path / "test_app.py").write_text("def test_app():\n    assert True\n")
    # This plugin alone: other plugins import some of these themselves (respx's, faker's,
    # pytest-randomly reseeding faker, pytest-httpx).
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    only = ("-p", "pytest_trigger_batches.plugin", "-p", "no:cacheprovider")
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *only],
        capture_output=True,
        check=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    loaded = json.loads((tmp_path / "loaded.json").read_text())
    assert loaded == [
        "pytest_trigger_batches",
        "pytest_trigger_batches.plugin",
        "pytest_trigger_batches.reporting",
        "pytest_trigger_batches.settings",
    ]
