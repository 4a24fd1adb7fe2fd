"""Fixtures for the listener tests: real sockets on 127.0.0.1, cleaned up after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import logging
from typing import Any

import pytest

from custom_components.g90_cloud.g90.aio.server import Listener, ListenerConfig

from .helpers import LOCAL, FakeCloud, PanelClient, Recorder, Responder, answering

StartListener = Callable[..., Awaitable[tuple[Listener, Recorder]]]
StartCloud = Callable[..., Awaitable[FakeCloud]]
ConnectPanel = Callable[..., Awaitable[PanelClient]]

FAST: dict[str, Any] = {
    "host": LOCAL,
    "port": 0,
    "idle_timeout": 10.0,
    "reply_timeout": 1.0,
    "upstream_connect_timeout": 1.0,
    "upstream_backoff_initial": 0.05,
    "upstream_backoff_max": 0.2,
}
"""Limits small enough for tests; each test overrides what it is about."""


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """These tests talk over real loopback sockets (the HA plugin blocks them by default)."""


@pytest.fixture(autouse=True)
def _no_loop_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test whose event loop reported an unhandled error (a task crashed, say)."""
    yield
    crashes = [
        record
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR and record.name in {"asyncio", "homeassistant.runner"}
    ]
    assert not crashes, [record.getMessage() for record in crashes]


@pytest.fixture
async def start_listener() -> AsyncIterator[StartListener]:
    """Start listeners (FAST limits, plus overrides and callbacks); all closed after the test."""
    started: list[Listener] = []

    async def start(**overrides: Any) -> tuple[Listener, Recorder]:
        recorder = Recorder()
        callbacks = {
            "on_event": overrides.pop("on_event", recorder.on_event),
            "on_traffic": overrides.pop("on_traffic", recorder.on_traffic),
            "on_panel": overrides.pop("on_panel", recorder.on_panel),
        }
        listener = Listener(ListenerConfig(**(FAST | overrides)), **callbacks)
        await listener.start()
        started.append(listener)
        return listener, recorder

    yield start
    for listener in started:
        await listener.close()


@pytest.fixture
async def start_cloud() -> AsyncIterator[StartCloud]:
    """Start fake clouds; all are closed after the test."""
    started: list[FakeCloud] = []

    async def start(respond: Responder = answering, port: int = 0) -> FakeCloud:
        cloud = FakeCloud(respond)
        await cloud.start(port)
        started.append(cloud)
        return cloud

    yield start
    for cloud in started:
        await cloud.close()


@pytest.fixture
async def connect() -> AsyncIterator[ConnectPanel]:
    """Connect panels; all are closed after the test."""
    panels: list[PanelClient] = []

    async def open_panel(port: int, host: str = LOCAL) -> PanelClient:
        panel = await PanelClient.connect(port, host)
        panels.append(panel)
        return panel

    yield open_panel
    for panel in panels:
        await panel.close()
