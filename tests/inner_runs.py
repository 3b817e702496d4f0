"""What inner pytest runs (pytester) are given: tests/conftest.py and test_secrets.py."""

from __future__ import annotations

import importlib.util


def inner_addopts(*, rewrite: bool = False) -> str:
    """PYTEST_ADDOPTS for an inner run: lean, and free of pytest-asyncio's warning.

    An inner run loads every installed plugin, whatever this run disabled; `-o` for an
    option no plugin declares is refused under --strict-config, so only where it is.
    """
    # pytest-socket (compat) resets `socket.socket.connect` after each test, which would
    # undo the suite's network guard (conftest.py); tests/test_coexistence.py enables it.
    options = ["-p", "no:hypothesispytest", "-p", "no:socket"]
    if not rewrite:
        options.append("--assert=plain")
    if importlib.util.find_spec("pytest_asyncio") is not None:
        options += ["-o", "asyncio_default_fixture_loop_scope=function"]
    return " ".join(options)
