"""4. Factory throughput: a 1,000-run PARTIAL_FAILED batch, built and serialized.

`python benchmarks/bench_factory.py` prints, for every status and failure share, what
building and serializing a 1,000-run batch costs against `json.dumps` of the finished
payload alone (the floor). Printed, never asserted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from _harness import (
    Context,
    Row,
    Section,
    calibrate,
    fmt_ratio,
    fmt_time,
    interleave,
    median,
    paired_ratios,
    time_loop,
    verdict,
)

from pytest_trigger_batches.factory import BatchFactory

RUNS = 1000
FAILED = 300
CODE = "TRIGGER_ERROR"
MIN_SPEEDUP = 3.0
MAX_OVER_FLOOR = 5.0
BUDGET = 0.04  # seconds per timed block


def _dumps(payload: dict[str, Any]) -> str:
    # How the mock writes bodies (compact separators); the floor uses the same call.
    return json.dumps(payload, separators=(",", ":"))


def _polyfactory(runs: int) -> Callable[[], str] | None:
    """polyfactory building a pydantic model of the v1 body, then `model_dump_json()`."""
    try:
        from datetime import datetime
        from enum import StrEnum

        from polyfactory import Use
        from polyfactory.factories.pydantic_factory import ModelFactory
        from pydantic import BaseModel
    except ImportError:
        return None

    class Status(StrEnum):
        PENDING = "PENDING"
        PROCESSING = "PROCESSING"
        COMPLETED = "COMPLETED"
        PARTIAL_FAILED = "PARTIAL_FAILED"
        ABORTED = "ABORTED"

    class ErrorCode(StrEnum):
        TRIGGER_ERROR = "TRIGGER_ERROR"
        TRIGGER_FAILED = "TRIGGER_FAILED"
        ENVIRONMENT_NOT_FOUND = "ENVIRONMENT_NOT_FOUND"
        ITEM_ERROR = "ITEM_ERROR"
        QUEUE_SIZE_LIMIT_EXCEEDED = "QUEUE_SIZE_LIMIT_EXCEEDED"

    class BatchErrorModel(BaseModel):
        index: int
        taskIdentifier: str
        error: str
        errorCode: ErrorCode | None

    class BatchModel(BaseModel):
        id: str
        status: Status
        idempotencyKey: str | None
        createdAt: datetime
        updatedAt: datetime
        runCount: int
        runs: list[str]
        successfulRunCount: int
        failedRunCount: int
        errors: list[BatchErrorModel]

    class ErrorFactory(ModelFactory[BatchErrorModel]):
        __model__ = BatchErrorModel

    class Factory(ModelFactory[BatchModel]):
        __model__ = BatchModel
        # Collections get exactly `runs` items; errors get their own count below.
        __randomize_collection_length__ = True
        __min_collection_length__ = runs
        __max_collection_length__ = runs
        errors = Use(ErrorFactory.batch, size=FAILED)

    Factory.seed_random(20260301)

    def build() -> str:
        return Factory.build().model_dump_json()

    probe = Factory.build()
    if len(probe.runs) != runs or len(probe.errors) != FAILED:
        raise RuntimeError(f"polyfactory built {len(probe.runs)} runs, {len(probe.errors)} errors")
    return build


def run(ctx: Context) -> Section:
    section = Section(
        4,
        "Factory throughput",
        f"In one process: `trigger_batch_factory('PARTIAL_FAILED', run_count={RUNS}, "
        f"error_code={CODE!r})` (700 "
        f"run ids, {FAILED} error entries, every platform rule validated) then "
        "`json.dumps(batch.to_payload(), separators=(',', ':'))`, as the mock serializes. "
        "polyfactory builds a pydantic v2 model mirroring the v1 body (id, status enum, "
        "idempotencyKey, createdAt, updatedAt, runCount, runs: list[str], "
        "successfulRunCount, failedRunCount, errors: list of {index, taskIdentifier, "
        f"error, errorCode}}) with {FAILED} errors and `model_dump_json()`: once with "
        f"{RUNS} runs (as specified) and once with 700 (the same sizes as our body). "
        "The floor is `json.dumps` of an already-built payload of ours. Each variant's "
        "block is sized to ~40 ms of CPU time, garbage collector paused; variants rotate per "
        "round (ours and the floor in 41 short rounds, ours and polyfactory in 11).",
    )
    factory = BatchFactory(seed=20260301)
    # One entry per failure, as the polyfactory schema has (the default code collapses).
    payload = factory("PARTIAL_FAILED", run_count=RUNS, error_code=CODE).to_payload()
    size = len(_dumps(payload))

    def ours() -> str:
        return _dumps(factory("PARTIAL_FAILED", run_count=RUNS, error_code=CODE).to_payload())

    def floor() -> str:
        return _dumps(payload)

    builders: dict[str, Callable[[], object]] = {"ours": ours, "floor": floor}
    poly = _polyfactory(RUNS)
    if poly is not None:
        builders["polyfactory (1,000 runs)"] = poly
        if not ctx.quick:  # ~0.2 s a build: the size-matched variant only in full runs
            poly_matched = _polyfactory(len(payload["runs"]))
            assert poly_matched is not None
            builders["polyfactory (700 runs)"] = poly_matched
    budget = ctx.size(BUDGET, 0.01)
    counts = {name: calibrate(build, budget) for name, build in builders.items()}
    ctx.log(f"4. factory: calls per timed block {counts}")

    def timed(*names: str) -> dict[str, Callable[[], float]]:
        return {
            name: (lambda build=builders[name], n=counts[name]: time_loop(build, n))
            for name in names
        }

    # polyfactory takes ~0.2 s a build, so it gets fewer rounds than the floor pairing.
    against_floor = interleave(timed("ours", "floor"), ctx.size(41, 1))
    samples = interleave(timed(*(n for n in builders if n != "floor")), ctx.size(11, 1))
    mine = samples["ours"]
    for key, name in (("4a", "polyfactory (1,000 runs)"), ("4b", "polyfactory (700 runs)")):
        if name not in samples:
            missing = "(full mode only)" if poly is not None else "not installed"
            section.rows.append(Row(key, f"vs {name}", "", missing, ""))
            continue
        speedups = paired_ratios(samples[name], mine)
        section.rows.append(
            Row(
                key,
                f"{RUNS:,}-run batch, build + serialize: vs {name}",
                fmt_time(median(mine)),
                fmt_time(median(samples[name])),
                fmt_ratio(speedups, suffix="x faster"),
                ">= 3x faster",
                verdict(median(speedups) >= MIN_SPEEDUP),
            )
        )
    over = paired_ratios(against_floor["ours"], against_floor["floor"])
    section.rows.append(
        Row(
            "4c",
            f"{RUNS:,}-run batch, build + serialize: vs json.dumps floor ({size:,} B)",
            fmt_time(median(against_floor["ours"])),
            fmt_time(median(against_floor["floor"])),
            fmt_ratio(over),
            "<= 5x",
            verdict(median(over) <= MAX_OVER_FLOOR),
        )
    )
    section.details.append(
        f"- 4a, 4b: {len(mine)} rounds; 4c: {len(against_floor['ours'])} rounds; calls per "
        "timed block: " + ", ".join(f"{name} {n}" for name, n in counts.items())
    )
    return section


# (label, status, options): every status and failure share, with the default code (the
# failures collapse into one entry) and with one entry per failure.
CODES = {"QUEUE_SIZE_LIMIT_EXCEEDED": "queue limit (default)", "TRIGGER_ERROR": "TRIGGER_ERROR"}
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("COMPLETED", "COMPLETED", {}),
    *(
        (
            f"PARTIAL_FAILED {share}%, {name}",
            "PARTIAL_FAILED",
            {"failed_count": share * 10, "error_code": code},
        )
        for code, name in CODES.items()
        for share in (1, 30, 90)
    ),
    *((f"ABORTED, {name}", "ABORTED", {"error_code": code}) for code, name in CODES.items()),
]


def ratio_table(rounds: int = 15, budget: float = 0.02) -> list[tuple[str, float, float, float]]:
    """(case, build + serialize, json.dumps floor, median ratio) for every case in CASES."""
    factory = BatchFactory(seed=20260301)
    table = []
    for label, status, options in CASES:
        payload = factory(status, run_count=RUNS, **options).to_payload()

        def ours(status: str = status, options: dict[str, Any] = options) -> str:
            return _dumps(factory(status, run_count=RUNS, **options).to_payload())

        def floor(payload: dict[str, Any] = payload) -> str:
            return _dumps(payload)

        counts = {"ours": calibrate(ours, budget), "floor": calibrate(floor, budget)}
        samples = interleave(
            {
                name: (lambda f=f, n=counts[name]: time_loop(f, n))
                for name, f in (("ours", ours), ("floor", floor))
            },
            rounds,
        )
        table.append(
            (
                label,
                median(samples["ours"]),
                median(samples["floor"]),
                median(paired_ratios(samples["ours"], samples["floor"])),
            )
        )
    return table


if __name__ == "__main__":
    print(f"{'1,000-run batch':<42} {'build + dumps':>14} {'dumps alone':>12} {'ratio':>7}")
    for label, mine, bare, ratio in ratio_table():
        print(f"{label:<42} {fmt_time(mine):>14} {fmt_time(bare):>12} {ratio:>6.2f}x")
