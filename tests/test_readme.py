"""Every code example in the README runs, or is a verbatim quote of a file that runs."""

from __future__ import annotations

import re
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
