"""The benchmark command runs end to end (`--quick`: tiny sizes) and prints its table.

Only that it works is checked here: benchmarks print figures, they never assert on speed.
CI installs the `bench` extra (polyfactory, pydantic, uv), so no row reads "not installed".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the whole benchmark command: `pytest -m slow`

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
ROWS = (
    *("1a", "1b", "1c", "1d", "1e", "1f", "3a", "3b", "2a", "2b"),
    *("4a", "4b", "4c", "5", "6", "7", "8"),
)


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    output = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return result, output


def test_the_quick_run_exits_0_and_prints_every_row(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, _ = quick_run
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "Measure", "Ours"]
    assert "not installed" not in result.stdout, "the bench extra (and uv) are installed"
    keys = [line.split()[0] for line in lines[1:] if line.strip() and " | " in line]
    assert tuple(keys) == ROWS
    assert "ERROR" not in result.stdout


def test_the_report_goes_to_the_output_path_with_machine_and_versions(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, output = quick_run
    assert f"report written to {output}" in result.stdout
    report = output.read_text(encoding="utf-8")
    for heading in ("## Results", "## Details", "## Machine", "## Versions"):
        assert heading in report
    for name in ("pytest", "httpx", "respx", "Faker", "polyfactory", "pydantic"):
        assert f"- {name} " in report
    assert all(f"| {key} |" in report for key in ROWS)


def test_install_alone_replaces_its_own_rows_and_details_and_nothing_else(
    tmp_path: Path,
) -> None:
    output = tmp_path / "benchmarks.md"
    kept = ["# Benchmarks", "| 1a | kept | 1 | 1 | 1x |", "| 3a | kept | 1 | 1 | 1x |"]
    old = ["| 1d | old | 1 | 1 | 1x |", "| 1e | old | 1 | 1 | 1x |", "| 1f | old | 1 | 1 | 1x |"]
    output.write_text("\n".join([*kept, *old, "- 1d-1f: old", "- 2a, 2b: kept"]) + "\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, str(RUN), "install", "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == kept
    assert lines[-1] == "- 2a, 2b: kept"
    for line, key in zip(lines[3:6], ("1d", "1e", "1f"), strict=True):
        assert line.startswith(f"| {key} | start-up, `pytest --collect-only` of 5 tests")
        assert "pytest + httpx only" in line
    assert lines[6].startswith("- 1d-1f: two environments")
