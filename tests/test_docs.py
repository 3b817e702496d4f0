"""The documentation site (mkdocs.yml, docs/): every code block comes from a file that runs.

The examples under docs/examples/ are collected by the default run (pyproject's
testpaths); the tests here check what collecting them cannot: that every block of every
page is included from a file, that the failure messages and transcripts shown are what
the plugin prints, that the reference names every public name, and that the links in
the plugin's messages lead to pages that exist.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

import pytest_trigger_batches as package

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
SITE_URL = "https://pytest-trigger-batches.github.io/pytest-trigger-batches/"
# Written by benchmarks/run.py from its measurements, not by hand; and the architecture's
# diagram of the request flow, a drawing rather than code.
GENERATED = {DOCS / "benchmarks.md", DOCS / "architecture.md"}
PAGES = sorted(p for p in DOCS.rglob("*.md") if EXAMPLES not in p.parents)
FENCE_RE = re.compile(
    r"^(?P<indent> *)```(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```$", re.S | re.M
)
SNIPPET_RE = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"$')
RUN_SEED = "50503285"


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mkdocs_hooks", ROOT / "scripts" / "mkdocs_hooks.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = _hooks()


def _config() -> dict[str, object]:
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may use !!python/name tags (material's emoji); none is needed here.
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    loaded = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    assert isinstance(loaded, dict)
    return loaded


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def _includes() -> list[tuple[Path, str, str | None]]:
    """Every snippet a page includes: (page, path, section)."""
    found = []
    for page in PAGES:
        for fence in FENCE_RE.finditer(page.read_text(encoding="utf-8")):
            match = SNIPPET_RE.match(fence.group("body").strip())
            if match:
                found.append((page, match.group("path"), match.group("section")))
    return found


# -- the site's shape -----------------------------------------------------------------


def test_every_page_is_in_the_navigation_and_every_entry_is_a_page() -> None:
    nav = _nav_pages(_config()["nav"])
    assert sorted(nav) == sorted(str(p.relative_to(DOCS)) for p in PAGES)


def test_the_site_url_is_the_documentation_url_of_the_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert _config()["site_url"] == SITE_URL
    assert f'Documentation = "{SITE_URL}"' in pyproject


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_block_of_a_page_is_included_from_a_file(page: Path) -> None:
    if page in GENERATED:
        return
    text = page.read_text(encoding="utf-8")
    if page.name in ("contributing.md", "changelog.md"):  # the repository's own files, whole
        assert SNIPPET_RE.match(text.strip().splitlines()[-1])
        return
    inline = [
        fence.group("body")
        for fence in FENCE_RE.finditer(text)
        if not SNIPPET_RE.match(fence.group("body").strip())
    ]
    assert inline == [], f"{page.name}: code written in the page instead of included"


def test_every_included_file_and_section_exists() -> None:
    includes = _includes()
    assert len(includes) > 40
    for page, path, section in includes:
        file = ROOT / path
        assert file.is_file(), f"{page.name} includes {path}, which does not exist"
        if section is not None:
            text = file.read_text(encoding="utf-8")
            assert f"--8<-- [start:{section}]" in text, f"{page.name}: no section {section}"
            assert f"--8<-- [end:{section}]" in text, f"{page.name}: section {section} not ended"


def test_every_example_file_is_shown_on_a_page() -> None:
    shown = {ROOT / path for _, path, _ in _includes()}
    files = {
        p
        for p in EXAMPLES.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "__")) for part in p.relative_to(EXAMPLES).parts)
    }  # not the caches (__pycache__, .ruff_cache)
    # How the default run collects them and ruff checks them: not examples.
    files -= {EXAMPLES / "conftest.py", EXAMPLES / "ruff.toml"}
    assert sorted(str(p.relative_to(ROOT)) for p in files - shown) == []


def test_every_quote_of_the_example_application_resolves() -> None:
    quotes = [
        match
        for page in PAGES
        for match in HOOKS.DIRECTIVE_RE.finditer(page.read_text(encoding="utf-8"))
        if match.group("kind") == "quote"
    ]
    assert len(quotes) >= 8
    for match in quotes:
        code = HOOKS.render("quote", match.group("args"))
        ast.parse(code.split("\n", 1)[1].rsplit("```", 1)[0])  # whole definitions


def test_a_quote_of_a_name_that_is_gone_fails_the_build() -> None:
    with pytest.raises(HOOKS.DirectiveError, match="defines no wait_forever"):
        HOOKS.expand("<!-- quote examples/batch_app/poller.py wait_forever -->")
    with pytest.raises(HOOKS.DirectiveError, match="one of endpoints"):
        HOOKS.expand("<!-- generated changelog -->")


def test_the_endpoint_table_lists_every_route_the_mock_serves() -> None:
    from pytest_trigger_batches.table import TABLE

    table = HOOKS.endpoints()
    assert [f"`{name}`" in table for name in TABLE.names()] == [True] * len(TABLE.names())


# -- the reference ------------------------------------------------------------------------


def _reference() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))


def test_every_public_name_has_its_entry_in_the_reference() -> None:
    # At the name users import, so the entry survives a move between the package's modules.
    documented = set(re.findall(r"^::: pytest_trigger_batches\.(\w+)$", _reference(), re.M))
    public = {name for name in package.__all__ if name != "__version__"}
    assert public - documented == set()
    assert "`__version__`" in _reference()


# -- every parameter and field a user needs is written out, not only learnt by `inspect` --


def _documented_calls() -> dict[str, Callable[..., object]]:
    from pytest_trigger_batches.markers import TriggerBatchOptions

    # Every public method of the facade that takes an argument: a new one is documented.
    names = sorted(
        name
        for name, member in vars(package.TriggerApi).items()
        if not name.startswith("_") and inspect.isfunction(member) and _parameters(member)
    )
    calls: dict[str, Callable[..., object]] = {
        name: getattr(package.TriggerApi, name) for name in names
    }
    calls["trigger_batch_factory.run"] = package.BatchFactory.run
    calls["trigger_batch_factory.runs_of"] = package.BatchFactory.runs_of
    calls["@pytest.mark.trigger_batch"] = TriggerBatchOptions.__init__
    return calls


def _pages_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in PAGES)


def _parameters(call: Callable[..., object]) -> list[str]:
    skipped = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    return [
        name
        for name, parameter in inspect.signature(call).parameters.items()
        if name != "self" and parameter.kind not in skipped
    ]


DOCUMENTED_CALLS = _documented_calls()


@pytest.mark.parametrize("name", list(DOCUMENTED_CALLS))
def test_a_page_writes_out_every_parameter_of_a_public_call(name: str) -> None:
    """Somewhere the site writes `name(...)` with each of its parameters."""
    wanted = _parameters(DOCUMENTED_CALLS[name])
    spans = re.findall(rf"`{re.escape(name)}\((.*?)\)`", _pages_text(), re.S)
    assert spans, f"no page writes `{name}(...)`"

    def named(span: str) -> list[str]:
        return [p for p in wanted if re.search(rf"\b{p}\b", span)]

    best = max(spans, key=lambda span: len(named(span)))
    missing = [p for p in wanted if p not in named(best)]
    assert not missing, f"`{name}(...)` on the site leaves out {missing}"


def _field_tables() -> list[set[str]]:
    """The names in the first column of each `| field | what |` table of the site."""
    tables = re.findall(
        r"^\| field \| what \|\n\| --- \| --- \|\n((?:\|.*\n)+)", _pages_text(), re.M
    )
    return [
        set(re.findall(r"`(\w+)`", "\n".join(row.split("|")[1] for row in table.splitlines())))
        for table in tables
    ]


@pytest.mark.parametrize(
    "record",
    [package.RecordedCall, package.TriggeredItem, package.TriggerRun],
    ids=lambda cls: cls.__name__,
)
def test_a_table_of_the_site_lists_every_field_of_a_record(record: type) -> None:
    fields = {f.name for f in dataclasses.fields(record)}
    fields |= {name for name, value in vars(record).items() if isinstance(value, property)}
    best = max(_field_tables(), key=lambda table: len(fields & table))
    assert fields - best == set(), f"{record.__name__}: no table lists {sorted(fields - best)}"


def test_the_v1_batch_answer_lists_each_runs_idempotency_key() -> None:
    endpoints = (DOCS / "reference" / "endpoints.md").read_text(encoding="utf-8")
    [row] = [
        line for line in endpoints.splitlines() if line.startswith("| `POST /api/v1/tasks/batch`")
    ]
    assert "runs: [{id, taskIdentifier, isCached, idempotencyKey?}]" in row


def _fixtures() -> set[str]:
    """The plugin's fixtures: its functions decorated with `@pytest.fixture`."""
    tree = ast.parse((ROOT / "src" / "pytest_trigger_batches" / "plugin.py").read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(ast.unparse(d).startswith("pytest.fixture") for d in node.decorator_list)
    }


def test_every_fixture_has_its_entry_in_the_reference() -> None:
    fixtures = _fixtures()
    assert fixtures >= {"trigger_batch_factory", "mock_trigger_api", "trigger_api_server"}
    documented = set(re.findall(r"^::: pytest_trigger_batches\.plugin\.(\w+)$", _reference(), re.M))
    assert fixtures - documented == set()


# -- the plugin's messages link to the recipe that explains them ---------------------------


def test_every_link_in_the_plugins_messages_leads_to_a_page() -> None:
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "src" / "pytest_trigger_batches").rglob("*.py")
    )
    links = set(re.findall(re.escape(SITE_URL) + r"([\w/-]*)", source))
    assert {"recipes/unserved-endpoints/", "recipes/retries/", "recipes/other-plugins/"} <= links
    for link in links:
        assert (DOCS / (link.rstrip("/") + ".md")).is_file(), f"{SITE_URL}{link}: no such page"


# -- what the pages show is what the plugin prints ------------------------------------------

# (the file shown as a failing test, the text shown under it, the phase that fails)
MESSAGES = [
    ("recipes/retries/unused_fault.py", "recipes/retries/unused_fault.txt", "teardown"),
    ("recipes/unserved/unserved_request.py", "recipes/unserved/unserved_request.txt", "call"),
    ("recipes/other_plugins/httpx_clash.py", "recipes/other_plugins/httpx_clash.txt", "setup"),
    ("recipes/origin/changed_url.py", "recipes/origin/changed_url.txt", "call"),
]


def _failed_report(pytester: pytest.Pytester, source: Path) -> pytest.TestReport:
    tests = pytester.mkdir("tests")
    (tests / "test_app.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    recorded = pytester.inline_run("-p", "no:randomly", f"--trigger-seed={RUN_SEED}")
    failed = [r for r in recorded.getreports("pytest_runtest_logreport") if r.failed]
    assert len(failed) == 1, failed
    return failed[0]


def _normalized(text: str) -> str:
    # The parts of a message that depend on the installed versions: httpx's user agent,
    # and the length of the JSON it writes (httpx before 0.28 puts spaces after `:`).
    text = re.sub(r"python-httpx/[\w.]+", "python-httpx/x.y", text)
    return re.sub(r"content-length: \d+", "content-length: N", text)


@pytest.mark.parametrize(("example", "shown", "when"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_the_failure_shown_on_the_page_is_what_pytest_prints(
    pytester: pytest.Pytester, example: str, shown: str, when: str
) -> None:
    report = _failed_report(pytester, EXAMPLES / example)
    assert report.when == when
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr)
    # An exception's message, as pytest's summary names it (its class without the module).
    message = re.sub(r"^[\w.]+\.(\w+: )", r"\1", message)
    expected = (EXAMPLES / shown).read_text(encoding="utf-8")
    assert _normalized(message + "\n") == _normalized(expected)


def test_the_seed_note_shown_on_the_page_is_what_pytest_prints(pytester: pytest.Pytester) -> None:
    report = _failed_report(pytester, EXAMPLES / "recipes/reproducible/failing_seed.py")
    [note] = [content for title, content in report.sections if title == "trigger-batches"]
    shown = (EXAMPLES / "recipes/reproducible/seed_note.txt").read_text(encoding="utf-8")
    assert note + "\n" == shown
    header = (EXAMPLES / "recipes/reproducible/seed_header.txt").read_text(encoding="utf-8")
    assert f"--trigger-seed={RUN_SEED})" in header


def test_the_ini_option_on_the_origin_page_sets_the_origin(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml", pyproject=(EXAMPLES / "recipes/origin/trigger_api_url.toml").read_text()
    )
    pytester.makepyfile(
        "def test_origin(mock_trigger_api):\n"
        "    assert mock_trigger_api.base_url == 'https://trigger.internal/base'\n"
    )
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_the_seed_pinned_for_the_run_pins_every_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml", pyproject=(EXAMPLES / "recipes/reproducible/pin_for_the_run.toml").read_text()
    )
    pytester.makepyfile("def test_one(trigger_seed):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["trigger-batches: seed 1234 (rerun with --trigger-seed=1234)"])


@pytest.mark.slow  # a pytest process of its own (about 2 s); CI's full run has it
def test_the_pytest_socket_settings_let_the_server_through_and_nothing_else(
    pytester: pytest.Pytester,
) -> None:
    if importlib.util.find_spec("pytest_socket") is None:  # the compat group
        if os.environ.get("TRIGGER_BATCHES_COMPAT") == "required":
            pytest.fail("pytest-socket is not installed, and TRIGGER_BATCHES_COMPAT=required")
        pytest.skip("pytest-socket is not installed (pip install -e . --group compat)")
    pytester.makefile(
        ".toml", pyproject=(EXAMPLES / "recipes/other_plugins/pytest_socket.toml").read_text()
    )
    pytester.makepyfile(
        """
        import socket
        import httpx
        import pytest

        def test_the_server(trigger_api_server):
            key = {"Authorization": f"Bearer {trigger_api_server.secret_key}"}
            url = f"{trigger_api_server.base_url}/api/v1/batches/batch_cmissing"
            assert httpx.get(url, headers=key).status_code == 404

        def test_another_host_is_blocked():
            with pytest.raises(Exception, match="192.0.2.1"):
                socket.create_connection(("192.0.2.1", 80), timeout=1)
        """
    )
    # A process of its own: pytest-socket patches the socket module for good. (The suite
    # turns the plugin off in inner runs: `-p socket` turns it on again.)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "socket")
    result.assert_outcomes(passed=2)


def test_the_serve_transcript_is_what_the_command_prints() -> None:
    command, *printed = (
        (EXAMPLES / "recipes/http_server/serve.txt").read_text(encoding="utf-8").splitlines()
    )
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[:3] == ["python", "-m", "pytest_trigger_batches"]
    port = argv.index("--port") + 1
    argv[port] = "0"  # any free port: the page's 8787 may be taken
    with subprocess.Popen(
        [sys.executable, *argv[1:]], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as server:
        assert server.stdout is not None
        lines = [server.stdout.readline().rstrip("\n") for _ in printed]
        server.terminate()
        server.wait(timeout=30)
    actual_port = re.search(r"127\.0\.0\.1:(\d+)", lines[0])
    assert actual_port is not None
    shown = "\n".join(lines).replace(f":{actual_port.group(1)}", ":8787")
    shown = re.sub(r"TRIGGER_SECRET_KEY=tr_dev_\w+", "TRIGGER_SECRET_KEY=tr_dev_...", shown)
    assert shown == "\n".join(printed)


# -- the benchmarks' plot -----------------------------------------------------------------


def test_the_plot_on_the_site_is_drawn_from_the_measured_table() -> None:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = run  # its dataclasses look their module up
    spec.loader.exec_module(run)
    chart = run.bars((DOCS / "benchmarks.md").read_text(encoding="utf-8"))
    ratios = {bar.key: bar.ratio for bar in chart}
    assert {"1a", "2a", "2b", "4a", "4b"} <= set(ratios)
    assert ratios["4b"] < 0.01  # "289x faster": the reference takes 289 times as long
    assert all(bar.label for bar in chart)
    drawn = run.svg(chart)
    assert drawn.count("<rect ") == len(chart) + 1  # a bar each, and the background
    shown = (DOCS / "benchmarks.svg").read_text(encoding="utf-8")
    assert shown == drawn, "docs/benchmarks.svg is out of date: python benchmarks/run.py plot"
