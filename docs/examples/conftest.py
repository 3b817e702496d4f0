"""The site's examples in the default run: hypothesis tests draw 10 examples.

The examples are written as a user writes them, with hypothesis's defaults (100
examples); here, where every example of the site runs in each default run, the property
tests draw fewer: the same code, a shorter run. This file is not an example.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "hypothesis", None) is None or HERE not in item.path.parents:
            continue
        # What @settings sets, and the @given wrapper reads when the test runs.
        chosen = getattr(test, "_hypothesis_internal_use_settings", settings.default)
        test._hypothesis_internal_use_settings = settings(chosen, max_examples=10)  # type: ignore[union-attr]
