"""Typed for its users: type checkers see the real public names, and only those.

`pytest_trigger_batches` loads its names lazily (a module `__getattr__`, for a cheap
plugin import); type checkers must not see that `__getattr__`, or a misspelled import
would be `Any` and pass. mypy --strict and pyright (strict) run on a user's file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each checker analyses the package: seconds

USER_CODE = """
from pytest_trigger_batches import BatchFactory, TriggerBatch, __version__

batch: TriggerBatch = BatchFactory(seed=1)("COMPLETED")
version: str = __version__
"""
TYPO = "from pytest_trigger_batches import BatchFactroy\n"


def mypy(path: Path) -> tuple[str, int]:
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(path.parent / ".mypy"), str(path)]
    )
    return out + err, status


def pyright(path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("pyright") is None:
        pytest.skip("pyright is not installed (it is in the test extra)")
    (path.parent / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}')
    return subprocess.run(
        ["pyright", "--pythonpath", sys.executable, str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=300,
        check=False,
    )


def test_mypy_strict_accepts_the_real_names_and_refuses_a_typo(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(USER_CODE)
    out, status = mypy(good)
    assert status == 0, out
    typo = tmp_path / "typo.py"
    typo.write_text(USER_CODE + TYPO)
    out, status = mypy(typo)
    assert status == 1, out
    assert 'Module "pytest_trigger_batches" has no attribute "BatchFactroy"' in out


def test_pyright_strict_accepts_the_real_names_and_refuses_a_typo(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(USER_CODE)
    done = pyright(good)
    assert done.returncode == 0, done.stdout
    typo = tmp_path / "typo.py"
    typo.write_text(USER_CODE + TYPO)
    done = pyright(typo)
    assert done.returncode == 1, done.stdout
    assert '"BatchFactroy" is unknown import symbol' in done.stdout
