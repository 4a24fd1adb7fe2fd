"""A hostile network: peers that lock out, starve, bloat or flood, and a real panel that gets in.

Attackers and the real panel use different loopback source addresses
(127.0.0.0/8 is all local); every attack is bounded in count and time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
import io
import json
import logging
import signal
import struct
import time
import tracemalloc

import pytest

from custom_components.g90_cloud.g90.__main__ import json_line, parser, record_lines, run_monitor
from custom_components.g90_cloud.g90.events import PanelEvent
from custom_components.g90_cloud.g90.session import Session
from custom_components.g90_cloud.g90.status import MessageRecord, PanelStatus

from .conftest import StartListener
from .helpers import (
    LOCAL,
    PING,
    WAIT,
    activity as door,
    basic,
    eventually,
    hello,
    hello_reply,
    notification,
    versioned,
)
from .test_cli import free_port

REPLY = hello_reply(5678)
REAL = "GR0000000000001"
ATTACKER = "127.0.0.2"
PANEL_ADDRESS = "127.0.0.3"
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def peers() -> AsyncIterator[Callable[..., Awaitable[Streams]]]:
    """Open connections from a chosen loopback address; all closed after the test."""
    opened: list[asyncio.StreamWriter] = []

    async def open_from(port: int, source: str = ATTACKER) -> Streams:
        reader, writer = await asyncio.open_connection(LOCAL, port, local_addr=(source, 0))
        opened.append(writer)
        return reader, writer

    yield open_from
    for writer in opened:
        writer.transport.abort()


async def real_panel_gets_in(
    port: int, open_from: Callable[..., Awaitable[Streams]], guid: str = REAL
) -> float:
    """A real panel connects from its own address and says hello; seconds to its reply."""
    reader, writer = await open_from(port, PANEL_ADDRESS)
    started = time.monotonic()
    writer.write(hello(guid))
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(len(REPLY)), WAIT) == REPLY
    return time.monotonic() - started


async def closed(reader: asyncio.StreamReader) -> bool:
    """Whether the listener hung up on this connection (within WAIT)."""
    try:
        return await asyncio.wait_for(reader.read(), WAIT) == b""
    except ConnectionResetError:
        return True


# --- 1. lockout -------------------------------------------------------------------------


async def test_silent_sockets_from_one_address_cannot_lock_a_panel_out(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    listener, _rec = await start_listener(on_traffic=None)
    attackers = [await peers(listener.port) for _ in range(300)]
    for _ in range(5):
        assert await real_panel_gets_in(listener.port, peers) < 1.0
    strangers = [c for c in listener.connections if c.panel is None]
    assert len(strangers) <= listener.config.max_unidentified_per_address
    assert all(c.ip == ATTACKER for c in strangers)
    assert await closed(attackers[0][0])  # the oldest made room for the newer ones
    assert listener.panels[REAL].connected


async def test_made_up_guids_from_one_address_hold_a_bounded_share(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    listener, _rec = await start_listener(on_traffic=None, max_panels_per_address=16)
    refused = 0
    for index in range(40):
        reader, writer = await peers(listener.port)
        writer.write(hello(f"GF{index:013d}"))
        if index < 16:
            assert await reader.readexactly(len(REPLY)) == REPLY
        else:
            refused += await closed(reader)  # hung up on, unanswered
    assert refused == 40 - 16
    assert await real_panel_gets_in(listener.port, peers) < 1.0
    assert sum(c.ip == ATTACKER and c.panel is not None for c in listener.connections) == 16


async def test_at_the_cap_the_oldest_stranger_makes_room(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    listener, _rec = await start_listener(on_traffic=None, max_connections=20)
    strangers = [await peers(listener.port, f"127.0.0.{10 + index}") for index in range(20)]
    await eventually(lambda: len(listener.connections) == 20, "the cap reached")
    assert await real_panel_gets_in(listener.port, peers) < 1.0
    assert await closed(strangers[0][0])
    assert len(listener.connections) == 20


async def test_a_cap_full_of_panels_refuses_a_newcomer(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    listener, _rec = await start_listener(on_traffic=None, max_connections=3)
    for index in range(3):
        reader, writer = await peers(listener.port, f"127.0.0.{10 + index}")
        writer.write(hello(f"GP{index:013d}"))
        assert await reader.readexactly(len(REPLY)) == REPLY
    reader, _writer = await peers(listener.port, "127.0.0.20")
    assert await closed(reader)
    assert listener.stats.refused == 1


async def test_panels_made_up_by_a_few_addresses_cannot_fill_the_cap(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    """Two addresses posing as 4 panels each fill a cap of 8: a real panel still gets in,
    and the address holding the most gives up its oldest connection."""
    listener, _rec = await start_listener(
        on_traffic=None, max_connections=8, max_panels_per_address=4
    )
    fakes = []
    for index in range(8):
        reader, writer = await peers(listener.port, f"127.0.0.{10 + index // 4}")
        writer.write(hello(f"GF{index:013d}"))
        assert await reader.readexactly(len(REPLY)) == REPLY
        fakes.append(reader)
    assert await real_panel_gets_in(listener.port, peers) < 1.0
    assert await closed(fakes[0])
    assert listener.panels[REAL].connected
    assert len(listener.connections) == 8


# --- 2. memory ----------------------------------------------------------------------------


async def test_strangers_pushing_90_mb_add_at_most_64_mib(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    """200 peers that never say hello, each pushing 450 KB of well-framed junk."""
    events = 0

    def count(_event: PanelEvent, _panel: PanelStatus | None) -> None:
        nonlocal events
        events += 1

    listener, _rec = await start_listener(on_traffic=None, on_event=count)
    junk = basic(0x99, 0x10, 0x20, bytes(8184))  # 8 KiB, an unknown message
    per_peer = junk * 55  # 450 KB
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        writers = []
        for index in range(200):
            _reader, writer = await peers(listener.port, f"127.0.1.{index // 8}")
            writer.write(per_peer)
            writers.append(writer)
        for writer in writers:
            await writer.drain()
        await eventually(
            lambda: sum(c.counters.frames for c in listener.connections) >= 200 * 55 * 0.9,
            "the junk read",
            limit=30,
        )
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert peak <= 64 * 1024 * 1024, f"{peak / 2**20:.1f} MiB"
    assert listener.held_budget.used <= listener.config.held_bytes_total
    assert all(c._held_bytes <= 64 * 1024 for c in listener.connections)
    assert events > 0  # the oldest held events were passed on, not kept
    for writer in writers:
        writer.transport.abort()
    await eventually(lambda: not listener.connections, "the strangers gone")
    assert listener.held_budget.used == 0


async def test_the_held_events_of_all_strangers_are_bounded_together(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    listener, _rec = await start_listener(on_traffic=None, held_bytes_total=100_000)
    frame = door(1, "Door")
    for index in range(10):
        _reader, writer = await peers(listener.port, f"127.0.2.{index}")
        writer.write(frame * 100)
    await eventually(
        lambda: sum(c.counters.frames for c in listener.connections) == 1000, "all read"
    )
    assert listener.held_budget.used <= 100_000
    assert sum(c.counters.errors for c in listener.connections) > 0  # some were dropped


# --- 3. starvation ------------------------------------------------------------------------


async def test_a_panel_is_answered_at_once_while_fifty_peers_flood(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]]
) -> None:
    listener, _rec = await start_listener(on_traffic=None)
    stop = asyncio.Event()

    async def flood(index: int) -> None:
        reader, writer = await peers(listener.port, f"127.0.3.{index}")
        writer.write(hello(f"GL{index:013d}"))
        burst = PING * 8192  # 64 KiB of pings per write
        drain = asyncio.create_task(reader.read(-1))  # take the echoes, or it would stall
        try:
            while not stop.is_set():
                writer.write(burst)
                await writer.drain()
        except OSError:
            pass
        finally:
            drain.cancel()

    flooders = [asyncio.create_task(flood(index)) for index in range(50)]
    try:
        await asyncio.sleep(0.5)  # the flood is on
        latencies = [
            await real_panel_gets_in(listener.port, peers, f"GR{try_:013d}") for try_ in range(10)
        ]
    finally:
        stop.set()
        for task in flooders:
            task.cancel()
        await asyncio.gather(*flooders, return_exceptions=True)
    assert max(latencies) < 0.5, latencies


# --- 5. the log ---------------------------------------------------------------------------


async def test_two_thousand_unknown_frames_write_a_few_lines(
    start_listener: StartListener,
    peers: Callable[..., Awaitable[Streams]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "custom_components.g90_cloud")
    listener, rec = await start_listener(on_traffic=None)
    reader, writer = await peers(listener.port)
    writer.write(hello(REAL))
    junk = basic(0x99, 0x10, 0x20, bytes(1000))
    writer.write(junk * 2000 + PING)
    await asyncio.wait_for(reader.readexactly(len(REPLY) + len(PING)), WAIT)
    await rec.wait_events(2000)
    logged = sum(
        len(record.getMessage())
        for record in caplog.records
        if record.name.startswith("custom_components.g90_cloud")
    )
    assert logged <= 20_000, logged
    unknown = [r for r in caplog.records if "do not understand" in r.getMessage()]
    assert len(unknown) == 1
    assert "... (1008 bytes)" in unknown[0].getMessage()


# --- 6. output and log integrity ----------------------------------------------------------


def test_odd_identities_name_nobody_and_odd_text_prints() -> None:
    session = Session(cloud_ip="127.0.0.1", cloud_port=5678)
    for guid in (b"GA\x80\x81\xfe0000000000", b"GA\nFORGED LINE1", b"GA 000000000000"):
        payload = struct.pack("<15sx4i3sx6i", guid, 0, 0, 0, 0, b"207", 0, 0, 0, 0, 0, 0)
        ((_frame, _kind, _events, reply),) = session.receive(versioned(0x01, 0x10, 0x20, payload))
        assert reply == REPLY  # answered all the same
        assert session.guid is None
    surrogate = notification('[170,[5,[3,"Hall\\ud800"]]]')
    (inbound,) = session.receive(surrogate)
    (event,) = inbound.events
    assert event.zone_name == "Hall?"
    alert = notification('[208,[4,3,1,1,"Hall","GA\\u0000X\\n",1700000000,0,""]]')
    ((_frame, _kind, (alert_event,), _reply),) = session.receive(alert)
    assert alert_event.guid is None  # a GUID inside an alert must be one too
    record = MessageRecord(datetime.now(UTC), "1.2.3.4:5", None, "panel", surrogate, (event,))
    for line in record_lines(record):
        text = json_line(line)
        text.encode("utf-8")  # every line is valid UTF-8
        assert json.loads(text)["zone_name"] == "Hall?"


# --- 7. oversized frames ------------------------------------------------------------------


async def test_an_oversized_frame_is_skipped_and_the_connection_kept(
    start_listener: StartListener,
    peers: Callable[..., Awaitable[Streams]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    listener, rec = await start_listener()
    reader, writer = await peers(listener.port, PANEL_ADDRESS)
    big = notification("x" * (8193 - 13))
    assert len(big) == 8193
    writer.write(hello(REAL) + big + door(1, "Door") + PING)
    assert await asyncio.wait_for(reader.readexactly(len(REPLY) + len(PING)), WAIT) == REPLY + PING
    await rec.wait_events(2)
    skipped, opened = (event for event, _panel in rec.events)
    assert skipped.type == "unknown"
    assert skipped.detail == "length field 8193 but the frame has 12 bytes"
    assert opened.raw == door(1, "Door")
    assert listener.panels[REAL].connected
    assert [c.session.skipped for c in listener.connections] == [1]


# --- 9. deadlines on time -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hello", "idle"])
async def test_deadlines_fire_within_ten_percent(
    start_listener: StartListener, peers: Callable[..., Awaitable[Streams]], kind: str
) -> None:
    nominal = 1.0
    listener, _rec = await start_listener(hello_timeout=nominal, idle_timeout=nominal)
    reader, writer = await peers(listener.port, PANEL_ADDRESS)
    started = time.monotonic()
    if kind == "idle":
        writer.write(hello(REAL))
        await reader.readexactly(len(REPLY))
        started = time.monotonic()
    assert await closed(reader)
    assert nominal * 0.99 <= time.monotonic() - started <= nominal * 1.1


# --- 10. the monitor shows allowed panels only --------------------------------------------


async def test_the_monitor_with_an_allow_list_prints_allowed_panels_only(
    peers: Callable[..., Awaitable[Streams]],
) -> None:
    port = free_port()
    args = parser().parse_args(
        ["monitor", "--listen", f"{LOCAL}:{port}", "--cloud-ip", "10.1.2.3", "--allow-guid", REAL]
    )
    out = io.StringIO()
    loop = asyncio.get_running_loop()
    monitor = asyncio.create_task(run_monitor(args, out))
    try:
        await wait_listening(port)
        stranger = await peers(port, "127.0.0.5")
        stranger[1].write(door(7, "Stranger") + PING)
        await stranger[0].readexactly(len(PING))
        refused = await peers(port, "127.0.0.6")
        refused[1].write(hello("GX0000000000009") + door(8, "Refused"))
        assert await closed(refused[0])
        allowed = await peers(port, PANEL_ADDRESS)
        allowed[1].write(hello(REAL) + door(9, "Allowed") + PING)
        await allowed[0].readexactly(len(REPLY) + len(PING))
        stranger[1].transport.abort()
        await asyncio.sleep(0.2)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert {line["guid"] for line in lines} == {REAL}
        assert [line.get("zone_name") for line in lines if line["event"]] == ["Allowed"]
        signal.raise_signal(signal.SIGTERM)
        assert await asyncio.wait_for(monitor, 5) == 0
    finally:
        monitor.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def wait_listening(port: int) -> None:
    async def attempt() -> bool:
        try:
            _reader, writer = await asyncio.open_connection(LOCAL, port)
        except OSError:
            return False
        writer.transport.abort()
        return True

    for _ in range(200):
        if await attempt():
            return
        await asyncio.sleep(0.02)
    pytest.fail("the monitor never listened")
