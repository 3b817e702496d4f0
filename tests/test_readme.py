"""Every code example in the README runs, or is a verbatim quote of a file that runs."""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCK_RE = re.compile(
    r"(?:<!-- quoted from (?P<source>\S+) -->\n)?```python\n(?P<code>.*?)```", re.S
)
BLOCKS = [(m.group("source"), m.group("code")) for m in BLOCK_RE.finditer(README)]
RUN = [code for source, code in BLOCKS if source is None]
HYPOTHESIS_PROFILE = """
from hypothesis import settings

settings.register_profile("readme", max_examples=10, database=None)
settings.load_profile("readme")
"""
QUOTED = [(source, code) for source, code in BLOCKS if source is not None]


def test_the_readme_has_examples() -> None:
    assert len(RUN) >= 6
    assert len(QUOTED) >= 3


@pytest.mark.parametrize("code", RUN, ids=[f"block{i}" for i in range(len(RUN))])
def test_readme_example_runs(pytester: pytest.Pytester, code: str) -> None:
    pytester.makepyfile(test_readme_example=code)
    if "from hypothesis import" in code:  # the property tests: fewer examples, same code
        pytester.makeconftest(HYPOTHESIS_PROFILE)
    result = pytester.runpytest("-p", "no:randomly", "--strict-markers")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    assert set(outcomes) <= {"passed", "seconds"}, result.stdout.str()


@pytest.mark.parametrize(("source", "code"), QUOTED, ids=[s for s, _ in QUOTED])
def test_readme_quote_is_verbatim(source: str, code: str) -> None:
    text = (ROOT / source).read_text()
    assert code in text, f"the README quotes {source}, but the file no longer has that code"


# -- every parameter and field a user needs is in the README, not only in `inspect` --------


def _documented_calls() -> dict[str, Callable[..., object]]:
    from pytest_trigger_batches import BatchFactory, TriggerApi
    from pytest_trigger_batches.markers import TriggerBatchOptions

    calls: dict[str, Callable[..., object]] = {
        name: getattr(TriggerApi, name)
        for name in (
            "add_batch",
            "accept_key",
            "public_token",
            "fail_next",
            "rate_limit",
            "add_route",
            "on_item",
            "on_run",
            "advance",
            "assert_retrieved",
            "assert_triggered",
            "calls_to",
        )
    }
    calls["trigger_batch_factory.run"] = BatchFactory.run
    calls["trigger_batch_factory.runs_of"] = BatchFactory.runs_of
    calls["@pytest.mark.trigger_batch"] = TriggerBatchOptions.__init__
    return calls


DOCUMENTED_CALLS = _documented_calls()


def _parameters(call: Callable[..., object]) -> list[str]:
    skipped = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    return [
        name
        for name, parameter in inspect.signature(call).parameters.items()
        if name != "self" and parameter.kind not in skipped
    ]


@pytest.mark.parametrize("name", list(DOCUMENTED_CALLS))
def test_the_readme_writes_out_every_parameter_of_a_public_call(name: str) -> None:
    """Somewhere the README writes `name(...)` with each of its parameters."""
    wanted = _parameters(DOCUMENTED_CALLS[name])
    spans = re.findall(rf"`{re.escape(name)}\((.*?)\)`", README, re.S)
    assert spans, f"the README never writes `{name}(...)`"
    best = max(spans, key=lambda span: sum(bool(re.search(rf"\b{p}\b", span)) for p in wanted))
    missing = [p for p in wanted if not re.search(rf"\b{p}\b", best)]
    assert not missing, f"`{name}(...)` in the README leaves out {missing}"


def _public_api_row(name: str) -> str:
    found = re.search(rf"^\| `{name}` \|(.*)$", README, re.M)
    assert found, f"the README's Public API table has no row for {name}"
    return found.group(1)


def _record_types() -> dict[str, list[str]]:
    from pytest_trigger_batches import (
        BatchError,
        BatchHandle,
        RecordedCall,
        TriggerBatch,
        TriggeredBatchHandle,
        TriggeredItem,
        TriggerRun,
    )

    def fields(cls: type) -> list[str]:
        named = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
        return named + [
            name
            for name, value in vars(cls).items()
            if isinstance(value, property) and not name.startswith("_")
        ]

    types: list[type] = [BatchError, RecordedCall, TriggerBatch, TriggeredItem, TriggerRun]
    found = {cls.__name__: fields(cls) for cls in types}
    found["BatchHandle"] = [f.name for f in dataclasses.fields(BatchHandle) if f.name[0] != "_"]
    found["TriggeredBatchHandle"] = [
        name for name, value in vars(TriggeredBatchHandle).items() if isinstance(value, property)
    ]
    return found


RECORD_TYPES = _record_types()


@pytest.mark.parametrize("name", list(RECORD_TYPES))
def test_the_public_api_table_names_every_field_of_a_record(name: str) -> None:
    row = _public_api_row(name)
    missing = [field for field in RECORD_TYPES[name] if f"`{field}`" not in row]
    assert not missing, f"the README's row for {name} leaves out {missing}"


def test_the_v1_batch_answer_lists_each_runs_idempotency_key() -> None:
    [row] = [
        line for line in README.splitlines() if line.startswith("| `POST /api/v1/tasks/batch`")
    ]
    assert "runs: [{id, taskIdentifier, isCached, idempotencyKey?}]" in row
