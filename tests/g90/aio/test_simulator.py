"""The simulated panel notices every way a cloud can answer wrongly."""

from __future__ import annotations

from collections.abc import Callable
import logging
import time

import pytest

from custom_components.g90_cloud.g90.aio.logs import QuietLog
from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS

from .conftest import StartCloud, StartListener
from .helpers import (
    FAKE_PING_REPLY,
    LOCAL,
    PING,
    CloudLink,
    discovery_reply,
    hello_reply,
    triple,
)

HELLO_TRIPLE = (0x01, 0x10, 0x20)
DISCOVERY_TRIPLE = (0x01, 0x30, 0x20)


def cloud(
    *,
    hello: bytes = hello_reply(5678),
    discovery: Callable[[], bytes] = lambda: discovery_reply("10.0.0.1", 5678, int(time.time())),
    ping: bytes = PING,
) -> Callable[[CloudLink, bytes], None]:
    """A scripted cloud: what it answers to hello, discovery and ping."""

    def respond(link: CloudLink, frame: bytes) -> None:
        answer = {HELLO_TRIPLE: hello, DISCOVERY_TRIPLE: discovery(), triple(PING): ping}
        link.send(answer.get(triple(frame), b""))

    return respond


@pytest.mark.parametrize(
    ("respond", "problem"),
    [
        (cloud(hello=hello_reply(5678)[:26] + PING), "third reply to hello is Ping"),
        (cloud(discovery=lambda: PING), "reply to discovery is Ping"),
        (
            cloud(discovery=lambda: discovery_reply("10.0.0.1", 5678, 1_000_000)),
            "off by more than 2 minutes",
        ),
        (cloud(ping=FAKE_PING_REPLY), "ping echo differs: 01 10 07 00"),
    ],
)
async def test_wrong_answers_are_problems(
    start_cloud: StartCloud, respond: Callable[[CloudLink, bytes], None], problem: str
) -> None:
    fake = await start_cloud(respond)
    lines: list[str] = []
    result = await simulate(LOCAL, fake.port, [], report=lines.append)
    assert len(result.problems) >= 1
    assert problem in result.problems[0]
    assert any(line.startswith("PROBLEM") and problem in line for line in lines)


async def test_right_answers_are_no_problem(start_cloud: StartCloud) -> None:
    fake = await start_cloud(cloud(hello=hello_reply(4444)))
    result = await simulate(LOCAL, fake.port, SCENARIOS["quick"], expect_port=4444, repeat=2)
    assert result.problems == []
    assert result.announced_port == 4444
    assert result.announced_ip == "10.0.0.1"
    assert [label for label, _frame in result.sent].count("hello") == 2


@pytest.mark.parametrize(
    ("hello", "error"),
    [(b"", "closed the connection"), (b"\xff" * 8, "impossible frame length")],
)
async def test_a_broken_cloud_stream_is_an_error(
    start_cloud: StartCloud, hello: bytes, error: str
) -> None:
    def respond(link: CloudLink, frame: bytes) -> None:
        if hello:
            link.send(hello)
        else:
            link.drop()

    fake = await start_cloud(respond)
    with pytest.raises(ConnectionError, match=error):
        await simulate(LOCAL, fake.port, [])


async def test_simulator_against_the_listener(start_listener: StartListener) -> None:
    listener, rec = await start_listener(cloud_ip="10.20.30.40", cloud_port=6000)
    result = await simulate(LOCAL, listener.port, SCENARIOS["demo"], speed=1000, expect_port=6000)
    assert result.problems == []
    assert result.announced_ip == "10.20.30.40"
    await rec.wait_events(18)
    assert [event.raw for event, _panel in rec.events] == [frame for _l, frame in result.sent[3:-1]]


def test_quiet_log_counts_repeats(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    log = QuietLog(logging.getLogger("test.quiet"), window=60, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, "test.quiet"):
        log.report("k", "first %s", 1)
        log.report("k", "again %s", 2)
        log.report("k", "again %s", 3)
        log.report("other", "other %s", 1, level=logging.INFO)
        now[0] += 61
        log.report("k", "later %s", 4)
        now[0] += 61
        log.report("k", "quiet %s", 5)
        for key in range(1002):  # a flood of distinct keys does not grow the table forever
            log.report(f"flood {key}", "flood")
    messages = [r.getMessage() for r in caplog.records if r.name == "test.quiet"]
    assert messages[:5] == [
        "first 1",
        "other 1",
        "later 4 (and 2 more like it in the last 60 s)",
        "quiet 5",
        "flood",
    ]
    assert len(log._seen) < 1000
