"""Chaining to the real cloud, played by a fake cloud whose behaviour each test sets.

The fake cloud's replies are recognisable (it announces port 9999 and echoes
pings with header flag 7), ours are not (port 5678, exact echo), so the bytes a
panel receives tell whose replies it got.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import logging
import socket
import time

import pytest

from custom_components.g90_cloud.g90.aio.connection import PanelConnection
from custom_components.g90_cloud.g90.aio.server import Listener, ListenerConfig

from ..samples import (
    CLOUD_COMMAND,
    COMMAND_RESPONSE,
    GUID,
    HELLO,
    HELLO_REPLY_5678,
    NOTIFICATION_ACTIVITY,
    STATUS_DISARMED,
    STATUS_DOOR_OPEN,
)
from .conftest import ConnectPanel, StartCloud, StartListener
from .helpers import (
    FAKE_IP,
    FAKE_PING_REPLY,
    FAKE_PORT,
    FAKE_TIME,
    LOCAL,
    PING,
    WAIT,
    ClosedPort,
    CloudLink,
    Recorder,
    activity as door,
    answering,
    basic,
    cloud_answer,
    command_response,
    discovery,
    discovery_reply,
    eventually,
    hello,
    hello_reply,
    panel_state,
    silent,
    triple,
)

OURS = HELLO_REPLY_5678
"""Our listener announces port 5678 (its default cloud_port)."""
THEIRS = hello_reply(FAKE_PORT)
POINTED_HERE = discovery_reply("127.0.0.1", 5678, FAKE_TIME)
"""The cloud's discovery answer as the panel gets it: the listener's announced address."""
HELLO_2 = hello(GUID, numbers=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
"""A later hello from the same panel, different bytes."""


@pytest.fixture
def closed_port() -> Iterator[ClosedPort]:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    port = ClosedPort()
    yield port
    port.release()


def only_connection(listener: Listener) -> PanelConnection:
    (connection,) = listener.connections
    return connection


async def upstream_up(listener: Listener) -> None:
    """Wait until the (only) panel connection's upstream link is up (no callback says so)."""

    def state() -> bool:
        connections = list(listener.connections)
        if len(connections) != 1 or connections[0].upstream is None:
            return False
        return connections[0].upstream.connected

    await eventually(state, "upstream link up")


def cloud_frames(rec: Recorder) -> list[bytes]:
    """The frames the cloud sent, as the listener recorded them."""
    return [record.frame for record in rec.messages if record.origin == "cloud"]


# --- (a) the upstream answers -------------------------------------------------------------


async def test_upstream_answers_and_bytes_pass_untouched(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """Every byte both ways, but where the cloud's discovery answer says where the cloud
    is: there the listener's announced address goes (the cloud's time kept), so the
    vendor cannot point the panel back at itself."""
    cloud = await start_cloud(answering)
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=0.3
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)  # the cloud is reached once the panel says who it is
    await panel.expect(THEIRS)
    await upstream_up(listener)
    await panel.send(discovery(GUID))
    await panel.expect(POINTED_HERE)
    with_events = [STATUS_DOOR_OPEN, NOTIFICATION_ACTIVITY, panel_state(4)]
    await panel.send(*with_events, PING)
    await panel.expect(FAKE_PING_REPLY)

    link = await cloud.link(0)
    link.send(CLOUD_COMMAND)
    await panel.expect(CLOUD_COMMAND)
    await panel.send(COMMAND_RESPONSE)
    sent = [HELLO, discovery(GUID), *with_events, PING, COMMAND_RESPONSE]
    await cloud.frames(0, len(sent))

    # Nothing of ours follows, even well past the reply timeout.
    await panel.quiet(0.6)
    assert bytes(panel.received) == THEIRS + POINTED_HERE + FAKE_PING_REPLY + CLOUD_COMMAND
    assert link.frames == sent
    assert bytes(link.received) == b"".join(sent)
    assert len(cloud.links) == 1

    await rec.wait_events(len(with_events))
    assert rec.raws == with_events
    assert rec.guids == [GUID] * len(with_events)
    connection = only_connection(listener)
    assert connection.counters.replies == 0
    assert connection.counters.upstream_frames == len(sent)
    status = listener.panels[GUID]
    assert status.upstream_connected is True
    assert status.last_upstream_packet is not None
    assert cloud_frames(rec) == [
        THEIRS[:13],
        THEIRS[13:26],
        THEIRS[26:],
        discovery_reply(FAKE_IP, FAKE_PORT, FAKE_TIME),
        FAKE_PING_REPLY,
        CLOUD_COMMAND,
    ]


# --- (b) the upstream refuses ---------------------------------------------------------------


async def test_upstream_refusing_means_our_replies_at_once(
    start_listener: StartListener,
    connect: ConnectPanel,
    closed_port: ClosedPort,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "custom_components.g90_cloud.g90.aio")
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=closed_port.port, reply_timeout=3.0
    )
    panel = await connect(listener.port)
    started = time.monotonic()
    await panel.send(HELLO)
    await panel.expect(HELLO_REPLY_5678, limit=1.5)
    await panel.send(STATUS_DISARMED, PING)
    await panel.expect(PING, limit=1.5)
    assert time.monotonic() - started < 1.5  # not after the 3 s reply timeout
    await rec.wait_events(1)
    assert rec.raws == [STATUS_DISARMED]
    assert rec.guids == [GUID]
    assert listener.panels[GUID].upstream_connected is False

    upstream = only_connection(listener).upstream
    assert upstream is not None
    await eventually(lambda: upstream.reconnects >= 2, "two retries")
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    assert bytes(panel.received) == HELLO_REPLY_5678 + PING


# --- (c) the upstream drops mid-stream ------------------------------------------------------


async def test_upstream_dropping_mid_stream(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    cloud = await start_cloud()

    def answer_but_hang_up_on_the_first_ping(link: CloudLink, frame: bytes) -> None:
        if link is cloud.links[0] and triple(frame) == triple(PING):
            link.drop()
            return
        answering(link, frame)

    cloud.respond = answer_but_hang_up_on_the_first_ping
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=3.0
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)  # the cloud is reached once the panel says who it is
    await panel.expect(THEIRS)
    await upstream_up(listener)

    # The cloud hangs up instead of answering the ping: ours comes at once.
    cloud.stop_listening()
    started = time.monotonic()
    await panel.send(PING)
    await panel.expect(PING, limit=1.5)
    assert time.monotonic() - started < 1.5  # not after the 3 s reply timeout
    await rec.until(lambda: rec.panel_updates[-1] == (GUID, True, False), "upstream down")

    # While it is away: events are kept for it; what needs a reply gets ours.
    away = [STATUS_DOOR_OPEN, NOTIFICATION_ACTIVITY]
    await panel.send(*away)
    await panel.send(HELLO_2)
    await panel.expect(OURS)
    await panel.send(STATUS_DISARMED)
    await rec.wait_events(3)

    # Back: it first hears the panel's last hello, then what it missed, in order.
    await cloud.start(cloud.port)
    link = await cloud.frames(1, 4)
    assert link.frames == [HELLO_2, *away, STATUS_DISARMED]
    await upstream_up(listener)
    await rec.until(lambda: rec.panel_updates[-1] == (GUID, True, True), "upstream up")
    # Its answer to the replayed hello is swallowed: the next bytes are its ping echo.
    await panel.send(PING)
    await panel.expect(FAKE_PING_REPLY)
    await cloud.frames(1, 5)
    await panel.quiet(0.2)

    assert bytes(panel.received) == THEIRS + PING + OURS + FAKE_PING_REPLY
    assert bytes(cloud.links[0].received) == HELLO + PING
    assert bytes(link.received) == HELLO_2 + b"".join(away) + STATUS_DISARMED + PING
    assert rec.raws == [*away, STATUS_DISARMED]
    assert rec.guids == [GUID] * 3
    assert cloud_frames(rec) == [*(THEIRS[:13], THEIRS[13:26], THEIRS[26:]) * 2, FAKE_PING_REPLY]


# --- (d) the upstream stays silent, then (e) comes back ---------------------------------------


async def test_silent_upstream_then_it_comes_back(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    reply_timeout = 0.3
    cloud = await start_cloud()

    def silent_twice_then_answering(link: CloudLink, frame: bytes) -> None:
        if cloud.links.index(link) >= 2:
            answering(link, frame)

    cloud.respond = silent_twice_then_answering
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=reply_timeout
    )
    panel = await connect(listener.port)

    started = time.monotonic()
    await panel.send(HELLO)  # it waits for the cloud being reached, which then says nothing
    await panel.expect(OURS)
    assert time.monotonic() - started >= reply_timeout * 0.9
    # The silent link was dropped and a new one opened, which hears the hello again.
    await cloud.hung_up(0)
    second = await cloud.frames(1, 1)
    assert second.frames == [HELLO]

    await upstream_up(listener)
    started = time.monotonic()
    await panel.send(STATUS_DOOR_OPEN, PING, discovery(GUID), PING)
    # Our replies to everything left waiting, in order, when the timeout strikes.
    discovery_answer = await panel.read(8 + 44)
    assert discovery_answer[:8] == PING
    assert discovery_answer[8:48] == discovery_reply("127.0.0.1", 5678, 0)[:40]
    await panel.expect(PING)
    assert time.monotonic() - started >= reply_timeout * 0.9
    await cloud.hung_up(1)

    # (e) The third link gets answers: the cloud's replies are the panel's again.
    third = await cloud.frames(2, 1)
    await upstream_up(listener)
    await panel.send(PING)
    await panel.expect(FAKE_PING_REPLY)
    await panel.send(HELLO_2)
    await panel.expect(THEIRS)
    await cloud.frames(2, 3)

    assert bytes(panel.received) == (
        OURS + PING + discovery_answer[8:] + PING + FAKE_PING_REPLY + THEIRS
    )
    assert bytes(cloud.links[0].received) == HELLO
    assert bytes(second.received) == HELLO + STATUS_DOOR_OPEN + PING + discovery(GUID) + PING
    assert bytes(third.received) == HELLO + PING + HELLO_2
    assert rec.raws == [STATUS_DOOR_OPEN]
    assert rec.guids == [GUID]


async def test_refusing_upstream_comes_back(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    closed_port: ClosedPort,
) -> None:
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=closed_port.port, reply_timeout=2.0
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.expect(OURS, limit=1.0)
    await panel.send(STATUS_DOOR_OPEN)
    await rec.wait_events(1)

    cloud = await start_cloud(answering, port=closed_port.release())
    link = await cloud.frames(0, 2)
    assert link.frames == [HELLO, STATUS_DOOR_OPEN]
    await upstream_up(listener)
    await panel.send(PING)
    await panel.expect(FAKE_PING_REPLY, limit=1.0)
    await panel.send(HELLO_2, STATUS_DISARMED)
    await panel.expect(THEIRS, limit=1.0)
    await cloud.frames(0, 5)

    assert bytes(panel.received) == OURS + FAKE_PING_REPLY + THEIRS
    assert bytes(link.received) == HELLO + STATUS_DOOR_OPEN + PING + HELLO_2 + STATUS_DISARMED
    assert rec.raws == [STATUS_DOOR_OPEN, STATUS_DISARMED]
    assert rec.guids == [GUID, GUID]


# --- the edges of chaining ---------------------------------------------------------------


async def test_backlog_is_bounded(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    closed_port: ClosedPort,
    caplog: pytest.LogCaptureFixture,
) -> None:
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=closed_port.port, backlog_limit=2
    )
    panel = await connect(listener.port)
    doors = [door(zone, f"Zone {zone}") for zone in (1, 2, 3)]
    await panel.send(HELLO, *doors)
    await panel.expect(OURS)
    await rec.wait_events(3)
    assert rec.raws == doors  # every event still reached the owner

    cloud = await start_cloud(answering, port=closed_port.release())
    link = await cloud.frames(0, 3)
    assert link.frames == [HELLO, *doors[1:]]
    assert any("oldest of 2 frames" in r.getMessage() for r in caplog.records)


async def test_upstream_sending_garbage_is_dropped_and_retried(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cloud = await start_cloud()

    def garbage_on_the_first_link(link: CloudLink, frame: bytes) -> None:
        if link is cloud.links[0] and triple(frame) == triple(PING):
            link.send(FAKE_PING_REPLY + b"\xff" * 8)
            return
        answering(link, frame)

    cloud.respond = garbage_on_the_first_link
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=cloud.port)
    panel = await connect(listener.port)
    await panel.send(HELLO)  # the cloud is reached once the panel says who it is
    await panel.expect(THEIRS)
    await upstream_up(listener)
    await panel.send(PING)
    await panel.expect(FAKE_PING_REPLY)  # what came before the garbage still went through
    await cloud.hung_up(0)
    second = await cloud.frames(1, 1)
    assert second.frames == [HELLO]
    await upstream_up(listener)
    await panel.send(door(1, "Door"), PING)
    await panel.expect(FAKE_PING_REPLY)
    await panel.quiet(0.1)
    assert bytes(panel.received) == THEIRS + FAKE_PING_REPLY * 2
    assert rec.raws == [door(1, "Door")]
    assert any("cannot be split" in r.getMessage() for r in caplog.records)


async def test_upstream_connect_timeout(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    """An upstream that never completes the TCP handshake: our replies, then retries."""
    caplog.set_level(logging.INFO, "custom_components.g90_cloud.g90.aio")
    with contextlib.ExitStack() as stack:
        # A listening socket that never accepts, its queue filled: further SYNs are dropped.
        full = stack.enter_context(socket.socket())
        full.bind((LOCAL, 0))
        full.listen(0)
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(full.getsockname())
        listener, rec = await start_listener(
            upstream_host=LOCAL,
            upstream_port=full.getsockname()[1],
            upstream_connect_timeout=0.2,
            reply_timeout=2.0,
        )
        panel = await connect(listener.port)
        await panel.send(HELLO, STATUS_DISARMED)
        await panel.expect(OURS, limit=1.0)
        await rec.wait_events(1)
        upstream = only_connection(listener).upstream
        assert upstream is not None
        await eventually(lambda: upstream.reconnects >= 1, "a connect timeout")
        assert not upstream.connected
        assert any("no connection within" in r.getMessage() for r in caplog.records)
        await listener.close()


async def test_close_ends_panel_and_upstream_connections(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    cloud = await start_cloud(silent)
    listener, _rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=5.0
    )
    port = listener.port
    panel = await connect(port)
    await panel.send(HELLO)  # left waiting for the silent cloud's answer
    await cloud.frames(0, 1)

    started = time.monotonic()
    await listener.close()
    assert time.monotonic() - started < 1.0
    assert await panel.eof(limit=1.0) == b""
    await cloud.hung_up(0)
    assert len(cloud.links) == 1  # and no reconnection after close
    assert not listener.panels[GUID].connected
    again, _ = await start_listener(port=port)
    assert again.port == port


async def test_stuck_panel_is_dropped_when_the_cloud_talks(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """The cloud floods a panel that reads nothing: the panel is let go, not buffered forever."""
    cloud = await start_cloud(answering)
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=0.3
    )
    panel = await connect(listener.port)
    panel.writer.transport.pause_reading()
    await panel.send(HELLO)
    link = await cloud.frames(0, 1)
    big = basic(0x29, 0x50, 0x10, bytes(8000))
    for _ in range(12_500):  # up to 100 MB, more than any socket buffers hold
        if not listener.connections or link.closed:
            break
        link.send(big)
        if link.writer.transport.get_write_buffer_size() > 1_000_000:
            with contextlib.suppress(OSError):
                await asyncio.wait_for(link.writer.drain(), WAIT)
    await rec.until(lambda: not listener.panels[GUID].connected, "the stuck panel dropped")


async def test_the_cloud_is_reached_only_for_a_panel_that_said_who_it_is(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """No cloud connection for a peer that says nothing; once it does, the cloud may speak
    first, and its command is passed on untouched, as is the panel's response."""
    cloud = await start_cloud(answering)
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=cloud.port)
    panel = await connect(listener.port)
    await panel.send(STATUS_DOOR_OPEN, PING)
    await panel.expect(PING)  # ours: no cloud for a stranger
    await asyncio.sleep(0.2)
    assert cloud.links == []
    await panel.send(HELLO)
    await panel.expect(THEIRS)
    link = await cloud.link(0)
    link.send(CLOUD_COMMAND)
    await panel.expect(CLOUD_COMMAND)
    await panel.send(COMMAND_RESPONSE)
    await cloud.frames(0, 2)
    assert link.frames == [HELLO, COMMAND_RESPONSE]
    assert cloud_frames(rec)[3] == CLOUD_COMMAND
    await rec.wait_events(1)
    assert rec.guids == [GUID]  # held until the hello, then attributed


async def test_cloud_that_stops_reading_is_dropped(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The panel's traffic cannot pile up for a cloud that takes nothing: the link is dropped."""
    cloud = await start_cloud()

    def stop_reading_on_the_first_link(link: CloudLink, frame: bytes) -> None:
        answering(link, frame)
        if link is cloud.links[0]:
            link.writer.transport.pause_reading()

    cloud.respond = stop_reading_on_the_first_link
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=0.3
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.expect(THEIRS)  # the cloud answered the hello, then read nothing more
    big = command_response(7, 106, "x" * 8000)
    for sequence in range(12_500):  # up to 100 MB, more than any socket buffers hold
        if len(cloud.links) > 1:
            break
        await panel.send(big)
        if sequence % 100 == 0:
            await asyncio.sleep(0)
    second = await cloud.frames(1, 1)
    assert second.frames[0] == HELLO
    await upstream_up(listener)
    await panel.send(PING)
    # Flood frames still on their way may reach the new link first; the ping echo follows.
    await panel.expect(FAKE_PING_REPLY)
    assert any("bytes waiting for it" in r.getMessage() for r in caplog.records)
    assert rec.events == []


async def test_the_answer_to_a_replayed_hello_does_not_answer_the_panel(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """The cloud answering our replayed hello says nothing about the panel's waiting ping."""
    reply_timeout = 0.3
    cloud = await start_cloud()
    kept: list[bytes] = []

    def answers_hello_late_and_never_the_ping(link: CloudLink, frame: bytes) -> None:
        if link is cloud.links[0]:
            answering(link, frame)
        elif triple(frame) == triple(HELLO):
            kept.append(cloud_answer(frame))
        elif triple(frame) == triple(PING):
            link.send(kept.pop())  # the hello's answer, only once the ping waits

    cloud.respond = answers_hello_late_and_never_the_ping
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, reply_timeout=reply_timeout
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)  # the cloud is reached once the panel says who it is
    await panel.expect(THEIRS)
    await upstream_up(listener)
    cloud.links[0].drop()
    second = await cloud.frames(1, 1)
    await upstream_up(listener)

    started = time.monotonic()
    await panel.send(PING)
    await panel.expect(PING)
    assert time.monotonic() - started >= reply_timeout * 0.9
    await cloud.hung_up(1)  # and the cloud that did not answer was dropped
    assert second.frames == [HELLO, PING]
    assert bytes(panel.received) == THEIRS + PING
    assert cloud_frames(rec) == [THEIRS[:13], THEIRS[13:26], THEIRS[26:]] * 2


async def test_retry_delay_starts_again_after_a_cloud_that_answered(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    closed_port: ClosedPort,
) -> None:
    """Refusals make the delay grow; once the cloud has answered and the link has worked a
    good while (as long as the longest delay), a drop is retried at once."""
    listener, _rec = await start_listener(
        upstream_host=LOCAL,
        upstream_port=closed_port.port,
        upstream_backoff_initial=0.02,
        upstream_backoff_max=0.6,
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.expect(OURS)
    upstream = only_connection(listener).upstream
    assert upstream is not None
    await eventually(lambda: upstream.reconnects >= 5, "the delay grown to its maximum")

    cloud = await start_cloud(answering, port=closed_port.release())
    first = await cloud.frames(0, 1)
    # The link has had the cloud's answer (to the replayed hello).
    await eventually(lambda: listener.panels[GUID].last_upstream_packet is not None, "answer")
    await asyncio.sleep(0.6)  # a good while: as long as the longest delay
    started = time.monotonic()
    first.drop()
    await cloud.link(1)
    assert time.monotonic() - started < 0.3  # the shortest delay, not the grown 0.6 s


@pytest.mark.parametrize("cloud_kind", ["garbage", "hangs up"])
async def test_a_cloud_that_answers_then_fails_at_once_is_tried_ever_less_often(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel, cloud_kind: str
) -> None:
    """A port that is no cloud (an HTTP server on a mistyped port), or a cloud that answers
    the hello then hangs up (rejecting the panel): the delay grows as for a refusal, not one
    try at the shortest delay for ever."""

    def http_server(link: CloudLink, _frame: bytes) -> None:
        link.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        link.drop()

    def answer_then_hang_up(link: CloudLink, frame: bytes) -> None:
        answering(link, frame)
        link.drop()

    cloud = await start_cloud(http_server if cloud_kind == "garbage" else answer_then_hang_up)
    listener, _rec = await start_listener(
        upstream_host=LOCAL,
        upstream_port=cloud.port,
        upstream_backoff_initial=0.05,
        upstream_backoff_max=1.0,
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await asyncio.sleep(2.5)
    # 0.05 s doubling to 1 s: about 6 tries in 2.5 s (without the backoff, 40 and more).
    assert len(cloud.links) <= 10, f"{len(cloud.links)} connections in 2.5 s"
    assert len(cloud.links) >= 3


async def test_a_frame_racing_the_clouds_half_close_is_kept_for_the_next_link(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """The cloud says it is done (FIN) just as the panel reports an alarm: the alarm is not
    written into the closing connection (where it would be dropped) but kept, and the next
    link gets it."""
    cloud = await start_cloud(answering)
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=cloud.port, upstream_backoff_initial=0.05
    )
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.expect(THEIRS)
    await upstream_up(listener)
    alarm = door(1, "Front door")
    first = cloud.links[0]
    first.writer.write_eof()  # the cloud half-closes (it still reads)...
    panel.writer.write(alarm)  # ...just as the panel reports an alarm
    await rec.wait_events(1)
    second = await cloud.frames(1, 1)
    await eventually(lambda: alarm in first.frames + second.frames, "the alarm at the cloud")


async def test_what_was_kept_for_the_cloud_survives_the_panel_reconnecting(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    closed_port: ClosedPort,
) -> None:
    """The cloud is away; the panel reports an alarm, then reconnects (a network change):
    its new connection takes over what the old one kept, and the cloud gets it, once."""
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=closed_port.port)
    first = await connect(listener.port)
    alarm = door(1, "Front door")
    await first.send(HELLO, alarm)
    await first.expect(OURS)
    await rec.wait_events(1)
    second = await connect(listener.port)
    await second.send(HELLO)
    await second.expect(OURS)
    assert await first.eof() == b""
    cloud = await start_cloud(answering, port=closed_port.release())
    link = await cloud.frames(0, 1)
    await eventually(lambda: alarm in link.frames, "the alarm at the cloud")
    await asyncio.sleep(0.2)
    assert link.frames.count(alarm) == 1
    assert link.frames[0] == HELLO  # the cloud knows who this is before anything else
    assert listener.backlog_budget.used == 0  # nothing left held for the cloud


async def test_what_was_kept_for_the_cloud_goes_to_the_next_listener(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    closed_port: ClosedPort,
) -> None:
    """The cloud is away and the listener closes (an options reload, a restart): what it kept
    is left for the next listener, whose connection of that panel passes it on, first."""
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=closed_port.port)
    port = listener.port
    panel = await connect(port)
    alarm = door(1, "Front door")
    await panel.send(HELLO, alarm)
    await panel.expect(OURS)
    await rec.wait_events(1)
    await listener.close()
    assert listener.kept_for_the_cloud == {GUID: [alarm]}
    assert listener.backlog_budget.used == len(alarm)  # kept within the same budget

    again, _ = await start_listener(port=port, upstream_host=LOCAL, upstream_port=closed_port.port)
    again.keep_for_the_cloud(listener.kept_for_the_cloud)
    panel = await connect(port)
    later = door(2, "Back door")
    await panel.send(HELLO, later)
    await panel.expect(OURS)
    assert again.kept_for_the_cloud == {}  # taken by the panel's connection
    cloud = await start_cloud(answering, port=closed_port.release())
    link = await cloud.frames(0, 3)
    assert link.frames[:3] == [HELLO, alarm, later]


async def test_what_was_kept_for_the_cloud_waits_for_the_panels_next_connection(
    start_listener: StartListener,
    start_cloud: StartCloud,
    connect: ConnectPanel,
    closed_port: ClosedPort,
) -> None:
    """The cloud is away; the panel reports an alarm and its connection ends (a reboot, a
    Wi-Fi drop) before it connects again: the alarm waits for it, and goes to the cloud."""
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=closed_port.port)
    first = await connect(listener.port)
    alarm = door(1, "Front door")
    await first.send(HELLO, alarm)
    await first.expect(OURS)
    await rec.wait_events(1)
    await first.close()
    await eventually(lambda: not listener.connections, "the old connection gone")
    assert listener.kept_for_the_cloud == {GUID: [alarm]}
    second = await connect(listener.port)
    await second.send(HELLO)
    await second.expect(OURS)
    cloud = await start_cloud(answering, port=closed_port.release())
    link = await cloud.frames(0, 2)
    assert link.frames[:2] == [HELLO, alarm]
    assert listener.kept_for_the_cloud == {}


def test_what_is_kept_for_the_cloud_is_bounded() -> None:
    """At most backlog_limit reports per panel (the newest), for max_known_panels panels
    (the longest waiting go first): a panel that never comes back holds nothing for ever."""
    listener = Listener(
        ListenerConfig(backlog_limit=3, max_known_panels=2), on_event=lambda _e, _p: None
    )
    frames = [door(zone, f"Zone {zone}") for zone in range(1, 6)]
    listener.keep_for_the_cloud({"GA": frames[:2]})
    listener.keep_for_the_cloud({"GA": frames[2:]})
    assert listener.kept_for_the_cloud == {"GA": frames[2:]}
    listener.keep_for_the_cloud({"GB": frames[:1]})
    listener.keep_for_the_cloud({"GC": frames[1:2]})
    assert listener.kept_for_the_cloud == {"GB": frames[:1], "GC": frames[1:2]}


async def test_a_guid_changed_mid_connection_keeps_each_panels_reports_for_the_cloud(
    start_listener: StartListener, connect: ConnectPanel, closed_port: ClosedPort
) -> None:
    """The cloud is away. A connection reports an alarm as A, then says it is B: A's
    alarm stays A's; and what B's earlier connection left goes through B's new one."""
    panel_a, panel_b = "GA00000A0000000", "GB00000B0000000"
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=closed_port.port)
    earlier = await connect(listener.port)
    b_alarm = door(1, "Front door")
    await earlier.send(hello(panel_b), b_alarm)
    await rec.wait_events(1)
    await earlier.close()
    await eventually(lambda: not listener.connections, "B's earlier connection gone")
    assert listener.kept_for_the_cloud == {panel_b: [b_alarm]}

    changing = await connect(listener.port)
    a_alarm = door(2, "Back door")
    await changing.send(hello(panel_a), a_alarm)
    await rec.wait_events(2)
    await changing.send(hello(panel_b))
    await eventually(lambda: listener.panels[panel_b].connected, "B attached")
    await changing.close()
    await eventually(lambda: not listener.connections, "the connection gone")
    assert listener.kept_for_the_cloud == {panel_a: [a_alarm], panel_b: [b_alarm]}


async def test_what_is_kept_for_the_cloud_counts_in_the_backlog_budget(
    start_listener: StartListener, connect: ConnectPanel, closed_port: ClosedPort
) -> None:
    """Many panels (or one peer saying many GUIDs) whose connections end while the cloud is
    away: what is kept for them stays within backlog_bytes_total (the oldest go first)."""
    report = door(1, "Door")
    listener, rec = await start_listener(
        upstream_host=LOCAL, upstream_port=closed_port.port, backlog_bytes_total=3 * len(report)
    )
    for index in range(6):
        panel = await connect(listener.port)
        await panel.send(hello(f"GP{index:013d}"), report)
        await rec.wait_events(index + 1)
        await panel.close()
        await eventually(lambda: not listener.connections, "the connection gone")
    # The newest stay (the live connections' hellos took room too, while they lasted).
    kept = listener.kept_for_the_cloud
    assert list(kept) == [f"GP{index:013d}" for index in range(6 - len(kept), 6)]
    assert all(reports == [report] for reports in kept.values())
    assert 2 <= len(kept) <= 3
    assert listener.backlog_budget.used == len(kept) * len(report) <= 3 * len(report)
