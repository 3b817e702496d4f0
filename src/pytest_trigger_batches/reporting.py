"""What pytest prints and writes about a run: no key in it, and a seed note on failures.

`Reporting` is a plugin object the plugin registers in `pytest_configure`; it holds the
run's `config`, through which it finds the terminal reporter and the JUnit XML file.
It redacts (with `redact.redact`) every test and collection report (subtests' too)
before any reporter reads it, parametrize ids, the warnings summary, live logs and
`--log-file`, `pytest.exit` reasons and the JUnit XML file once written. Output that
`--capture=tee-sys` copies to the terminal as it is written goes through
`redacted_tee`. What the plugin's own code makes (messages, records) is redacted
where it is made; this module covers what pytest and the test itself produce.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import pytest

from pytest_trigger_batches.settings import MARKED_SEED_KEY, SEED_KEY, seed_for_test

if TYPE_CHECKING:
    from pytest_trigger_batches.api import TriggerApi

__all__ = [
    "CALL_FAILED_KEY",
    "USED_KEY",
    "Reporting",
    "fail_on_leftovers",
    "redact_report",
    "redacted_tee",
]

CALL_FAILED_KEY = pytest.StashKey[bool]()
USED_KEY = pytest.StashKey[bool]()
"""The test set up one of the plugin's fixtures (also through `getfixturevalue`)."""
# Tests whose failure reports get the seed note.
_PLUGIN_FIXTURES = frozenset(
    ("trigger_seed", "mock_trigger_api", "trigger_api_server", "trigger_batch")
)


def redact(text: str) -> str:
    """`redact.redact`, imported at the first text: most runs have nothing to redact."""
    from pytest_trigger_batches.redact import redact as redact_text

    return redact_text(text)


class Reporting:
    """The plugin's hooks on pytest's output, for one run (`config`)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._warnings_redacted = 0
        xml_path = config.getoption("xmlpath", None)
        # As pytest's junitxml resolves it (at configure time, from the working directory).
        self.junit_xml: str | None = (
            os.path.normpath(os.path.abspath(os.path.expanduser(os.path.expandvars(xml_path))))
            if xml_path and not hasattr(config, "workerinput")
            else None
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" or report.failed or report.skipped:
            # A test that failed or skipped has its outcome: teardown adds no error to it.
            item.stash[CALL_FAILED_KEY] = report.failed or report.skipped
        if report.failed and _uses_plugin(item):
            report.sections.append(("trigger-batches", redact(seed_note(item))))
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Every report, whichever fixtures the test used, subtests' among them, before
        # the terminal, JUnit XML or an xdist worker's channel reads it.
        redact_report(report)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if report.longrepr is not None or report.sections:
            redact_report(report)
        return report

    def pytest_make_parametrize_id(
        self, config: pytest.Config, val: object, argname: str
    ) -> str | None:
        """A parameter that holds a key gets its redacted form as its id (`tr_prod_****1a2b`).

        Any other value keeps the id pytest gives it.
        """
        if isinstance(val, str | bytes) and val:
            default = _as_pytest_shows(val, config)
            redacted = redact(default)
            if redacted != default:
                return redacted
        return None

    @pytest.hookimpl(trylast=True)  # after the terminal reporter kept it
    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str) -> None:
        """The warnings summary shows warnings with their keys redacted."""
        reporter: Any = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        kept = reporter.stats.get("warnings", [])
        for warning in kept[self._warnings_redacted :]:
            message = getattr(warning, "message", None)
            if isinstance(message, str):
                warning.message = redact(message)
        self._warnings_redacted = len(kept)

    def pytest_plugin_registered(self, plugin: object, manager: Any) -> None:
        """Live logs (`--log-cli-level`) and `--log-file` are written with keys redacted."""
        # `plugin_name` is not in pytest 7.4's hookspec: the manager names the plugin.
        if manager.get_name(plugin) != "logging-plugin":
            return
        for attribute in ("log_cli_handler", "log_file_handler"):
            handler = getattr(plugin, attribute, None)
            if handler is not None and not getattr(handler, "_trigger_redacting", False):
                _redact_handler(handler)

    @pytest.hookimpl(tryfirst=True)  # before the terminal reporter keeps its text
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """`pytest.exit(reason)`: the reason is shown redacted."""
        stop = excinfo.value
        if isinstance(stop, pytest.exit.Exception):
            stop.msg = redact(stop.msg)
            stop.args = (stop.msg, *stop.args[1:])

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        """The JUnit XML file, once pytest wrote it, with every key redacted.

        Its reports are redacted already; what a test recorded with
        `record_xml_attribute` or `record_testsuite_property` is not, until here.
        """
        yield
        if self.junit_xml is not None and os.path.isfile(self.junit_xml):
            with open(self.junit_xml, encoding="utf-8") as file:
                text = file.read()
            clean = redact(text)
            if clean != text:
                with open(self.junit_xml, "w", encoding="utf-8") as file:
                    file.write(clean)


def _uses_plugin(item: pytest.Item) -> bool:
    return item.stash.get(USED_KEY, False) or not _PLUGIN_FIXTURES.isdisjoint(
        getattr(item, "fixturenames", ())
    )


def seed_note(item: pytest.Item) -> str:
    """Which seed the test's batches came from, and how to rerun it with that seed."""
    run_seed = item.config.stash[SEED_KEY]
    # The seed its batches really came from: the factory's, if the test built any.
    factory = getattr(item, "funcargs", {}).get("trigger_batch_factory")
    used = getattr(factory, "seed", None)
    if used is None:
        used = item.stash.get(MARKED_SEED_KEY, None)
    if used is None:
        return (
            f"no batch was built in this test; the run's seed is {run_seed} "
            f"(--trigger-seed={run_seed})"
        )
    if used != seed_for_test(run_seed, item.nodeid):
        return f"batches in this test were built from seed {used} (the trigger_seed fixture)"
    return (
        f"batches in this test were built from seed {used} (run seed {run_seed}); "
        f"rerun with:\n  pytest --trigger-seed={run_seed} '{item.nodeid}'"
    )


# -- reports -------------------------------------------------------------------------------


def redact_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Redact keys in a report where pytest keeps them, keeping every part's type.

    `longrepr` stays what pytest made it (a traceback representation, a doctest
    failure, a skip's `(path, line, reason)` tuple, a string), so `--tb=line`, `-ra`,
    `-rs` and `--junitxml` print their usual forms, with every string inside redacted.
    """
    if report.longrepr is None and not report.sections and not _has_words(report):
        return  # a passing test that printed nothing: nothing to redact
    seen: set[int] = set()
    if report.longrepr is not None:
        report.longrepr = _redacted(report.longrepr, seen)
    report.sections = [(title, redact(content)) for title, content in report.sections]
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str):
        report.wasxfail = redact(wasxfail)  # type: ignore[union-attr]
    properties = getattr(report, "user_properties", None)
    if properties:
        report.user_properties = [  # type: ignore[union-attr]
            (name, redact(value) if isinstance(value, str) else value) for name, value in properties
        ]
    context = getattr(report, "context", None)  # a subtest's message and parameters
    if context is not None:
        _redacted(context, seen)


def _has_words(report: pytest.TestReport | pytest.CollectReport) -> bool:
    return bool(
        getattr(report, "wasxfail", None)
        or getattr(report, "user_properties", None)
        or getattr(report, "context", None)
    )


def _redacted(value: Any, seen: set[int]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [_redacted(v, seen) for v in value]
    elif isinstance(value, tuple):
        items = [_redacted(v, seen) for v in value]
        make = getattr(value, "_make", None)  # a named tuple keeps its type
        return make(items) if make is not None else tuple(items)
    elif isinstance(value, dict):
        for k in list(value):
            value[k] = _redacted(value[k], seen)
    elif hasattr(value, "toterminal") and hasattr(value, "__dict__"):
        # pytest's representations, also those that declare no dataclass fields (doctest's)
        for name in list(vars(value)):
            _replace(value, name, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _replace(value, field.name, seen)
    return value


def _replace(owner: Any, name: str, seen: set[int]) -> None:
    current = getattr(owner, name, None)
    clean = _redacted(current, seen)
    if clean is not current:
        object.__setattr__(owner, name, clean)  # frozen dataclasses too


# pytest's own escaping of a str or bytes parameter in an id (`_pytest.compat.ascii_escaped`).
_NON_PRINTABLE = {i: f"\\x{i:02x}" for i in range(128) if i not in range(32, 127)}
_NON_PRINTABLE.update({ord("\t"): "\\t", ord("\r"): "\\r", ord("\n"): "\\n"})


def _as_pytest_shows(value: str | bytes, config: pytest.Config) -> str:
    if isinstance(value, bytes):
        text = value.decode("ascii", "backslashreplace")
    elif config.getini("disable_test_id_escaping_and_forfeit_all_rights_to_community_support"):
        return value
    else:
        text = value.encode("unicode_escape").decode("ascii")
    return text.translate(_NON_PRINTABLE)


def _redact_handler(handler: Any) -> None:
    original = handler.format

    def format(record: Any) -> str:
        return redact(original(record))

    handler.format = format
    handler._trigger_redacting = True


# -- output teed live ----------------------------------------------------------------------


class _RedactedLines:
    """A text stream that writes whole lines to `stream`, redacted (a key is never split)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        head, newline, self._pending = (self._pending + text).rpartition("\n")
        if newline:
            self.stream.write(redact(head + newline))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.stream.write(redact(self._pending))
            self._pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def redacted_tee(config: pytest.Config) -> Iterator[None]:
    """While pytest starts capturing: what `--capture=tee-sys` copies out is redacted.

    The capture keeps the streams it found (`_RedactedLines` here) as the ones it tees
    to and restores between tests; pytest's own terminal writes to the real ones, put
    back when the capture has started. At the end of the run (after the capture's own
    clean-up) the real streams are restored for good.
    """
    real = {name: getattr(sys, name) for name in ("stdout", "stderr")}

    def restore() -> None:
        for name, stream in real.items():
            current = getattr(sys, name)
            if isinstance(current, _RedactedLines):
                current.flush()
            setattr(sys, name, stream)

    config.add_cleanup(restore)  # first in, last out: after the capture's clean-up
    for name, stream in real.items():
        setattr(sys, name, _RedactedLines(stream))
    try:
        yield
    finally:
        for name, stream in real.items():
            setattr(sys, name, stream)


# -- what a test left behind ---------------------------------------------------------------


def fail_on_leftovers(
    request: pytest.FixtureRequest, api: TriggerApi, name: str, what_happened: str
) -> None:
    """Fail a test whose requests the mock could not serve, or whose faults went unused.

    A request the mock does not serve already raised (or got a 501) in the test; this
    catches code under test that swallowed that, without piling onto a failed test.
    """
    if request.node.stash.get(CALL_FAILED_KEY, False):
        return
    unexpected, unused, crashes = api._gateway.leftovers()
    problem = ""
    if crashes:
        problem = (
            f"{name} failed on {len(crashes)} request(s) and answered 500 (a bug of the "
            f"mock's; please report it):\n" + "\n".join(f"  {c}" for c in crashes)
        )
    elif unexpected:
        problem = (
            f"{name} received {len(unexpected)} request(s) it does not serve "
            f"({what_happened}):\n" + "\n".join(f"  {call}" for call in unexpected)
        )
    elif unused:
        problem = (
            f"{name}: {len(unused)} fault(s) asked for with fail_next() were never met "
            f"by a request:\n" + "\n".join(f"  {fault}" for fault in unused) + "\nThe code "
            "path they stand for did not run. Check the route and batch_id they name and "
            "what the code under test requests; pass required=False to fail_next() for a "
            "fault that may go unused.\n"
            "See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/retries/"
        )
    if problem:
        pytest.fail(redact(problem), pytrace=False)
