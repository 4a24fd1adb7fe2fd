"""The relay's answers: the cloud's whenever it can give them, ours only when it cannot.

A cloud that is slow to connect is played by a gate: a listening socket whose
one-slot accept queue is kept full, so the listener's connection attempt is
dropped by the kernel and retried a second later (TCP's first retransmission);
the gate then accepts it and hands it to the fake cloud. Everything stays on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import socket
import time

import pytest

from ..samples import GUID, HELLO, STATUS_DISARMED, STATUS_DOOR_OPEN
from .conftest import ConnectPanel, StartCloud, StartListener
from .helpers import (
    FAKE_PING_REPLY,
    FAKE_PORT,
    LOCAL,
    PING,
    CloudLink,
    FakeCloud,
    answering,
    eventually,
    hello_reply,
    triple,
)

THEIRS = hello_reply(FAKE_PORT)
OURS = hello_reply(5678)
SLOW_CONNECT = 1.0
"""How long the gate keeps the listener's connection attempt waiting (TCP retransmits after 1 s)."""


class SlowGate:
    """A cloud address where connecting takes about a second, then the fake cloud answers."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud
        self.sock = socket.socket()
        self.sock.bind((LOCAL, 0))
        self.sock.listen(0)  # one connection fills the queue
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self._fillers: list[socket.socket] = []
        self._task: asyncio.Task[None] | None = None
        self._served: set[asyncio.Task[None]] = set()

    async def start(self, accept_after: float) -> None:
        """Fill the accept queue; start accepting (and serving) after `accept_after` seconds."""
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((LOCAL, self.port))
            self._fillers.append(filler)
        await asyncio.sleep(0.05)
        self._task = asyncio.create_task(self._accept_later(accept_after))

    async def _accept_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        fillers = {filler.getsockname() for filler in self._fillers}
        while True:
            accepted, peer = await loop.sock_accept(self.sock)
            if peer in fillers:
                accepted.close()
            else:
                self._served.add(loop.create_task(self.cloud.adopt(accepted)))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for served in self._served:
            served.cancel()
        for filler in self._fillers:
            filler.close()
        self.sock.close()


@pytest.fixture
async def slow_gate(
    start_cloud: StartCloud,
) -> AsyncIterator[Callable[..., asyncio.Future[SlowGate]]]:
    gates: list[SlowGate] = []

    async def open_gate(accept_after: float = 0.2) -> SlowGate:
        gate = SlowGate(await start_cloud(answering))
        await gate.start(accept_after)
        gates.append(gate)
        return gate

    yield open_gate  # type: ignore[misc]
    for gate in gates:
        await gate.close()


async def test_a_hello_waits_for_a_cloud_still_connecting_and_gets_its_answer(
    start_listener: StartListener,
    connect: ConnectPanel,
    slow_gate: Callable[..., asyncio.Future[SlowGate]],
) -> None:
    """At the start of a connection the cloud is still being reached: its answer, not ours."""
    gate = await slow_gate()
    listener, rec = await start_listener(
        upstream_host=LOCAL,
        upstream_port=gate.port,
        reply_timeout=3.0,
        upstream_connect_timeout=3.0,
    )
    started = time.monotonic()
    panel = await connect(listener.port)
    await panel.send(HELLO, STATUS_DOOR_OPEN)
    await panel.expect(THEIRS, limit=3.0)
    assert time.monotonic() - started >= SLOW_CONNECT * 0.8  # it did wait for the cloud
    await rec.wait_events(1)
    assert rec.raws == [STATUS_DOOR_OPEN]  # the event did not wait
    link = await gate.cloud.frames(0, 2)
    assert link.frames == [HELLO, STATUS_DOOR_OPEN]  # once each, in order
    await panel.send(PING)
    await panel.expect(FAKE_PING_REPLY)
    assert bytes(panel.received) == THEIRS + FAKE_PING_REPLY


async def test_a_cloud_connecting_too_long_means_our_answer_then_a_swallowed_replay(
    start_listener: StartListener,
    connect: ConnectPanel,
    slow_gate: Callable[..., asyncio.Future[SlowGate]],
) -> None:
    """Past reply_timeout the panel gets ours; the cloud, once up, hears the hello unseen."""
    gate = await slow_gate()
    listener, _rec = await start_listener(
        upstream_host=LOCAL,
        upstream_port=gate.port,
        reply_timeout=0.3,
        upstream_connect_timeout=3.0,
    )
    panel = await connect(listener.port)
    started = time.monotonic()
    await panel.send(HELLO)
    await panel.expect(OURS)
    assert 0.25 <= time.monotonic() - started < SLOW_CONNECT
    await panel.send(STATUS_DISARMED)
    link = await gate.cloud.frames(0, 2)
    assert link.frames == [HELLO, STATUS_DISARMED]  # told who it is first, the event after
    await asyncio.sleep(0.3)  # the cloud's answer to the hello arrives, and is swallowed
    await panel.send(PING)
    await panel.expect(FAKE_PING_REPLY)
    assert bytes(panel.received) == OURS + FAKE_PING_REPLY


async def test_every_frame_gets_one_answer_when_the_cloud_answers_only_some(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """A cloud answering every second ping: each ping is answered once, by it or by us."""
    answered = 0

    def every_second_ping(link: CloudLink, frame: bytes) -> None:
        nonlocal answered
        if triple(frame) != triple(PING):
            answering(link, frame)
            return
        answered += 1
        if answered % 2:
            link.send(FAKE_PING_REPLY)

    cloud = await start_cloud(every_second_ping)
    listener, _rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=0.2
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.expect(THEIRS)
    pings = 8
    for _ in range(pings):
        await panel.send(PING)
        reply = await panel.read(len(PING), limit=3.0)
        assert reply in (PING, FAKE_PING_REPLY)
    await panel.quiet(0.5)  # and never a second answer
    assert len(panel.received) == len(THEIRS) + pings * len(PING)
    assert GUID in listener.panels


async def test_frames_waiting_for_a_silent_cloud_are_bounded(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """A flood of pings to a cloud that answers nothing: at most backlog_limit wait for it;
    the rest are answered at once; each ping gets exactly one answer."""

    def hello_only(link: CloudLink, frame: bytes) -> None:
        if triple(frame) != triple(PING):
            answering(link, frame)

    cloud = await start_cloud(hello_only)
    listener, _rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=0.5, backlog_limit=16
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.expect(THEIRS)
    await panel.send(PING * 2000)
    (connection,) = listener.connections
    await eventually(lambda: connection.counters.frames == 2001, "the pings read")
    assert connection.upstream is not None
    assert len(connection.upstream._waiting) <= 16  # the bound under test
    answers = await panel.read(len(PING) * 2000, limit=5.0)
    assert answers == PING * 2000  # ours, every one (the cloud echoes none)
    await panel.quiet(0.7)  # and no second answer when the waiting ones time out
