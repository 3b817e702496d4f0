"""Shared machinery for the benchmarks: interleaved timing, statistics, subprocesses, report.

Every comparison runs its variants in the same process run, interleaved round by round
(A B C, then B C A, ...), so drift on a noisy machine hits both sides alike; ratios are
taken per round (A and B measured moments apart) and the median of those is reported.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.metadata
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ORIGIN = "http://127.0.0.1:1"
"""The origin every mock stands in for: should a request ever escape the mocks, it can only
reach this machine's port 1 (and be refused), never the network."""
REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# Packages whose versions the report lists (distribution names).
VERSIONS = (
    "pytest-trigger-batches",
    "pytest",
    "httpx",
    "httpcore",
    "respx",
    "Faker",
    "pytest-httpx",
    "polyfactory",
    "pydantic",
    "pytest-xdist",
    "pytest-randomly",
)


class BenchmarkError(RuntimeError):
    """A benchmark could not produce a figure (a generated suite failed, a mock misanswered)."""


# -- the report --------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    key: str
    measure: str
    ours: str
    reference: str
    ratio: str
    target: str = ""
    result: str = "info"
    """"met", "MISSED", "ok", "LEAK" or "info"."""


@dataclass
class Section:
    """The rows and notes one benchmark module produces."""

    number: int
    title: str
    method: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """Markdown lines for docs/benchmarks.md (spreads, breakdowns, checks)."""


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- statistics -------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def paired_ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """a[i] / b[i] for each round i: each pair was measured in the same round."""
    return [x / y for x, y in zip(a, b, strict=True)]


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant-ish digits."""
    us = seconds * 1e6
    if abs(us) < 1000:
        return f"{us:.1f} us" if abs(us) < 100 else f"{us:.0f} us"
    ms = us / 1000
    if abs(ms) < 1000:
        return f"{ms:.2f} ms" if abs(ms) < 100 else f"{ms:.0f} ms"
    return f"{ms / 1000:.2f} s"


def fmt_ratio(ratios: Sequence[float], *, suffix: str = "x") -> str:
    """Median ratio with its interquartile range over the rounds."""
    q1, q3 = quartiles(ratios)
    return f"{median(ratios):.2f}{suffix} (IQR {q1:.2f}-{q3:.2f})"


# -- timing -----------------------------------------------------------------------


def interleave(variants: Mapping[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Call every variant once per round, rotating the order; return each one's samples."""
    names = list(variants)
    samples: dict[str, list[T]] = {name: [] for name in names}
    for number in range(rounds):
        shift = number % len(names)
        order = names[shift:] + names[:shift]
        if number % 2:
            order.reverse()
        for name in order:
            samples[name].append(variants[name]())
    return samples


def time_loop(operation: Callable[[], object], iterations: int) -> float:
    """CPU seconds per call of `operation`, garbage collector paused (as `timeit` does).

    The work timed here is single-threaded and never waits, so its CPU time is its wall
    time minus the moments other processes on a shared machine held the CPU.
    """
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.process_time()
        for _ in range(iterations):
            operation()
        elapsed = time.process_time() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / iterations


def calibrate(operation: Callable[[], object], budget: float) -> int:
    """How many calls of `operation` fill about `budget` seconds (at least 1)."""
    operation()  # warm caches and lazy imports
    one = time_loop(operation, 1)
    if one < budget / 10:
        one = time_loop(operation, 5)
    return max(1, round(budget / one))


# -- subprocesses -----------------------------------------------------------------


@dataclass
class Context:
    """What every benchmark gets: mode, scratch space, the subprocess environment."""

    quick: bool
    scratch: Path
    pycache: Path
    log: Callable[[str], None]

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def env(self, **extra: str) -> dict[str, str]:
        """The environment generated suites run in.

        Bytecode is cached (in a private PYTHONPYCACHEPREFIX, so nothing is written next
        to the sources) as it is for any installed package; variables that would change
        what pytest loads (PYTEST_*) are removed; the hash seed is fixed to steady dict timings.
        """
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("PYTEST_")  # PYTEST_ADDOPTS, an outer xdist worker's, ...
            and name not in ("PYTHONDONTWRITEBYTECODE", "TRIGGER_API_URL")
        }
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        env["PYTHONHASHSEED"] = "0"
        env.update(extra)
        return env

    def directory(self, name: str, *, ini: str = "") -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        (path / "pytest.ini").write_text(f"[pytest]\n{ini}", encoding="utf-8")
        return path


@dataclass(frozen=True)
class Timing:
    """How long a command took: wall clock, and CPU (user + system, its children included)."""

    wall: float
    cpu: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_command(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 600,
    expect: str | None = None,
) -> tuple[Timing, subprocess.CompletedProcess[str]]:
    """Timing and result of a command; raise unless it exits 0 (and prints `expect`)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(
        list(args),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    timing = Timing(time.perf_counter() - start, _children_cpu() - cpu)
    if result.returncode != 0 or (expect is not None and expect not in result.stdout):
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise BenchmarkError(
            f"command failed (exit {result.returncode}) in {cwd}: {' '.join(args)}\n{tail}"
        )
    return timing, result


def pytest_command(*args: str) -> list[str]:
    return [PYTHON, "-m", "pytest", *args]


# -- the machine ------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))} ({platform.platform()})"
    except OSError:
        pass
    return platform.platform()


def machine() -> dict[str, str]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "CPU": cpu_model(),
        "Cores": f"{os.cpu_count()} (usable by this process: {usable})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": os_name(),
        "Load average at start (1, 5, 15 min)": load,
    }


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def source_fingerprint() -> str:
    """A short hash of the package's sources, to tell which code a run measured."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "src" / "pytest_trigger_batches").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def default_pycache() -> Path:
    """A bytecode cache that outlives the run, so the next run starts warm."""
    user = os.getuid() if hasattr(os, "getuid") else "user"
    tag = sys.implementation.cache_tag
    return Path(tempfile.gettempdir()) / f"pytest-trigger-batches-bench-pycache-{user}-{tag}"
