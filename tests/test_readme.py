"""The README, the package index's page: its example runs, and its links lead to the site.

The README is the landing page; the documentation is the site (mkdocs.yml, docs/), whose
examples are tests of their own (tests/test_docs.py). A python block of the README is
either quoted from a file the default run collects, verbatim, or run here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SITE_URL = "https://pytest-trigger-batches.github.io/pytest-trigger-batches/"
BLOCK_RE = re.compile(
    r"(?:<!-- quoted from (?P<source>\S+) -->\n)?```python\n(?P<code>.*?)```", re.S
)
BLOCKS = [(m.group("source"), m.group("code")) for m in BLOCK_RE.finditer(README)]


def test_the_readme_is_a_landing_page_with_an_example() -> None:
    assert len(README.splitlines()) <= 300
    assert BLOCKS


@pytest.mark.parametrize(("source", "code"), BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_python_block_of_the_readme_runs(
    pytester: pytest.Pytester, source: str | None, code: str
) -> None:
    if source is not None:
        text = (ROOT / source).read_text(encoding="utf-8")
        assert code in text, f"the README quotes {source}, but the file no longer has that code"
        collected = ("tests/", "docs/examples/")  # the default run's testpaths
        assert source.startswith(collected), f"{source} is not run by the default run"
        return
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest("-p", "no:randomly", "--strict-markers")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    assert set(outcomes) <= {"passed", "seconds"}, result.stdout.str()


def test_the_readme_links_lead_to_pages_of_the_site() -> None:
    links = re.findall(re.escape(SITE_URL) + r"([\w/-]*)", README)
    assert len(links) >= 15
    for link in links:
        page = link.rstrip("/") or "index"
        found = [ROOT / "docs" / f"{page}.md", ROOT / "docs" / page / "index.md"]
        assert any(p.is_file() for p in found), f"{SITE_URL}{link}: no such page on the site"
