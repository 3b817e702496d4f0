"""mkdocs hooks of the documentation site (`hooks:` in mkdocs.yml).

Two directives, written as HTML comments in a page's Markdown, are replaced before the
page is rendered, so that nothing on the site is copied by hand:

- `<!-- quote PATH NAME [NAME ...] -->`: a Python block holding the source of the named
  definitions of the file at PATH (from the repository root): a function, a class, a
  method (`Class.method`), a module-level assignment (`ROUTE`), or `imports` (the
  module's imports). The example application's code is quoted this way, by name, so a
  quote follows the code as it changes and a name that is gone fails the build.
- `<!-- generated NAME -->`: a reference table or text made from the package itself:
  `endpoints` (the routing table), `cli` (the `serve` command's help), `pytest-options`
  and `markers` (as pytest lists them).

Code blocks of the site's own examples are included with `pymdownx.snippets` from files
under `docs/examples/`, which the test suite collects.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/pytest-trigger-batches/pytest-trigger-batches"
DIRECTIVE_RE = re.compile(r"^<!-- (?P<kind>quote|generated) (?P<args>[^>]*?) -->$", re.M)


class DirectiveError(ValueError):
    """A directive names a file, a definition or a generator that does not exist."""


# -- quotes ------------------------------------------------------------------------------


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """Every quotable definition of a module, by the name a directive uses."""
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}.{member.name}"] = member
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = node
    return found


def _segment(lines: list[str], node: ast.stmt) -> str:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    assert node.end_lineno is not None
    return textwrap.dedent("".join(lines[first - 1 : node.end_lineno])).rstrip("\n")


def quote(path: str, names: list[str]) -> str:
    """The source of `names` in the file at `path`, as one block of code."""
    file = ROOT / path
    if not file.is_file():
        raise DirectiveError(f"quote: no file {path}")
    text = file.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    definitions = _definitions(tree)
    parts: list[tuple[str, bool]] = []  # (code, whether it is a definition)
    for name in names:
        if name == "imports":
            imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
            if not imports:
                raise DirectiveError(f"quote: {path} imports nothing")
            first, last = imports[0].lineno, imports[-1].end_lineno
            parts.append(("".join(lines[first - 1 : last]).rstrip("\n"), False))
            continue
        node = definitions.get(name)
        if node is None:
            raise DirectiveError(f"quote: {path} defines no {name}")
        is_definition = not isinstance(node, ast.Assign | ast.AnnAssign)
        parts.append((_segment(lines, node), is_definition))
    code = parts[0][0]
    for (before, defined_before), (after, defined) in itertools.pairwise(parts):
        if defined or defined_before:
            gap = "\n\n\n"  # two blank lines around a definition, as the files have them
        elif "\n" in before:
            gap = "\n\n"
        else:
            gap = "\n"  # consecutive one-line assignments
        code += gap + after
    return code


# -- generated reference ------------------------------------------------------------------


def endpoints() -> str:
    """The routing table as a Markdown table: what the mock serves, with its options."""
    from pytest_trigger_batches.table import TABLE

    rows = [
        "| route | public tokens | CORS | 404 retried | body limit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for route in TABLE.routes:
        limit = f"{route.max_body:,} bytes" if route.max_body else ""
        tokens = "no key needed" if route.public else _yes(route.allow_jwt)
        rows.append(
            f"| `{route.method} {route.template}` | {tokens} | "
            f"{_yes(route.cors)} | {_yes(route.retry_not_found)} | {limit} |"
        )
    return "\n".join(rows)


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _run(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "88", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TRIGGER_API_URL", None)
    with tempfile.TemporaryDirectory() as empty:  # no project's ini or conftest
        done = subprocess.run(
            [sys.executable, *args],
            cwd=empty,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    return done.stdout


def cli() -> str:
    """`python -m pytest_trigger_batches serve --help`, as a console shows it."""
    return "$ python -m pytest_trigger_batches serve --help\n" + _run(
        "-m", "pytest_trigger_batches", "serve", "--help"
    ).rstrip("\n")


def pytest_options() -> str:
    """The plugin's group of `pytest --help` and its ini options, as pytest prints them."""
    text = _run("-m", "pytest", "--help", "-p", "no:cacheprovider")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Trigger.dev batches"))
    group = []
    for line in lines[start:]:
        if not line.strip():
            break
        group.append(line)
    ini = []
    for i, line in enumerate(lines):
        if line.strip().startswith("trigger_"):
            ini.append(line)
            ini.extend(n for n in lines[i + 1 : i + 4] if n.startswith(" " * 20))
    return "\n".join([*group, "", "[pytest] ini-options:", *ini])


def markers() -> str:
    """The plugin's markers as `pytest --markers` lists them, one item each."""
    text = _run("-m", "pytest", "--markers", "-p", "no:cacheprovider")
    items = []
    for paragraph in text.split("\n\n"):
        if paragraph.startswith("@pytest.mark.trigger_"):
            signature, _, description = " ".join(paragraph.split()).partition("): ")
            items.append(f"- `{signature})`: {description}")
    if not items:
        raise DirectiveError("pytest --markers lists no trigger_ marker: is the plugin installed?")
    return "\n".join(items)


GENERATORS: dict[str, tuple[str, Callable[[], str]]] = {
    "endpoints": ("", endpoints),
    "cli": ("console", cli),
    "pytest-options": ("text", pytest_options),
    "markers": ("", markers),
}


# -- the hook ---------------------------------------------------------------------------


def render(kind: str, args: str) -> str:
    """The Markdown a directive stands for."""
    words = args.split()
    if kind == "quote":
        if len(words) < 2:
            raise DirectiveError(f"quote needs a path and a name: {args!r}")
        path, names = words[0], words[1:]
        code = quote(path, names)
        return f'```python title="{path}"\n{code}\n```'
    if len(words) != 1 or words[0] not in GENERATORS:
        raise DirectiveError(f"generated: one of {', '.join(GENERATORS)}; got {args!r}")
    language, generate = GENERATORS[words[0]]
    text = generate()
    return f"```{language}\n{text}\n```" if language else text


def expand(markdown: str) -> str:
    """`markdown` with every directive replaced."""
    return DIRECTIVE_RE.sub(lambda m: render(m.group("kind"), m.group("args")), markdown)


def on_page_markdown(markdown: str, **_: object) -> str:
    """mkdocs: expand the page's directives before it is rendered."""
    return expand(markdown)
