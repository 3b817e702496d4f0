"""Where the time goes, for the paths the benchmarks time: `python benchmarks/profile_hotspots.py
retrieval|fixtures|factory [--top N]`. `run.py` calls it for each missed target.

Each profile runs the plugin's side of a benchmark under cProfile and lists the functions
with the largest cumulative time inside the plugin and respx, as a share of the run.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import pstats
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ORIGIN

FOCUS = ("pytest_trigger_batches", "respx/", "unittest/mock.py")


def _top(profile: cProfile.Profile, top: int, focus: tuple[str, ...] = FOCUS) -> list[str]:
    stats = pstats.Stats(profile, stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if any(part in filename for part in focus):
            short = re.sub(r".*/(site-packages|lib/python3\.\d+|src)/", "", filename)
            rows.append((cumulative, own, calls, f"{short}:{line}({name})"))
    rows.sort(reverse=True)
    return [
        f"{cumulative / total:6.1%} cumulative, {own / total:6.1%} own, {calls:>7} calls  {where}"
        for cumulative, own, calls, where in rows[:top]
    ]


def retrieval(top: int = 15) -> list[str]:
    """GETs through a started MockTriggerApi (the 2a benchmark's plugin side)."""
    import httpx

    from pytest_trigger_batches.factory import BatchFactory
    from pytest_trigger_batches.mock import MockTriggerApi

    batch = BatchFactory(seed=20260301)()
    key = "tr_dev_Bench0Key0Bench0Key0Ab12"
    url = f"{ORIGIN}/api/v1/batches/{batch.id}"
    headers = {"authorization": f"Bearer {key}"}
    with httpx.Client() as client, MockTriggerApi(base_url=ORIGIN, secret_key=key) as api:
        api.add_batch(batch)
        api.rate_limit(limit=10**9, refill=10**9)
        for _ in range(50):
            client.get(url, headers=headers)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(3000):
            client.get(url, headers=headers)
        profile.disable()
    return _top(profile, top, (*FOCUS, "httpx/_models.py"))


def factory(top: int = 15) -> list[str]:
    """Build + serialize 1,000-run PARTIAL_FAILED batches (the 4c benchmark's plugin side)."""
    from pytest_trigger_batches.factory import BatchFactory

    build = BatchFactory(seed=20260301)

    def once() -> str:
        payload = build("PARTIAL_FAILED", run_count=1000).to_payload()
        return json.dumps(payload, separators=(",", ":"))

    for _ in range(10):
        once()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(200):
        once()
    profile.disable()
    return _top(profile, top, ("pytest_trigger_batches", "json/", "random.py"))


def fixtures(top: int = 15) -> list[str]:
    """pytest in-process on 500 tests asking for mock_trigger_api + trigger_batch_factory."""
    import pytest

    with tempfile.TemporaryDirectory() as scratch:
        suite = Path(scratch)
        (suite / "pytest.ini").write_text(f"[pytest]\ntrigger_api_url = {ORIGIN}\n", "utf-8")
        tests = "".join(
            f"def test_{i}(mock_trigger_api, trigger_batch_factory):\n"
            "    mock_trigger_api.add_batch(trigger_batch_factory())\n\n"
            for i in range(500)
        )
        (suite / "test_fixtures.py").write_text(tests, encoding="utf-8")
        args = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", str(suite)]
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main(args)  # imports, faker pools, assertion rewriting: not profiled
            profile = cProfile.Profile()
            profile.enable()
            pytest.main(args)
            profile.disable()
    return _top(profile, top)


PROFILES: dict[str, Callable[[int], list[str]]] = {
    "retrieval": retrieval,
    "fixtures": fixtures,
    "factory": factory,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", choices=sorted(PROFILES))
    parser.add_argument("--top", type=int, default=20)
    options = parser.parse_args()
    lines = PROFILES[options.path](options.top)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
