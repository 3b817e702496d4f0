"""`python -m pytest_trigger_batches serve`: the mock Trigger.dev API as a local server.

For clients outside a pytest run (a TypeScript worker with the official SDK, curl, a
manual check): serves batches built from `--batch` options and `--batches-file` until
Ctrl-C, then exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pytest_trigger_batches.shown import shown

if TYPE_CHECKING:
    from pytest_trigger_batches.server import TriggerApiServer

_BATCH_FORMAT = "STATUS[:run_count[:failed_count]]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    result: int = options.run(options.parser, options)
    return result


def _parser() -> argparse.ArgumentParser:
    from pytest_trigger_batches.table import TABLE

    parser = argparse.ArgumentParser(
        prog="python -m pytest_trigger_batches",
        description="Tools of pytest-trigger-batches.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the mock Trigger.dev API (batches triggered and retrieved, runs) over HTTP",
        description=(
            "Serve the mock Trigger.dev API over HTTP until Ctrl-C: batches triggered "
            "(streamed or in one request) and retrieved, single tasks triggered; runs "
            "retrieved, listed, cancelled, replayed, rescheduled, tagged, with their "
            "metadata and results; public tokens, idempotency key resets, large "
            "payloads, waitpoint tokens, queues, bulk actions and realtime "
            "subscriptions. Point a client at it with TRIGGER_API_URL and "
            "TRIGGER_SECRET_KEY as printed."
        ),
        epilog="endpoints served (others are answered 501):\n" + TABLE.describe(),
        formatter_class=_DescriptionWrapped,
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 to reach it from containers)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=8787,
        help="port to listen on, 0 to pick a free one (default 8787)",
    )
    serve.add_argument(
        "--batch",
        action="append",
        default=[],
        metavar=_BATCH_FORMAT,
        help=(
            "serve a batch built by the factory, e.g. PARTIAL_FAILED:10:3 (status "
            "PENDING, PROCESSING, PARTIAL_FAILED, COMPLETED or ABORTED; repeatable)"
        ),
    )
    serve.add_argument(
        "--batches-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.json",
        help=(
            "serve the batches in a JSON file: a payload dict (a v1 or v2 body), or a "
            "list whose items are payload dicts or lists of payload dicts (the states "
            "successive retrievals walk through); repeatable"
        ),
    )
    serve.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for the built batches and the printed key (default: random)",
    )
    serve.add_argument(
        "--key",
        default=None,
        metavar="tr_dev_...",
        help=(
            "accept only this secret key (others get 401 Invalid API key); by default "
            "any well-formed key is accepted and one is printed"
        ),
    )
    serve.set_defaults(run=_serve, parser=serve)
    serve.add_argument(
        "--idle-timeout",
        type=_idle_timeout,
        default=10.0,
        metavar="SECONDS",
        help=(
            "close a connection silent for this long, or a request not arrived whole "
            "this long after it started (default 10)"
        ),
    )
    serve.add_argument(
        "--max-body",
        type=_max_body,
        default=16 << 20,
        metavar="BYTES",
        help="the largest request body read, chunked or not (default 16 MiB); larger: 413",
    )
    serve.add_argument(
        "--max-calls",
        type=_max_calls,
        default=10_000,
        metavar="N",
        help="recorded calls kept, the latest (default 10000): a long-running server stays bounded",
    )
    serve.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="print one line per request to stderr (keys redacted)",
    )
    return parser


class _DescriptionWrapped(argparse.HelpFormatter):
    """Wraps the description as usual; keeps the epilog's lines (one endpoint a line)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("endpoints served"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a port number from 0 to 65535 (0: a free port); got {shown(text)}"
        )
    return port


def _checked(text: str, convert: Callable[[str], object], rule: Callable[[object], str]) -> Any:
    """`convert(text)` if the server's `rule` accepts it; else argparse's error for the flag."""
    try:
        value = convert(text)
    except ValueError:
        value = text  # not a number at all: the rule says what it must be
    problem = rule(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}; got {text!r}")
    return value


def _idle_timeout(text: str) -> float:
    from pytest_trigger_batches.server import idle_timeout_rule

    result: float = _checked(text, float, idle_timeout_rule)
    return result


def _max_body(text: str) -> int:
    from pytest_trigger_batches.server import max_body_rule

    result: int = _checked(text, int, max_body_rule)
    return result


def _max_calls(text: str) -> int:
    from pytest_trigger_batches.server import max_calls_rule

    result: int = _checked(text, int, max_calls_rule)
    return result


def _serve(serve: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    # Held from here on, in this thread and every thread the server starts, until the
    # main thread takes one with sigwait: a signal the kernel hands to a busy connection
    # thread would otherwise never wake the main thread, and the server would not stop.
    held = _hold_stop_signals()
    try:
        _run_server(serve, options, held)
    except BaseException:
        _release_stop_signals(held)
        raise
    # Stopped by a signal: they stay held, so that a second Ctrl-C while the server
    # closes is not a traceback; the process is about to exit.
    print("pytest-trigger-batches: stopped", flush=True)
    return 0


def _run_server(
    serve: argparse.ArgumentParser,
    options: argparse.Namespace,
    held: _Mask | None,
) -> None:
    """Serve until a stop signal (or Ctrl-C where signals cannot be held)."""
    from pytest_trigger_batches.factory import BatchFactory
    from pytest_trigger_batches.ids import IdSource, environment_of_key
    from pytest_trigger_batches.server import TriggerApiServer

    if options.key is not None:
        try:
            environment_of_key(options.key, parameter="argument --key")
        except ValueError as problem:
            serve.error(str(problem))
    seed: int = options.seed if options.seed is not None else random.randrange(10**8)
    factory = BatchFactory(seed=seed)
    key: str = options.key or IdSource(random.Random(seed)).secret_key("dev")
    batches = [_batch_from_option(serve, factory, text) for text in options.batch]
    files = [(path, _read_batches_file(serve, path)) for path in options.batches_file]
    try:
        server = TriggerApiServer(
            host=options.host,
            port=options.port,
            secret_key=key,
            verbose=options.verbose,
            idle_timeout=options.idle_timeout,
            max_body=options.max_body,
            max_calls=options.max_calls,
        )
    except (TypeError, ValueError) as problem:
        serve.error(f"argument --host: {problem}")
    except OSError as problem:
        if problem.errno in (errno.EADDRINUSE, errno.EACCES):
            serve.error(
                f"argument --port: cannot listen on port {options.port}: "
                f"{problem.strerror} (--port 0 picks a free port)"
            )
        serve.error(
            f"argument --host: cannot listen on {shown(options.host)}: "
            f"{problem.strerror or problem} "
            f"(an address of this machine, such as 127.0.0.1 or 0.0.0.0)"
        )
    with contextlib.suppress(KeyboardInterrupt), server:
        if options.key is not None:
            server.accept_key(options.key)
        for batch in batches:
            server.add_batch(batch)
        for path, entries in files:
            for where, entry in entries:
                try:
                    server.add_batch(entry)
                except (TypeError, ValueError) as problem:
                    serve.error(f"argument --batches-file: {path}, {where}: {problem}")
        _announce(server, seed)
        _wait_for_stop(held)


def _batch_from_option(parser: argparse.ArgumentParser, factory: Any, text: str) -> Any:
    status, *counts = text.split(":")
    if len(counts) > 2:
        parser.error(f"argument --batch: expected {_BATCH_FORMAT}; got {shown(text)}")
    numbers: list[int] = []
    for name, value in zip(("run_count", "failed_count"), counts, strict=False):
        try:
            numbers.append(int(value))
        except ValueError:
            parser.error(
                f"argument --batch: {name} must be a whole number in {_BATCH_FORMAT}; "
                f"got {shown(value)} in {shown(text)}"
            )
    options = dict(zip(("run_count", "failed_count"), numbers, strict=False))
    try:
        return factory(status.strip().upper(), **options)
    except (TypeError, ValueError) as problem:
        parser.error(f"argument --batch {shown(text)}: {problem}")


def _read_batches_file(parser: argparse.ArgumentParser, path: Path) -> list[tuple[str, Any]]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        parser.error(f"argument --batches-file: {path} is nested too deeply to be a batch")
    except OSError as problem:
        parser.error(f"argument --batches-file: cannot read {path}: {problem.strerror}")
    except ValueError as problem:
        parser.error(f"argument --batches-file: {path} is not valid JSON: {problem}")
    if isinstance(content, dict):
        return [("its batch", content)]
    if isinstance(content, list) and content:
        return [(f"item {number}", entry) for number, entry in enumerate(content)]
    parser.error(
        f"argument --batches-file: {path} must hold a payload dict, or a non-empty list "
        f"of payload dicts or of lists of payload dicts (states); got {shown(content, 80)}"
    )


def _announce(server: TriggerApiServer, seed: int) -> None:
    lines = [
        f"pytest-trigger-batches: mock Trigger.dev API at {server.base_url}",
        f"  export TRIGGER_API_URL={server.base_url}",
        f"  export TRIGGER_SECRET_KEY={server.secret_key}",
    ]
    handles = server.batches
    if handles:
        lines.append(f"  batches (seed {seed}):")
        for handle in handles:
            batch = handle.final
            counts = ""
            if batch.failed_run_count is not None:
                counts = f", {batch.failed_run_count} failed"
            lines.append(
                f"    {server.base_url}/api/v1/batches/{batch.id}  "
                f"{batch.status.value}, {batch.run_count} runs{counts}"
            )
    else:
        lines.append("  no batches: add --batch or --batches-file (every id answers 404)")
    lines.append("Press Ctrl-C to stop.")
    # The one place a key is shown, on purpose: the user asked for a server to use.
    print("\n".join(lines), flush=True)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_Mask = set[int | signal.Signals]


def _hold_stop_signals() -> _Mask | None:
    """Block SIGINT and SIGTERM (POSIX, main thread); the mask before, to restore."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    # A shell ignores SIGINT in what it starts in the background; an ignored signal
    # may be dropped, never waited for.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _release_stop_signals(held: _Mask | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _wait_for_stop(held: _Mask | None) -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM."""
    if held is not None:
        signal.sigwait(_STOP_SIGNALS)
        return

    def _terminate(signum: int, frame: object) -> NoReturn:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        # Also when started in the background by a shell, which ignores SIGINT there.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _terminate)
    while True:
        time.sleep(3600)  # a signal's KeyboardInterrupt ends it


if __name__ == "__main__":
    sys.exit(main())
