"""What the plugin costs its users, against what they would otherwise use.

`python benchmarks/run.py` measures every figure the README quotes and writes
docs/benchmarks.md; `--quick` runs tiny sizes (a smoke test: its figures mean nothing);
`python benchmarks/run.py factory` prints the factory table alone; `python benchmarks/run.py
install` measures the install cost alone and replaces its rows in the report. Each run also
draws the report's ratios into docs/benchmarks.svg (the site's plot); `python
benchmarks/run.py plot` draws it again from the report as it is. Figures are
printed, never asserted. One harness: variants timed in interleaved rounds (the order rotating),
CPU time of the work (`time.process_time`, or the children's `getrusage` for processes:
start-up and these loops never wait, so that is their wall time less other load),
medians, and ratios taken per round with their interquartile range.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata as metadata
import json
import os
import platform
import re
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from pytest_trigger_batches import BatchFactory, MockTriggerApi, TriggerApiServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "tr_dev_" + "B" * 24
BASE = "https://api.trigger.dev"
QUICK = False  # set by --quick
# Child processes read and write bytecode, as an installed package has it (pip compiles
# on install): without it every run would compile every module again.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# -- the harness ---------------------------------------------------------------------------


def sized(full: int, quick: int) -> int:
    return quick if QUICK else full


def per_call(fn: Callable[[], object], n: int) -> float:
    """CPU seconds per call over a block of n calls, the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        for _ in range(n):
            fn()
        return (time.process_time() - start) / n
    finally:
        gc.enable()


def calibrate(fn: Callable[[], object], budget: float) -> int:
    """How many calls make a block of about `budget` CPU seconds."""
    fn()
    return max(1, int(budget / max(per_call(fn, 3), 1e-7)))


def rounds(variants: dict[str, Callable[[], float]], count: int) -> dict[str, list[float]]:
    """Each variant once per round, the order rotating round by round."""
    names = list(variants)
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(count):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            out[name].append(variants[name]())
    return out


def timed_rounds(
    fns: dict[str, Callable[[], object]], count: int, budget: float = 0.04
) -> dict[str, list[float]]:
    blocks = {name: calibrate(fn, sized(budget, 0.005)) for name, fn in fns.items()}
    return rounds(
        {name: (lambda f=fn, n=blocks[name]: per_call(f, n)) for name, fn in fns.items()},
        sized(count, 2),
    )


def child_cpu(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) of one child process, interpreter start included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        command, cwd=cwd, env=env or CHILD_ENV, check=False, capture_output=True, timeout=300
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratios(ours: list[float], theirs: list[float]) -> list[float]:
    return [a / b for a, b in zip(ours, theirs, strict=True) if b > 0]


def iqr(values: list[float]) -> str:
    if len(values) < 4:
        return ""
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f" (IQR {q1:.2f}-{q3:.2f})"


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


@dataclass
class Row:
    key: str
    measure: str
    ours: str
    reference: str
    ratio: str


ROWS: list[Row] = []
DETAILS: list[str] = []


def row(key: str, measure: str, ours: list[float], theirs: list[float], note: str = "") -> None:
    per_round = ratios(ours, theirs)
    ratio = f"{median(per_round):.2f}x{iqr(per_round)}"
    ROWS.append(Row(key, measure, fmt(median(ours)), fmt(median(theirs)) + note, ratio))


# -- 1. start-up and install cost -----------------------------------------------------------


def bench_startup(tmp: Path) -> None:
    project = tmp / "startup"
    project.mkdir()
    for i in range(50):
        (project / f"test_{i}.py").write_text(f"def test_{i}():\n    pass\n")
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    child_cpu(collect, project)  # bytecode cached for both, as after pip install
    samples = rounds(
        {
            "on": lambda: child_cpu(collect, project),
            "off": lambda: child_cpu([*collect, "-p", "no:trigger_batches"], project),
        },
        sized(21, 2),
    )
    row(
        "1a",
        "start-up, `pytest --collect-only` of 50 tests, this environment: plugin vs "
        "`-p no:trigger_batches`",
        samples["on"],
        samples["off"],
    )

    # The plugin's own import, after pytest's: -X importtime, the plugin's modules' self times.
    code = "import pytest; import pytest_trigger_batches.plugin"
    own: list[float] = []
    for _ in range(sized(15, 2)):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            env=CHILD_ENV,
        ).stderr
        found = re.findall(r"import time:\s+(\d+) \|\s+\d+ \|\s+(pytest_trigger_batches\S*)", err)
        own.append(sum(int(us) for us, _ in found) * 1e-6)
    pytest_alone = [
        float(m) * 1e-6
        for m in re.findall(
            r"import time:\s+\d+ \|\s+(\d+) \| pytest$",
            subprocess.run(
                [sys.executable, "-X", "importtime", "-c", "import pytest"],
                capture_output=True,
                text=True,
                env=CHILD_ENV,
            ).stderr,
            re.M,
        )
    ]
    ROWS.append(
        Row(
            "1b",
            "the plugin's import after `import pytest` (-X importtime, self times)",
            fmt(median(own)),
            fmt(median(pytest_alone)) + " (import pytest)" if pytest_alone else "",
            f"{median(own) / median(pytest_alone):.1%} of it" if pytest_alone else "",
        )
    )
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pytest_trigger_batches.plugin, pytest_trigger_batches, sys; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'faker', 'respx', 'httpx', 'httpcore'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ROWS.append(
        Row("1c", "heavy modules the plugin imports (faker, respx, httpx)", heavy, "[]", "")
    )


def requirements_closure(names: tuple[str, ...]) -> list[str]:
    """`name==version` of `names` and all they require, as this environment has them."""
    from packaging.requirements import Requirement  # pytest's own dependency

    found: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        dist = metadata.distribution(name)
        key = dist.metadata["Name"].lower()
        if key in found:
            continue
        found[key] = dist.version
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(f"{name}=={version}" for name, version in found.items())


def bench_install(tmp: Path) -> None:
    """`pytest --collect-only` of 5 tests: the package installed, or pytest + httpx only."""
    uv = shutil.which("uv")
    if uv is None:
        ROWS.append(Row("1d", "install cost (needs uv: pip install uv)", "", "not installed", ""))
        return
    # The same versions in both (this environment's): what the package adds is what it
    # brings beyond pytest and httpx, which a project it serves already has.
    pins = requirements_closure(("pytest", "httpx"))
    envs = {"without": tmp / "env-without", "with": tmp / "env-with"}
    for name, env in envs.items():
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(env)], check=True)
        extra = [*requirements_closure(("respx",)), str(ROOT)] if name == "with" else []
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--compile-bytecode",
                "--python",
                str(env / "bin" / "python"),
                *pins,
                *extra,
            ],
            check=True,
        )
    project = tmp / "five-tests"
    project.mkdir()
    for i in range(5):
        (project / f"test_{i}.py").write_text(f"def test_{i}():\n    pass\n")
    collect = ["-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    runs = {name: [str(env / "bin" / "python"), *collect] for name, env in envs.items()}
    runs["with, -p no:respx"] = [*runs["with"], "-p", "no:respx"]
    for command in runs.values():
        child_cpu(command, project)  # bytecode compiled once, as pip install does
    # Bytecode looked for only under an empty directory, and never written: every run
    # compiles every module, as in an environment installed without it, read-only.
    uncached = {**CHILD_ENV, "PYTHONPYCACHEPREFIX": str(tmp / "no-bytecode")}
    uncached["PYTHONDONTWRITEBYTECODE"] = "1"
    variants = {name: (lambda c=command: child_cpu(c, project)) for name, command in runs.items()}
    for name in envs:
        variants[f"{name}, uncached"] = lambda c=runs[name]: child_cpu(c, project, uncached)
    samples = rounds(variants, sized(15, 2))
    measure = (
        "start-up, `pytest --collect-only` of 5 tests: the package installed vs pytest + httpx only"
    )
    row("1d", measure, samples["with"], samples["without"])
    row(
        "1e",
        measure + ", bytecode not cached",
        samples["with, uncached"],
        samples["without, uncached"],
    )
    row("1f", measure + ", with `-p no:respx`", samples["with, -p no:respx"], samples["without"])
    DETAILS.append(
        "- 1d-1f: two environments made by uv from the same interpreter, one with pytest "
        f"and httpx alone ({', '.join(pins)}), one with the package too (and respx, whose "
        "pytest plugin loads in every run); each run a fresh process, CPU time, "
        f"{len(samples['with'])} rounds; medians: "
        + ", ".join(f"{name} {fmt(median(values))}" for name, values in samples.items())
    )


# -- 2. one retrieval -------------------------------------------------------------------------


@contextmanager
def ours(batch: Any) -> Iterator[str]:
    api = MockTriggerApi(base_url=BASE, secret_key=KEY)
    api.add_batch(batch)
    api.rate_limit(limit=10**9, refill=10**9)  # still consulted, never empty
    with api:
        yield BASE


@contextmanager
def bare_respx(batch: Any) -> Iterator[str]:
    body = json.dumps(batch.to_payload(), separators=(",", ":")).encode()
    with respx.MockRouter(assert_all_called=False) as router:
        router.get(f"{BASE}/api/v1/batches/{batch.id}").respond(
            200, content=body, headers={"content-type": "application/json; charset=utf-8"}
        )
        yield BASE


@contextmanager
def server(batch: Any) -> Iterator[str]:
    with TriggerApiServer(secret_key=KEY) as api:
        api.add_batch(batch)
        api.rate_limit(limit=10**9, refill=10**9)
        yield api.base_url


def bench_retrieval() -> None:
    batch = BatchFactory(seed=1)("COMPLETED")
    headers = {"Authorization": f"Bearer {KEY}"}

    def variant(mock: Callable[[Any], Any], n: int) -> Callable[[], float]:
        def block() -> float:
            with httpx.Client() as client, mock(batch) as base:
                url = f"{base}/api/v1/batches/{batch.id}"
                assert client.get(url, headers=headers).json()["id"] == batch.id
                return per_call(lambda: client.get(url, headers=headers), n)

        return block

    n = sized(150, 10)
    samples = rounds(
        {
            "ours": variant(ours, n),
            "respx": variant(bare_respx, n),
            "server": variant(server, n // 3 or 1),
        },
        sized(40, 2),
    )
    row(
        "2a",
        "one GET, 10-run batch: mock_trigger_api vs bare respx",
        samples["ours"],
        samples["respx"],
    )
    row(
        "2b",
        "one GET, 10-run batch: trigger_api_server (HTTP on loopback) vs mock_trigger_api",
        samples["server"],
        samples["ours"],
        note=" (in-process)",
    )
    DETAILS.append(
        "- 2a, 2b: one reused `httpx.Client`, 10 warm-up GETs then a block of "
        f"{n} (the server {n // 3 or 1}: the client's CPU time only, not the server "
        "thread's, so 2b is the client's side of a real socket)"
    )


# -- 6, 7. whole workflows: a triggered batch polled to COMPLETED; a batch's runs listed -------


def bench_workflows() -> None:
    """The mock against the same flow answered by hand-written respx routes (static)."""
    tls = ssl.create_default_context()  # made once: a client's own would dwarf the flow
    headers = {"Authorization": f"Bearer {KEY}"}
    lines = "\n".join(
        json.dumps({"index": i, "task": "t", "payload": {"n": i}}) for i in range(100)
    ).encode()
    ndjson = {**headers, "content-type": "application/x-ndjson"}

    def trigger_flow(client: httpx.Client) -> None:
        made = client.post(f"{BASE}/api/v3/batches", json={"runCount": 100}, headers=headers)
        batch_id = made.json()["id"]
        client.post(f"{BASE}/api/v3/batches/{batch_id}/items", content=lines, headers=ndjson)
        url = f"{BASE}/api/v1/batches/{batch_id}"
        while client.get(url, headers=headers).json()["status"] != "COMPLETED":
            pass

    def ours_trigger() -> None:
        with MockTriggerApi(base_url=BASE, secret_key=KEY), httpx.Client(verify=tls) as client:
            trigger_flow(client)

    def static_trigger() -> None:
        batch_id = "batch_cmx0ugyuv00004a7d2bda9ln4"
        runs = [f"run_cmx0ugyuv{n:04d}4a7d2bda9ln4" for n in range(100)]
        base = {
            "id": batch_id,
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z",
            "runCount": 100,
        }
        counts = {"runs": runs, "successfulRunCount": 100, "failedRunCount": 0}
        states = [
            {**base, "status": "PROCESSING", "runs": []},
            {**base, "status": "PENDING", **counts},
            {**base, "status": "PENDING", **counts},
            {**base, "status": "COMPLETED", **counts},
        ]
        with (
            respx.MockRouter(assert_all_called=False) as router,
            httpx.Client(verify=tls) as client,
        ):
            router.post(f"{BASE}/api/v3/batches").respond(
                202, json={"id": batch_id, "runCount": 100, "isCached": False}
            )
            router.post(f"{BASE}/api/v3/batches/{batch_id}/items").respond(
                200,
                json={
                    "id": batch_id,
                    "itemsAccepted": 100,
                    "itemsDeduplicated": 0,
                    "sealed": True,
                    "runCount": 100,
                },
            )
            router.get(f"{BASE}/api/v1/batches/{batch_id}").mock(
                side_effect=[httpx.Response(200, json=state) for state in states]
            )
            trigger_flow(client)

    factory = BatchFactory(seed=1)
    batch = factory("COMPLETED", run_count=1000)
    batch_runs = factory.runs_of(batch, task_identifier="t")
    listing = f"{BASE}/api/v1/runs?page[size]=100&filter[batch]={batch.id}"

    def walk(client: httpx.Client) -> list[bytes]:
        pages, url = [], listing
        while True:
            answer = client.get(url, headers=headers)
            pages.append(answer.content)
            cursor = answer.json()["pagination"].get("next")
            if not cursor:
                return pages
            url = f"{listing}&page[after]={cursor}"

    api = MockTriggerApi(base_url=BASE, secret_key=KEY)
    api.add_batch(batch, runs=batch_runs)
    api.rate_limit(limit=10**9, refill=10**9)  # still consulted, never empty
    with api, httpx.Client(verify=tls) as client:
        pages = walk(client)
    assert sum(len(json.loads(page)["data"]) for page in pages) == 1000

    def ours_list() -> None:
        with api, httpx.Client(verify=tls) as client:
            walk(client)

    def static_list() -> None:
        with (
            respx.MockRouter(assert_all_called=False) as router,
            httpx.Client(verify=tls) as client,
        ):
            router.get(f"{BASE}/api/v1/runs").mock(
                side_effect=[
                    httpx.Response(200, content=page, headers={"content-type": "application/json"})
                    for page in pages
                ]
            )
            walk(client)

    samples = timed_rounds(
        {
            "ours_trigger": ours_trigger,
            "static_trigger": static_trigger,
            "ours_list": ours_list,
            "static_list": static_list,
        },
        sized(15, 2),
        budget=0.2,
    )
    row(
        "6",
        "trigger a 100-item streaming batch and poll it to COMPLETED: mock vs static respx routes",
        samples["ours_trigger"],
        samples["static_trigger"],
    )
    row(
        "7",
        "list a batch's 1,000 runs in pages of 100: mock vs static respx pages",
        samples["ours_list"],
        samples["static_list"],
    )
    walks = bench_walk(tls, headers)
    row(
        "8",
        f"walk every run in pages of 100: {walks.large:,} runs stored vs {walks.small:,}",
        walks.samples["large"],
        walks.samples["small"],
    )
    DETAILS.append(
        f"- 8: every run listed, `GET /api/v1/runs?page[size]=100` from the first page to the "
        f"last by `page[after]`, with {walks.large:,} runs registered (batches of "
        f"{walks.batch:,}) against {walks.small:,}; linear is {walks.large / walks.small:.0f}x"
    )
    DETAILS.append(
        "- 6: create, one NDJSON upload of 100 items, then GETs until COMPLETED (4), against "
        "respx routes answering the same four states; 7: ten pages walked by `page[after]`, "
        "against respx answering the mock's own ten pages as static bodies"
    )


@dataclass
class Walks:
    small: int
    large: int
    batch: int
    samples: dict[str, list[float]]


def bench_walk(tls: ssl.SSLContext, headers: dict[str, str]) -> Walks:
    """Walk every run of a mock holding `small` runs, and one holding ten times as many."""
    batch_size = sized(1000, 50)
    small, large = 2 * batch_size, 20 * batch_size
    listing = f"{BASE}/api/v1/runs?page[size]=100"

    def mock(count: int) -> MockTriggerApi:
        factory = BatchFactory(seed=8)
        api = MockTriggerApi(base_url=BASE, secret_key=KEY)
        for _ in range(count // batch_size):
            batch = factory("COMPLETED", run_count=batch_size)
            api.add_batch(batch, runs=factory.runs_of(batch))
        api.rate_limit(limit=10**9, refill=10**9)  # still consulted, never empty
        return api

    def walk(api: MockTriggerApi) -> int:
        seen, url = 0, listing
        with api, httpx.Client(verify=tls) as client:
            while True:
                body = client.get(url, headers=headers).json()
                seen += len(body["data"])
                cursor = body["pagination"].get("next")
                if not cursor:
                    return seen
                url = f"{listing}&page[after]={cursor}"

    apis = {"small": mock(small), "large": mock(large)}
    assert walk(apis["small"]) == small
    assert walk(apis["large"]) == large
    samples = rounds(
        {name: (lambda a=api: per_call(lambda: walk(a), 1)) for name, api in apis.items()},
        sized(7, 2),
    )
    return Walks(small, large, batch_size, samples)


# -- 3. per test ------------------------------------------------------------------------------

TIMING_PLUGIN = """
import json, os, time, pytest
TIMES = {}

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.process_time()
    try:
        return (yield)
    finally:
        TIMES[item.name] = time.process_time() - start

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_TIMES"], "w") as out:
        json.dump(TIMES, out)
"""

VARIANTS = {
    "ours_batch": "def test_ours_batch_{n}(mock_trigger_api, trigger_batch_factory):\n"
    "    mock_trigger_api.add_batch(trigger_batch_factory())\n",
    "respx_route": "@pytest.mark.respx(assert_all_called=False)\n"
    "def test_respx_route_{n}(respx_mock):\n"
    "    respx_mock.get(URL).respond(json=BODY)\n",
    "ours_bare": "def test_ours_bare_{n}(mock_trigger_api, trigger_batch_factory):\n    pass\n",
    "respx_bare": "def test_respx_bare_{n}(respx_mock):\n    pass\n",
    "empty": "def test_empty_{n}():\n    pass\n",
}


def bench_per_test(tmp: Path) -> None:
    project = tmp / "per-test"
    project.mkdir()
    body = BatchFactory(seed=2)("COMPLETED").to_payload()
    tests = [f"import pytest\nURL = '{BASE}/api/v1/batches/x'\nBODY = {body!r}\n"]
    names = list(VARIANTS)
    for n in range(sized(60, 5)):  # interleaved: A B C D E, then B C D E A, ...
        for name in names[n % 5 :] + names[: n % 5]:
            tests.append(VARIANTS[name].format(n=n))
    (project / "test_cost.py").write_text("\n\n".join(tests))
    (project / "timing_plugin.py").write_text(TIMING_PLUGIN)
    env = {**CHILD_ENV, "PYTHONPATH": str(project), "BENCH_TIMES": str(project / "t.json")}
    per_round: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(sized(7, 1)):
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "timing_plugin", "-p", "no:randomly"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
        times = json.loads((project / "t.json").read_text())
        for name in names:
            mine = [t for test, t in times.items() if test.startswith(f"test_{name}_")]
            per_round[name].append(median(mine[3:] or mine))
    net = {
        name: [t - e for t, e in zip(per_round[name], per_round["empty"], strict=True)]
        for name in names
    }
    row(
        "3a",
        "per test: fixtures + one batch vs respx_mock + one route",
        net["ours_batch"],
        net["respx_route"],
    )
    row("3b", "per test: fixtures alone vs respx_mock alone", net["ours_bare"], net["respx_bare"])
    DETAILS.append(
        f"- 3a, 3b: {len(net['empty'])} processes of {len(tests) - 1} tests, the variants "
        "interleaved test by test; a test's CPU time over its whole run protocol (set-up, "
        "call, tear-down, reports), median over its variant, net of an empty test's "
        f"({fmt(median(per_round['empty']))})"
    )


# -- 4. the factory -----------------------------------------------------------------------------

RUNS, FAILED = 1000, 300


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))  # as the mock writes bodies


def polyfactory_build() -> Callable[[], str] | None:
    """polyfactory building a pydantic model of the v1 body (1,000 runs, 300 errors)."""
    try:
        from polyfactory import Use
        from polyfactory.factories.pydantic_factory import ModelFactory
        from pydantic import BaseModel
    except ImportError:
        return None

    class ErrorModel(BaseModel):
        index: int
        taskIdentifier: str
        error: str
        errorCode: str | None

    class BatchModel(BaseModel):
        id: str
        status: str
        idempotencyKey: str | None
        createdAt: datetime
        updatedAt: datetime
        runCount: int
        runs: list[str]
        successfulRunCount: int
        failedRunCount: int
        errors: list[ErrorModel]

    class Errors(ModelFactory[ErrorModel]):
        __model__ = ErrorModel

    class Batches(ModelFactory[BatchModel]):
        __model__ = BatchModel
        __randomize_collection_length__ = True
        __min_collection_length__ = __max_collection_length__ = RUNS
        errors = Use(Errors.batch, size=FAILED)

    Batches.seed_random(1)
    return lambda: Batches.build().model_dump_json()


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("COMPLETED", "COMPLETED", {}),
    *(
        (f"PARTIAL_FAILED {share}%, {label}", "PARTIAL_FAILED", {"failed_count": share * 10, **o})
        for label, o in (
            ("queue limit (default)", {}),
            ("TRIGGER_ERROR", {"error_code": "TRIGGER_ERROR"}),
        )
        for share in (1, 30, 90)
    ),
    ("ABORTED, queue limit (default)", "ABORTED", {}),
    ("ABORTED, TRIGGER_ERROR", "ABORTED", {"error_code": "TRIGGER_ERROR"}),
]


def factory_table() -> list[tuple[str, float, float, float]]:
    """(case, build + serialize, json.dumps of the finished payload, the median of the
    rounds' ratios) for every case."""
    factory = BatchFactory(seed=3)
    table = []
    for label, status, options in CASES[: 2 if QUICK else None]:
        payload = factory(status, run_count=RUNS, **options).to_payload()
        samples = timed_rounds(
            {
                "ours": lambda s=status, o=options: dumps(
                    factory(s, run_count=RUNS, **o).to_payload()
                ),
                "floor": lambda p=payload: dumps(p),
            },
            21,
            budget=0.02,
        )
        ratio = median(ratios(samples["ours"], samples["floor"]))
        table.append((label, median(samples["ours"]), median(samples["floor"]), ratio))
    return table


def bench_factory() -> None:
    factory = BatchFactory(seed=4)
    options: dict[str, Any] = {"run_count": RUNS, "error_code": "TRIGGER_ERROR"}
    payload = factory("PARTIAL_FAILED", **options).to_payload()
    fns: dict[str, Callable[[], object]] = {
        "ours": lambda: dumps(factory("PARTIAL_FAILED", **options).to_payload()),
        "floor": lambda: dumps(payload),
    }
    samples = timed_rounds(fns, 31)
    measure = f"{RUNS:,}-run PARTIAL_FAILED batch (700 runs, 300 error entries), build + serialize"
    row(
        "4a",
        f"{measure}: vs json.dumps of the payload ({len(dumps(payload)):,} B)",
        samples["ours"],
        samples["floor"],
    )
    poly = polyfactory_build()
    if poly is None:
        ROWS.append(Row("4b", f"{measure}: vs polyfactory", "", "not installed", ""))
    else:
        against = timed_rounds({"ours": fns["ours"], "polyfactory": poly}, 7)
        speedup = ratios(against["polyfactory"], against["ours"])
        ROWS.append(
            Row(
                "4b",
                f"{measure}: vs polyfactory building the same schema (1,000 runs, 300 errors)",
                fmt(median(against["ours"])),
                fmt(median(against["polyfactory"])),
                f"{median(speedup):.0f}x faster{iqr(speedup)}",
            )
        )
    table = factory_table()
    DETAILS.append(
        "- 4c: every status and failure share, 1,000 items, build + serialize (medians; "
        "the ratio: the median of the rounds' ratios):"
    )
    DETAILS.append("\n| case | build + serialize | json.dumps alone | ratio |\n|---|---|---|---|")
    DETAILS.extend(f"| {c} | {fmt(a)} | {fmt(b)} | {r:.2f}x |" for c, a, b, r in table)
    ROWS.append(
        Row(
            "4c",
            "the same, every status and failure share (table below): the highest ratio",
            "",
            "",
            f"{max(r for *_, r in table):.2f}x",
        )
    )
    made = BatchFactory(seed=5)
    batch = made("COMPLETED", run_count=RUNS)
    samples = timed_rounds(
        {
            "runs_of": lambda: made.runs_of(batch),
            "batch": lambda: made("COMPLETED", run_count=RUNS),
        },
        31,
    )
    row(
        "5",
        f"`runs_of` a {RUNS:,}-run batch vs building the batch (COMPLETED)",
        samples["runs_of"],
        samples["batch"],
    )


# -- the report ---------------------------------------------------------------------------------


def versions() -> list[str]:
    names = (
        "pytest-trigger-batches",
        "pytest",
        "pluggy",
        "httpx",
        "respx",
        "Faker",
        "polyfactory",
        "pydantic",
    )
    found = []
    for name in names:
        try:
            found.append(f"- {name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"- {name} not installed")
    return found


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


LOAD_AT_START = _load()


def report(took: float) -> str:
    table = ["| # | Measure | Ours | Reference | Ratio |", "|---|---|---|---|---|"]
    table += [f"| {r.key} | {r.measure} | {r.ours} | {r.reference} | {r.ratio} |" for r in ROWS]
    load = _load()
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "What the plugin costs its users, each figure measured side by side with what they",
            "would otherwise use (pytest and httpx alone, bare respx, polyfactory, `json.dumps`),",
            "in interleaved rounds, as medians of CPU time; ratios are *ours / reference* per",
            "round (IQR over the rounds). Written by `python benchmarks/run.py`; figures are",
            "printed, never asserted. The machine may be shared: CPU time leaves out the time",
            "other processes take, interleaving spreads what load remains over every variant",
            "alike, and a ratio is taken within each round; the load average is given below.",
            "",
            f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, mode {'quick' if QUICK else 'full'}, "
            f"took {took:.0f} s, load average (1, 5, 15 min) {LOAD_AT_START} at the start, "
            f"{load} at the end",
            "",
            "## Results",
            "",
            *table,
            "",
            "## Details",
            "",
            *DETAILS,
            "",
            "## Machine",
            "",
            f"- {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"CPython {platform.python_version()}, {platform.platform()}",
            f"- load average (1, 5, 15 min): {LOAD_AT_START} at the start, {load} at the end",
            "",
            "## Versions",
            "",
            *versions(),
            "",
            "## Reproduce",
            "",
            "```console",
            "pip install -e . --group test --group bench",
            "python benchmarks/run.py          # writes docs/benchmarks.md",
            "python benchmarks/run.py factory  # the factory table alone",
            "python benchmarks/run.py install  # the install cost alone (its rows replaced)",
            "python benchmarks/run.py plot     # docs/benchmarks.svg again, from this table",
            "```",
            "",
        ]
    )


def patch_report(path: Path) -> None:
    """Replace the rows and details measured in this run in the report at `path`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fresh = {
        f"| {r.key} |": f"| {r.key} | {r.measure} | {r.ours} | {r.reference} | {r.ratio} |"
        for r in ROWS
    }
    fresh.update({detail.split(":")[0] + ":": detail for detail in DETAILS})
    patched = [
        next((new for old, new in fresh.items() if line.startswith(old)), line) for line in lines
    ]
    path.write_text("\n".join(patched) + "\n", encoding="utf-8")


# -- the plot -------------------------------------------------------------------------------

# The bars' labels: the measure of each row, said short.
SHORT = {
    "1a": "start-up, 50 tests: plugin on vs -p no:trigger_batches",
    "1d": "start-up, 5 tests: installed vs pytest + httpx alone",
    "1e": "the same, bytecode not cached",
    "1f": "the same, with -p no:respx",
    "3a": "per test: fixtures + a batch vs respx_mock + a route",
    "3b": "per test: fixtures alone vs respx_mock alone",
    "2a": "one GET: mock_trigger_api vs a bare respx route",
    "2b": "one GET: over HTTP vs in-process",
    "4a": "a 1,000-run batch vs json.dumps of its body",
    "4b": "a 1,000-run batch vs polyfactory",
    "4c": "every status and share: the highest vs json.dumps",
    "5": "runs_of a 1,000-run batch vs building the batch",
    "6": "trigger and poll a 100-item batch vs static routes",
    "7": "list 1,000 runs in pages vs static pages",
    "8": "walk all runs: 20,000 stored vs 2,000",
}
RATIO_RE = re.compile(
    r"^(?P<value>[\d.]+)x(?P<faster> faster)?(?: \(IQR (?P<q1>[\d.]+)-(?P<q3>[\d.]+)\))?$"
)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    ratio: float  # ours / reference: below 1, ours is the faster
    low: float | None
    high: float | None
    text: str  # the ratio as the table says it


def bars(report: str) -> list[Bar]:
    """The rows of the report's Results table that are a ratio, as bars to draw."""
    results = report.split("## Results", 1)[1].split("\n## ", 1)[0]
    found = []
    for line in results.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("#", "---"):
            continue
        key, measure, _, _, ratio = cells
        match = RATIO_RE.match(ratio)
        if match is None:
            continue
        value = float(match["value"])
        low, high = (float(match["q1"]), float(match["q3"])) if match["q1"] else (None, None)
        if match["faster"]:  # "289x faster": ours is 1/289 of the reference
            value = 1 / value
            low, high = (1 / high, 1 / low) if low and high else (None, None)
        label = SHORT.get(key, measure.replace("`", "")[:60])
        found.append(Bar(key, label, value, low, high, ratio.split(" (")[0]))
    return found


def svg(chart: list[Bar]) -> str:
    """A horizontal bar chart of the ratios on a log scale, 1x in the middle: plain SVG."""
    import math

    # Room for the longest label (about 7 pixels a character at 13 px), then the bars.
    left = 24 + 7 * max(len(f"{bar.key}  {bar.label}") for bar in chart)
    width, row_height, top = 420, 26, 46
    lowest = min(min(b.low or b.ratio, b.ratio) for b in chart)
    highest = max(max(b.high or b.ratio, b.ratio) for b in chart)
    first = min(-1, math.floor(math.log10(lowest)))  # decades shown, 1x always among them
    last = max(1, math.ceil(math.log10(highest)))

    def x(ratio: float) -> float:
        return left + width * (math.log10(ratio) - first) / (last - first)

    height = top + row_height * len(chart) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 90} {height}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="13">',
        "<title>What the plugin costs: ours / reference, per measure (log scale)</title>",
        f'<rect width="{left + width + 90}" height="{height}" fill="#ffffff"/>',
        f'<text x="{x(1.0):.1f}" y="18" text-anchor="middle" font-weight="600" '
        f'fill="#222">ours / reference (CPU time, median and IQR)</text>',
        f'<text x="{x(1.0) - 6:.1f}" y="36" text-anchor="end" fill="#2e7d32">'
        f"\u2190 ours faster</text>",
        f'<text x="{x(1.0) + 6:.1f}" y="36" fill="#c62828">ours slower \u2192</text>',
    ]
    for power in range(first, last + 1):
        tick = x(10.0**power)
        label = f"{10.0**power:g}x"
        out.append(
            f'<line x1="{tick:.1f}" y1="{top - 6}" x2="{tick:.1f}" '
            f'y2="{top + row_height * len(chart)}" stroke="{"#555" if power == 0 else "#ddd"}"/>'
        )
        out.append(
            f'<text x="{tick:.1f}" y="{top + row_height * len(chart) + 18}" '
            f'text-anchor="middle" fill="#555">{label}</text>'
        )
    for i, bar in enumerate(chart):
        y = top + i * row_height
        one, end = x(1.0), x(bar.ratio)
        colour = "#2e7d32" if bar.ratio < 1 else "#c62828"
        out.append(
            f'<text x="{left - 10}" y="{y + 16}" text-anchor="end" fill="#222">'
            f"{_escape(bar.key)}  {_escape(bar.label)}</text>"
        )
        out.append(
            f'<rect x="{min(one, end):.1f}" y="{y + 5}" width="{max(abs(end - one), 1):.1f}" '
            f'height="{row_height - 10}" fill="{colour}" fill-opacity="0.75"/>'
        )
        if bar.low is not None and bar.high is not None:
            mid = y + row_height / 2
            out.append(
                f'<line x1="{x(bar.low):.1f}" y1="{mid}" x2="{x(bar.high):.1f}" y2="{mid}" '
                f'stroke="#222" stroke-width="1.5"/>'
            )
        text_x = max(one, end, x(bar.high) if bar.high is not None else one) + 6
        out.append(f'<text x="{text_x:.1f}" y="{y + 16}" fill="#222">{_escape(bar.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plot(report: Path, output: Path) -> None:
    """Draw the ratios of the report at `report` into the SVG at `output`."""
    chart = bars(report.read_text(encoding="utf-8"))
    if not chart:
        raise SystemExit(f"{report}: no ratio in its Results table to plot")
    output.write_text(svg(chart), encoding="utf-8")
    print(f"plot of {len(chart)} ratios written to {output}")


def main() -> None:
    global QUICK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="?", choices=["factory", "install", "plot"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="the SVG of the ratios (default: benchmarks.svg next to the report)",
    )
    args = parser.parse_args()
    QUICK = args.quick
    chart = args.plot or args.output.with_suffix(".svg")
    if args.only == "plot":  # from the report as it is, measuring nothing
        plot(args.output, chart)
        return
    if args.only == "factory":
        print(f"{'1,000 items':<40} {'build + dumps':>14} {'dumps alone':>12} {'ratio':>7}")
        for case, mine, floor, ratio in factory_table():
            print(f"{case:<40} {fmt(mine):>14} {fmt(floor):>12} {ratio:>6.2f}x")
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.only == "install":
            bench_install(Path(tmp))
        else:
            for bench in (bench_startup, bench_install, bench_per_test):
                bench(Path(tmp))
            bench_retrieval()
            bench_factory()
            bench_workflows()
    print("# Measure Ours Reference Ratio")
    for r in ROWS:
        print(f"{r.key} {r.measure} | {r.ours} | {r.reference} | {r.ratio}")
    if args.only == "install":
        print(*DETAILS, sep="\n")
        patch_report(args.output)
        print(f"rows {', '.join(r.key for r in ROWS)} replaced in {args.output}")
        if "## Results" in args.output.read_text(encoding="utf-8"):  # a whole report: redraw
            plot(args.output, chart)
        return
    args.output.write_text(report(time.perf_counter() - started), encoding="utf-8")
    print(f"report written to {args.output}")
    plot(args.output, chart)


if __name__ == "__main__":
    main()
