"""No test ever reaches a real Trigger.dev: the mock tests pass with the network cut.

A pytest plugin that refuses every connection except to loopback (name resolution,
`connect` and `connect_ex`) runs the project's own mock tests in a fresh process:
they pass, and the guard counts the connections it refused (none) and the loopback
ones it let through (the HTTP server's). A canary request to a host nobody mocked is
refused, so the guard is known to work. `tests/conftest.py` installs the same guard
for the whole suite.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent

GUARD_PLUGIN = '''
"""Refuse every connection that is not to loopback; count what was refused and allowed."""
import ipaddress, json, os, socket

REFUSED, ALLOWED = [], []
_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _loopback(host):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(host, port):
    if not _loopback(host):
        REFUSED.append(f"{host}:{port}")
        raise ConnectionRefusedError(f"network guard: refused {host}:{port}")


def getaddrinfo(host, port, *args, **kwargs):
    if host is not None:
        _check(host, port)
    return _getaddrinfo(host, port, *args, **kwargs)


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(*address[:2])
        ALLOWED.append(f"{address[0]}:{address[1]}")
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(*address[:2])
        ALLOWED.append(f"{address[0]}:{address[1]}")
    return _connect_ex(self, address)


# Installed on import (-p loads this before any conftest), so a conftest's own guard
# wraps this one and every connection still passes through here.
socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex


def pytest_unconfigure(config):
    with open(os.environ["NETWORK_REPORT"], "w") as report:
        json.dump({"refused": REFUSED, "allowed": ALLOWED}, report)
'''

CANARY = """
import httpx, pytest

def test_an_unmocked_host_is_refused():
    with pytest.raises(httpx.ConnectError, match="network guard: refused api.trigger.dev:443"):
        httpx.get("https://api.trigger.dev/api/v1/batches/batch_cmx0ugyuv00004a7d2bda9ln4")

def test_an_ip_address_is_refused():
    with pytest.raises(httpx.ConnectError, match="network guard: refused 203.0.113.7:80"):
        httpx.get("http://203.0.113.7/")

def test_passing_through_the_mock_is_refused(mock_trigger_api):
    with pytest.raises(httpx.ConnectError, match="network guard: refused hooks.example.com"):
        httpx.get("https://hooks.example.com/notify")
    assert mock_trigger_api.calls == []
"""

# The project's own tests of the mock and the server (the server's on loopback).
PROJECT_TESTS = [
    "tests/test_mock.py",
    "tests/test_assertions.py",
    "tests/test_concurrency.py::test_500_threaded_retrievals_through_the_http_server",
    "tests/test_concurrency.py::test_threaded_faults_through_the_http_server",
]


def test_the_mock_tests_pass_with_only_loopback_allowed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(network_guard=GUARD_PLUGIN, test_canary=CANARY)
    report = pytester.path / "report.json"
    monkeypatch.setenv("NETWORK_REPORT", str(report))
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    monkeypatch.delenv("TRIGGER_API_URL", raising=False)
    result = pytester.runpytest_subprocess(
        "-p",
        "network_guard",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:hypothesispytest",
        "--rootdir",
        str(ROOT),
        # timing-sensitive (a 0.2 s bucket): flaky on a loaded machine, and not about sockets
        "--deselect",
        "tests/test_mock.py::test_a_counting_rate_limit_catches_a_client_that_ignores_reset",
        "-q",
        str(pytester.path / "test_canary.py"),
        *(str(ROOT / test) for test in PROJECT_TESTS),
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes["passed"] >= 100
    seen = json.loads(report.read_text())
    canaries = [
        "api.trigger.dev:443",
        "203.0.113.7:80",
        "hooks.example.com:443",
    ]
    assert seen["refused"] == canaries, "a project test tried to reach the network"
    assert len(seen["allowed"]) >= 100, "the server tests connected through the guard"
    assert all(address.startswith("127.0.0.1:") for address in seen["allowed"])
    print(
        f"\n{outcomes['passed']} tests, {len(seen['allowed'])} loopback connections, "
        f"{len(seen['refused']) - len(canaries)} refused outside the canaries"
    )


def test_the_suite_wide_guard_refuses_other_hosts() -> None:
    """tests/conftest.py's guard is active here: a stray request fails at once."""
    with pytest.raises(httpx.ConnectError, match="network guard: tests never connect to"):
        httpx.get("https://api.trigger.dev/api/v1/batches/batch_cmx0ugyuv00004a7d2bda9ln4")
    with pytest.raises(ConnectionRefusedError, match=r"198\.51\.100\.1:443"):
        socket.create_connection(("198.51.100.1", 443), timeout=1)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match=r"192\.0\.2\.1:80"):
        sock.connect_ex(("192.0.2.1", 80))


def test_the_suite_wide_guard_lets_loopback_through() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1) as client:
            accepted, _ = server.accept()
            with accepted:
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
