"""The panel listener under load, on loopback: ours, pyg90alarm 3.1.2's, and a do-nothing one.

Three servers (four with `--floor`), each in this process's event loop, take
the same traffic from simulated panels:

* ours: `Listener` (custom_components/g90_cloud/g90/aio/server.py), standalone
  (no upstream), frames counted through its on_traffic callback (once per
  read, with the read's frames) and events through on_event (once per event);
* pyg90alarm 3.1.2: `G90CloudNotifications` started with listen() on
  127.0.0.1, standalone, debug logging off, events counted through its
  protocol callbacks (every event frame of the mix raises exactly one);
* a do-nothing asyncio.Protocol: splits the stream on the length field only,
  counts frames, echoes pings and answers hello with a canned 42-byte reply
  (the same bytes the real ones send back): the ceiling for this loop and
  machine;
* with `--floor`, at one panel: a decoder that checks nothing (FloorProtocol)
  but builds every event by field name as ours does: what building the events
  alone costs beside the do-nothing's transport.

The load generator is one separate process for the whole run (this module
run with `--load`: one asyncio loop, one Protocol per panel, commands and
JSON answers over its stdin/stdout), pinned to another core than the server
when two are available, so its work does not share the server's core.

Each simulated panel connects, says hello with its own GUID and waits for the
three replies, then (per phase):

* paced: what a real panel sends, sped up: one event every 0.25 s (door
  open/close, alarm, arm/disarm state changes, notifications), one frame per
  write, a ping every 0.5 s and a hello every 1-2 s (drawn per panel);
* flood: as fast as the server takes it: rounds of 15 event frames ending in a
  ping (or a hello once 1-2 s have passed), each round one write of whole
  frames, at most 32 rounds unanswered for one panel, 2 per panel from 64
  panels on (enough to keep a server busy, few enough that the queue does
  not dominate the latency).

Flood frames/s are the frames the server counted divided by the load's wall
time (first write to last reply; the last reply proves every frame before it
was read): the server's capacity. Paced frames/s are over the whole phase: the
offered rate, which a server that keeps up simply matches. Latency is from
writing a ping or hello (after the round's events, for the flood) to having
its whole reply. Memory per connection: the growth of the server's traced
Python memory (tracemalloc) between no connection and N panels connected and
identified, idle, divided by N. Not RSS: within one process it mostly shows
how much memory earlier scenarios freed for reuse (pymalloc keeps its arenas),
not what a connection needs. Kernel socket buffers are not counted.
The server's CPU time and its wait for a CPU (/proc/thread-self/schedstat)
are printed per phase, so that other programs on the machine show.

pyg90alarm keeps nothing across reads and serves one connection at a time (a
second panel closes the first), so it is compared on one panel only, and the
load never splits a frame across writes.

Run: `scripts/bench`, or `scripts/run python -m benchmarks.bench_listener`
after `scripts/setup --bench`. G90_BENCH_QUICK=1: a short smoke run.
`--profile N`: only our listener with N panels, each phase under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import gc
from importlib.metadata import version
import io
import json
import logging
import os
from pathlib import Path
import platform
import random
import resource
import socket
import struct
import sys
import time
import tracemalloc
from typing import Any

from pyg90alarm.cloud.notifications import G90CloudNotifications

from benchmarks.reference import CountingProtocol
from custom_components.g90_cloud.g90.aio.server import Listener, ListenerConfig
from custom_components.g90_cloud.g90.events import (
    ARM_NOTIFICATION_EVENTS,
    PANEL_STATE_EVENTS,
    SENSOR_STATE_EVENTS,
    AlertKind,
    AlertSource,
    EventType,
    PanelEvent,
    PeripheralType,
)
from custom_components.g90_cloud.g90.messages import Hello, Notification, Ping, StatusChange
from custom_components.g90_cloud.g90.session import hello_reply
from custom_components.g90_cloud.g90.status import Traffic
from custom_components.g90_cloud.g90.wire import STATUS_ZONE, VERSIONED_HEADER_SIZE, Command

QUICK = os.environ.get("G90_BENCH_QUICK") == "1"
HOST = "127.0.0.1"
PANEL_COUNTS = (1, 100, 1000)
PACED_SECONDS = 1.0 if QUICK else 6.0
FLOOD_SECONDS = 1.0 if QUICK else 5.0
SEED = 0x6790

ROUND_EVENTS = 15
"""Flood: event frames before each ping or hello."""
ROUNDS_IN_FLIGHT = 128
"""Flood: rounds unanswered across all panels, at most (but 2 to 32 per panel)."""
SEND_BUFFER = 256 * 1024
"""Load generator's SO_SNDBUF: a panel's whole window always fits, so writes never split."""
TICK = 0.25
"""Paced: one event frame per tick."""
PING_EVERY = 2
"""Paced: a ping every this many ticks."""
HELLO_INTERVAL = (1.0, 2.0)
"""Both phases: each panel says hello again every 1-2 s (real panels: every 60 s)."""
CONNECT_AT_ONCE = 100
WARM_UP_PANEL = 10**9
"""Index (GUID) of the panel that connects once before each measurement."""
ANNOUNCED_PORT = 5678
FIRMWARE = "207"
HELLO_NUMBERS = (0, 0, 2, 28672, 536918616, 48, 0, 7, 30, 30)
HELLO_REPLY_SIZE = 42
PING = Ping().encode()
CANNED_HELLO_REPLY = hello_reply(ANNOUNCED_PORT)
CONTENTION_WARNING = 0.10
"""Warn when the server waited for a CPU longer than this share of a phase."""
PHASE_GRACE = 60.0
"""Seconds a phase may overrun before the load generator is given up on."""

_LENGTH = struct.Struct("<i")
_FLOOR_JSON = json.JSONDecoder()
FLOOR_GUID = "GB0000000000000"
"""The floor names no panel from its hello; every event gets this GUID."""
REPOSITORY = Path(__file__).resolve().parents[1]


# --- the traffic --------------------------------------------------------------------


def event_frames(now: int) -> list[tuple[str, bytes, int]]:
    """(name, frame, weight): what a busy panel reports; one event (and callback) each."""
    sensor = AlertKind.SENSOR_ACTIVITY
    return [
        (
            "door open",
            StatusChange.zone(
                sensor, zone=1, type_or_source=AlertSource.SENSOR, state=1, name="Front door",
                timestamp=now,
            ).encode(),
            30,
        ),
        (
            "door close",
            StatusChange.zone(
                sensor, zone=1, type_or_source=AlertSource.SENSOR, state=0, name="Front door",
                timestamp=now,
            ).encode(),
            30,
        ),
        (
            "alarm",
            StatusChange.zone(
                AlertKind.ALARM, zone=1, type_or_source=PeripheralType.DOOR, state=1,
                name="Front door", timestamp=now,
            ).encode(),
            4,
        ),
        ("armed away", StatusChange.panel_state(4, now).encode(), 5),
        ("disarmed", StatusChange.panel_state(3, now).encode(), 5),
        ("notify armed away", Notification.from_text("[170,[1,[1]]]").encode(), 5),
        ("notify alarm", Notification.from_text("[170,[1,[4]]]").encode(), 3),
        (
            "notify sensor activity",
            Notification.from_text('[170,[5,[101,"Cord 1"]]]').encode(),
            18,
        ),
    ]  # fmt: skip


def playlist(now: int, length: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """A fixed cycle of event frames drawn by weight; each panel starts at its own place."""
    mix = event_frames(now)
    picks = rng.choices(mix, weights=[weight for _, _, weight in mix], k=length)
    return [(name, frame) for name, frame, _ in picks]


def panel_guid(index: int) -> str:
    """15 ASCII characters, distinct per panel."""
    return f"GB{index:013d}"


def hello_frame(index: int) -> bytes:
    """The hello of panel `index`, as firmware 207 sends it."""
    return Hello(panel_guid(index), FIRMWARE, HELLO_NUMBERS).encode()


# --- the load generator (child process) ----------------------------------------------


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(slots=True)
class Tally:
    """What the load generator sent and got back in one phase."""

    sent: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    problems: Counter[str] = field(default_factory=Counter)
    first_write: float | None = None
    last_reply: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures."""
        ordered = sorted(self.latencies)
        return {
            "sent": dict(self.sent),
            "answered": len(ordered),
            "p50": percentile(ordered, 0.50),
            "p99": percentile(ordered, 0.99),
            "max": ordered[-1] if ordered else None,
            "seconds": self.last_reply - (self.first_write or self.last_reply),
            "last_reply": self.last_reply,
            "problems": dict(self.problems),
        }


class SimPanel(asyncio.Protocol):
    """One simulated panel: writes frames, matches replies in order, times them."""

    def __init__(self, index: int, rng: random.Random) -> None:
        self.index = index
        self.hello = hello_frame(index)
        self.hello_reply: bytes | None = None
        self.hello_every = rng.uniform(*HELLO_INTERVAL)
        self.next_hello = 0.0
        self.offset = rng.randrange(1 << 16)
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        # Each unanswered ping or hello: (reply size, expected reply or None, sent at).
        self.waiting: deque[tuple[int, bytes | None, float]] = deque()
        self.wake: asyncio.Future[None] | None = None
        self.wake_below = 0
        self.tally = Tally()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiting:
            self.tally.problems["connection lost with replies due"] += len(self.waiting)
            self.waiting.clear()
        self._wake()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        now = time.perf_counter()
        waiting = self.waiting
        tally = self.tally
        while waiting:
            size, expected, sent_at = waiting[0]
            if len(buffer) < size:
                break
            reply = bytes(buffer[:size])
            del buffer[:size]
            waiting.popleft()
            if expected is None:
                self.hello_reply = reply
            elif reply != expected:
                tally.problems["reply differs"] += 1
            tally.latencies.append(now - sent_at)
            tally.last_reply = now
        if buffer and not waiting:
            tally.problems["unexpected bytes"] += len(buffer)
            buffer.clear()
        if self.wake is not None and len(waiting) < self.wake_below:
            self._wake()

    def _wake(self) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)
        self.wake = None

    async def answered_below(self, count: int) -> None:
        """Until fewer than `count` pings/hellos wait for their reply."""
        while len(self.waiting) >= count and not self.closed:
            self.wake_below = count
            self.wake = asyncio.get_running_loop().create_future()
            await self.wake

    def send(self, data: bytes, reply: bytes | None, reply_size: int = 0) -> None:
        """Write; when a reply is due, start its clock."""
        assert self.transport is not None
        if self.closed:
            return
        now = time.perf_counter()
        if self.tally.first_write is None:
            self.tally.first_write = now
        self.transport.write(data)
        if reply is not None or reply_size:
            self.waiting.append((reply_size or len(reply or b""), reply, now))

    def send_hello(self, prefix: bytes = b"") -> None:
        """Say hello (after `prefix`); the reply must match the handshake's."""
        self.send(prefix + self.hello, self.hello_reply, HELLO_REPLY_SIZE)
        self.tally.sent["hello"] += 1
        self.next_hello = time.perf_counter() + self.hello_every

    async def handshake(self) -> None:
        """The first hello; its reply is what later hellos must get."""
        self.send(self.hello, None, HELLO_REPLY_SIZE)
        self.next_hello = time.perf_counter() + self.hello_every
        await self.answered_below(1)
        if self.hello_reply is None:
            raise ConnectionError(f"panel {self.index}: no reply to hello")

    async def paced(self, frames: list[tuple[str, bytes]], start: float, stop: float) -> None:
        """A real panel's pattern, sped up: one frame per write."""
        tick = self.offset % 1000 / 1000 * TICK  # spread the panels over a tick
        count = self.offset
        while not self.closed:
            at = start + tick
            if at >= stop:
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            name, frame = frames[count % len(frames)]
            self.send(frame, None)
            self.tally.sent[name] += 1
            if count % PING_EVERY == 0:
                self.send(PING, PING)
                self.tally.sent["ping"] += 1
            if time.perf_counter() >= self.next_hello:
                self.send_hello()
            count += 1
            tick += TICK
        await self.answered_below(1)

    async def flood(
        self, rounds: list[tuple[bytes, Counter[str]]], window: int, stop: float
    ) -> None:
        """Rounds of events ending in a ping or hello, at most `window` unanswered."""
        count = self.offset
        while not self.closed and time.perf_counter() < stop:
            if len(self.waiting) >= window:
                await self.answered_below(window)
                continue
            events, kinds = rounds[count % len(rounds)]
            count += 1
            self.tally.sent.update(kinds)
            if time.perf_counter() >= self.next_hello:
                self.send_hello(events)
            else:
                self.send(events + PING, PING)
                self.tally.sent["ping"] += 1
        await self.answered_below(1)


def merge(panels: list[SimPanel]) -> dict[str, Any]:
    """One phase's tallies across panels."""
    total = Tally()
    starts = [p.tally.first_write for p in panels if p.tally.first_write is not None]
    total.first_write = min(starts) if starts else None
    total.last_reply = max((p.tally.last_reply for p in panels), default=0.0)
    for panel in panels:
        total.sent.update(panel.tally.sent)
        total.latencies.extend(panel.tally.latencies)
        total.problems.update(panel.tally.problems)
        panel.tally = Tally()
    return total.summary()


def build_rounds(frames: list[tuple[str, bytes]]) -> list[tuple[bytes, Counter[str]]]:
    """The flood's rounds: ROUND_EVENTS consecutive playlist frames joined in one write."""
    rounds = []
    for first in range(len(frames)):
        chosen = [frames[(first + i) % len(frames)] for i in range(ROUND_EVENTS)]
        rounds.append((b"".join(f for _, f in chosen), Counter(n for n, _ in chosen)))
    return rounds


def run_queue_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux), else 0."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as schedstat:
            return int(schedstat.read().split()[1]) / 1e9
    except OSError, IndexError, ValueError:
        return 0.0


def flood_window(panels: int) -> int:
    """Rounds one panel may have unanswered in the flood."""
    return max(2, min(32, ROUNDS_IN_FLIGHT // panels))


def emit(payload: dict[str, Any]) -> None:
    """One line of JSON to the server process."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


class LoadGenerator:
    """The child process: panels connected on command, loaded on command."""

    def __init__(self) -> None:
        self.panels: list[SimPanel] = []
        self.frames: list[tuple[str, bytes]] = []
        self.rounds: list[tuple[bytes, Counter[str]]] = []

    async def connect(self, port: int, count: int, first: int) -> dict[str, Any]:
        """Panels `first`... connect and say hello, CONNECT_AT_ONCE at a time."""
        loop = asyncio.get_running_loop()
        rng = random.Random(SEED + count)
        self.frames = playlist(int(time.time()), 256, rng)
        self.rounds = build_rounds(self.frames)
        self.panels = [SimPanel(first + index, rng) for index in range(count)]
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)

        async def connect(panel: SimPanel) -> None:
            async with gate:
                transport, _ = await loop.create_connection(lambda: panel, HOST, port)
                sock = transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
                await panel.handshake()

        started = time.perf_counter()
        await asyncio.gather(*(connect(panel) for panel in self.panels))
        return {"connect_seconds": time.perf_counter() - started, **merge(self.panels)}

    async def load(self, phase: str, seconds: float) -> dict[str, Any]:
        """One phase, "paced" or "flood"; what was sent and how fast it was answered."""
        cpu = time.process_time()
        waited = run_queue_wait()
        start = time.perf_counter() + 0.05
        stop = start + seconds
        runs: list[Awaitable[None]]
        if phase == "paced":
            runs = [panel.paced(self.frames, start, stop) for panel in self.panels]
        else:
            await asyncio.sleep(max(0.0, start - time.perf_counter()))
            window = flood_window(len(self.panels))
            runs = [panel.flood(self.rounds, window, stop) for panel in self.panels]
        await asyncio.gather(*runs)
        result = merge(self.panels)
        if phase == "paced":  # the offered rate is fixed: the whole phase counts
            result["seconds"] = max(stop, result["last_reply"]) - start
        result["client_cpu"] = time.process_time() - cpu
        result["client_wait"] = run_queue_wait() - waited
        result["closed"] = sum(panel.closed for panel in self.panels)
        return result

    async def disconnect(self) -> dict[str, Any]:
        """Every panel hangs up."""
        for panel in self.panels:
            if panel.transport is not None:
                panel.transport.close()
        for _ in range(100):
            if all(panel.closed for panel in self.panels):
                break
            await asyncio.sleep(0.01)
        self.panels = []
        return {}


async def run_load() -> None:
    """Obey the server process's commands, one per line on stdin, one JSON line back each."""
    generator = LoadGenerator()
    while True:
        command = (await asyncio.to_thread(sys.stdin.readline)).split()
        if not command or command[0] == "quit":
            break
        if command[0] == "connect":
            port, count, first = map(int, command[1:4])
            emit(await generator.connect(port, count, first))
        elif command[0] == "disconnect":
            emit(await generator.disconnect())
        else:
            emit(await generator.load(command[0], float(command[1])))
    await generator.disconnect()


# --- the servers (this process) --------------------------------------------------------


class Server:
    """A server under test: start, stop, and what it has processed so far."""

    name = ""
    max_panels = max(PANEL_COUNTS)
    decodes = True
    """Whether it hands on an event per event frame (checked against what was sent)."""

    async def start(self) -> int:
        """Listen on 127.0.0.1; return the port."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Close everything."""
        raise NotImplementedError

    def frames(self) -> int:
        """Frames processed so far (for pyg90alarm: see TheirServer)."""
        raise NotImplementedError

    def events(self) -> int:
        """Events handed to the owner so far."""
        raise NotImplementedError

    def problems(self) -> list[str]:
        """Anything it logged or miscounted."""
        return []


class WarningCounter(logging.Handler):
    """Counts records at WARNING and above; keeps the first for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()[:200]


class OurServer(Server):
    """Our Listener, standalone."""

    name = "ours"

    def __init__(self, log: WarningCounter) -> None:
        self._frames = 0
        self._events = 0
        self._log = log
        self.listener: Listener | None = None

    def _on_traffic(self, traffic: Traffic) -> None:
        self._frames += len(traffic.frames)

    def _on_event(self, _event: object, _panel: object) -> None:
        self._events += 1

    async def start(self) -> int:
        config = ListenerConfig(
            host=HOST,
            port=0,
            cloud_ip=HOST,
            cloud_port=ANNOUNCED_PORT,
            # Every simulated panel connects from 127.0.0.1: one address may hold them all.
            max_connections=self.max_panels + 100,
            max_unidentified_per_address=self.max_panels + 100,
            max_panels_per_address=self.max_panels + 100,
        )
        self.listener = Listener(config, on_event=self._on_event, on_traffic=self._on_traffic)
        await self.listener.start()
        return self.listener.port

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.close()

    def frames(self) -> int:
        return self._frames

    def events(self) -> int:
        return self._events

    def problems(self) -> list[str]:
        found = []
        if self.listener is not None and self.listener.stats.refused:
            found.append(f"refused {self.listener.stats.refused} connections")
        if self._log.count:
            found.append(f"logged {self._log.count} warnings, first: {self._log.first}")
        return found


class TheirServer(Server):
    """pyg90alarm's G90CloudNotifications, standalone, one panel.

    It has no per-frame hook: frames processed = callbacks (one per event
    frame) + pings/hellos the load generator saw answered.
    """

    name = "pyg90alarm"
    max_panels = 1

    def __init__(self, log: WarningCounter) -> None:
        self.calls: Counter[str] = Counter()
        self.answered = 0
        self._log = log
        self.notifications: G90CloudNotifications | None = None

    async def start(self) -> int:
        self.notifications = G90CloudNotifications(
            lambda: CountingProtocol(self.calls),
            local_ip=HOST,
            local_port=0,
            cloud_ip=HOST,
            cloud_port=ANNOUNCED_PORT,
        )
        await self.notifications.listen()
        server = self.notifications._server  # the port chosen for 0
        assert server is not None
        return int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.notifications is not None:
            await self.notifications.close()

    def frames(self) -> int:
        return self.events() + self.answered

    def events(self) -> int:
        return sum(self.calls.values())

    def problems(self) -> list[str]:
        if self._log.count:
            return [f"logged {self._log.count} problems, first: {self._log.first}"]
        return []


class NothingProtocol(asyncio.Protocol):
    """Splits the stream on the length field, counts, answers ping and hello with canned bytes."""

    def __init__(self, owner: NothingServer) -> None:
        self.owner = owner
        self.pending = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.owner.open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.owner.open.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        if self.pending:
            data = self.pending + data
        position, end, frames = 0, len(data), 0
        transport = self.transport
        assert transport is not None
        while end - position >= 8:
            (length,) = _LENGTH.unpack_from(data, position + 4)
            if length < 8:
                transport.abort()
                return
            stop = position + length
            if stop > end:
                break
            if data[position] == 0x01 and data[position + 1] == 0x10:
                destination = data[position + 3]
                if destination == 0x00:
                    transport.write(data[position:stop])
                elif destination == 0x20:
                    transport.write(CANNED_HELLO_REPLY)
            frames += 1
            position = stop
        self.pending = data[position:]
        self.owner.frame_count += frames


class NothingServer(Server):
    """The ceiling: asyncio's own cost of reading these bytes and writing the replies."""

    name = "do-nothing"
    decodes = False

    def __init__(self) -> None:
        self.frame_count = 0
        self.open: set[asyncio.Transport] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: NothingProtocol(self), HOST, 0, backlog=1024)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for transport in list(self.open):
            transport.abort()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def frames(self) -> int:
        return self.frame_count

    def events(self) -> int:
        return 0


class FloorProtocol(NothingProtocol):
    """The least a decoder can do: every alert a PanelEvent built by field name, nothing checked.

    No header check, no unknown or malformed frames, no held events, no
    fairness, no relay, no records: it knows the benchmark's mix and nothing
    else, so it must not be taken for a listener. It shows what building the
    events alone costs on this machine, beside do-nothing's transport.
    """

    owner: FloorServer

    def __init__(self, owner: FloorServer) -> None:
        super().__init__(owner)

    def data_received(self, data: bytes) -> None:
        if self.pending:
            data = self.pending + data
        position, end = 0, len(data)
        events: list[PanelEvent] = []
        replies: list[bytes] = []
        frames = 0
        while end - position >= 8:
            (length,) = _LENGTH.unpack_from(data, position + 4)
            stop = position + length
            if stop > end:
                break
            frame = data[position:stop]
            if frame[0] == Command.STATUS_CHANGE:
                events.append(_floor_status(frame))
            elif frame[0] == Command.NOTIFICATION:
                events.append(_floor_notification(frame))
            else:
                replies.append(frame if frame[3] == 0x00 else CANNED_HELLO_REPLY)
            frames += 1
            position = stop
        self.pending = data[position:]
        if replies:
            assert self.transport is not None
            self.transport.write(b"".join(replies))
        self.owner.frame_count += frames
        self.owner.event_count += len(events)


def _floor_status(frame: bytes) -> PanelEvent:
    kind, zone, source, state, name, stamp = STATUS_ZONE.unpack_from(frame, VERSIONED_HEADER_SIZE)
    cut = name.find(b"\0")
    zone_name = (name if cut < 0 else name[:cut]).decode("utf-8", "replace")
    if kind == AlertKind.STATE_CHANGE:
        code = zone  # kind 2 has its code where the zone is
        return PanelEvent(
            PANEL_STATE_EVENTS[code], FLOOR_GUID, timestamp=stamp, state=code, raw=frame
        )
    if kind == AlertKind.ALARM:
        return PanelEvent(
            EventType.ALARM,
            FLOOR_GUID,
            zone_index=zone,
            zone_name=zone_name,
            timestamp=stamp,
            peripheral_type=source,
            state=state,
            tamper=False,
            raw=frame,
        )
    event_type = SENSOR_STATE_EVENTS[state]
    return PanelEvent(
        event_type, FLOOR_GUID, zone_index=zone, zone_name=zone_name, timestamp=stamp,
        source=source, state=state, raw=frame,
    )  # fmt: skip


def _floor_notification(frame: bytes) -> PanelEvent:
    body = frame[VERSIONED_HEADER_SIZE:]
    cut = body.find(b"\0")
    (_code, (kind, data)), _stop = _FLOOR_JSON.raw_decode(body[:cut].decode("utf-8", "replace"))
    if kind == 1:
        return PanelEvent(ARM_NOTIFICATION_EVENTS[data[0]], FLOOR_GUID, state=data[0], raw=frame)
    return PanelEvent(
        EventType.SENSOR_ACTIVITY, FLOOR_GUID, zone_index=data[0], zone_name=data[1], raw=frame
    )


class FloorServer(NothingServer):
    """`--floor`: FloorProtocol, at one panel."""

    name = "floor"
    decodes = True

    def __init__(self) -> None:
        super().__init__()
        self.event_count = 0

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: FloorProtocol(self), HOST, 0, backlog=1024)
        return int(self.server.sockets[0].getsockname()[1])

    def events(self) -> int:
        return self.event_count


# --- measuring ------------------------------------------------------------------------


def cpus() -> list[int]:
    """CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return []


@dataclass(slots=True)
class Phase:
    """One load phase as measured on the server side."""

    name: str
    frames: int
    events: int
    seconds: float
    server_cpu: float
    client_cpu: float
    server_wait: float
    """Seconds the server was runnable but had no CPU (other programs on its core)."""
    client_wait: float
    answered: int
    p50: float | None
    p99: float | None
    max: float | None
    sent: dict[str, int]
    problems: list[str]

    @property
    def rate(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_frame(self) -> float:
        return self.server_cpu / self.frames if self.frames else 0.0

    @property
    def offered(self) -> int:
        return sum(self.sent.values())


@dataclass(slots=True)
class Result:
    """One server at one panel count."""

    server: str
    panels: int
    connect_seconds: float = 0.0
    traced_per_panel: float | None = None
    phases: list[Phase] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)


class LoadProcess:
    """The load generator process and its command pipe."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def spawn(cls, cpu: int | None) -> LoadProcess:
        args = [sys.executable, "-m", "benchmarks.bench_listener", "--load"]
        if cpu is not None:
            args += ["--cpu", str(cpu)]
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPOSITORY,
        )
        return cls(process)

    async def ask(self, command: str, within: float) -> dict[str, Any]:
        """Send one command; its JSON answer."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        async with asyncio.timeout(within):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator ended (exit code {await self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def finish(self) -> None:
        """Ask it to quit; kill it if it does not."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
        try:
            async with asyncio.timeout(20):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def settle() -> None:
    """Let callbacks scheduled as tasks (pyg90alarm's) run."""
    for _ in range(3):
        await asyncio.sleep(0.02)


Profiling = Callable[[str], contextlib.AbstractContextManager[object]]


async def run_phase(
    server: Server, load: LoadProcess, name: str, seconds: float, profiling: Profiling | None
) -> Phase:
    """One phase of load; the server's counters and CPU read around it."""
    profiler = profiling(name) if profiling is not None else contextlib.nullcontext()
    if isinstance(server, TheirServer):
        server.answered = 0
    frames, events = server.frames(), server.events()
    cpu_before = time.process_time()
    wait_before = run_queue_wait()
    with profiler:
        reply = await load.ask(f"{name} {seconds}", seconds + PHASE_GRACE)
        if isinstance(server, TheirServer):
            server.answered = reply["answered"]
        await settle()
    phase = Phase(
        name=name,
        frames=server.frames() - frames,
        events=server.events() - events,
        seconds=reply["seconds"],
        server_cpu=time.process_time() - cpu_before,
        client_cpu=reply["client_cpu"],
        server_wait=run_queue_wait() - wait_before,
        client_wait=reply["client_wait"],
        answered=reply["answered"],
        p50=reply["p50"],
        p99=reply["p99"],
        max=reply["max"],
        sent=reply["sent"],
        problems=[f"{what}: {count}" for what, count in reply["problems"].items()],
    )
    if reply["closed"]:
        phase.problems.append(f"{reply['closed']} panels were disconnected")
    if phase.frames != phase.offered:
        phase.problems.append(f"server counted {phase.frames} of {phase.offered} frames")
    expected_events = phase.offered - phase.sent.get("ping", 0) - phase.sent.get("hello", 0)
    if server.decodes and phase.events != expected_events:
        phase.problems.append(f"{phase.events} events for {expected_events} event frames")
    return phase


async def connect_measuring_memory(
    server: Server, port: int, result: Result, load: LoadProcess
) -> None:
    """Panels connect and say hello; the server's memory growth meanwhile.

    One panel of another GUID connects and leaves first, so that what the
    server builds once (caches, lazy imports) is not counted per connection.
    What this process allocates to talk to the load generator is measured
    with a command that connects no panel, and subtracted.
    """
    panels = result.panels
    within = PHASE_GRACE + panels / 20
    await load.ask(f"connect {port} 1 {WARM_UP_PANEL}", PHASE_GRACE)
    await load.ask("disconnect", PHASE_GRACE)
    await settle()
    if isinstance(server, TheirServer):
        server.answered = 0
    hellos = server.frames()
    gc.collect()
    tracemalloc.start()
    try:
        # Talking to the load generator allocates too: an empty connect
        # command, run twice, first absorbs one-off growth, then measures it.
        idle = f"connect {port} 0 0"
        await load.ask(idle, PHASE_GRACE)
        await settle()
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        calibration = await load.ask(idle, PHASE_GRACE)
        await settle()
        gc.collect()
        overhead = tracemalloc.get_traced_memory()[0] - start
        start = tracemalloc.get_traced_memory()[0]
        ready = await load.ask(f"connect {port} {panels} 0", within)
        await settle()
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - start - overhead
    finally:
        tracemalloc.stop()
    del calibration
    result.connect_seconds = ready["connect_seconds"]
    result.traced_per_panel = growth / panels
    if ready["problems"]:
        result.problems.append(f"handshake: {ready['problems']}")
    if isinstance(server, TheirServer):
        server.answered = ready["answered"]
    if server.frames() - hellos != panels:
        result.problems.append(
            f"handshake: server counted {server.frames() - hellos} hellos of {panels}"
        )


async def measure(
    server: Server, panels: int, load: LoadProcess, profiling: Profiling | None = None
) -> Result:
    """Start `server`, connect `panels`, measure memory, run the paced and flood phases."""
    result = Result(server.name, panels)
    port = await server.start()
    try:
        await connect_measuring_memory(server, port, result, load)
        for name, seconds in (("paced", PACED_SECONDS), ("flood", FLOOD_SECONDS)):
            result.phases.append(await run_phase(server, load, name, seconds, profiling))
        await load.ask("disconnect", PHASE_GRACE)
    finally:
        await server.stop()
    result.problems.extend(server.problems())
    return result


# --- reporting ----------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def kib(value: float | None) -> str:
    return "-" if value is None else f"{value / 1024:.1f}"


def share(seconds: float, phase: Phase) -> str:
    """Seconds as a share of the phase's wall time."""
    return f"{seconds / phase.seconds:.0%}" if phase.seconds > 0 else "-"


def print_table(results: list[Result]) -> None:
    head = (
        f"  {'server':<11}{'panels':>7} {'phase':<6}{'frames':>9}{'seconds':>8}"
        f"{'frames/s':>10}{'srv µs/fr':>10}{'srv CPU':>8}{'wait':>6}{'load CPU':>9}{'wait':>6}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'replies':>8}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for result in results:
        for phase in result.phases:
            per_frame = phase.cpu_per_frame * 1e6
            print(
                f"  {result.server:<11}{result.panels:>7} {phase.name:<6}{phase.frames:>9,}"
                f"{phase.seconds:>8.2f}{phase.rate:>10,.0f}{per_frame:>10.1f}"
                f"{share(phase.server_cpu, phase):>8}{share(phase.server_wait, phase):>6}"
                f"{share(phase.client_cpu, phase):>9}{share(phase.client_wait, phase):>6}"
                f"{ms(phase.p50):>9}{ms(phase.p99):>9}{ms(phase.max):>9}{phase.answered:>8,}"
            )
    print()
    print(
        f"  {'server':<11}{'panels':>7}  {'connect+hello s':>15}  {'KiB/connection':>14}"
        f"  {'KiB, all':>9}   (memory: tracemalloc, connected and idle)"
    )
    for result in results:
        per_panel = result.traced_per_panel
        total = None if per_panel is None else per_panel * result.panels
        print(
            f"  {result.server:<11}{result.panels:>7}  {result.connect_seconds:>15.2f}"
            f"  {kib(per_panel):>14}  {kib(total):>9}"
        )


def flood(results: list[Result], server: str, panels: int) -> Phase | None:
    """The flood phase of `server` at `panels`."""
    for result in results:
        if result.server == server and result.panels == panels:
            return result.phase("flood")
    return None


def ratio(first: Phase | None, second: Phase | None, what: str) -> str:
    """first / second of frames/s ("rate") or of server CPU per frame ("cost")."""
    if first is None or second is None:
        return "n/a"
    if what == "rate":
        values = first.rate, second.rate
    else:
        values = first.cpu_per_frame, second.cpu_per_frame
    return f"{values[0] / values[1]:.2f}" if values[0] and values[1] else "n/a"


def raise_file_limit(needed: int) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    text = f"RLIMIT_NOFILE soft {soft}, hard {hard}"
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        text += f"; soft raised to {new}"
        if new < needed:
            text += f" (hard limit: fewer than the {needed} wanted)"
    else:
        text += f" (enough for {needed})"
    return text


def silence_logging() -> tuple[WarningCounter, WarningCounter]:
    """Both at WARNING (no debug formatting); warnings counted per library, not printed."""
    counters = []
    for name in ("custom_components", "pyg90alarm"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
        counter = WarningCounter()
        logger.addHandler(counter)
        counters.append(counter)
    return counters[0], counters[1]


async def run_all(profile: int | None, with_floor: bool = False) -> int:
    limits = raise_file_limit(2 * max(PANEL_COUNTS) + 256)
    ours_log, theirs_log = silence_logging()
    available = cpus()
    server_cpu = client_cpu = None
    if len(available) >= 2:
        server_cpu, client_cpu = available[0], available[1]
        os.sched_setaffinity(0, {server_cpu})
    print(f"G90 listener under load on {HOST} (loopback), pyg90alarm {version('pyg90alarm')}")
    print(
        f"  Python {platform.python_version()} ({sys.implementation.name}), {platform.machine()},"
        f" {os.cpu_count()} CPUs; {limits}"
    )
    where = (
        f"server pinned to CPU {server_cpu}, load generator to CPU {client_cpu}"
        if server_cpu is not None
        else "one CPU: server and load generator share it"
    )
    print(f"  load generator: a separate process (asyncio, one Protocol per panel); {where}")
    print(
        f"  paced: {PACED_SECONDS:g} s, per panel an event every {TICK:g} s (one frame per write),"
        f" a ping every {TICK * PING_EVERY:g} s, a hello every {HELLO_INTERVAL[0]:g}-"
        f"{HELLO_INTERVAL[1]:g} s"
    )
    print(
        f"  flood: {FLOOD_SECONDS:g} s, rounds of {ROUND_EVENTS} event frames + a ping (a hello"
        f" every {HELLO_INTERVAL[0]:g}-{HELLO_INTERVAL[1]:g} s) in one write; unanswered"
        " rounds per panel at most "
        + ", ".join(f"{flood_window(count)} ({count})" for count in PANEL_COUNTS)
    )
    print(
        "  event frames: door open/close, alarm, armed away/disarmed status changes,"
        " arm/alarm/sensor notifications; debug logging off"
    )
    print()
    sys.stdout.flush()

    load = await LoadProcess.spawn(client_cpu)
    try:
        if profile is not None:
            return await run_profile(profile, ours_log, load)
        plan: list[tuple[Callable[[], Server], int]] = [
            (lambda: OurServer(ours_log), count) for count in PANEL_COUNTS
        ]
        plan.append((lambda: TheirServer(theirs_log), 1))
        plan += [(NothingServer, count) for count in PANEL_COUNTS]
        if with_floor:
            plan.append((FloorServer, 1))
        results = [await measure(factory(), count, load) for factory, count in plan]
    finally:
        await load.finish()
    print_table(results)
    print()
    print("  srv µs/fr: server-process CPU per frame processed")
    print("  srv CPU, load CPU: CPU time of the server / load generator as a share of wall time")
    print("  wait: time runnable but without a CPU (other programs on that core) / wall time")
    print("  latency: ping or hello written -> whole reply read (the flood's includes queueing)")
    print("  frames/s of a paced phase is the offered rate; the flood's is the server's capacity")
    print()
    return report_summary(results)


def report_summary(results: list[Result]) -> int:
    """Problems, contention warnings and the ratio lines; 1 if anything went wrong."""
    failed = contended = False
    for result in results:
        for problem in result.problems + [
            f"{phase.name}: {text}" for phase in result.phases for text in phase.problems
        ]:
            failed = True
            print(f"  PROBLEM {result.server} {result.panels} panels: {problem}")
        for phase in result.phases:
            planned = PACED_SECONDS if phase.name == "paced" else FLOOD_SECONDS
            if phase.seconds > 2 * planned + 1:
                print(
                    f"  NOTE {result.server} {result.panels} panels {phase.name}: took"
                    f" {phase.seconds:.1f} s for {planned:g} s of load (a stall: replies late"
                    f" by up to {ms(phase.max)} ms)"
                )
            if phase.seconds and phase.server_wait / phase.seconds > CONTENTION_WARNING:
                print(
                    f"  NOTE {result.server} {result.panels} panels {phase.name}: the server"
                    f" waited for a CPU {phase.server_wait / phase.seconds:.0%} of the time"
                )
                contended = True
    if contended:
        print(
            "  NOTE: other programs took CPU time from this benchmark; frames/s and latency"
            " understate those phases, CPU µs/frame hold better"
        )
    ours = flood(results, "ours", 1)
    theirs = flood(results, "pyg90alarm", 1)
    nothing = flood(results, "do-nothing", 1)
    print(f"listener ratio vs pyg90alarm (1 panel): {ratio(ours, theirs, 'rate')}")
    print(f"  the same from CPU per frame (their µs / our µs): {ratio(theirs, ours, 'cost')}")
    print(f"ceiling ratio (ours / do-nothing, 1 panel): {ratio(ours, nothing, 'rate')}")
    print(f"  the same from CPU per frame (its µs / our µs): {ratio(nothing, ours, 'cost')}")
    floor = flood(results, "floor", 1)
    if floor is not None:
        print(f"  floor ratio (floor / do-nothing, 1 panel): {ratio(floor, nothing, 'rate')}")
        print(f"  ours / floor (1 panel): {ratio(ours, floor, 'rate')}")
    for count in PANEL_COUNTS[1:]:
        ours, nothing = flood(results, "ours", count), flood(results, "do-nothing", count)
        print(
            f"  ceiling ratio at {count} panels: {ratio(ours, nothing, 'rate')},"
            f" from CPU per frame {ratio(nothing, ours, 'cost')}"
        )
    return 1 if failed else 0


async def run_profile(panels: int, log: WarningCounter, load: LoadProcess) -> int:
    """Our listener only, each phase under its own cProfile; the heaviest functions printed."""
    import cProfile
    import pstats

    profilers: dict[str, cProfile.Profile] = {}

    @contextlib.contextmanager
    def profiled(phase: str) -> Iterator[None]:
        profiler = profilers[phase] = cProfile.Profile()
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()

    result = await measure(OurServer(log), panels, load, profiled)
    print_table([result])
    print("  (figures under cProfile: several times slower than without it)")
    for phase, profiler in profilers.items():
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        out.write(f"\n--- ours, {panels} panels, {phase}: by own time ---\n")
        stats.sort_stats("tottime").print_stats(25)
        out.write(f"--- ours, {panels} panels, {phase}: by cumulative time ---\n")
        stats.sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    hidden = argparse.SUPPRESS
    parser.add_argument("--load", action="store_true", help=hidden)
    parser.add_argument("--cpu", type=int, help=hidden)
    parser.add_argument("--profile", type=int, metavar="PANELS")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure a decoder that checks nothing (the floor), at one panel",
    )
    args = parser.parse_args()
    if args.load:
        if args.cpu is not None:
            with contextlib.suppress(OSError, AttributeError):
                os.sched_setaffinity(0, {args.cpu})
        asyncio.run(run_load())
        return 0
    return asyncio.run(run_all(args.profile, args.floor))


if __name__ == "__main__":
    sys.exit(main())
