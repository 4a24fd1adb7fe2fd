"""The listener on its own (no chaining): identity, framing, limits, holding, closing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import errno
import logging
import socket
import struct
import time

import pytest
import pytest_socket

from custom_components.g90_cloud.g90.aio import connection as connection_module
from custom_components.g90_cloud.g90.aio.connection import peer_text
from custom_components.g90_cloud.g90.aio.server import (
    Listener,
    ListenerBindError,
    ListenerConfig,
    port_available,
)
from custom_components.g90_cloud.g90.events import EventType, PanelEvent

from ..samples import (
    GUID as GUID_A,
    HELLO as SAMPLE_HELLO,
    HELLO_REPLY_5678,
    NOTIFICATION_ACTIVITY,
    STATUS_DISARMED,
    STATUS_DOOR_OPEN,
)
from .conftest import ConnectPanel, StartListener
from .helpers import (
    LOCAL,
    PING,
    Changes,
    activity as door,
    basic,
    discovery,
    discovery_reply,
    eventually,
    hello,
    hello_reply,
    notification,
    panel_state,
    versioned,
)

GUID_B = "GB00000B0000000"
REPLY = hello_reply(5678)
LISTENER_LOGGERS = ("custom_components.g90_cloud.g90.aio",)


def listener_records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    """Records of the listener's loggers whose message contains `text`."""
    return [
        record
        for record in caplog.records
        if record.name.startswith(LISTENER_LOGGERS) and text in record.getMessage()
    ]


def test_helpers_agree_with_the_captured_samples() -> None:
    """The frame builders used below produce what real panels and the cloud send."""
    assert hello(GUID_A, numbers=(0, 0, 2, 28672, 536918616, 48, 0, 7, 30, 30)) == SAMPLE_HELLO
    assert hello_reply(5678) == HELLO_REPLY_5678
    assert bytes.fromhex("01 10 00 00 08 00 00 00") == PING
    assert panel_state(3, 0x6794A220)[:14] == STATUS_DISARMED[:14]


# --- identity -----------------------------------------------------------------------


async def test_two_panels_on_one_port_keep_their_identity(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener()
    a = await connect(listener.port)
    await a.send(hello(GUID_A, "207"))
    await a.expect(REPLY)
    b = await connect(listener.port)
    await b.send(hello(GUID_B, "305"))
    await b.expect(REPLY)

    # The second connection did not disturb the first.
    await a.send(PING)
    await a.expect(PING)

    a_door, b_door = door(3, "Door A"), door(4, "Door B")
    a_note, b_note = notification("[170,[1,[1]]]"), notification("[170,[1,[3]]]")
    for panel, frame, count in ((b, b_door, 1), (a, a_door, 2), (a, a_note, 3), (b, b_note, 4)):
        await panel.send(frame)
        await rec.wait_events(count)
    assert rec.raws == [b_door, a_door, a_note, b_note]
    assert rec.guids == [GUID_B, GUID_A, GUID_A, GUID_B]
    assert [panel.guid if panel else None for _e, panel in rec.events] == rec.guids
    assert [event.type for event, _p in rec.events] == [
        EventType.DOOR_OPEN,
        EventType.DOOR_OPEN,
        EventType.ARMED_AWAY,
        EventType.DISARMED,
    ]

    status_a, status_b = listener.panels[GUID_A], listener.panels[GUID_B]
    assert (status_a.connected, status_a.peer, status_a.firmware) == (True, a.address, "207")
    assert (status_b.connected, status_b.peer, status_b.firmware) == (True, b.address, "305")
    assert status_a.connections == status_b.connections == 1
    assert status_a.upstream_connected is None
    assert len(listener.connections) == 2
    assert {c.guid for c in listener.connections} == {GUID_A, GUID_B}

    before = status_a.last_device_packet
    assert before is not None
    await a.send(PING)
    await a.expect(PING)
    assert status_a.last_device_packet is not None
    assert status_a.last_device_packet > before

    await a.close()
    await rec.until(lambda: not listener.panels[GUID_A].connected, "panel A disconnected")
    assert listener.panels[GUID_B].connected
    await b.send(PING)
    await b.expect(PING)
    assert status_a.counters.frames == 5  # hello, ping, door, notification, ping
    assert status_a.counters.replies == 3
    assert status_a.counters.events == 2


async def test_panel_status_follows_hellos(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    """Discovery identifies too; a new firmware or a new GUID on the same connection is followed."""
    listener, rec = await start_listener(cloud_ip="192.168.7.7", cloud_port=4242)
    panel = await connect(listener.port)
    await panel.send(discovery(GUID_A, "207"))
    reply = await panel.read(44)
    (stamp,) = struct.unpack_from("<i", reply, 40)
    assert reply[:40] == discovery_reply("192.168.7.7", 4242, 0)[:40]
    assert abs(stamp - time.time()) < 5
    assert listener.panels[GUID_A].firmware == "207"

    await panel.send(hello(GUID_A, "208"))
    await panel.expect(hello_reply(4242))
    assert listener.panels[GUID_A].firmware == "208"
    assert rec.panel_updates[-1] == (GUID_A, True, None)

    # Odd, but followed: the connection now speaks for another GUID.
    await panel.send(hello(GUID_B, "208"), door(1, "Door"))
    await rec.wait_events(1)
    assert rec.guids == [GUID_B]
    assert not listener.panels[GUID_A].connected
    assert listener.panels[GUID_A].connections == 0
    assert listener.panels[GUID_B].connected


async def test_a_panel_reconnecting_replaces_its_old_connection(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    """One connection per panel: the newer says the same GUID, the older is closed; the
    panel stays connected throughout. A peer that does not say the GUID replaces nothing."""
    listener, rec = await start_listener(on_traffic=None)
    old = await connect(listener.port)
    await old.send(hello(GUID_A))
    await old.expect(REPLY)
    stranger = await connect(listener.port)
    await stranger.send(hello(GUID_B))
    await stranger.expect(REPLY)
    assert listener.panels[GUID_A].connections == 1  # another GUID: nothing replaced
    new = await connect(listener.port)
    await new.send(hello(GUID_A))
    await new.expect(REPLY)
    assert await old.eof() == b""  # the older connection of that panel is closed
    await eventually(lambda: listener.panels[GUID_A].connections == 1, "old connection gone")
    assert listener.panels[GUID_A].connected
    assert listener.panels[GUID_A].peer == new.address
    assert (GUID_A, False, None) not in rec.panel_updates  # never shown as disconnected
    await new.send(PING)
    await new.expect(PING)
    await new.close()
    await eventually(lambda: not listener.panels[GUID_A].connected, "panel gone")


async def test_hello_without_a_guid_is_answered_but_identifies_nobody(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    await panel.send(door(1, "Held"), hello(""), door(2, "Held too"))
    await panel.expect(REPLY)
    await rec.until(lambda: len(rec.messages) == 3, "three messages decoded")
    assert rec.events == []
    assert not listener.panels
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    await rec.wait_events(2)
    assert rec.raws == [door(1, "Held"), door(2, "Held too")]
    assert rec.guids == [GUID_A, GUID_A]


# --- framing --------------------------------------------------------------------------

STREAM_FRAMES = (
    hello(GUID_A),
    door(1, "Front door"),
    panel_state(4),
    NOTIFICATION_ACTIVITY,
    PING,
    STATUS_DOOR_OPEN,
    PING,
)
STREAM = b"".join(STREAM_FRAMES)
STREAM_EVENTS = [door(1, "Front door"), panel_state(4), NOTIFICATION_ACTIVITY, STATUS_DOOR_OPEN]


@pytest.fixture
def chunks(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], Changes]:
    """The size of every chunk the listener reads from any panel."""
    sizes: list[int] = []
    seen = Changes()
    original = connection_module.PanelConnection.data_received

    def receive(self: connection_module.PanelConnection, data: bytes) -> None:
        sizes.append(len(data))
        seen.poke()
        original(self, data)

    monkeypatch.setattr(connection_module.PanelConnection, "data_received", receive)
    return sizes, seen


@pytest.mark.parametrize("size", [1, 3, 13, 100, len(STREAM)])
async def test_frames_split_anywhere_and_coalesced(
    start_listener: StartListener,
    connect: ConnectPanel,
    chunks: tuple[list[int], Changes],
    size: int,
) -> None:
    """The listener reads the stream in exactly these chunks; frames come out whole."""
    sizes, seen = chunks
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    panel.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for start in range(0, len(STREAM), size):
        await panel.send(STREAM[start : start + size])
        sent = min(start + size, len(STREAM))
        await seen.until(lambda sent=sent: sum(sizes) >= sent, f"{sent} bytes read")
    expected_sizes = [min(size, len(STREAM) - s) for s in range(0, len(STREAM), size)]
    assert sizes == expected_sizes
    await panel.expect(REPLY + PING + PING)
    await rec.wait_events(len(STREAM_EVENTS))
    assert rec.raws == STREAM_EVENTS
    assert rec.guids == [GUID_A] * len(STREAM_EVENTS)
    assert [record.frame for record in rec.messages] == list(STREAM_FRAMES)


async def test_garbage_that_frames_becomes_unknown_and_the_stream_goes_on(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    """Garbage whose length field is plausible is an unknown message, not a broken stream."""
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    garbage = bytes.fromhex("ee ee 00 ee 10 00 00 00") + b"garbage!"
    await panel.send(hello(GUID_A), garbage, door(1, "Door"), PING)
    await panel.expect(REPLY + PING)
    await rec.wait_events(2)
    assert rec.raws == [garbage, door(1, "Door")]
    assert rec.events[0][0].type is EventType.UNKNOWN


async def test_impossible_length_closes_only_that_connection(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    listener, rec = await start_listener()
    good = await connect(listener.port)
    await good.send(hello(GUID_B))
    await good.expect(REPLY)

    bad = await connect(listener.port)
    before = door(1, "Before"), notification("[170,[1,[3]]]")
    after = door(2, "After")
    garbage = b"\xff" * 16  # length field -1
    await bad.send(hello(GUID_A), *before, PING, garbage, after, PING)
    # Frames before the garbage were answered and delivered; then the connection ended.
    assert await bad.eof() == REPLY + PING
    await rec.wait_events(2)
    assert rec.raws == list(before)
    await rec.until(lambda: not listener.panels[GUID_A].connected, "bad panel detached")
    assert listener.panels[GUID_A].counters.errors == 1

    # The other panel is untouched.
    await good.send(door(3, "Good"), PING)
    await good.expect(PING)
    await rec.wait_events(3)
    assert rec.raws[2] == door(3, "Good")
    assert rec.guids == [GUID_A, GUID_A, GUID_B]
    assert listener.panels[GUID_B].connected
    assert len(listener_records(caplog, "cannot be split")) == 1


@pytest.mark.parametrize(
    ("length", "header_hex"),
    [
        (0, "21 10 00 20 00 00 00 00"),
        (0x7FFFFFFF, "21 10 00 20 ff ff ff 7f"),
        (7, "21 10 00 20 07 00 00 00"),
        (65537, "21 10 00 20 01 00 01 00"),  # oversized frames are skipped up to 64 KiB
    ],
)
async def test_zero_and_absurd_lengths_close_and_are_logged_once(
    start_listener: StartListener,
    connect: ConnectPanel,
    caplog: pytest.LogCaptureFixture,
    length: int,
    header_hex: str,
) -> None:
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    bad = struct.pack("<BBBBi", 0x21, 0x10, 0, 0x20, length)
    # Several bad headers in one go, and a ping that must not be answered.
    await panel.send(hello(GUID_A), door(5, "Zone"), bad * 5 + bytes(120), PING)
    assert await panel.eof() == REPLY
    await rec.until(lambda: not listener.panels[GUID_A].connected, "panel detached")
    assert rec.raws == [door(5, "Zone")]
    logged = listener_records(caplog, "cannot be split")
    assert len(logged) == 1
    assert header_hex in logged[0].getMessage()
    assert str(length) in logged[0].getMessage()
    assert logged[0].levelno == logging.WARNING


async def test_unknown_messages_become_unknown_events(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    strange = [
        basic(0x77, 0x10, 0x20, b"\x01\x02\x03"),  # a triple nobody knows
        versioned(0x01, 0x10, 0x20, b"too short for a hello"),  # known triple, wrong layout
        versioned(0x21, 0x10, 0x20, bytes([9]) + bytes(107)),  # status change of unknown kind
        notification("this is not JSON"),
        notification("[999,[1,2]]"),
    ]
    await panel.send(*strange[:3])
    await panel.send(*strange[3:], PING)
    await panel.expect(PING)  # still up, and nothing answered the strange ones
    await rec.wait_events(len(strange))
    assert rec.raws == strange
    assert all(event.type is EventType.UNKNOWN for event, _p in rec.events)
    assert all(event.detail for event, _p in rec.events)
    assert rec.guids == [GUID_A] * len(strange)
    assert listener.panels[GUID_A].connected
    await panel.send(PING)
    await panel.expect(PING)
    logged = listener_records(caplog, "do not understand")
    assert any(strange[0].hex(" ") in record.getMessage() for record in logged)


# --- limits -------------------------------------------------------------------------


async def test_idle_timeout_closes_a_silent_connection(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    idle = 0.4
    listener, _rec = await start_listener(idle_timeout=idle)
    started = time.monotonic()
    silent = await connect(listener.port)
    chatty = await connect(listener.port)

    async def silent_closed_after() -> float:
        assert await silent.eof() == b""
        return time.monotonic() - started

    silent_closed = asyncio.create_task(silent_closed_after())
    # The chatty one talks for twice the idle time, never pausing that long.
    for _ in range(6):
        await chatty.send(PING)
        await chatty.expect(PING)
        await asyncio.sleep(idle / 5)
    assert idle * 0.9 <= await silent_closed <= idle + 1.0
    # Still open after twice the idle time, because it kept talking...
    await chatty.send(PING)
    await chatty.expect(PING)
    # ...and closed once it stops.
    quiet_since = time.monotonic()
    assert await chatty.eof() == b""
    assert idle * 0.9 <= time.monotonic() - quiet_since <= idle + 1.0
    await eventually(lambda: not listener.connections, "connections gone")
    assert listener.stats.unidentified.frames == 7


async def test_connection_cap_refuses_the_extra_connection(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener(max_connections=2)
    a = await connect(listener.port)
    await a.send(hello(GUID_A))
    await a.expect(REPLY)
    b = await connect(listener.port)
    await b.send(hello(GUID_B))
    await b.expect(REPLY)

    extra = await connect(listener.port)
    await extra.send(hello("GC00000C0000000"))
    await extra.refused()
    assert listener.stats.refused == 1
    assert "GC00000C0000000" not in listener.panels

    for panel, guid, count in ((a, GUID_A, 1), (b, GUID_B, 2)):
        await panel.send(door(1, guid), PING)
        await panel.expect(PING)
        await rec.wait_events(count)
    assert rec.guids == [GUID_A, GUID_B]

    # A free place is taken again.
    await a.close()
    await rec.until(lambda: not listener.panels[GUID_A].connected, "A detached")
    again = await connect(listener.port)
    await again.send(hello(GUID_A))
    await again.expect(REPLY)
    assert listener.stats.refused == 1


async def test_address_allow_list(start_listener: StartListener, connect: ConnectPanel) -> None:
    allowed, _ = await start_listener(allowed_addresses=frozenset({LOCAL}))
    panel = await connect(allowed.port)
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)

    elsewhere, rec = await start_listener(allowed_addresses=frozenset({"192.0.2.10"}))
    refused = await connect(elsewhere.port)
    await refused.send(hello(GUID_A), door(1, "Door"))
    await refused.refused()
    assert elsewhere.stats.refused == 1
    assert not elsewhere.panels
    assert rec.events == []
    assert allowed.stats.refused == 0


async def test_guid_allow_list(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    listener, rec = await start_listener(allowed_guids=frozenset({GUID_A}))
    a = await connect(listener.port)
    await a.send(hello(GUID_A))
    await a.expect(REPLY)

    for first in (hello(GUID_B), discovery(GUID_B)):
        stranger = await connect(listener.port)
        # An event before the hello, one in the same write after it: neither gets through.
        await stranger.send(door(7, "Held"), first, door(8, "After"))
        await stranger.refused()
    assert GUID_B not in listener.panels
    assert listener_records(caplog, "not in the allow-list")

    await a.send(door(1, "Door"), PING)
    await a.expect(PING)
    await rec.wait_events(1)
    await eventually(lambda: len(listener.connections) == 1, "strangers gone")
    assert rec.raws == [door(1, "Door")]
    assert rec.guids == [GUID_A]


# --- events before hello ---------------------------------------------------------------


async def test_events_before_hello_are_held_then_attributed_in_order(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    # A JSON alert names a panel itself; it must still wait its turn.
    alert = notification('[208,[4,5,1,1,"Zone 5","GX00000X0000000",1737794080,0,""]]')
    early = [door(1, "One"), STATUS_DISARMED, alert, NOTIFICATION_ACTIVITY]
    await panel.send(*early[:2])
    await panel.send(*early[2:], PING)
    await panel.expect(PING)
    await rec.until(lambda: len(rec.messages) == 5, "the early messages decoded")
    assert rec.events == []

    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    await rec.wait_events(len(early))
    assert rec.raws == early
    assert rec.guids == [GUID_A] * len(early)
    assert all(p is listener.panels[GUID_A] for _e, p in rec.events)

    await panel.send(door(2, "Two"))
    await rec.wait_events(len(early) + 1)
    assert rec.raws[-1] == door(2, "Two")
    assert rec.guids[-1] == GUID_A


async def test_frames_are_handed_on_per_read_and_split_where_hello_names_the_panel(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    """Records and events go to the owner once per read, not per frame; an event
    before the hello in the same read still waits for it and is attributed."""
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    before = door(1, "Before")
    after = [door(2, f"After {index}") for index in range(20)]
    await panel.send(before, hello(GUID_A), *after, PING)
    await panel.expect(REPLY + PING)
    await rec.until(lambda: len(rec.messages) == 23, "every frame recorded")
    assert [record.frame for record in rec.messages] == [before, hello(GUID_A), *after, PING]
    # Records name the panel from its hello on, as the listener took it.
    assert [record.guid for record in rec.messages] == [None] + [GUID_A] * 22
    # One write of 23 frames comes in one read or a few, never one call a frame.
    assert len(rec.reads) < 10
    await rec.wait_events(21)
    assert rec.raws == [before, *after]
    assert rec.guids == [GUID_A] * 21
    assert listener.panels[GUID_A].connected


async def test_a_guid_changed_mid_read_splits_the_read_between_the_two_panels(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    """What came before the new hello is the old panel's (events, records, counters),
    the rest the new one's."""
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    first, second = door(1, "One"), door(2, "Two")
    await panel.send(first, hello(GUID_B), second)
    await panel.expect(REPLY)
    await rec.wait_events(2)
    assert rec.raws == [first, second]
    assert rec.guids == [GUID_A, GUID_B]
    assert [p.guid if p else None for _e, p in rec.events] == [GUID_A, GUID_B]
    await rec.until(lambda: len(rec.messages) == 4, "every frame recorded")
    assert [(r.frame, r.guid) for r in rec.messages] == [
        (hello(GUID_A), GUID_A),
        (first, GUID_A),
        (hello(GUID_B), GUID_B),
        (second, GUID_B),
    ]
    await panel.close()
    await eventually(lambda: not listener.connections, "connection gone")
    a, b = listener.panels[GUID_A].counters, listener.panels[GUID_B].counters
    # Frames and events of a turn are counted together, on the panel it ends with.
    assert (a.frames, a.events) == (1, 0)
    assert (b.frames, b.events) == (3, 2)


async def test_a_refused_hello_hands_on_and_counts_nothing_of_its_panel(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener(allowed_guids=frozenset({GUID_A}))
    panel = await connect(listener.port)
    await panel.send(door(1, "Before"), hello(GUID_B), PING)
    assert await panel.eof() == b""
    await eventually(lambda: not listener.connections, "connection gone")
    assert rec.events == []
    assert all(record.guid is None for record in rec.messages)
    assert GUID_B not in listener.panels
    unidentified = listener.stats.unidentified
    assert (unidentified.frames, unidentified.events) == (0, 0)


async def test_events_of_a_panel_that_never_says_hello_are_delivered_unattributed(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    listener, rec = await start_listener()
    panel = await connect(listener.port)
    early = [door(1, "One"), NOTIFICATION_ACTIVITY, panel_state(3)]
    await panel.send(*early, PING)
    await panel.expect(PING)
    await rec.until(lambda: len(rec.messages) == 4, "the messages decoded")
    assert rec.events == []
    await panel.close()
    await rec.wait_events(len(early))
    assert rec.raws == early
    assert rec.guids == [None] * len(early)
    assert [p for _e, p in rec.events] == [None] * len(early)
    assert listener_records(caplog, "left without saying hello")
    await eventually(lambda: not listener.connections, "connection gone")
    assert listener.stats.unidentified.events == len(early)
    assert not listener.panels


async def test_hold_limit_passes_the_oldest_on_unattributed(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener(hold_limit=2)
    panel = await connect(listener.port)
    doors = [door(zone, f"Zone {zone}") for zone in (1, 2, 3)]
    await panel.send(*doors, PING)
    await panel.expect(PING)
    await rec.wait_events(1)
    assert rec.raws == doors[:1]
    assert rec.events[0][1] is None
    assert rec.guids == [None]
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    await rec.wait_events(3)
    assert rec.raws == doors
    assert rec.guids == [None, GUID_A, GUID_A]


async def test_with_an_allow_list_the_hold_limit_refuses_the_oldest(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    """Only listed panels may report: events of a peer that has not said hello are not
    passed on when its hold overflows, even an alert naming a listed panel itself."""
    listener, rec = await start_listener(hold_limit=2, allowed_guids=frozenset({GUID_A}))
    panel = await connect(listener.port)
    alert = notification(f'[208,[4,5,1,1,"Zone 5","{GUID_A}",1737794080,0,""]]')
    await panel.send(alert, alert, alert, door(1, "One"), PING)
    await panel.expect(PING)
    await rec.until(lambda: len(rec.messages) == 5, "every frame read")
    assert rec.events == []
    assert listener_records(caplog, "has not said hello (GUID allow-list set)")
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    await rec.wait_events(2)  # the two still held are the panel's once it says hello
    assert rec.raws == [alert, door(1, "One")]
    assert rec.guids == [GUID_A, GUID_A]


# --- callbacks ------------------------------------------------------------------------


async def test_a_raising_callback_is_logged_and_serving_goes_on(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    delivered: list[PanelEvent] = []
    seen = Changes()

    def on_event(event: PanelEvent, _panel: object) -> None:
        delivered.append(event)
        seen.poke()
        if event.zone_index == 1:
            raise RuntimeError("boom from on_event")

    def broken(_arg: object) -> None:
        raise ValueError("boom from a status callback")

    listener, _rec = await start_listener(on_event=on_event, on_traffic=broken, on_panel=broken)
    panel = await connect(listener.port)
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    await panel.send(door(1, "Raises"))
    await panel.send(door(1, "Raises again"), door(2, "Fine"), PING)
    await panel.expect(PING)
    await seen.until(lambda: len(delivered) == 3, "three events")
    assert [event.raw for event in delivered] == [
        door(1, "Raises"),
        door(1, "Raises again"),
        door(2, "Fine"),
    ]
    raised = listener_records(caplog, "boom from on_event")
    assert len(raised) == 1  # the second failure of the same kind is only counted
    assert raised[0].levelno == logging.ERROR
    assert listener_records(caplog, "boom from a status callback")
    assert listener.panels[GUID_A].connected


# --- closing and binding ----------------------------------------------------------------


async def test_close_ends_everything_promptly_and_frees_the_port(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, _rec = await start_listener()
    port = listener.port
    identified = await connect(port)
    await identified.send(hello(GUID_A))
    await identified.expect(REPLY)
    anonymous = await connect(port)
    await anonymous.send(PING)
    await anonymous.expect(PING)

    started = time.monotonic()
    await listener.close()
    assert time.monotonic() - started < 1.0
    assert await identified.eof(limit=1.0) == b""
    assert await anonymous.eof(limit=1.0) == b""
    assert not listener.connections
    assert not listener.panels[GUID_A].connected
    assert listener.panels[GUID_A].connections == 0

    again, _ = await start_listener(port=port)
    assert again.port == port
    panel = await connect(port)
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)


async def test_binding_a_port_in_use_raises_a_clear_error(start_listener: StartListener) -> None:
    listener, _rec = await start_listener()
    second = Listener(ListenerConfig(host=LOCAL, port=listener.port), on_event=lambda _e, _p: None)
    with pytest.raises(ListenerBindError) as caught:
        await second.start()
    assert caught.value.errno == errno.EADDRINUSE
    assert str(listener.port) in str(caught.value)
    assert "already in use" in str(caught.value)
    assert (caught.value.host, caught.value.port) == (LOCAL, listener.port)
    assert isinstance(await port_available(LOCAL, listener.port), ListenerBindError)
    assert await port_available(LOCAL, 0) is None
    assert second.port == listener.port  # not bound: the configured port
    await second.close()  # harmless on a listener that never started


def test_bind_error_other_than_in_use_says_why() -> None:
    err = ListenerBindError("10.0.0.1", 80, OSError(errno.EACCES, "Permission denied"))
    assert err.strerror == "cannot listen on 10.0.0.1:80: Permission denied"
    assert err.errno == errno.EACCES


def _ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def allow_ipv6_loopback() -> Iterator[None]:
    """The HA plugin allows connecting to 127.0.0.1 only; add ::1 for one test."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"])
    yield
    pytest_socket.socket_allow_hosts(["127.0.0.1"])


@pytest.mark.usefixtures("allow_ipv6_loopback")
async def test_ipv6_loopback(start_listener: StartListener, connect: ConnectPanel) -> None:
    if not _ipv6_loopback_works():
        with pytest.raises(ListenerBindError, match=r"cannot listen on ::1:0"):
            await start_listener(host="::1")
        return
    listener, rec = await start_listener(host="::1")
    panel = await connect(listener.port, host="::1")
    await panel.send(hello(GUID_A), door(1, "Door"))
    await panel.expect(REPLY)
    await rec.wait_events(1)
    assert rec.guids == [GUID_A]
    assert listener.panels[GUID_A].peer == panel.address
    assert panel.address.startswith("[::1]:")


@pytest.mark.parametrize(
    ("cloud_ip", "cloud_port", "reason"),
    [
        ("192.168.1.10", 0, "cannot announce port 0"),
        ("192.168.1.10", 65536, "cannot announce port 65536"),
        ("fd00:1234:5678::1", 5678, "longer than 16 bytes"),
    ],
)
async def test_an_address_panels_cannot_be_told_is_refused_before_binding(
    cloud_ip: str, cloud_port: int, reason: str
) -> None:
    config = ListenerConfig(host=LOCAL, port=0, cloud_ip=cloud_ip, cloud_port=cloud_port)
    listener = Listener(config, on_event=lambda _e, _p: None)
    with pytest.raises(ValueError, match=reason):
        await listener.start()
    assert listener.port == 0  # nothing was bound
    await listener.close()


def test_listener_port_before_start() -> None:
    listener = Listener(ListenerConfig(port=4567), on_event=lambda _e, _p: None)
    assert listener.port == 4567


# --- what the listener owes a careful user -----------------------------------------------


async def test_with_a_guid_allow_list_a_panel_that_never_says_hello_gets_nothing_through(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    listener, rec = await start_listener(allowed_guids=frozenset({GUID_A}))
    stranger = await connect(listener.port)
    await stranger.send(door(1, "One"), PING)
    await stranger.expect(PING)
    await stranger.close()
    await eventually(lambda: not listener.connections, "connection gone")
    assert rec.events == []
    assert listener_records(caplog, "events are refused (GUID allow-list set)")


async def test_a_connection_that_never_says_hello_is_closed(
    start_listener: StartListener, connect: ConnectPanel, caplog: pytest.LogCaptureFixture
) -> None:
    listener, _rec = await start_listener(hello_timeout=0.3, idle_timeout=10.0)
    quiet = await connect(listener.port)
    started = time.monotonic()
    for _ in range(6):  # keeps talking, so the idle timeout never fires
        if not listener.connections:
            break
        await quiet.send(PING)
        echo = await quiet.reader.read(len(PING))
        if not echo:  # closed between the ping and its echo
            break
        assert echo == PING
        await asyncio.sleep(0.1)
    await quiet.eof()
    assert time.monotonic() - started < 3
    assert listener_records(caplog, "no hello within")

    panel = await connect(listener.port)  # one that says hello stays
    await panel.send(hello(GUID_A))
    await panel.expect(REPLY)
    await asyncio.sleep(0.5)
    await panel.send(PING)
    await panel.expect(PING)
    assert len(listener.connections) == 1


async def test_an_ipv4_peer_of_a_dual_stack_socket_matches_the_address_allow_list(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, rec = await start_listener(allowed_addresses=frozenset({LOCAL}))
    panel = await connect(listener.port)
    await panel.send(hello(GUID_A), door(1, "Door"))
    await panel.expect(REPLY)
    await rec.wait_events(1)
    assert listener.panels[GUID_A].peer is not None
    assert listener.panels[GUID_A].peer.startswith(f"{LOCAL}:")
    assert peer_text(("::ffff:127.0.0.1", 5678, 0, 0)) == (
        "127.0.0.1",
        "127.0.0.1:5678",
    )
    assert peer_text(("::1", 5678, 0, 0)) == ("::1", "[::1]:5678")


async def test_start_twice_binds_once(start_listener: StartListener) -> None:
    listener, _rec = await start_listener()
    port = listener.port
    await listener.start()
    assert listener.port == port
