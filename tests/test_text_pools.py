"""The factory's text pools: shipped as data, drawn from faker by a maintainer's script.

faker is not a dependency (its pytest plugin would load in every run of every project that
installs this one); it stays the source of the task ids and messages, installed with the
test extra, and these tests hold the shipped pools to what it draws.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pytest_trigger_batches import factory as factory_module
from pytest_trigger_batches.factory import BatchFactory
from pytest_trigger_batches.model import TriggerBatch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "regenerate_text_pools.py"
POOLS = Path(factory_module.__file__).with_name("text_pools.json")


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regenerate_text_pools", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped() -> dict[str, list[str]]:
    pools: dict[str, list[str]] = json.loads(POOLS.read_text(encoding="utf-8"))
    return pools


def test_the_shipped_pools_are_what_faker_draws(script: ModuleType) -> None:
    drawn = script.render(script.from_faker())
    assert drawn == POOLS.read_text(encoding="utf-8"), (
        "faker draws other text than the shipped pools: see CONTRIBUTING.md before running "
        "python scripts/regenerate_text_pools.py (it changes every seeded batch's text)"
    )


def test_the_check_fails_on_edited_pools_and_regenerating_restores_them(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "text_pools.json"
    pools = shipped()
    pools["reasons"][0] = "edited by hand"
    copy.write_text(script.render(pools), encoding="utf-8")
    assert script.main(["--check", "--path", str(copy)]) == 1
    assert "differs from faker's" in capsys.readouterr().err
    assert script.main(["--path", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == POOLS.read_text(encoding="utf-8")
    assert script.main(["--check", "--path", str(copy)]) == 0


def test_the_pools_hold_distinct_task_ids_and_sentence_like_reasons() -> None:
    pools = shipped()
    assert len(pools["task_ids"]) == len(set(pools["task_ids"])) == 48
    assert all(re.fullmatch(r"[a-z0-9]+-[a-z0-9]+", task) for task in pools["task_ids"])
    assert len(pools["reasons"]) == 48
    assert all(re.fullmatch(r"[a-z][a-z ]+[a-z]", reason) for reason in pools["reasons"])


def test_batches_and_runs_draw_their_text_from_the_shipped_pools() -> None:
    pools = shipped()
    reasons = set(pools["reasons"])
    thrown = {reason[0].upper() + reason[1:] for reason in reasons}
    factory = BatchFactory(seed=3)

    def half_failed(code: str | None) -> TriggerBatch:
        return factory("PARTIAL_FAILED", run_count=60, failed_count=30, error_code=code)

    batch = half_failed("TRIGGER_ERROR")
    assert {error.error for error in batch.errors} <= thrown
    bare = half_failed(None)
    assert {error.error for error in bare.errors} <= reasons
    invalid = half_failed("ITEM_ERROR")
    assert {
        error.error.removeprefix(f"Invalid payload for item {error.index}: ")
        for error in invalid.errors
    } <= reasons
    for each in (batch, bare, invalid):
        assert {error.task_identifier for error in each.errors} <= set(pools["task_ids"])
    failed = factory.run("FAILED")
    assert failed.error is not None
    assert failed.error["message"] in thrown
    assert failed.task_identifier in pools["task_ids"]


def test_building_batches_and_runs_imports_no_faker(tmp_path: Path) -> None:
    """faker is installed here (the test extra), as a user may have it: nothing imports it."""
    code = (
        "import sys\n"
        "from pytest_trigger_batches import BatchFactory, rules\n"
        "factory = BatchFactory(seed=1)\n"
        "for code in (*rules.ERROR_CODES, None):\n"
        "    batch = factory('PARTIAL_FAILED', run_count=8, failed_count=4, error_code=code)\n"
        "factory.runs_of(batch)\n"
        "factory.run('FAILED')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'faker'))\n"
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
