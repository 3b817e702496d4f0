"""No test ever reaches a real Trigger.dev, or any other host: only loopback is allowed.

`tests/conftest.py` cuts the network for the whole suite (name resolution, `connect`
and `connect_ex`): a stray connection raises in the test that made it, and, should the
code under test swallow that error, the refusal is recorded and fails the run at its
end. The tests below show the guard refuses, lets loopback through, and that a
swallowed stray connection still fails a run that carries the guard.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

CONFTEST = Path(__file__).with_name("conftest.py")
INNER_RUNS = Path(__file__).with_name("inner_runs.py")  # conftest.py imports it


def test_the_suite_wide_guard_refuses_other_hosts(
    refused_connections: Callable[[], list[str]],
) -> None:
    with pytest.raises(httpx.ConnectError, match="network guard: tests never connect to"):
        httpx.get("https://api.trigger.dev/api/v1/batches/batch_cmx0ugyuv00004a7d2bda9ln4")
    with pytest.raises(ConnectionRefusedError, match=r"198\.51\.100\.1:443"):
        socket.create_connection(("198.51.100.1", 443), timeout=1)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match=r"192\.0\.2\.1:80"):
        sock.connect_ex(("192.0.2.1", 80))
    taken = refused_connections()
    assert [refusal.split(" ")[6] for refusal in taken] == [
        "api.trigger.dev:443",
        "198.51.100.1:443",
        "192.0.2.1:80",
    ]


def test_the_mock_answers_with_the_network_cut(
    mock_trigger_api: object, trigger_batch_factory: Callable[..., object]
) -> None:
    from pytest_trigger_batches import MockTriggerApi, TriggerBatch

    assert isinstance(mock_trigger_api, MockTriggerApi)
    batch = trigger_batch_factory("PARTIAL_FAILED")
    assert isinstance(batch, TriggerBatch)
    mock_trigger_api.add_batch(batch)
    answer = httpx.get(
        f"{mock_trigger_api.base_url}/api/v1/batches/{batch.id}",
        headers={"Authorization": f"Bearer {mock_trigger_api.secret_key}"},
    )
    assert answer.json() == batch.to_payload()


def test_the_suite_wide_guard_lets_loopback_through() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1) as client:
            accepted, _ = server.accept()
            with accepted:
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"


SWALLOWED = """
import httpx

def test_careless_code():
    try:
        httpx.get("https://hooks.example.com/notify")
    except httpx.HTTPError:
        pass  # the application swallows it: the test alone would pass

def test_unrelated():
    pass
"""


def test_a_swallowed_stray_connection_still_fails_the_run(pytester: pytest.Pytester) -> None:
    """The suite's own guard in an inner run (in a subprocess: its own socket module)."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(inner_runs=INNER_RUNS.read_text(encoding="utf-8"))
    pytester.makepyfile(test_swallowed=SWALLOWED)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= stray connections refused by the network guard =*",
            "network guard: tests never connect to hooks.example.com:443 (only loopback*",
        ]
    )
