"""One panel's TCP connection: the session, our replies, and chaining to the cloud.

Data path: panel bytes -> Session.receive -> events handed on at once (they
never wait for the cloud) -> frames forwarded upstream while the cloud answers,
else our own replies written back. Cloud bytes -> frames written to the panel.

Replies: while the upstream is connected, the cloud's replies are the panel's
replies. Each frame that needs an answer arms a timer; if the cloud says
nothing before it fires, or the link goes down, our replies for the waiting
frames go out at once and the cloud link is dropped and retried. Frames that
need no answer and arrive while the cloud is away are kept (bounded) and
delivered when it is back, after the panel's last hello, whose replies are
then swallowed so the panel is not answered twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING, NamedTuple

from ..events import PanelEvent
from ..messages import (
    DiscoveryReply,
    Hello,
    HelloAck,
    HelloDiscovery,
    HelloInfo,
    HelloReply,
    Malformed,
    Message,
    Ping,
    Unknown,
)
from ..session import CloudStream, Inbound, Session
from .logs import QuietLog
from .panels import Counters, PanelStatus
from .upstream import READ_SIZE, UpstreamLink

if TYPE_CHECKING:
    from .server import Listener

_LOGGER = logging.getLogger(__name__)

# The cloud's answer to a hello we replay on reconnecting, swallowed once each.
_HELLO_ANSWER = (HelloAck, HelloReply, HelloInfo)
# What the cloud sends in answer to a panel's frame.
_REPLIES = (HelloAck, HelloReply, HelloInfo, DiscoveryReply, Ping)


class MessageRecord(NamedTuple):
    """One decoded message on a connection, either way, for monitors and diagnostics."""

    time: datetime
    peer: str
    guid: str | None
    origin: str
    """"panel" (the panel sent it) or "cloud" (the upstream sent it)."""
    frame: bytes
    message: Message
    events: tuple[PanelEvent, ...]


class PanelConnection:
    """Serves one accepted connection until it closes."""

    def __init__(
        self,
        listener: Listener,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
    ) -> None:
        """Set up the session and, when chaining, the upstream link (not yet started)."""
        config = listener.config
        self._listener = listener
        self._config = config
        self._reader = reader
        self._writer = writer
        self.peer = peer
        self._log: QuietLog = listener.log
        self.session = Session(cloud_ip=config.cloud_ip, cloud_port=config.cloud_port)
        self.counters = Counters()
        self.panel: PanelStatus | None = None
        self._closing = False
        self.opened = self.last_read = asyncio.get_running_loop().time()
        self._held: deque[PanelEvent] = deque()
        self._last_hello: bytes | None = None
        # Chaining state.
        self._pending: deque[bytes] = deque()
        self._pending_timer: asyncio.TimerHandle | None = None
        self._backlog: deque[bytes] = deque()
        self._swallow: Counter[type[Message]] = Counter()
        self._cloud_stream = CloudStream()
        self.upstream: UpstreamLink | None = None
        if config.upstream_host:
            self.upstream = UpstreamLink(
                config.upstream_host,
                config.upstream_port,
                on_connected=self._upstream_connected,
                on_data=self._upstream_data,
                on_disconnected=self._upstream_disconnected,
                log=self._log,
                connect_timeout=config.upstream_connect_timeout,
                backoff_initial=config.upstream_backoff_initial,
                backoff_max=config.upstream_backoff_max,
            )

    @property
    def guid(self) -> str | None:
        """The panel's GUID once it has said hello."""
        return self.session.guid

    def close(self) -> None:
        """Ask the connection to end; serve() returns soon after."""
        self._closing = True
        self._writer.transport.abort()

    async def serve(self) -> None:
        """Read from the panel until it goes away, is idle too long, or breaks the stream.

        Idle and hello deadlines are enforced by the listener's periodic sweep
        (see `overdue`), not by a timer per read.
        """
        if self.upstream is not None:
            self.upstream.start()
        loop = asyncio.get_running_loop()
        try:
            while not self._closing:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    _LOGGER.debug("%s closed the connection", self._name)
                    break
                self.last_read = loop.time()
                self._receive(data)
                await self._flush()
        except OSError as err:
            if not self._closing:
                _LOGGER.debug("Connection with %s lost: %s", self._name, err)
        finally:
            await self._finish()

    def overdue(self, now: float) -> bool:
        """Close the connection if it broke a deadline; True if it did."""
        if now - self.last_read > self._config.idle_timeout:
            _LOGGER.info(
                "Closing %s: nothing received for %.0f s", self._name, self._config.idle_timeout
            )
        elif self.panel is None and now - self.opened > self._config.hello_timeout:
            # A panel says hello as soon as it connects; a peer that never does must
            # not hold one of the limited connections forever by trickling bytes.
            self._log.report(
                f"no hello {self.ip}",
                "Closing %s: no hello within %.0f s",
                self._name,
                self._config.hello_timeout,
            )
        else:
            return False
        self.close()
        return True

    @property
    def ip(self) -> str:
        """The peer's address without its port."""
        return self.peer.rpartition(":")[0].strip("[]")

    @property
    def _name(self) -> str:
        return f"panel {self.guid} at {self.peer}" if self.guid else f"panel at {self.peer}"

    # --- from the panel ---------------------------------------------------------

    def _receive(self, data: bytes) -> None:
        now = datetime.now(UTC)
        if self.panel is not None:
            self.panel.last_device_packet = now
        for item in self.session.receive(data):
            self._handle(item, now)
            if self._closing:
                return
        error = self.session.error
        if error is not None:
            self.counters.errors += 1
            self._log.report(
                f"framing {self.ip}",
                "Closing %s: the stream cannot be split into messages any more: %s",
                self._name,
                error,
            )
            self._closing = True

    def _handle(self, item: Inbound, now: datetime) -> None:
        frame, message, events, reply = item
        self.counters.frames += 1
        if isinstance(message, (Hello, HelloDiscovery)):
            if not self._identified(now):
                return
            if isinstance(message, Hello):
                self._last_hello = frame
        elif isinstance(message, (Unknown, Malformed)):
            self.counters.unknown += 1
            why = message.reason if isinstance(message, Malformed) else "unknown header"
            self._log.report(
                f"unknown {self.peer} {why} {frame[:4].hex()}",
                "%s sent a message we do not understand (%s), kept as an unknown event: %s",
                self._name,
                why,
                frame.hex(" "),
            )
        if self._listener.wants_messages:
            self._listener.record(
                MessageRecord(now, self.peer, self.guid, "panel", frame, message, events)
            )
        for event in events:
            self._deliver(event)
        self._answer(frame, reply)

    def _identified(self, now: datetime) -> bool:
        """The session learnt (or confirmed) its GUID: check it, attribute held events."""
        guid = self.session.guid
        if guid is None:
            return True
        if not self._listener.guid_allowed(guid):
            self._log.report(
                f"guid {guid}",
                "Refusing panel %s at %s: its GUID is not in the allow-list",
                guid,
                self.peer,
            )
            self._held.clear()
            self.close()
            return False
        if self.panel is None or self.panel.guid != guid:
            if self.panel is not None:  # the GUID changed mid-connection: odd, but follow it
                self._listener.panel_detached(self.panel, self.counters)
                self.counters = Counters()
            upstream = None if self.upstream is None else self.upstream.connected
            self.panel = self._listener.panel_attached(guid, self.peer, now, upstream)
        if self.session.firmware and self.panel.firmware != self.session.firmware:
            self.panel.firmware = self.session.firmware
            self._listener.panel_changed(self.panel)
        while self._held:
            self._listener.deliver(self._held.popleft()._replace(guid=guid), self.panel)
        return True

    def _deliver(self, event: PanelEvent) -> None:
        self.counters.events += 1
        if self.panel is None:
            # Not identified yet: hold, in order, until hello says who this is. An
            # alert naming its panel waits too, or it would overtake those before it.
            if len(self._held) >= self._config.hold_limit:
                oldest = self._held.popleft()
                self._log.report(
                    f"held {self.peer}",
                    "%s sent %d events without saying hello; passing the oldest on unattributed",
                    self._name,
                    self._config.hold_limit,
                )
                self._listener.deliver(oldest, None)
            self._held.append(event)
            return
        if event.guid is None:
            event = event._replace(guid=self.panel.guid)
        self._listener.deliver(event, self.panel)

    def _answer(self, frame: bytes, reply: bytes) -> None:
        upstream = self.upstream
        if upstream is not None and upstream.connected:
            upstream.write(frame)
            self.counters.upstream_frames += 1
            if reply:
                self._pending.append(reply)
                if self._pending_timer is None:
                    self._pending_timer = asyncio.get_running_loop().call_later(
                        self._config.reply_timeout, self._upstream_silent
                    )
            return
        if reply:
            self._write_panel(reply)
            self.counters.replies += 1
        elif upstream is not None:
            if len(self._backlog) >= self._config.backlog_limit:
                self._backlog.popleft()
                self._log.report(
                    f"backlog {self.peer}",
                    "Upstream away too long: the oldest of %d frames kept for it was dropped "
                    "(events still reached Home Assistant)",
                    self._config.backlog_limit,
                )
            self._backlog.append(frame)

    def _write_panel(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    async def _flush(self) -> None:
        """Backpressure both ways, bounded so a stuck peer cannot stall the other side."""
        timeout = self._config.reply_timeout
        if self._writer.transport.get_write_buffer_size():  # no timer when nothing waits
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
            except TimeoutError:
                _LOGGER.info("Closing %s: it took no data for %.0f s", self._name, timeout)
                self._closing = True
        if self.upstream is not None:
            # Never wait for the cloud here: the panel's next frames (and their
            # events) must not queue behind it. A cloud that falls this far
            # behind is dropped; our replies take over.
            self.upstream.check_backlog(self._config.upstream_buffer_limit)

    # --- from the cloud -----------------------------------------------------------

    def _upstream_connected(self) -> None:
        assert self.upstream is not None
        self._cloud_stream = CloudStream()
        self._swallow.clear()
        if self._last_hello is not None:
            # The cloud must know who this is before anything else.
            self.upstream.write(self._last_hello)
            self._swallow.update(_HELLO_ANSWER)
        while self._backlog:
            self.upstream.write(self._backlog.popleft())
        self._set_upstream_state(True)

    async def _upstream_data(self, data: bytes) -> None:
        assert self.upstream is not None
        now = datetime.now(UTC)
        if self.panel is not None:
            self.panel.last_upstream_packet = now
        forwarded = False
        for frame, message in self._cloud_stream.receive(data):
            if self._swallow[type(message)] > 0:
                self._swallow[type(message)] -= 1
            else:
                self._write_panel(frame)
                forwarded = forwarded or isinstance(message, _REPLIES)
            if self._listener.wants_messages:
                self._listener.record(
                    MessageRecord(now, self.peer, self.guid, "cloud", frame, message, ())
                )
        if forwarded:
            # Only a reply that reaches the panel answers it: neither the cloud's
            # answer to a hello we replayed nor a command of its own does.
            self._answered()
        if self._cloud_stream.error is not None:
            self.upstream.drop(
                f"its stream cannot be split into messages: {self._cloud_stream.error}"
            )
            return
        try:
            async with asyncio.timeout(self._config.reply_timeout):
                await self._writer.drain()
        except TimeoutError:
            self.close()

    def _answered(self) -> None:
        self._pending.clear()
        if self._pending_timer is not None:
            self._pending_timer.cancel()
            self._pending_timer = None

    def _upstream_silent(self) -> None:
        """The cloud left a frame unanswered too long: answer it ourselves, drop the cloud."""
        self._pending_timer = None
        assert self.upstream is not None
        self._take_over()
        self.upstream.drop(f"no answer within {self._config.reply_timeout:.0f} s")

    def _upstream_disconnected(self, reason: str) -> None:
        self._take_over()
        self._set_upstream_state(False)

    def _take_over(self) -> None:
        """Our replies for whatever still waits for the cloud's, at once."""
        while self._pending:
            self._write_panel(self._pending.popleft())
            self.counters.replies += 1
        self._answered()

    def _set_upstream_state(self, connected: bool) -> None:
        if self.panel is not None and self.panel.upstream_connected != connected:
            self.panel.upstream_connected = connected
            self._listener.panel_changed(self.panel)

    # --- the end ------------------------------------------------------------------

    async def _finish(self) -> None:
        self._closing = True
        if self._pending_timer is not None:
            self._pending_timer.cancel()
            self._pending_timer = None
        if self.upstream is not None:
            await self.upstream.close()
            self.counters.upstream_reconnects = self.upstream.reconnects
        self._writer.transport.abort()
        if self._held and self._config.allowed_guids is not None:
            # Only listed panels may report: one that never said who it is may not.
            _LOGGER.warning(
                "%s left without saying hello; its %d events are refused (GUID allow-list set)",
                self._name,
                len(self._held),
            )
            self._held.clear()
        elif self._held:
            _LOGGER.warning(
                "%s left without saying hello; passing on %d events unattributed",
                self._name,
                len(self._held),
            )
            while self._held:
                self._listener.deliver(self._held.popleft(), None)
        if self.panel is not None:
            self._listener.panel_detached(self.panel, self.counters)
        else:
            self._listener.unidentified_closed(self.counters)
