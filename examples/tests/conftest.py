"""Fixtures of the batch_app suite. The Trigger.dev fixtures come from the plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from batch_app.client import AsyncTriggerClient, TriggerClient
from batch_app.trigger import Job


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """pytest.ini sets pytest-asyncio's loop scope; without the plugin, declare the option."""
    if not pluginmanager.has_plugin("asyncio"):
        parser.addini("asyncio_default_fixture_loop_scope", "unused without pytest-asyncio")


@pytest.fixture
def jobs() -> list[Job]:
    """The app's own records: invoices 1040 to 1045, reminders for the odd ones."""
    return [
        Job(f"invoice-{n}", "send-reminder" if n % 2 else "send-invoice", {"invoice": n})
        for n in range(1040, 1046)
    ]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_trigger_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own TRIGGER_* variables must not reach the tests (or the real API)."""
    monkeypatch.delenv("TRIGGER_API_URL", raising=False)
    monkeypatch.delenv("TRIGGER_SECRET_KEY", raising=False)


@dataclass
class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def retry_waits() -> list[float]:
    """The waits the clients asked for between attempts (they do not really sleep)."""
    return []


@pytest.fixture
def client(mock_trigger_api, retry_waits) -> Iterator[TriggerClient]:
    with TriggerClient(
        base_url=mock_trigger_api.base_url,
        secret_key=mock_trigger_api.secret_key,
        sleep=retry_waits.append,
    ) as client:
        yield client


@pytest.fixture
async def async_client(mock_trigger_api, retry_waits) -> AsyncIterator[AsyncTriggerClient]:
    async def sleep(seconds: float) -> None:
        retry_waits.append(seconds)

    async with AsyncTriggerClient(
        base_url=mock_trigger_api.base_url,
        secret_key=mock_trigger_api.secret_key,
        sleep=sleep,
    ) as client:
        yield client
