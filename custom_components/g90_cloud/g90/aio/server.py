"""The listener G90 panels connect to, believing it is their vendor's cloud.

Runs in the caller's event loop (Home Assistant's, or the command line's); no
threads. Any number of panels may be connected at once, each with its own
session; every decoded event goes to one callback with the panel it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import errno
import logging
from typing import Final

from ..commands import Command, Pager
from ..events import PanelEvent
from ..session import check_announceable
from ..status import Counters, PanelStatus, Traffic
from ..wire import ANY_IPV4, DEFAULT_PORT, HEARTBEAT_SECONDS
from .budget import ByteBudget
from .channel import DEFAULT_TIMEOUT, CloudChannel, PanelNotConnected
from .connection import PanelConnection
from .logs import QuietLog

_LOGGER = logging.getLogger(__name__)

EventCallback = Callable[[PanelEvent, PanelStatus | None], None]
TrafficCallback = Callable[[Traffic], None]
ACCEPT_BACKLOG: Final = 4096
"""Connections the kernel may queue before they are accepted (capped by somaxconn)."""
PanelCallback = Callable[[PanelStatus], None]


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """Where to listen, what to announce, whether to chain, and the limits."""

    host: str = ANY_IPV4
    port: int = DEFAULT_PORT
    cloud_ip: str = "127.0.0.1"
    """The address announced to panels as the cloud's (in the discovery reply)."""
    cloud_port: int = DEFAULT_PORT
    """The port announced to panels (hello info, discovery reply); may differ from `port`."""
    upstream_host: str | None = None
    """The real cloud to pass traffic through to; None: answer panels ourselves only."""
    upstream_port: int = DEFAULT_PORT
    allowed_guids: frozenset[str] | None = None
    """Only these panels may connect (None: any)."""
    allowed_addresses: frozenset[str] | None = None
    """Only connections from these IP addresses are accepted (None: any)."""
    idle_timeout: float = 3 * HEARTBEAT_SECONDS
    """A connection that sends nothing for this long is closed."""
    hello_timeout: float = 15.0
    """A connection that has not said hello by then is closed (a panel says it at once)."""
    max_connections: int = 256
    """Open connections at most; the oldest one that has not said hello makes room."""
    max_unidentified_per_address: int = 8
    """Connections from one address that have not said hello yet; the oldest makes room."""
    max_panels_per_address: int = 32
    """Panels (identified connections) from one address; more are refused."""
    frames_per_turn: int = 256
    """Frames served per connection per turn of the event loop (fairness)."""
    reply_timeout: float = 5.0
    """How long the upstream may take to answer before we answer ourselves."""
    max_known_panels: int = 1024
    """Disconnected panels beyond this many are forgotten, oldest first."""
    hold_limit: int = 256
    """Events held per connection until it says who it is."""
    held_bytes_per_connection: int = 64 * 1024
    """Bytes of events held per connection until it says who it is."""
    held_bytes_total: int = 16 * 1024 * 1024
    """Bytes of events held for all connections that have not said hello; beyond, dropped."""
    backlog_limit: int = 256
    """Frames kept per connection for an upstream that is away."""
    backlog_bytes_total: int = 32 * 1024 * 1024
    """Bytes kept for all upstreams that are away; beyond, the oldest frames go."""
    upstream_buffer_limit: int = 256 * 1024
    """Bytes that may wait for a slow upstream before it is dropped."""
    upstream_connect_timeout: float = 10.0
    upstream_backoff_initial: float = 1.0
    upstream_backoff_max: float = 60.0


class ListenerBindError(OSError):
    """The listen address or port cannot be used (most often: already in use)."""

    def __init__(self, host: str, port: int, err: OSError) -> None:
        """Say clearly what could not be bound and why."""
        if err.errno == errno.EADDRINUSE:
            text = f"port {port} on {host} is already in use by another program"
        else:
            text = f"cannot listen on {host}:{port}: {err.strerror or err}"
        super().__init__(err.errno, text)
        self.host = host
        self.port = port


@dataclass(slots=True)
class _Stats:
    """Totals of connections that never said who they were, and refusals."""

    unidentified: Counters = field(default_factory=Counters)
    refused: int = 0


class Listener:
    """Accepts panel connections and serves each one until close()."""

    def __init__(
        self,
        config: ListenerConfig,
        *,
        on_event: EventCallback,
        on_traffic: TrafficCallback | None = None,
        on_panel: PanelCallback | None = None,
    ) -> None:
        """Callbacks run in the event loop; one that raises is logged and ignored.

        `on_event` is called once per event; `on_traffic`, when given, with the
        frames handed on together (see Traffic): every frame, either way.
        """
        self.config = config
        self._on_event = on_event
        self._on_traffic = on_traffic
        self._on_panel = on_panel
        self.log = QuietLog(_LOGGER)
        self.panels: dict[str, PanelStatus] = {}
        """Every panel seen (bounded by max_known_panels), by GUID."""
        self.stats = _Stats()
        self.held_budget = ByteBudget(config.held_bytes_total)
        self.backlog_budget = ByteBudget(config.backlog_bytes_total, reclaim=self._drop_oldest_kept)
        """Bytes kept for vendor clouds that are away: live backlogs first, then what waits
        for panels to connect again (that goes first when room is needed)."""
        self._server: asyncio.Server | None = None
        self._connections: dict[PanelConnection, None] = {}
        """Open connections, oldest first."""
        self.kept_for_the_cloud: dict[str, list[bytes]] = {}
        """Per panel, reports kept for a vendor cloud that is away: handed to the panel's
        next connection (see keep_for_the_cloud); after close(), what was left."""

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        if self._server is None or not self._server.sockets:
            return self.config.port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connections(self) -> frozenset[PanelConnection]:
        """Open panel connections."""
        return frozenset(self._connections)

    @property
    def wants_records(self) -> bool:
        """Whether anyone takes every frame (records are built only then)."""
        return self._on_traffic is not None

    def connection_of(self, guid: str) -> PanelConnection | None:
        """The newest open connection of panel `guid` (a reconnecting panel may have two)."""
        newest: PanelConnection | None = None
        for connection in self._connections:
            panel = connection.panel
            if panel is None or panel.guid != guid or not connection.is_open:
                continue
            if newest is None or connection.opened > newest.opened:
                newest = connection
        return newest

    async def run[T](
        self, guid: str, command: Command[T], *, timeout: float = DEFAULT_TIMEOUT
    ) -> T:
        """A command to panel `guid` down its connection, its response read.

        Raises PanelNotConnected, then as CloudChannel.run.
        """
        return await self._channel(guid, command.request.code).run(command, timeout=timeout)

    async def fetch[R](
        self, guid: str, pager: Pager[R], *, timeout: float = DEFAULT_TIMEOUT
    ) -> tuple[R, ...]:
        """Every page of a list from panel `guid` (raises as `run`)."""
        return await self._channel(guid, pager.code).fetch(pager, timeout=timeout)

    def _channel(self, guid: str, code: int) -> CloudChannel:
        connection = self.connection_of(guid)
        if connection is None:
            raise PanelNotConnected(code, guid)
        return connection.commands

    async def start(self) -> None:
        """Bind and start accepting.

        Raises ValueError when the cloud address cannot be announced to panels,
        and ListenerBindError when the port is unusable.
        """
        if self._server is not None:
            return
        check_announceable(self.config.cloud_ip, self.config.cloud_port)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: PanelConnection(self),
                self.config.host,
                self.config.port,
                reuse_address=True,
                # A deep accept queue: a burst of connections from one peer (which
                # admit() then sheds) must not crowd a panel's out in the kernel.
                backlog=ACCEPT_BACKLOG,
            )
        except OSError as err:
            raise ListenerBindError(self.config.host, self.config.port, err) from err
        _LOGGER.info(
            "Listening for G90 panels on %s:%s (announcing %s:%s%s)",
            self.config.host,
            self.port,
            self.config.cloud_ip,
            self.config.cloud_port,
            f", chaining to {self.config.upstream_host}:{self.config.upstream_port}"
            if self.config.upstream_host
            else "",
        )

    def keep_for_the_cloud(self, reports: Mapping[str, list[bytes]]) -> None:
        """Keep reports for a vendor cloud that is away, until the panel connects again.

        From a connection that ended, or an earlier listener (before a restart).
        Each panel's go to the cloud through its next connection, first. Bounded
        as the relays' own backlogs are, and within the same byte budget: at most
        backlog_limit per panel (the newest), for at most max_known_panels panels
        (the longest waiting go first, then their oldest reports).
        """
        limit = self.config.backlog_limit
        for guid, frames in reports.items():
            kept = self.kept_for_the_cloud.pop(guid, [])  # re-inserted: the newest last
            self.kept_for_the_cloud[guid] = kept
            for frame in frames:
                if self.backlog_budget.take(len(frame)):  # room made, the oldest going first
                    kept.append(frame)
                    if len(kept) > limit:
                        self.backlog_budget.give(len(kept.pop(0)))
        while len(self.kept_for_the_cloud) > self.config.max_known_panels:
            self._drop_kept(next(iter(self.kept_for_the_cloud)))
        for guid in [guid for guid, kept in self.kept_for_the_cloud.items() if not kept]:
            del self.kept_for_the_cloud[guid]

    def _drop_oldest_kept(self) -> bool:
        """Make room: the oldest report of the panel waiting longest goes; False if none."""
        for guid, kept in self.kept_for_the_cloud.items():
            if kept:
                self.backlog_budget.give(len(kept.pop(0)))
                if not kept:
                    del self.kept_for_the_cloud[guid]  # and the loop ends here
                self.log.report(
                    "kept for the cloud",
                    "Too much kept for vendor clouds that are away: the oldest report of "
                    "panel %s is dropped (events still reached the listener's owner)",
                    guid,
                )
                return True
        return False

    def _drop_kept(self, guid: str) -> list[bytes]:
        """The reports kept for panel `guid`, taken out (their bytes given back)."""
        kept = self.kept_for_the_cloud.pop(guid, [])
        self.backlog_budget.give(sum(len(frame) for frame in kept))
        return kept

    async def close(self) -> None:
        """Stop listening, close every panel and upstream connection, and wait for them.

        What each panel's connection kept for a vendor cloud that is away is left
        in `kept_for_the_cloud`, for the next listener.
        """
        if self._server is not None:
            self._server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close()  # what it kept for the cloud comes back: keep_for_the_cloud
        if connections:
            await asyncio.wait(
                [asyncio.ensure_future(c.wait_closed()) for c in connections], timeout=10
            )
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._server.wait_closed()
            self._server = None
        for panel in self.panels.values():
            panel.connected = False
            panel.connections = 0

    # --- the connections' owner -----------------------------------------------------

    def admit(self, connection: PanelConnection) -> bool:
        """Whether a new connection may stay: the address allow-list, then the limits.

        A real panel must always get in: a peer's connections that have not
        said hello make room for its newer ones; at the cap the oldest
        connection that has not said hello (from anywhere) makes room, else the
        oldest of the address holding the most; only when every address holds
        one is a newcomer refused.
        """
        allowed = self.config.allowed_addresses
        if allowed is not None and connection.ip not in allowed:
            return self._refuse(
                f"address {connection.ip}",
                "Refusing a connection from %s: not in the allow-list",
                connection.peer,
            )
        strangers = [c for c in self._connections if c.panel is None]
        from_there = [c for c in strangers if c.ip == connection.ip]
        if len(from_there) >= self.config.max_unidentified_per_address:
            self._make_room(from_there[0], "too many connections from its address without hello")
        if len(self._connections) >= self.config.max_connections:
            victim = next((c for c in strangers if c.is_open), None) or self._most_crowded(
                connection.ip
            )
            if victim is None:
                return self._refuse(
                    "cap",
                    "Refusing a connection from %s: already %d panels connected, one an address",
                    connection.peer,
                    len(self._connections),
                )
            self._make_room(victim, "the connection limit is reached")
        self._connections[connection] = None
        return True

    def _most_crowded(self, newcomer: str) -> PanelConnection | None:
        """The oldest connection of the most crowded address, if more crowded than the newcomer's.

        At the cap, with every connection identified, the address holding the
        most gives one up to a less crowded one: a peer posing as many panels
        cannot keep a panel out, and no address loses out to a more crowded one.
        """
        by_address: dict[str, list[PanelConnection]] = {}
        for connection in self._connections:
            if connection.is_open:
                by_address.setdefault(connection.ip, []).append(connection)
        crowded = max(by_address.values(), key=len, default=[])
        newcomers = len(by_address.get(newcomer, ())) + 1
        return crowded[0] if len(crowded) > newcomers else None

    def _make_room(self, connection: PanelConnection, why: str) -> None:
        self.stats.refused += 1
        self.log.report(
            f"evict {connection.ip}",
            "Closing the connection of %s from %s: %s",
            connection.guid or "a peer that has not said hello",
            connection.peer,
            why,
        )
        connection.close()
        self._connections.pop(connection, None)

    def _refuse(self, key: str, message: str, *args: object) -> bool:
        self.stats.refused += 1
        self.log.report(key, message, *args)
        return False

    def attach(self, connection: PanelConnection, guid: str, now: datetime) -> PanelStatus | None:
        """A connection said hello as `guid` at `now`; None if that panel may not connect.

        One connection per panel: a new one for the same GUID replaces the old
        (a panel reconnecting after a network change), which only a peer that
        says that GUID can do.
        """
        allowed = self.config.allowed_guids
        if allowed is not None and guid not in allowed:
            self.log.report(
                f"guid {guid}",
                "Refusing panel %s at %s: its GUID is not in the allow-list",
                guid,
                connection.peer,
            )
            return None
        same_address = [
            c
            for c in self._connections
            if c is not connection and c.panel is not None and c.ip == connection.ip
        ]
        replaced = [c for c in same_address if c.guid == guid]
        if len(same_address) - len(replaced) >= self.config.max_panels_per_address:
            self._refuse(
                f"panels {connection.ip}",
                "Refusing panel %s at %s: already %d panels from that address",
                guid,
                connection.peer,
                self.config.max_panels_per_address,
            )
            return None
        for other in self._connections:
            if other is not connection and other.guid == guid and other.panel is not None:
                _LOGGER.info(
                    "Panel %s connected again, from %s: its connection from %s is closed",
                    guid,
                    connection.peer,
                    other.peer,
                )
                other.close()  # what it kept for the cloud stays here, taken just below
        if kept := self._drop_kept(guid):
            connection.take_over(kept)
        panel = self.panels.get(guid)
        if panel is None:
            self._forget_stale_panels()
            panel = self.panels[guid] = PanelStatus(guid)
            _LOGGER.info("Panel %s connected from %s", guid, connection.peer)
        panel.connections += 1
        panel.connected = True
        panel.peer = connection.peer
        panel.last_device_packet = now
        upstream = connection.upstream
        panel.upstream_connected = (
            None if not self.config.upstream_host else bool(upstream and upstream.connected)
        )
        self.panel_changed(panel)
        return panel

    def _forget_stale_panels(self) -> None:
        """Keep the table of known panels bounded: GUIDs come from the network."""
        excess = len(self.panels) - self.config.max_known_panels + 1
        if excess <= 0:
            return
        gone = [panel for panel in self.panels.values() if not panel.connected]
        gone.sort(key=lambda panel: panel.last_device_packet or datetime.min.replace(tzinfo=UTC))
        for panel in gone[:excess]:
            del self.panels[panel.guid]

    def detach(self, connection: PanelConnection, held: list[PanelEvent]) -> None:
        """A connection ended (or, rarely, changed its GUID); `held`: its unattributed events."""
        panel = connection.panel
        if not connection.is_open:
            self._connections.pop(connection, None)
        if panel is None:
            self.stats.unidentified.add(connection.counters)
        else:
            panel.counters.add(connection.counters)
            panel.connections = max(panel.connections - 1, 0)
            if panel.connections == 0:
                panel.connected = False
                panel.upstream_connected = None if self.config.upstream_host is None else False
                _LOGGER.info("Panel %s disconnected", panel.guid)
            self.panel_changed(panel)
        if not held:
            return
        if self.config.allowed_guids is not None:
            # Only listed panels may report: one that never said who it is may not.
            _LOGGER.warning(
                "Panel at %s left without saying hello; "
                "its %d events are refused (GUID allow-list set)",
                connection.peer,
                len(held),
            )
            return
        _LOGGER.warning(
            "Panel at %s left without saying hello; passing on %d events unattributed",
            connection.peer,
            len(held),
        )
        self.deliver(held, None)

    def panel_changed(self, panel: PanelStatus) -> None:
        """Tell the owner a panel's status changed."""
        if self._on_panel is not None:
            try:
                self._on_panel(panel)
            except Exception as err:
                self._callback_failed("on_panel", err)

    def deliver(self, events: Sequence[PanelEvent], panel: PanelStatus | None) -> None:
        """Hand events to the owner, one at a time: one that fails costs only itself.

        With a GUID allow-list, events of nobody (a connection that never said
        who it is) are refused: only listed panels may report.
        """
        if panel is None and self.config.allowed_guids is not None:
            self.log.report(
                "unattributed refused",
                "Refusing %d events of a connection that has not said hello (GUID allow-list set)",
                len(events),
            )
            return
        on_event = self._on_event
        for event in events:
            try:
                on_event(event, panel)
            except Exception as err:
                self._callback_failed("on_event", err)

    def record(self, traffic: Traffic) -> None:
        """Hand the frames of one read to the owner, if it wants them."""
        if self._on_traffic is not None:
            try:
                self._on_traffic(traffic)
            except Exception as err:
                self._callback_failed("on_traffic", err)

    def _callback_failed(self, name: str, err: Exception) -> None:
        self.log.report(
            f"callback {name} {type(err).__name__}",
            "The %s callback raised %r; the listener carries on",
            name,
            err,
            level=logging.ERROR,
        )
        _LOGGER.debug("Traceback of the %s callback", name, exc_info=err)


async def port_available(host: str, port: int) -> OSError | None:
    """None when `host:port` can be bound right now, else why not."""
    try:
        server = await asyncio.get_running_loop().create_server(
            asyncio.Protocol, host, port, reuse_address=True
        )
    except OSError as err:
        return ListenerBindError(host, port, err)
    server.close()
    await server.wait_closed()
    return None
