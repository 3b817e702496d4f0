"""The package as the index shows it: its public names and version, README, licence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest_trigger_batches as package

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/pytest-trigger-batches/pytest-trigger-batches"


def test_the_package_exports_its_public_types_and_version() -> None:
    for name in ("TriggerApi", "BatchHandle", "RecordedCall", "FaultKind", "BatchStatus"):
        assert name in package.__all__
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    assert dir(package) == sorted(package.__all__)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", package.__version__), package.__version__


def _prose(markdown: str) -> str:
    """The README without code: fenced blocks and inline code are not links."""
    without_blocks = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", without_blocks)


def test_the_readme_links_work_on_the_package_index() -> None:
    # The index shows README.md away from the repository: a relative link breaks there.
    readme = _prose((ROOT / "README.md").read_text(encoding="utf-8"))
    inline = re.findall(r"\]\(([^)\s]+)\)", readme)
    definitions = dict(re.findall(r"^\[([^\]]+)\]:\s*(\S+)", readme, flags=re.M))
    used = set(re.findall(r"\]\[([^\]]+)\]", readme))
    assert inline
    assert definitions
    relative = [t for t in [*inline, *definitions.values()] if not t.startswith(("https://", "#"))]
    assert relative == [], f"relative links: {relative}"
    assert used <= set(definitions), f"undefined references: {sorted(used - set(definitions))}"
    to_repository = [t for t in definitions.values() if t.startswith(REPOSITORY)]
    assert all(
        t.startswith((f"{REPOSITORY}/blob/main/", f"{REPOSITORY}/tree/main/"))
        for t in to_repository
    ), to_repository
    for target in to_repository:
        path = target.split("/main/", 1)[1]
        assert (ROOT / path).exists(), f"{target}: no {path} in the repository"


def test_the_licence_is_the_whole_mit_text() -> None:
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    assert text.startswith("MIT License Copyright (c) ")
    assert "IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM" in text
    assert text.endswith(
        "OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."
    )
