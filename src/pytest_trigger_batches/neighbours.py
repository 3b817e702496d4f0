"""Other plugins that would break a fixture in a way a user cannot read: said at set-up.

The fixtures call `check()` when they start. Each check costs a membership test or a
`sys.modules` lookup unless the other plugin is installed, and imports nothing of it
that is not loaded already:

- pytest-socket (`--disable-socket`, `--allow-hosts`) and pytest-recording's
  `--block-network` refuse the connections `trigger_api_server` lives on;
- pytest-httpx's `httpx_mock` answers every httpx request before this plugin sees it;
- a vcr cassette (vcrpy, pytest-recording) answers httpx requests before the mock, and
  records the fake key and ids that change with the seed;
- a snapshot (syrupy's `snapshot` fixture) of anything the plugin builds changes with
  the seed unless the seed is pinned.

`redact_request` is for vcr's `before_record_request`: the keys the plugin knows never
reach a cassette.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

__all__ = ["check", "redact_request"]

_PROBE_PATH = "/api/v1/batches/batch_cmx0ugyuv00004a7d2bda9ln4"
_LOOPBACK = "127.0.0.1"


def check(
    request: pytest.FixtureRequest,
    fixture: str,
    *,
    base_url: str | None = None,
    seed_pinned: bool = False,
) -> None:
    """Fail the test, saying what to do, if a neighbouring plugin would break `fixture`.

    `base_url`: the origin the fixture answers (mock and server); `seed_pinned`: the
    factory's seed is fixed whatever the run's (the `trigger_seed` fixture overridden).
    """
    names = request.fixturenames
    if fixture == "trigger_api_server":
        _check_sockets()
    if base_url is not None:
        if "httpx_mock" in names:
            _check_httpx_mock(request, fixture, base_url)
        if "vcr" in sys.modules:  # no cassette can be in use before vcrpy is imported
            _check_cassettes(request, fixture, base_url)
    if "snapshot" in names:
        _check_snapshot(request, fixture, seed_pinned)


def redact_request(request: Any) -> Any:
    """vcr's `before_record_request`: the request with every secret key redacted.

    Every key the plugin knows (its fake keys, `TRIGGER_SECRET_KEY`, keys seen in
    requests) and every public access token, in the headers, the URL and the body, is
    recorded as `tr_dev_****1a2b` (the form failure messages use). With
    pytest-recording, return it from the `vcr_config` fixture:
    `{"before_record_request": redact_request}`; with vcrpy,
    `vcr.VCR(before_record_request=redact_request)`.
    """
    from pytest_trigger_batches.redact import redact

    for name, value in list(request.headers.items()):
        if isinstance(value, str):
            request.headers[name] = redact(value)
    request.uri = redact(request.uri)
    body = request.body
    if isinstance(body, bytes):
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return request  # not text: a key is sent as text
        if redact(text) != text:
            request.body = redact(text).encode()
    return request


# -- sockets: pytest-socket, pytest-recording's --block-network -----------------------------


def _check_sockets() -> None:
    blocker = _loopback_blocker()
    if blocker is None:
        return
    if blocker.startswith("pytest_socket"):
        fix = (
            "pytest-socket blocks it in this test. Allow the loopback address: mark the test "
            '@pytest.mark.allow_hosts(["127.0.0.1"]) or @pytest.mark.enable_socket, or run '
            "with --allow-hosts=127.0.0.1 (with --disable-socket too, every other host "
            "stays blocked)."
        )
    elif blocker.startswith("pytest_recording"):
        fix = (
            "pytest-recording's network blocking (--block-network or "
            "@pytest.mark.block_network) refuses it. Allow the loopback address: "
            '--allowed-hosts=127.0.0.1, @pytest.mark.block_network(allowed_hosts=["127.0.0.1"]) '
            "or --allow-private-ips."
        )
    else:
        fix = f"{blocker} refuses it in this test: allow connections to 127.0.0.1."
    pytest.fail(
        f"trigger_api_server listens on 127.0.0.1 and the code under test connects to it "
        f"there, but {fix} For a client that is httpx in the test process, "
        f"mock_trigger_api answers without any socket.\n"
        f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/other-plugins/",
        pytrace=False,
    )


def _loopback_blocker() -> str | None:
    """The module that refuses a connection to 127.0.0.1 in this test, or None."""
    if "pytest_socket" not in sys.modules and "pytest_recording" not in sys.modules:
        return None
    import socket
    import warnings

    guards = (socket.socket, socket.socket.connect)
    try:
        with warnings.catch_warnings():  # pytest-socket warns as it refuses
            warnings.simplefilter("ignore")
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                probe.connect((_LOOPBACK, 9))  # UDP: sets the peer, sends nothing
            finally:
                probe.close()
    except OSError:
        return None  # the machine's own answer, not a plugin's
    except Exception:
        for guard in guards:
            module = getattr(guard, "__module__", None)
            if module and module not in ("socket", "_socket", "builtins"):
                return str(module)
        return "a plugin"
    return None


# -- pytest-httpx ---------------------------------------------------------------------------


def _check_httpx_mock(request: pytest.FixtureRequest, fixture: str, base_url: str) -> None:
    # pytest-httpx replaces httpx's transports, in front of respx and of the network:
    # unless its should_mock lets the origin through, every request to it meets its
    # "no response" timeout instead of this plugin.
    import httpx

    marker = request.node.get_closest_marker("httpx_mock")
    should_mock = None if marker is None else marker.kwargs.get("should_mock")
    probe = httpx.Request("GET", f"{base_url}{_PROBE_PATH}")
    if callable(should_mock) and not should_mock(probe):
        return
    host = httpx.URL(base_url).host
    if fixture == "trigger_api_server":
        what = f"every httpx request to trigger_api_server ({host})"
        whom = "trigger_api_server"
    else:
        what = f"every request to {base_url}"
        whom = "mock_trigger_api"
    pytest.fail(
        f"{fixture} and pytest-httpx's httpx_mock are both used in this test, and "
        f"httpx_mock would answer {what}. Let it through to {whom}:\n"
        f'  @pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "{host}")\n'
        f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/other-plugins/",
        pytrace=False,
    )


# -- vcr (vcrpy, pytest-recording) ----------------------------------------------------------


def _check_cassettes(request: pytest.FixtureRequest, fixture: str, base_url: str) -> None:
    from vcr.cassette import Cassette
    from vcr.request import Request as VcrRequest

    probe = VcrRequest("GET", f"{base_url}{_PROBE_PATH}", b"", {})
    for cassette in _cassettes_in_use(request, Cassette):
        if cassette.filter_request(probe) is not None:
            _fail_cassette(fixture, base_url)


def _cassettes_in_use(request: pytest.FixtureRequest, kind: type) -> list[Any]:
    found = []
    # pytest-recording enters the cassette of a @pytest.mark.vcr test in its autouse
    # `vcr` fixture, set up before this one, and gives it as the fixture's value.
    if "vcr" in request.fixturenames and request.config.pluginmanager.has_plugin("recording"):
        found.append(request.getfixturevalue("vcr"))
    # vcrpy patches httpx's transports while a cassette is in use (`with
    # use_cassette(...)` in a fixture of the user's); the patch holds its cassette.
    import inspect

    import httpx

    patches = (  # where vcrpy patches httpx: the transports now, the clients before
        httpx.HTTPTransport.handle_request,
        httpx.AsyncHTTPTransport.handle_async_request,
        httpx.Client._send_single_request,
        httpx.AsyncClient._send_single_request,
    )
    for patched in patches:
        if hasattr(patched, "__wrapped__"):
            found.append(inspect.getclosurevars(patched).nonlocals.get("cassette"))
    return [cassette for cassette in found if isinstance(cassette, kind)]


def _fail_cassette(fixture: str, base_url: str) -> None:
    import httpx

    host = httpx.URL(base_url).host
    if fixture == "trigger_api_server":
        leave = "ignore_localhost=True"
        config = '{"ignore_localhost": True}'
    else:
        leave = f'ignore_hosts=["{host}"]'
        config = f'{{"ignore_hosts": ["{host}"]}}'
    pytest.fail(
        f"{fixture} and a vcr cassette are both used in this test, and the cassette would "
        f"take the requests to {base_url}: vcr answers them before {fixture} (which then "
        f"sees none), or records {fixture}'s answers with the fake key and ids that "
        f"change with the seed. Leave that origin to {fixture}:\n"
        f"  pytest-recording: a vcr_config fixture that returns {config}\n"
        f"  vcrpy: vcr.VCR({leave})\n"
        f"Requests to other hosts are still recorded; if they carry batch ids or a key, "
        f"pin the seed (--trigger-seed) and add before_record_request="
        f"pytest_trigger_batches.neighbours.redact_request.\n"
        f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/other-plugins/",
        pytrace=False,
    )


# -- snapshots (syrupy) ---------------------------------------------------------------------


def _check_snapshot(request: pytest.FixtureRequest, fixture: str, seed_pinned: bool) -> None:
    if request.config.getoption("trigger_seed", None) is not None:
        return  # --trigger-seed: every test's seed, the factory's and the mock's, is fixed
    if fixture == "trigger_batch_factory":
        if seed_pinned:
            return  # the trigger_seed fixture is overridden: a fixed seed
        what = "the batches it builds (ids, timestamps, task ids, messages)"
        how = (
            "run with --trigger-seed=N (put it in addopts: each test still gets a seed "
            "of its own, from N and its id), or override the trigger_seed fixture"
        )
    else:
        what = f"the fake key and the ids {fixture} mints"
        how = (
            "run with --trigger-seed=N (put it in addopts: each test still gets a seed "
            "of its own, from N and its id); the trigger_seed fixture pins only the "
            "factory's batches"
        )
    pytest.fail(
        f"{fixture} and a snapshot fixture are both used in this test, but the seed is "
        f"not pinned: {what} change from run to run, and the snapshot with them. Pin the "
        f"seed: {how}. If the snapshot holds times the mock reads (x-ratelimit-reset, "
        f"tokens), pin the clock too: @pytest.mark.trigger_api(clock=lambda: 1780000000.0).\n"
        f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/reproducible/",
        pytrace=False,
    )
