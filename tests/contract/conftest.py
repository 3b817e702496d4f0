"""The context every bad-input case works on."""

from __future__ import annotations

import pytest

from contract.cases import Ctx, make_ctx


@pytest.fixture
def ctx() -> Ctx:
    return make_ctx()
