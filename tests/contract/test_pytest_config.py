"""Bad marker arguments, `--trigger-seed` values and ini settings: errors through pytest itself."""

from __future__ import annotations

import pytest

from pytest_trigger_batches import BatchStatus

STATUSES = ", ".join(BatchStatus)

# Inner runs: no reordering, and no hypothesis plugin (it imports hypothesis, over a
# second, into every in-process run: pytester forgets the modules a run imported).
INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")
MARKED = "import pytest\n\n{marker}\ndef test_app({fixture}):\n    pass\n"
FACTORY_MARK = "*@pytest.mark.trigger_batch({args}): {message}*"
MARKERS = [
    pytest.param(
        '@pytest.mark.trigger_batch("completed")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'completed'",
            message=f"status must be one of {STATUSES}; got 'completed' (statuses are upper*",
        ),
        id="trigger_batch-status-lower-case",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch(status="DONE")',
        "trigger_batch",
        FACTORY_MARK.format(
            args="status='DONE'", message=f"status must be one of {STATUSES}; got 'DONE'"
        ),
        id="trigger_batch-status-unknown",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", progress_after=-1)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', progress_after=-1",
            message="progress_after must be a whole number from 0 to 1000; got -1",
        ),
        id="trigger_batch-progress_after-negative",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", environment=5)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', environment=5",
            message="environment must be a non-empty string or None; got 5",
        ),
        id="trigger_batch-environment-int",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", environment="Prod")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', environment='Prod'",
            message="environment names are lower case, as in the key prefix *: 'prod'; got 'Prod'",
        ),
        id="trigger_batch-environment-upper-case",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", "PENDING")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', 'PENDING'",
            message="takes one positional argument (the status); got 2",
        ),
        id="trigger_batch-two-statuses",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", colour="red")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', colour='red'",
            message="unknown option colour; the options are status, run_count, *, progress_after",
        ),
        id="trigger_batch-unknown-option",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch(status="COMPLETED", run_count=0)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="status='COMPLETED', run_count=0",
            message="run_count must be a whole number from 1 to 1000; got 0",
        ),
        id="trigger_batch-run_count-0",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("ABORTED", run_count=4, failed_count=2)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'ABORTED', run_count=4, failed_count=2",
            message="failed_count for a ABORTED batch of 4 items must be 4 (every item); got 2",
        ),
        id="trigger_batch-failed_count-out-of-range",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", batch_id="")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', batch_id=''",
            message="batch_id must be 'batch_' + a 25-char cuid, 21-char nanoid, *; got ''*",
        ),
        id="trigger_batch-batch_id-empty",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", runs="yes")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', runs='yes'", message="runs must be True or False; got 'yes'"
        ),
        id="trigger_batch-runs-not-bool",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("PENDING", run_count=0)',
        "trigger_api_server",
        FACTORY_MARK.format(
            args="'PENDING', run_count=0",
            message="run_count must be a whole number from 1 to 1000; got 0",
        ),
        id="trigger_batch-on-the-server-fixture",
    ),
    pytest.param(
        "",
        "trigger_batch",
        "*the trigger_batch fixture needs a @pytest.mark.trigger_batch(status=...) marker*",
        id="trigger_batch-fixture-without-marker",
    ),
    pytest.param(
        '@pytest.mark.trigger_api("https://api.example")',
        "mock_trigger_api",
        "*@pytest.mark.trigger_api('https://api.example'): the options are keyword-only "
        "(base_url=..., clock=...); got 1 positional argument*",
        id="trigger_api-positional",
    ),
    pytest.param(
        '@pytest.mark.trigger_api(url="https://api.example")',
        "mock_trigger_api",
        "*@pytest.mark.trigger_api(url='https://api.example'): unknown option url; "
        "the options are base_url, clock*",
        id="trigger_api-unknown-argument",
    ),
    pytest.param(
        '@pytest.mark.trigger_api(base_url="ftp://api.example")',
        "mock_trigger_api",
        "*@pytest.mark.trigger_api(base_url=...): base_url must be an http(s) URL such as "
        "'https://api.trigger.dev'; got 'ftp://api.example'*",
        id="trigger_api-base_url-ftp",
    ),
    pytest.param(
        "@pytest.mark.trigger_api(base_url=5)",
        "mock_trigger_api",
        "*@pytest.mark.trigger_api(base_url=...): base_url must be an http(s) URL *; got 5*",
        id="trigger_api-base_url-int",
    ),
    pytest.param(
        "@pytest.mark.trigger_api(clock=5)",
        "trigger_api_server",
        "*@pytest.mark.trigger_api(clock=5): clock must be a callable returning seconds since "
        "the epoch (like time.time), or None for the wall clock; got 5*",
        id="trigger_api-clock-int",
    ),
]


@pytest.mark.parametrize(("marker", "fixture", "line"), MARKERS)
def test_a_bad_marker_errors_the_test_naming_the_parameter(
    pytester: pytest.Pytester, marker: str, fixture: str, line: str
) -> None:
    pytester.makepyfile(MARKED.format(marker=marker, fixture=fixture))
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([brackets(line)])


def brackets(line: str) -> str:
    """fnmatch reads `[...]` as a set of characters: match them literally."""
    return line.replace("[", "[[]")


SEEDS = ["abc", "", "1.5", "0x10"]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"trigger-seed-{s or 'empty'}" for s in SEEDS])
def test_a_bad_trigger_seed_is_a_usage_error(pytester: pytest.Pytester, seed: str) -> None:
    pytester.makepyfile("def test_app(trigger_batch_factory):\n    pass\n")
    result = pytester.runpytest(*INNER, f"--trigger-seed={seed}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*argument --trigger-seed: invalid int value: '{seed}'*"])
    assert "passed" not in result.stdout.str()


ORIGINS = [
    pytest.param(
        "ini",
        "ftp://api.example",
        "*the trigger_api_url ini option: base_url must be an http(s) URL such as "
        "'https://api.trigger.dev'; got 'ftp://api.example'*",
        id="ini-trigger_api_url-ftp",
    ),
    pytest.param(
        "ini",
        "api.trigger.dev",
        "*the trigger_api_url ini option: base_url must be an http(s) URL *; "
        "got 'api.trigger.dev'*",
        id="ini-trigger_api_url-without-scheme",
    ),
    pytest.param(
        "ini",
        "https://api.example/?region=eu",
        "*the trigger_api_url ini option: base_url must not have a query or fragment; "
        "got 'https://api.example/?region=eu'*",
        id="ini-trigger_api_url-query",
    ),
    pytest.param(
        "env",
        "localhost:3030",
        "*the TRIGGER_API_URL environment variable: base_url must be an http(s) URL *; "
        "got 'localhost:3030'*",
        id="env-TRIGGER_API_URL-without-scheme",
    ),
]


@pytest.mark.parametrize(("where", "value", "line"), ORIGINS)
def test_a_bad_origin_setting_errors_the_test_naming_its_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str, value: str, line: str
) -> None:
    monkeypatch.delenv("TRIGGER_API_URL", raising=False)
    if where == "ini":
        pytester.makeini(f"[pytest]\ntrigger_api_url = {value}\n")
    else:
        monkeypatch.setenv("TRIGGER_API_URL", value)
    pytester.makepyfile("def test_app(mock_trigger_api):\n    pass\n")
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([line])


def test_a_misspelt_ini_option_is_refused_under_strict_config(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntrigger_api_uri = https://api.example\n")
    pytester.makepyfile("def test_app(mock_trigger_api):\n    pass\n")
    result = pytester.runpytest(*INNER, "--strict-config")
    assert result.ret != pytest.ExitCode.OK
    result.stderr.fnmatch_lines(["*nknown config option: trigger_api_uri*"])
