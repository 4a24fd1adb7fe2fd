"""One panel's TCP connection: the session, our replies, and the relay to the cloud.

Data path: panel bytes -> `data_received` -> Session.receive -> events handed
to the owner at once (they never wait for the cloud) -> each frame relayed to
the cloud when chaining, else our replies written back, one write per read.

Fairness: at most `frames_per_turn` frames are served per turn of the event
loop; a connection with more waiting carries on at the next turn, after every
other connection has had its turn, and is not read meanwhile. A peer sending
faster than that is slowed down by TCP itself.

Flow control: when the panel stops reading what we send, its transport pauses
us; we then stop reading from the panel (and from the cloud) and give it
`reply_timeout` seconds to catch up before it is let go.

Deadlines: a connection that says nothing for `idle_timeout`, or no hello
within `hello_timeout`, is closed; one timer per connection, moved lazily.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
import contextlib
from datetime import UTC, datetime
import logging
import socket
from typing import TYPE_CHECKING, Final, Protocol, override

from ..events import PanelEvent
from ..framing import is_skipped
from ..messages import (
    CloudCommand,
    CommandResponse,
    Hello,
    HelloDiscovery,
    Malformed,
    Message,
    Unknown,
    identify,
)
from ..session import Inbound, Session
from ..status import Counters, PanelStatus, Traffic
from .budget import ByteBudget
from .channel import CloudChannel
from .logs import QuietLog
from .relay import CloudRelay

if TYPE_CHECKING:
    from .server import ListenerConfig

_LOGGER = logging.getLogger(__name__)

_NOTABLE: Final = frozenset({Hello, HelloDiscovery, Unknown, Malformed, CommandResponse})
"""Frames that need more than their events and reply: identities, responses to
commands (ours go no further), and what we cannot read."""
HELD_EVENT_OVERHEAD: Final = 256
"""Bytes a held event takes beyond its frame, roughly (the event's own fields)."""
LOGGED_HEX: Final = 32
"""Bytes of a frame shown in a log line (the rest is counted, not shown)."""


class ConnectionOwner(Protocol):
    """What a panel connection needs from the listener that accepted it."""

    config: ListenerConfig
    log: QuietLog
    held_budget: ByteBudget
    """Bytes of events held for every connection that has not said hello yet."""
    backlog_budget: ByteBudget
    """Bytes of frames kept for every vendor cloud that is away."""

    @property
    def wants_records(self) -> bool:
        """Whether anyone takes a record of every frame (they are built only then)."""

    def admit(self, connection: PanelConnection) -> bool:
        """Whether the new connection may stay (limits, address allow-list)."""

    def attach(self, connection: PanelConnection, guid: str, now: datetime) -> PanelStatus | None:
        """The connection said it is panel `guid`: its status, or None if it is refused."""

    def deliver(self, events: Sequence[PanelEvent], panel: PanelStatus | None) -> None:
        """Events in order, with their panel (None: it never said who it is)."""

    def record(self, traffic: Traffic) -> None:
        """Frames, either way, handed on together (only called when wants_records)."""

    def panel_changed(self, panel: PanelStatus) -> None:
        """Something in a panel's status changed."""

    def keep_for_the_cloud(self, reports: Mapping[str, list[bytes]]) -> None:
        """Reports kept for a vendor cloud that is away, for the panel's next connection."""

    def detach(self, connection: PanelConnection, held: list[PanelEvent]) -> None:
        """The connection ended; `held`: events it got before a hello that never came."""


def peer_text(address: object) -> tuple[str, str]:
    """(ip, "ip:port") of a socket peer; an IPv4 peer of an IPv6 socket as plain IPv4."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = str(address[0]), address[1]
        host = host.removeprefix("::ffff:") if "." in host else host
        return host, f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(address), str(address)


class PanelConnection(asyncio.Protocol):
    """Serves one accepted connection until it closes."""

    def __init__(self, owner: ConnectionOwner) -> None:
        """Ready for connection_made."""
        config = owner.config
        self._owner = owner
        self._config = config
        self._log = owner.log
        self._loop = asyncio.get_running_loop()
        self.session = Session(cloud_ip=config.cloud_ip, cloud_port=config.cloud_port)
        self.counters = Counters()
        self.panel: PanelStatus | None = None
        self.ip = self.peer = "?"
        self.opened = self.last_read = self._loop.time()
        self._transport: asyncio.Transport | None = None
        self._held: deque[PanelEvent] = deque()
        self._held_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._stuck_timer: asyncio.TimerHandle | None = None
        self._next_turn: asyncio.Handle | None = None
        """The rest of what the panel sent waits for this turn of the loop."""
        self._held_back = False
        """Reading paused: bytes came while a turn was still due."""
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self.upstream: CloudRelay | None = None
        """The relay to the vendor cloud, when chaining (opened once the panel is identified)."""
        self._inherited: list[tuple[bytes, type[Message]]] = []
        """Reports the panel's connection this one replaces kept for the cloud."""
        self.commands = CloudChannel(self.write_to_panel)
        """Commands to the panel, down this connection."""

    @property
    def guid(self) -> str | None:
        """The panel's GUID once it has said hello."""
        return self.session.guid

    @property
    def _name(self) -> str:
        return f"panel {self.guid} at {self.peer}" if self.guid else f"panel at {self.peer}"

    @property
    def is_open(self) -> bool:
        """Whether the connection is still being served (not closed, nor closing)."""
        return self._transport is not None and not self._transport.is_closing()

    def close(self) -> None:
        """End the connection now; connection_lost follows.

        What it kept for a cloud that is away is left with the owner at once, so
        the connection that replaces it can take it.
        """
        if self._transport is not None:
            self._leave_for_the_cloud()
            self._transport.abort()

    async def wait_closed(self) -> None:
        """Until the connection, and its link to the cloud, have ended."""
        await asyncio.shield(self._closed)
        if self.upstream is not None:
            await self.upstream.wait_closed()

    # --- the transport's callbacks -----------------------------------------------------

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.ip, self.peer = peer_text(transport.get_extra_info("peername"))
        if not self._owner.admit(self):
            self._transport = None
            transport.abort()
            self._closed.set_result(None)
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # gone already
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _LOGGER.debug("Panel connection from %s", self.peer)
        self._check_deadlines()

    @override
    def data_received(self, data: bytes) -> None:
        self.last_read = self._loop.time()
        if self.panel is not None:
            self.panel.last_device_packet = datetime.now(UTC)
        if self._next_turn is None:
            self._serve(data)
            return
        # Still more than a turn's worth waiting: keep these bytes for that turn
        # and read nothing more until it is served (TCP then slows the sender).
        self.session.receive(data, 0)
        if not self._held_back:
            self._held_back = True
            assert self._transport is not None
            self._transport.pause_reading()

    @override
    def eof_received(self) -> bool:
        _LOGGER.debug("%s closed the connection", self._name)
        return False

    @override
    def pause_writing(self) -> None:
        # The panel is not reading what we send: take nothing more from it (or
        # from the cloud, for it) and let it go if it does not catch up in time.
        assert self._transport is not None
        self._transport.pause_reading()
        if self.upstream is not None:
            self.upstream.pause()
        self._stuck_timer = self._loop.call_later(self._config.reply_timeout, self._stuck)

    @override
    def resume_writing(self) -> None:
        if self._stuck_timer is not None:
            self._stuck_timer.cancel()
            self._stuck_timer = None
        if self._transport is not None and not self._held_back:
            self._transport.resume_reading()
        if self.upstream is not None:
            self.upstream.resume()

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed.done():  # refused at once: it was never served
            return
        if exc is not None:
            _LOGGER.debug("Connection with %s lost: %s", self._name, exc)
        self._transport = None
        for timer in (self._stuck_timer, self._deadline, self._next_turn):
            if timer is not None:
                timer.cancel()
        self.commands.close()
        if self.upstream is not None:
            self._leave_for_the_cloud()
            self.upstream.close()
            self.counters.upstream_reconnects = self.upstream.reconnects
        held = list(self._held)
        self._release_held()
        self._owner.detach(self, held)
        self._closed.set_result(None)

    def _stuck(self) -> None:
        self._stuck_timer = None
        _LOGGER.info(
            "Closing %s: it took no data for %.0f s", self._name, self._config.reply_timeout
        )
        self.close()

    # --- deadlines ----------------------------------------------------------------------

    def _check_deadlines(self) -> None:
        """Close the connection if it broke a deadline; else look again at the next one.

        Reads only move `last_read`; the one timer catches up with it when it fires.
        """
        self._deadline = None
        if self._transport is None:
            return
        config = self._config
        now = self._loop.time()
        idle_due = self.last_read + config.idle_timeout
        hello_due = self.opened + config.hello_timeout if self.panel is None else float("inf")
        if now >= idle_due:
            _LOGGER.info("Closing %s: nothing received for %.0f s", self._name, config.idle_timeout)
            self.close()
        elif now >= hello_due:
            # A panel says hello as soon as it connects; a peer that never does must
            # not hold one of the limited connections by trickling bytes.
            self._log.report(
                f"no hello {self.ip}",
                "Closing %s: no hello within %.0f s",
                self._name,
                config.hello_timeout,
            )
            self.close()
        else:
            self._deadline = self._loop.call_at(min(idle_due, hello_due), self._check_deadlines)

    # --- from the panel -----------------------------------------------------------------

    def _serve(self, data: bytes) -> None:
        """Decode and hand on this turn's share of what the panel sent (`data` and any left).

        Records and events go to the owner together, not frame by frame: a
        turn's frames at once, split where a hello or another frame needing
        attention comes (what came before it is handed on first, as the panel
        the connection was until then).
        """
        if self._transport is None or self._transport.is_closing():
            return  # a turn scheduled before it closed
        limit = self._config.frames_per_turn
        items = self.session.receive(data, limit)
        now = datetime.now(UTC)
        upstream = self.upstream
        replies: list[bytes] = []
        events: list[PanelEvent] = []
        events_seen = 0
        first = 0
        """The first of `items` not handed on yet."""
        for index, item in enumerate(items):
            frame, kind, item_events, reply = item
            passed_on = True
            if kind in _NOTABLE:
                self._hand_on(items[first:index], events, now)
                events_seen += len(events)
                first, events = index, []
                passed_on = self._notable(item, now)
                if not self.is_open:
                    return  # refused: nothing more from this connection
                upstream = self.upstream
            if item_events:
                events += item_events
            if upstream is not None:
                if passed_on:
                    upstream.forward(frame, kind, reply)
            elif reply:
                replies.append(reply)
        self._hand_on(items[first:] if first else items, events, now)
        self.counters.frames += len(items)
        self.counters.events += events_seen + len(events)
        if replies:
            self.write_to_panel(b"".join(replies))
            self.counters.replies += len(replies)
        error = self.session.error
        if error is not None:
            self.counters.errors += 1
            self._log.report(
                f"framing {self.ip}",
                "Closing %s: the stream cannot be split into messages any more: %s",
                self._name,
                error,
            )
            self.close()
        elif len(items) == limit:  # more may wait: served after the other connections
            self._next_turn = self._loop.call_soon(self._serve_next_turn)
        elif self._held_back:
            self._held_back = False
            if self._stuck_timer is None and self._transport is not None:
                self._transport.resume_reading()

    def _hand_on(self, frames: Sequence[Inbound], events: list[PanelEvent], now: datetime) -> None:
        """The owner gets their record, then their events (held until hello names the panel)."""
        if not frames:
            return
        owner = self._owner
        if owner.wants_records:
            owner.record(Traffic(now, self.peer, self._attached_guid, "panel", frames))
        if events:
            if self.panel is None:
                self._hold(events)
            else:  # the session names the panel in every event once it knows it
                owner.deliver(events, self.panel)

    @property
    def _attached_guid(self) -> str | None:
        """The panel the listener took this connection for (records are its).

        Not the session's GUID: that is learnt as soon as a hello is decoded,
        before the listener has taken (or refused) the panel, and would name
        the frames that came before the hello after it.
        """
        return self.panel.guid if self.panel is not None else None

    def _serve_next_turn(self) -> None:
        self._next_turn = None
        self._serve(b"")

    def _notable(self, item: Inbound, now: datetime) -> bool:
        """A hello, a command response, or a frame we cannot read; False: keep it from the cloud.

        A refused panel's connection is closed here.
        """
        kind = item.kind
        if kind is Hello or kind is HelloDiscovery:
            self._identified(now)
            return True
        message: Message = item.message
        if isinstance(message, CommandResponse):
            return not self.commands.claim(message)
        self.counters.unknown += 1
        passed_on = not is_skipped(item.frame)  # an oversized frame's header alone would
        # break the cloud's stream: its length field announces the bytes discarded
        why = message.reason if isinstance(message, Malformed) else "unknown header"
        frame = item.frame
        shown = frame[:LOGGED_HEX].hex(" ")
        if len(frame) > LOGGED_HEX:
            shown += f" ... ({len(frame)} bytes)"
        # One line per connection and window, then a count: a peer sending junk
        # cannot write more to the log than a few lines a minute.
        self._log.report(
            f"unknown {self.peer}",
            "%s sent a message we do not understand (%s), kept as an unknown event: %s",
            self._name,
            why,
            shown,
        )
        return passed_on

    def _identified(self, now: datetime) -> None:
        """The session learnt (or confirmed) its GUID: attach it, attribute held events."""
        guid = self.session.guid
        if guid is None:
            return
        if self.panel is None or self.panel.guid != guid:
            if self.panel is not None:  # the GUID changed mid-connection: odd, but follow it
                self._leave_for_the_cloud()  # what was kept for the cloud is the old GUID's
                self._owner.detach(self, [])
                self.counters = Counters()
            self.panel = self._owner.attach(self, guid, now)
            if self.panel is None:
                self._release_held()
                self.close()
                return
            self._open_upstream()
        if self.session.firmware and self.panel.firmware != self.session.firmware:
            self.panel.firmware = self.session.firmware
            self._owner.panel_changed(self.panel)
        held = [event._replace(guid=guid) for event in self._held]
        self._release_held()
        if held:
            self._owner.deliver(held, self.panel)

    def take_over(self, reports: list[bytes]) -> None:
        """Reports the panel's earlier connections kept for the cloud: sent first through this one.

        A panel that reconnects (or a listener restarted) while the cloud is away
        loses none of what it reported.
        """
        self._inherited += [(frame, identify(frame)) for frame in reports]

    def _leave_for_the_cloud(self) -> None:
        """Leave what the relay kept for a cloud that is away with the owner, as this panel's.

        The panel's next connection (or the next listener) sends it.
        """
        if self.upstream is None or self.panel is None:
            return
        if reports := self.upstream.hand_over():
            self._owner.keep_for_the_cloud({self.panel.guid: [f for f, _ in reports]})

    def _open_upstream(self) -> None:
        """Chaining: the cloud is reached for a panel that said who it is, and may connect."""
        config = self._config
        if self.upstream is not None:  # a GUID change: the same link, now for this panel
            self.upstream.adopt(self._inherited)
            self._inherited = []
            return
        if not config.upstream_host:
            return
        self.upstream = CloudRelay(
            self,
            config.upstream_host,
            config.upstream_port,
            log=self._log,
            reply_timeout=config.reply_timeout,
            announced=(config.cloud_ip, config.cloud_port),
            backlog_limit=config.backlog_limit,
            backlog_budget=self._owner.backlog_budget,
            connect_timeout=config.upstream_connect_timeout,
            backoff_initial=config.upstream_backoff_initial,
            backoff_max=config.upstream_backoff_max,
            buffer_limit=config.upstream_buffer_limit,
        )
        self.upstream.adopt(self._inherited)
        self._inherited = []
        self.upstream.start()

    def _hold(self, events: Sequence[PanelEvent]) -> None:
        """Keep events, in order, until hello says who this is.

        An alert naming its panel waits too, or it would overtake those before it.
        Bounded per connection (count and bytes: the oldest is passed on,
        unattributed) and for all connections together (beyond that, dropped).
        """
        config = self._config
        budget = self._owner.held_budget
        for event in events:
            size = len(event.raw) + HELD_EVENT_OVERHEAD
            while self._held and (
                len(self._held) >= config.hold_limit
                or self._held_bytes + size > config.held_bytes_per_connection
            ):
                oldest = self._held.popleft()
                self._give_back(oldest)
                self._log.report(
                    f"held {self.peer}",
                    "%s sent too many events without saying hello; passing the oldest on "
                    "unattributed",
                    self._name,
                )
                self._owner.deliver((oldest,), None)
            if not budget.take(size):
                self.counters.errors += 1
                self._log.report(
                    "held budget",
                    "Too many events held for connections that have not said hello "
                    "(%d bytes); dropping one from %s",
                    budget.limit,
                    self._name,
                )
                continue
            self._held.append(event)
            self._held_bytes += size

    def _give_back(self, event: PanelEvent) -> None:
        size = len(event.raw) + HELD_EVENT_OVERHEAD
        self._held_bytes -= size
        self._owner.held_budget.give(size)

    def _release_held(self) -> None:
        """Forget the held events (they were handed on, or are refused)."""
        self._owner.held_budget.give(self._held_bytes)
        self._held_bytes = 0
        self._held.clear()

    # --- for the relay ----------------------------------------------------------------

    def write_to_panel(self, data: bytes) -> None:
        """Send bytes to the panel (nothing once it is closing)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def from_cloud(self, frames: list[Inbound], now: datetime) -> None:
        """Frames from the cloud: the panel's cloud was heard."""
        if self.panel is not None:
            self.panel.last_upstream_packet = now
        for item in frames:
            if item.kind is CloudCommand:
                command = item.message
                if isinstance(command, CloudCommand):
                    self.commands.cloud_command(command.sequence, command.code)
        if self._owner.wants_records:
            self._owner.record(Traffic(now, self.peer, self._attached_guid, "cloud", frames))

    def upstream_changed(self, connected: bool) -> None:
        """The relay's link came up or went down."""
        if self.panel is not None and self.panel.upstream_connected != connected:
            self.panel.upstream_connected = connected
            self._owner.panel_changed(self.panel)
