"""Shared helpers for the core tests."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from inner_runs import inner_addopts

SPEC = Path(__file__).parent / "data" / "retrieve_batch_openapi.yaml"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # pyproject.toml sets pytest-asyncio's loop scope (the plugin warns when it is unset);
    # where the plugin is not installed or is disabled (-p no:asyncio), the option is
    # declared here so that --strict-config does not refuse it as unknown.
    if not pluginmanager.has_plugin("asyncio"):
        parser.addini(
            "asyncio_default_fixture_loop_scope",
            "pytest-asyncio's loop scope for async fixtures (unused without the plugin)",
        )


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema `type: [T, "null"]`, recursively."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        converted["type"] = [node["type"], "null"]
    return converted


@pytest.fixture(scope="session")
def documented_schema() -> dict[str, Any]:
    """The published 200-response schema of GET /api/v1/batches/{batchId}, as JSON Schema."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    operation = spec["paths"]["/api/v1/batches/{batchId}"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return _json_schema(schema)


# -- network guard (tests/test_network.py) -----------------------------------------------
# No test may reach a real Trigger.dev, or any other host: every connection that is not
# to loopback fails at once. test_network.py proves the guard works and that the mock
# tests pass under it.

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(host: object, port: object) -> OSError:
    return ConnectionRefusedError(
        f"network guard: tests never connect to {host}:{port} (only loopback is allowed)"
    )


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        raise _refuse(host, port)
    return _real_getaddrinfo(host, port, *args, **kwargs)


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise _refuse(address[0], address[1])
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise _refuse(address[0], address[1])
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _network_guard() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
        patch.setattr(socket.socket, "connect", _guarded_connect)
        patch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
        yield


# -- inner pytest runs ------------------------------------------------------------------
# pytester restores sys.modules after each in-process run, so every inner run imports
# again what it uses: hypothesis through its pytest plugin (about a second), and, where
# bytecode is not written (PYTHONDONTWRITEBYTECODE), every module of every pytest11
# distribution (faker's hundreds among them) re-parsed for assertion rewriting. Inner
# runs need neither: they check the plugin's own messages, not pytest's introspection.
# Where pytest-asyncio is installed, an inner run sets its loop scope as this project's
# ini does (a suite that leaves it unset gets the plugin's deprecation warning).


@pytest.fixture(autouse=True)
def _lean_inner_runs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS when it starts
        monkeypatch.setenv("PYTEST_ADDOPTS", inner_addopts())


# -- one matrix over both transports (tests/wire.py) -------------------------------------


@pytest.fixture(params=["respx-sync", "respx-async", "server"])
def wire(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The API served over each transport in turn, with a fixed key."""
    from wire import wire as serve

    with serve(request.param) as served:
        yield served


# -- stray connections fail the run (tests/test_network.py) --------------------------------
# The guard above makes a stray connection raise in the test that made it; code under
# test may catch that and carry on. This layer records every refusal, and the run fails
# at its end if any test left one behind. A test that is refused on purpose takes its
# refusals with the `refused_connections` fixture.

STRAY_CONNECTIONS: list[str] = []


def _recording(guarded: Any) -> Any:
    def record(*args: Any, **kwargs: Any) -> Any:
        try:
            return guarded(*args, **kwargs)
        except ConnectionRefusedError as refused:
            if str(refused).startswith("network guard:"):
                STRAY_CONNECTIONS.append(str(refused))
            raise

    return record


@pytest.fixture(autouse=True, scope="session")
def _network_record(_network_guard: None) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _recording(socket.getaddrinfo))
        patch.setattr(socket.socket, "connect", _recording(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex", _recording(socket.socket.connect_ex))
        yield


@pytest.fixture
def refused_connections() -> Any:
    """Takes this test's refusals so far, which it expects: they do not fail the run."""
    before = len(STRAY_CONNECTIONS)

    def take() -> list[str]:
        taken = STRAY_CONNECTIONS[before:]
        del STRAY_CONNECTIONS[before:]
        return taken

    return take


def pytest_sessionfinish(session: pytest.Session) -> None:
    if STRAY_CONNECTIONS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "stray connections refused by the network guard", red=True)
            for refusal in STRAY_CONNECTIONS:
                reporter.write_line(refusal)


# -- one TLS context for the whole run ---------------------------------------------------
# Every httpx client builds a TLS context (certifi's bundle, about 30 ms) although no test
# ever speaks TLS: the mock answers in process and the server is plain HTTP on loopback.
# The default context is built once and shared; any other configuration is built as usual.


@pytest.fixture(autouse=True, scope="session")
def _one_tls_context() -> Iterator[None]:
    import httpx._transports.default as transports

    original = getattr(transports, "create_ssl_context", None)
    if original is None:  # another httpx layout: leave it alone
        yield
        return
    shared: list[Any] = []

    def create(*args: Any, **kwargs: Any) -> Any:
        if args or any(kwargs.get(name, default) != default for name, default in _DEFAULTS):
            return original(*args, **kwargs)
        if not shared:
            shared.append(original())
        return shared[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transports, "create_ssl_context", create)
        yield


_DEFAULTS = (("verify", True), ("cert", None), ("trust_env", True), ("http2", False))
