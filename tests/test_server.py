"""TriggerApiServer: the same mock API over real HTTP, for clients that are not httpx."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from email.message import Message
from typing import Any

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, BatchHandle, TriggerBatch
from pytest_trigger_batches.__main__ import main as cli_main
from pytest_trigger_batches.redact import mask_key
from pytest_trigger_batches.server import TriggerApiServer
from pytest_trigger_batches.table import TABLE

STATUSES = ["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"]


@pytest.fixture
def server() -> Iterator[TriggerApiServer]:
    with TriggerApiServer() as running:
        yield running


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def batch_url(
    server: TriggerApiServer, batch: TriggerBatch | BatchHandle | str, version: int = 1
) -> str:
    batch_id = batch if isinstance(batch, str) else batch.id
    return f"{server.base_url}/api/v{version}/batches/{batch_id}"


def urlopen(
    url: str, *, headers: Mapping[str, str] | None = None, method: str = "GET"
) -> tuple[int, Message, bytes]:
    """GET with urllib; HTTP errors are answers too: (status, headers, body)."""
    request = urllib.request.Request(url, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


# -- bodies, through three kinds of client --------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("status", STATUSES)
def test_urllib_gets_the_payload_the_mock_serves(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory, status: str, version: int
) -> None:
    batch = trigger_batch_factory(status)
    server.add_batch(batch)

    code, headers, body = urlopen(
        batch_url(server, batch, version), headers=auth(server.secret_key)
    )

    assert code == 200
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(body) == batch.to_payload(version=version)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", [1, 2])
def test_plain_httpx_client_gets_the_same_bytes_over_keep_alive(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory, version: int
) -> None:
    batch = trigger_batch_factory("PARTIAL_FAILED", run_count=20, failed_count=5)
    server.add_batch(batch)
    expected = batch.to_payload(version=version)  # type: ignore[arg-type]

    with httpx.Client(base_url=server.base_url, headers=auth(server.secret_key)) as client:
        responses = [client.get(f"/api/v{version}/batches/{batch.id}") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json() == expected for r in responses)
    assert responses[0].headers["content-length"] == str(len(responses[0].content))
    assert server.retrievals(batch) == server.calls
    assert len(server.calls) == 3


def test_a_subprocess_reaches_the_server_with_its_env(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory("COMPLETED", run_count=3)
    server.add_batch(batch)
    code = (
        "import json, os, urllib.request\n"
        "request = urllib.request.Request(\n"
        "    os.environ['TRIGGER_API_URL'] + '/api/v2/batches/' + os.environ['BATCH_ID'],\n"
        "    headers={'Authorization': 'Bearer ' + os.environ['TRIGGER_SECRET_KEY']},\n"
        ")\n"
        "with urllib.request.urlopen(request, timeout=10) as response:\n"
        "    print(json.dumps({'status': response.status, 'body': json.load(response)}))\n"
    )
    env = {**os.environ, **server.env, "BATCH_ID": batch.id}

    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == {"status": 200, "body": batch.to_payload(version=2)}
    server.assert_retrieved(batch, times=1)
    assert server.env == {
        "TRIGGER_API_URL": server.base_url,
        "TRIGGER_SECRET_KEY": server.secret_key,
    }


# -- headers, preflight, errors -------------------------------------------------------


def test_head_answers_the_headers_without_a_body(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    batch = server.add_batch(trigger_batch_factory("COMPLETED"))

    with httpx.Client(headers=auth(server.secret_key)) as client:
        head = client.head(batch_url(server, batch))
        get = client.get(batch_url(server, batch))  # same connection: still in step

    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == "application/json; charset=utf-8"
    assert get.status_code == 200


def test_progress_after_walks_the_lifecycle_across_requests(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory("COMPLETED", run_count=10, failed_count=2)
    server.add_batch(batch, progress_after=3)

    with httpx.Client(headers=auth(server.secret_key)) as client:
        statuses = [client.get(batch_url(server, batch)).json()["status"] for _ in range(6)]

    assert statuses == [
        "PENDING",
        "PROCESSING",
        "PARTIAL_FAILED",
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
    ]


def test_a_small_bucket_runs_out(server: TriggerApiServer) -> None:
    server.rate_limit(limit=2, refill=1, interval=60)
    url = batch_url(server, "batch_cmx0ugyuv00004a7d2bda9ln4")

    with httpx.Client(headers=auth(server.secret_key)) as client:
        codes = [client.get(url).status_code for _ in range(3)]

    assert codes == [404, 404, 429]


def test_server_error_fault_then_recovery(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    batch = server.add_batch(trigger_batch_factory("COMPLETED"))
    server.fail_next("server_error", status_code=503, times=2)

    with httpx.Client(headers=auth(server.secret_key)) as client:
        codes = [client.get(batch_url(server, batch)).status_code for _ in range(3)]

    assert codes == [503, 503, 200]


@pytest.mark.parametrize("kind", ["timeout", "connect_error"])
def test_disconnect_faults_drop_the_connection_without_an_answer(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory, kind: Any
) -> None:
    batch = server.add_batch(trigger_batch_factory("COMPLETED"))
    server.fail_next(kind, times=2)

    with pytest.raises(http.client.RemoteDisconnected):
        urlopen(batch_url(server, batch), headers=auth(server.secret_key))
    with httpx.Client(headers=auth(server.secret_key)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(batch_url(server, batch))
        assert client.get(batch_url(server, batch)).status_code == 200  # a new connection

    assert [call.outcome for call in server.calls] == [kind, kind, "answered"]


def test_calls_are_recorded_with_secrets_redacted(
    server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    batch = server.add_batch(trigger_batch_factory("COMPLETED"))
    key = server.secret_key

    urlopen(batch_url(server, batch, 2), headers={**auth(key), "X-Trigger-Client": "test"})

    (call,) = server.calls
    assert (call.method, call.api_version, call.batch_id) == ("GET", 2, batch.id)
    assert (call.status_code, call.outcome) == (200, "answered")
    assert call.url == batch_url(server, batch, 2)
    assert call.headers["authorization"] == "Bearer " + mask_key(key)
    assert call.headers["x-trigger-client"] == "test"
    assert key not in repr(server.calls)
    server.assert_retrieved(batch, times=1)


def test_an_unserved_request_is_501_and_recorded(server: TriggerApiServer) -> None:
    key = server.secret_key

    with httpx.Client(headers=auth(key)) as client:
        answer = client.post(f"{server.base_url}/api/v1/batches", json={"items": [1, 2]})
        after = client.get(batch_url(server, "batch_cmx0ugyuv00004a7d2bda9ln4"))

    assert answer.status_code == 501
    message = answer.json()["error"]
    assert "POST" in message
    assert "/api/v1/batches/{batchId}" in message
    assert key not in message
    assert after.status_code == 404  # the body was read: the connection stays in step
    assert [call.outcome for call in server.calls] == ["unexpected", "answered"]


def test_chunked_request_bodies_are_read_and_ignored(server: TriggerApiServer) -> None:
    with httpx.Client() as client:
        first = client.put(f"{server.base_url}/api/v1/batches/x", content=iter([b"ab", b"cd"]))
        second = client.get(batch_url(server, "batch_cmx0ugyuv00004a7d2bda9ln4"))

    assert (first.status_code, second.status_code) == (501, 401)


# -- quiet, lifecycle of the server ---------------------------------------------------


def test_quiet_by_default_and_verbose_logs_redact_keys(capfd: pytest.CaptureFixture[str]) -> None:
    key = "tr_dev_" + "K" * 24
    for verbose in (False, True):
        with TriggerApiServer(verbose=verbose) as server:
            urlopen(f"{server.base_url}/api/v1/batches/{key}", headers=auth(key))
        out, err = capfd.readouterr()
        assert out == ""
        assert key not in err
        if verbose:
            assert f'"GET /api/v1/batches/{mask_key(key)} HTTP/1.1" 404' in err
        else:
            assert err == ""


def test_stop_leaves_no_thread_and_no_listening_port(trigger_batch_factory: BatchFactory) -> None:
    before = set(threading.enumerate())
    server = TriggerApiServer().start()
    batch = server.add_batch(trigger_batch_factory("COMPLETED"))
    client = httpx.Client(headers=auth(server.secret_key))  # keeps its connection open
    assert client.get(batch_url(server, batch)).status_code == 200
    assert set(threading.enumerate()) - before  # the server and a connection thread

    started = time.perf_counter()
    server.stop()
    stopping = time.perf_counter() - started

    assert set(threading.enumerate()) - before == set()
    assert stopping < 0.5
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    with pytest.raises(httpx.TransportError):
        client.get(batch_url(server, batch))
    client.close()
    server.stop()  # a second stop does nothing
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        server.start()


def test_base_url_api_and_repr(server: TriggerApiServer) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert server.base_url == server.base_url
    assert server.running
    assert repr(server) == f"<TriggerApiServer {server.base_url} running>"
    assert server.secret_key not in repr(server)


def test_servers_side_by_side_get_their_own_ports_and_state() -> None:
    with TriggerApiServer() as first, TriggerApiServer() as second:
        first.fail_next("server_error")
        codes = [
            urlopen(batch_url(s, "batch_cmx0ugyuv00004a7d2bda9ln4"), headers=auth(s.secret_key))[0]
            for s in (first, second)
        ]
    assert first.port != second.port
    assert codes == [500, 404]


# -- the pytest fixture ---------------------------------------------------------------


def test_fixture_starts_empty_and_serves(
    trigger_api_server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    assert trigger_api_server.running
    assert trigger_api_server.batches == []
    assert trigger_api_server.calls == []
    batch = trigger_api_server.add_batch(trigger_batch_factory("ABORTED"))

    code, _, body = urlopen(
        batch_url(trigger_api_server, batch), headers=auth(trigger_api_server.secret_key)
    )

    assert (code, json.loads(body)["status"]) == (200, "ABORTED")


def run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(
        "import json, urllib.error, urllib.request\n"
        "def get(server, path, key=None):\n"
        "    headers = {'Authorization': 'Bearer ' + (key or server.secret_key)}\n"
        "    request = urllib.request.Request(server.base_url + path, headers=headers)\n"
        "    try:\n"
        "        with urllib.request.urlopen(request, timeout=10) as response:\n"
        "            return response.status, json.load(response)\n"
        "    except urllib.error.HTTPError as error:\n"
        "        with error:\n"
        "            return error.code, json.load(error)\n" + source
    )
    return pytester.runpytest("-p", "no:randomly")


def test_fixture_registers_marked_batches(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=10, failed_count=3)
@pytest.mark.trigger_batch("COMPLETED", progress_after=2)
def test_app(trigger_api_server):
    handles = {h.final.status: h for h in trigger_api_server.batches}
    code, body = get(trigger_api_server, "/api/v1/batches/" + handles["PARTIAL_FAILED"].id)
    assert (code, body["status"], body["failedRunCount"]) == (200, "PARTIAL_FAILED", 3)
    code, body = get(trigger_api_server, "/api/v2/batches/" + handles["COMPLETED"].id)
    assert (code, body["status"]) == (200, "PROCESSING")  # progress_after=2: not yet

def test_next_test_starts_empty(trigger_api_server):
    assert trigger_api_server.batches == []
    assert trigger_api_server.calls == []
""",
    )
    result.assert_outcomes(passed=2)


def test_fixture_and_mock_serve_the_same_marked_batch(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

@pytest.mark.trigger_batch("COMPLETED")
def test_app(trigger_batch, trigger_api_server):
    (handle,) = trigger_api_server.batches
    assert handle.final == trigger_batch
    assert get(trigger_api_server, "/api/v1/batches/" + trigger_batch.id)[0] == 200
""",
    )
    result.assert_outcomes(passed=1)


def test_an_unexpected_path_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_app(trigger_api_server):
    code, body = get(trigger_api_server, "/api/v1/batch/batch_x")  # typo: batch
    assert code == 501  # the app would carry on
    assert "/api/v1/batches/{batchId}" in body["error"]
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*trigger_api_server received 1 request(s) it does not serve*",
            "*GET http://127.0.0.1:*/api/v1/batch/batch_x -> unexpected*",
        ]
    )
    assert "tr_dev_" not in re.sub(r"tr_dev_[*]{4}[0-9a-f]{4}", "", result.stdout.str())


# -- the command line -----------------------------------------------------------------


class Cli:
    """`python -m pytest_trigger_batches serve ...` in a subprocess, read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest_trigger_batches", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def announcement(self) -> list[str]:
        """Every line up to "Press Ctrl-C to stop."."""
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not lines or lines[-1] != "Press Ctrl-C to stop.":
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.process.kill()
                pytest.fail(f"serve did not announce itself: {lines}\n{self.stop()[1]}")
            lines.append(line)
        return lines

    def stop(self, signum: int = signal.SIGINT) -> tuple[list[str], str]:
        """Send `signum`, wait; the rest of stdout (as lines) and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        self.process.stderr.close()
        self.process.stdout.close()  # type: ignore[union-attr]
        rest = []
        while (line := self._lines.get_nowait()) is not None:
            rest.append(line)
        return rest, err


def test_cli_serves_until_sigint_and_exits_cleanly() -> None:
    cli = Cli("--port", "0", "--batch", "PARTIAL_FAILED:10:3", "--seed", "7")
    try:
        announced = cli.announcement()
        env = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in announced
            if line.strip().startswith("export ")
        )
        batch_line = next(line for line in announced if "/api/v1/batches/" in line)
        url = batch_line.split()[0]
        assert url.startswith(env["TRIGGER_API_URL"] + "/api/v1/batches/batch_")
        assert "PARTIAL_FAILED, 10 runs, 3 failed" in batch_line

        code, headers, body = urlopen(url, headers=auth(env["TRIGGER_SECRET_KEY"]))
        missing, _, _ = urlopen(url)
    finally:
        rest, err = cli.stop(signal.SIGINT)

    assert code == 200
    assert headers["content-type"] == "application/json; charset=utf-8"
    payload = json.loads(body)
    assert (payload["status"], payload["runCount"], payload["failedRunCount"]) == (
        "PARTIAL_FAILED",
        10,
        3,
    )
    assert missing == 401
    assert cli.process.returncode == 0
    assert rest == ["pytest-trigger-batches: stopped"]
    assert err == ""  # quiet: no request log, no traceback


def hammer(port: int, stop: threading.Event) -> None:
    """Connect, ask, read, again, until `stop`: connections being accepted all along."""
    request = b"GET /api/v1/batches/batch_x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(request)
                conn.recv(64)
        except OSError:
            time.sleep(0.01)  # the server has stopped: connections are refused


def stopped_by_signals(attempts: int, *, at_once: int = 4) -> list[str]:
    """Start the CLI `attempts` times (`at_once` at a time), signal each while clients
    connect (SIGINT and SIGTERM in turn); what went wrong with each that did not stop."""
    problems: list[str] = []
    for first in range(0, attempts, at_once):
        clis = [Cli("--port", "0") for _ in range(min(at_once, attempts - first))]
        stop = threading.Event()
        clients = []
        for cli in clis:
            port = int(cli.announcement()[0].rsplit(":", 1)[1])
            clients += [threading.Thread(target=hammer, args=(port, stop)) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(0.3)
        signums = [
            signal.SIGINT if (first + n) % 2 == 0 else signal.SIGTERM for n in range(len(clis))
        ]
        for cli, signum in zip(clis, signums, strict=True):
            cli.process.send_signal(signum)
        for cli, signum in zip(clis, signums, strict=True):
            try:
                cli.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                problems.append(f"{signum.name}: still serving 10 s later")
                cli.process.kill()
            rest, err = cli.stop()
            if cli.process.returncode != 0 or rest != ["pytest-trigger-batches: stopped"]:
                problems.append(f"{signum.name}: exit code {cli.process.returncode}, {rest} {err}")
        stop.set()
        for client in clients:
            client.join(timeout=10)
    print(f"\nsignals: {attempts} attempts, {len(problems)} did not stop the CLI")
    return problems


@pytest.mark.parametrize(
    "attempts", [pytest.param(4, id="four"), pytest.param(40, id="forty", marks=pytest.mark.slow)]
)
def test_a_signal_always_stops_the_cli_while_clients_connect(attempts: int) -> None:
    """A stop signal the kernel handed to a connection thread once left the main thread
    waiting (about one time in five): now every thread but the waiting one holds them."""
    assert stopped_by_signals(attempts) == []


def test_cli_serves_a_batches_file_with_a_pinned_key(tmp_path: Any) -> None:
    payload = BatchFactory(seed=3)("COMPLETED", run_count=4).to_payload()
    states = [s.to_payload(version=2) for s in BatchFactory(seed=4).lifecycle("COMPLETED")]
    path = tmp_path / "batches.json"
    path.write_text(json.dumps([payload, states]))
    key = "tr_stg_" + "Z" * 24

    cli = Cli("--port", "0", "--batches-file", str(path), "--key", key)
    try:
        announced = cli.announcement()
        base = announced[0].rsplit(" ", 1)[1]
        code, _, body = urlopen(f"{base}/api/v1/batches/{payload['id']}", headers=auth(key))
        wrong, _, _ = urlopen(
            f"{base}/api/v1/batches/{payload['id']}", headers=auth("tr_stg_" + "Y" * 24)
        )
        walked = [
            json.loads(urlopen(f"{base}/api/v2/batches/{states[0]['id']}", headers=auth(key))[2])
            for _ in states
        ]
    finally:
        rest, _ = cli.stop(signal.SIGTERM)

    assert f"  export TRIGGER_SECRET_KEY={key}" in announced
    assert (code, json.loads(body)) == (200, payload)
    assert wrong == 401
    assert walked == states
    assert (cli.process.returncode, rest) == (0, ["pytest-trigger-batches: stopped"])


IDLE_RULE = "must be a number of seconds > 0 (at most a day)"
BODY_RULE = "must be a number of bytes from 0 to 2**34"
CALLS_RULE = "must be a whole number >= 1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "DONE"], "argument --batch 'DONE': status must be one of PENDING"),
        (["--batch", "PARTIAL_FAILED:ten"], "run_count must be a whole number"),
        (["--batch", "ABORTED:5:2"], "failed_count for a ABORTED batch of 5 items must be 5"),
        (["--batch", "COMPLETED:1:0:0"], "expected STATUS[:run_count[:failed_count]]"),
        (["--port", "70000"], "argument --port: must be a port number from 0 to 65535"),
        (["--key", "tr_dev_short"], "argument --key must be a secret key"),
        (["--batches-file", "/nonexistent/batches.json"], "argument --batches-file: cannot read"),
        (["--seed", "x"], "argument --seed: invalid int value"),
        *[
            (["--idle-timeout", value], f"argument --idle-timeout: {IDLE_RULE}; got '{value}'")
            for value in ("0", "-1", "nan", "inf", "86401", "ten")
        ],
        *[
            (["--max-body", value], f"argument --max-body: {BODY_RULE}; got '{value}'")
            for value in ("-1", "17179869185", "1e6")
        ],
        *[
            (["--max-calls", value], f"argument --max-calls: {CALLS_RULE}; got '{value}'")
            for value in ("0", "-5", "2.5")
        ],
    ],
)
def test_cli_bad_input_exits_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["serve", "--port", "0", *args])

    assert exit_info.value.code == 2
    _, err = capsys.readouterr()
    assert message in err
    assert "tr_dev_short" not in err


def test_cli_help_lists_every_endpoint_the_server_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["serve", "--help"])

    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    served = [f"    {route.method} {route.template}\n" for route in TABLE.routes]
    assert "".join(served) in help_text, help_text
    words = " ".join(help_text.split())
    assert "retrieve-batch API" not in words
    assert "401 Invalid API key" in words  # the platform's text, in the --key help


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "must hold a payload dict, or a non-empty list"),
        ('[{"id": "batch_x"}]', "item 0: batch is not a valid batch payload"),
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply to be a batch"),
    ],
    ids=["not-json", "empty-list", "not-a-payload", "nested-too-deeply"],
)
def test_cli_bad_batches_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, content: str, message: str
) -> None:
    path = tmp_path / "batches.json"
    path.write_text(content)

    with pytest.raises(SystemExit) as exit_info:
        cli_main(["serve", "--port", "0", "--batches-file", str(path)])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_port_in_use_exits_2_as_a_subprocess() -> None:
    with TriggerApiServer() as busy:
        done = subprocess.run(
            [sys.executable, "-m", "pytest_trigger_batches", "serve", "--port", str(busy.port)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert done.returncode == 2
    assert f"argument --port: cannot listen on port {busy.port}" in done.stderr
    assert "Traceback" not in done.stderr


# -- issue 13: probes of the HTTP layer ------------------------------------------------


def raw(server: TriggerApiServer, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send `data` as is and read the answer until the server closes (or `wait` passes)."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as conn:
        conn.sendall(data)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                    head, _, rest = answer.partition(b"\r\n\r\n")
                    length = re.search(rb"content-length: (\d+)", head.lower())
                    if length and len(rest) >= int(length.group(1)):
                        break
        except TimeoutError:
            pass
    return answer


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "get", "CONNECT", "BREW"])
def test_a_method_the_platform_does_not_route_is_recorded_and_unserved(
    server: TriggerApiServer, method: str
) -> None:
    target = "127.0.0.1:443" if method == "CONNECT" else "/api/v1/batches/batch_x"
    answer = raw(server, f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 501 "), answer[:200]
    assert b"<html" not in answer.lower()  # not http.server's own page
    assert b'"error": "trigger_api_server does not serve ' + method.encode() in answer
    [call] = server.calls
    assert (call.method, call.outcome) == (method, "unexpected")


def test_an_idle_connection_is_closed_after_the_idle_timeout() -> None:
    import time

    with TriggerApiServer(idle_timeout=0.3) as server:
        started = time.monotonic()
        answer = raw(server, b"GET /api/v1/batches/batch_x HTTP/1.1\r\nHost: x\r\n", wait=5)
        assert answer == b""  # a half-sent request: closed without an answer
        assert time.monotonic() - started < 3
        assert server.calls == []


def test_a_request_trickled_a_byte_at_a_time_is_cut_off_after_the_idle_timeout() -> None:
    request = b"POST /api/v1/things HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    request += b"x" * 1000
    with TriggerApiServer(idle_timeout=0.4) as server:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            sent = 0
            try:  # a byte every 0.05 s: each read is quick, the whole request is not
                while sent < len(request) and time.monotonic() - started < 5:
                    conn.sendall(request[sent : sent + 1])
                    sent += 1
                    time.sleep(0.05)
                answer = conn.recv(100)
            except OSError:  # closed by the server (or, for a server that waits, the timeout)
                answer = b""
        held = time.monotonic() - started

    assert answer == b""  # closed without an answer
    assert held < 2.0, f"a trickling client held the request open for {held:.1f} s"
    assert server.calls == []


def test_a_burst_of_100_clients_connecting_at_once_is_answered() -> None:
    """socketserver's default listen backlog of 5 dropped most of such a burst."""
    clients = 100
    start = threading.Barrier(clients)
    answers: list[bytes | Exception] = []

    def client(port: int) -> None:
        start.wait(timeout=10)
        try:
            # A dropped SYN is retried after a second: a connect that waits longer failed.
            with socket.create_connection(("127.0.0.1", port), timeout=0.9) as conn:
                conn.settimeout(10)
                conn.sendall(b"GET /api/v1/batches/batch_x HTTP/1.1\r\nHost: x\r\n\r\n")
                answers.append(conn.recv(12))
        except OSError as problem:
            answers.append(problem)

    with TriggerApiServer() as burst:
        threads = [threading.Thread(target=client, args=(burst.port,)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    failed = [answer for answer in answers if answer != b"HTTP/1.1 401"]
    assert len(answers) == clients
    assert failed == [], f"{len(failed)} of {clients} clients got no answer: {failed[:3]}"


def test_a_bodiless_answer_leaves_the_connection_ready_for_the_next_request() -> None:
    with TriggerApiServer() as server:
        server.add_route("DELETE", "/api/v1/things/{id}", status_code=204)
        server.add_route("GET", "/api/v1/things/{id}", status_code=304)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            head = f"Host: x\r\nAuthorization: Bearer {server.secret_key}\r\n\r\n".encode()
            conn.sendall(b"DELETE /api/v1/things/1 HTTP/1.1\r\n" + head)
            conn.sendall(b"GET /api/v1/things/1 HTTP/1.1\r\n" + head)
            conn.sendall(b"GET /api/v1/batches/batch_x HTTP/1.1\r\n" + head)
            answers = b""
            while answers.count(b"HTTP/1.1 ") < 3 or not answers.endswith(b"}"):
                answers += conn.recv(65536)

    first, second, third = (b"HTTP/1.1 " + a for a in answers.split(b"HTTP/1.1 ")[1:])
    assert first.startswith(b"HTTP/1.1 204 "), first
    assert first.endswith(b"\r\n\r\n"), first  # the headers, and nothing after them
    assert b"content-length" not in first.lower()
    assert second.startswith(b"HTTP/1.1 304 "), second
    assert second.endswith(b"\r\n\r\n"), second
    assert third.startswith(b"HTTP/1.1 404 "), third  # read in step: nothing left between


def chunked(*chunks: bytes, sizes: list[bytes] | None = None) -> bytes:
    body = b""
    for number, chunk in enumerate(chunks):
        size = sizes[number] if sizes else f"{len(chunk):x}".encode()
        body += size + b"\r\n" + chunk + b"\r\n"
    return body + b"0\r\n\r\n"


def test_a_chunked_body_is_read_up_to_the_cap() -> None:
    with TriggerApiServer(max_body=64) as server:
        server.add_route("POST", "/api/v1/things")
        head = b"POST /api/v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        head += server.secret_key.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        answer = raw(server, head + chunked(b'{"a": ', b"1}"))
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        assert server.calls[-1].body == {"a": 1}
        too_big = raw(server, head + chunked(b"x" * 40, b"y" * 40))
        assert too_big.startswith(b"HTTP/1.1 413 "), too_big[:200]
        assert b"Request body too large" in too_big
        assert len(server.calls) == 1  # the refused body never reached the API


@pytest.mark.parametrize(
    "sizes",
    [[b"zz"], [b"-5"], [b"f" * 40], [b""], [b"2"]],
    ids=["hex", "neg", "huge", "empty", "short"],
)
def test_a_bad_chunk_size_is_a_400_never_a_traceback(
    sizes: list[bytes], capfd: pytest.CaptureFixture[str]
) -> None:
    with TriggerApiServer() as server:
        head = b"POST /api/v1/batches/batch_x HTTP/1.1\r\nHost: x\r\n"
        head += b"Transfer-Encoding: chunked\r\n\r\n"
        answer = raw(server, head + chunked(b"abcd", sizes=sizes))
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1, 2", b"9" * 30])
def test_a_bad_content_length_is_a_400(length: bytes, capfd: pytest.CaptureFixture[str]) -> None:
    with TriggerApiServer() as server:
        answer = raw(
            server, b"POST /api/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
        )
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 413 ")), answer[:200]
    assert "Traceback" not in capfd.readouterr().err


def test_max_calls_keeps_the_latest() -> None:
    with TriggerApiServer(max_calls=3) as server:
        for number in range(5):
            urlopen(
                f"{server.base_url}/api/v1/batches/batch_{number}", headers=auth(server.secret_key)
            )
        assert [call.path for call in server.calls] == [
            f"/api/v1/batches/batch_{n}" for n in (2, 3, 4)
        ]
    with TriggerApiServer() as everything:
        for number in range(5):
            urlopen(f"{everything.base_url}/api/v1/batches/batch_{number}")
        assert len(everything.calls) == 5


def test_the_cli_server_keeps_a_bounded_record_by_default() -> None:
    from pytest_trigger_batches.__main__ import _parser

    options = _parser().parse_args(["serve"])
    assert options.max_calls == 10_000
    assert _parser().parse_args(["serve", "--max-calls", "5"]).max_calls == 5
