"""The hub: owns the listener and the panels' state, and wires the parts that do the work.

Each part has one job and talks to the hub through a small interface:

- `reports.PanelReports`: what panels report -> the state, entities, the bus;
- `catchup.PanelCatchUp`: what they reported while Home Assistant was away;
- `refresh.PanelRefresh`: the panel's picture, read and applied;
- `arming.PanelArming`: arming and disarming, until the panel reports;
- `health.PanelHealth`: availability and the health entities;
- `devices.PanelDevices`: the device registry;
- `signals.Signals`: how entities hear of all that.

The hub keeps what Home Assistant persists (`model.PanelState`, written by
its store), takes the listener's callbacks, runs commands with their time
limits, and answers the entities. How each panel is connected (peer, packet
times, counters) lives in one table, the listener's `panels`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Mapping
import contextlib
from datetime import datetime
from functools import partial
import ipaddress
import logging
import time
from typing import Any

from homeassistant.components import network
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .arming import PanelArming
from .catchup import PanelCatchUp
from .const import (
    ARM_REPORT_WAIT,
    COMMAND_TIMEOUT,
    CONF_ALLOWED_GUIDS,
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_CONTROL_CHANNEL,
    CONF_HELLO_TIMEOUT,
    CONF_LIMITS,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_PANELS_PER_ADDRESS,
    CONF_MAX_STRANGERS_PER_ADDRESS,
    CONF_PANEL_LAN_ADDRESS,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    DEFAULT_LOCAL_IP,
    DOMAIN,
    RAW_FRAMES_KEPT,
    ControlChannel,
)
from .control import CONNECTION_SHARE, PanelCommands, command_failed
from .devices import PanelDevices, relay_key
from .g90.aio.server import Listener, ListenerConfig
from .g90.commands import (
    AlertFlags,
    ArmState,
    Command,
    CommandError,
    HistoryRecord,
    HostConfig,
    HostStatus,
    ListChanged,
    Pager,
    get_alert_flags,
    get_host_config,
    history_pager,
    set_alert_flags,
    switch_relay,
)
from .g90.events import PanelEvent
from .g90.status import Counters, MessageRecord, PanelStatus, Traffic
from .g90.wire import DEFAULT_PORT
from .health import PanelHealth
from .model import AlarmState, PanelState
from .refresh import PanelRefresh
from .reports import REPORTED_TWICE, PanelReports, ZoneClearing
from .signals import Signals

__all__ = [
    "REPORTED_TWICE",
    "SAVE_DELAY",
    "G90ConfigEntry",
    "G90Hub",
    "async_lan_address",
    "lan_address_of",
    "listener_config",
]

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1


def entry_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry keeps its panels, zones, relays and how far it followed them."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")


SAVE_DELAY = 5.0
HISTORY_READS = 3
"""Times the history is read afresh when it grew while its pages were being read."""
"""Seconds from the first change to its write; later changes do not postpone it."""

type G90ConfigEntry = ConfigEntry[G90Hub]


def listener_config(
    settings: Mapping[str, Any],
    allowed_guids: Iterable[str] = (),
    limits: Mapping[str, Any] | None = None,
) -> ListenerConfig:
    """The listener's configuration from the entry's connection settings and options."""
    allowed = frozenset(allowed_guids)
    limits = limits or {}
    defaults = ListenerConfig()
    return ListenerConfig(
        host=settings.get(CONF_LOCAL_IP) or DEFAULT_LOCAL_IP,
        port=int(settings.get(CONF_LOCAL_PORT, DEFAULT_PORT)),
        cloud_ip=settings[CONF_CLOUD_IP],
        cloud_port=int(settings.get(CONF_CLOUD_PORT, DEFAULT_PORT)),
        upstream_host=settings.get(CONF_UPSTREAM_HOST) or None,
        upstream_port=int(settings.get(CONF_UPSTREAM_PORT, DEFAULT_PORT)),
        allowed_guids=allowed or None,
        max_connections=int(limits.get(CONF_MAX_CONNECTIONS, defaults.max_connections)),
        max_unidentified_per_address=int(
            limits.get(CONF_MAX_STRANGERS_PER_ADDRESS, defaults.max_unidentified_per_address)
        ),
        max_panels_per_address=int(
            limits.get(CONF_MAX_PANELS_PER_ADDRESS, defaults.max_panels_per_address)
        ),
        hello_timeout=float(limits.get(CONF_HELLO_TIMEOUT, defaults.hello_timeout)),
    )


async def async_lan_address(hass: HomeAssistant) -> str:
    """Home Assistant's own address on the LAN, as panels would reach it ("" if unknown)."""
    try:
        return await network.async_get_source_ip(hass)
    except HomeAssistantError:
        return ""


def lan_address_of(peer_ip: str) -> str | None:
    """The panel's LAN address, when its connection comes from one.

    A public address (a panel reaching Home Assistant from the internet) is
    no place for the local protocol's datagrams, and a loopback one is a
    tunnel or a simulator on Home Assistant's own host, never the panel.
    """
    try:
        address = ipaddress.IPv4Address(peer_ip)
    except ValueError:
        return None
    usable = address.is_private and not (address.is_loopback or address.is_unspecified)
    return str(address) if usable else None


class G90Hub:
    """Owns the listener and the state of every panel of one config entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, lan_address: str = "") -> None:
        """Prepare; nothing runs until async_start().

        `lan_address` is announced to panels when the entry names no address.
        """
        self.hass = hass
        self.entry = entry
        self.settings = dict(entry.data)
        """The connection settings in force."""
        if not self.settings.get(CONF_CLOUD_IP):
            self.settings[CONF_CLOUD_IP] = lan_address or "127.0.0.1"
        self.chaining = bool(self.settings.get(CONF_UPSTREAM_HOST))
        self.listener = Listener(
            listener_config(
                self.settings,
                entry.options.get(CONF_ALLOWED_GUIDS) or (),
                entry.options.get(CONF_LIMITS),
            ),
            on_event=self._on_event,
            on_traffic=self._on_traffic,
            on_panel=self._on_panel,
        )
        self.panels: dict[str, PanelState] = {}
        self.frames: dict[str, deque[MessageRecord]] = {}
        """Each panel's latest frames, for diagnostics."""
        try:
            self.control = ControlChannel(
                entry.options.get(CONF_CONTROL_CHANNEL, ControlChannel.AUTOMATIC)
            )
        except ValueError:
            self.control = ControlChannel.AUTOMATIC
        self._given_lan_address: str | None = entry.options.get(CONF_PANEL_LAN_ADDRESS) or None
        self.commands = PanelCommands(self.listener, self.control, self.lan_address)
        self.host_config: dict[str, HostConfig] = {}
        """The panels' latest settings, for diagnostics (their info is in PanelState)."""
        self._save_pending = False
        self._stopped = False
        """Stopped: its last write is done, no other may follow."""
        self._store = entry_store(hass, entry.entry_id)
        self._connections_seen: dict[str, int] = {}
        self._first_connection: set[str] = set()
        """Panels seen for the first time, until their first connection: nothing to catch up."""
        self._connection_waiters: set[asyncio.Future[str]] = set()
        self._unsubscribe: list[CALLBACK_TYPE] = []

        self.signals = Signals(hass, entry.entry_id)
        self.devices = PanelDevices(hass, entry.entry_id)
        self.health = PanelHealth(hass, self.panels, self.status, self.signals)
        self._clearing = ZoneClearing(hass, self.signals, self.save)
        self._reports = PanelReports(hass, self, self.devices, self.signals, self._clearing)
        self._catch_up = PanelCatchUp(
            self.panels, self._reports, self._read_history, self.save, enabled=self.can_control
        )
        self._refresh = PanelRefresh(
            hass,
            entry,
            self,
            panels=self.panels,
            devices=self.devices,
            signals=self.signals,
            clearing=self._clearing,
            enabled=self.can_control,
        )
        self._arming = PanelArming(
            hass, self.signals, self._run, partial(self._refresh.read_host_status, asked=True)
        )

    @property
    def can_control(self) -> bool:
        """Whether Home Assistant sends the panels commands at all (the options say)."""
        return self.control is not ControlChannel.OFF

    @property
    def host_status(self) -> dict[str, HostStatus]:
        """The panels' latest state answers, for diagnostics."""
        return self._refresh.host_status

    @property
    def unattributed_events(self) -> int:
        """Events of connections that never said which panel they are."""
        return self._reports.unattributed

    # --- life cycle ---------------------------------------------------------------

    async def async_load(self) -> None:
        """Bring back the panels and zones known before a restart."""
        stored = await self._store.async_load() or {}
        for guid, data in (stored.get("panels") or {}).items():
            if isinstance(data, dict):
                self.panels[guid] = PanelState.from_dict(guid, data)
        for panel in self.panels.values():
            self.devices.ensure(panel)
        if self.chaining:
            kept = _kept_for_the_cloud(
                stored.get("for_the_cloud"), self.listener.config.backlog_limit
            )
            self.listener.keep_for_the_cloud(kept)

    async def async_start(self) -> None:
        """Bind the listener (raises ListenerBindError) and start the timers."""
        await self.listener.start()
        self._unsubscribe.append(self.health.start())
        if (stop := self._refresh.start(self._connected_guids)) is not None:
            self._unsubscribe.append(stop)

    async def async_stop(self) -> None:
        """Close the listener and every connection; save the state. Safe to call twice."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.health.stop()
        await self._refresh.async_stop()
        await self.listener.close()
        # Only now that nothing reports any more: no timer or write of this hub's may
        # land after its last write (a reloaded entry's hub writes the same store).
        self._clearing.stop()
        self._stopped = True
        self._save_pending = False
        await self._store.async_save(self._stored())

    def _connected_guids(self) -> list[str]:
        return [c.guid for c in self.listener.connections if c.guid is not None]

    # --- from the listener --------------------------------------------------------

    @callback
    def async_next_connection(self) -> asyncio.Future[str]:
        """Resolves with the GUID of the next panel connection that says hello."""
        waiter: asyncio.Future[str] = self.hass.loop.create_future()
        self._connection_waiters.add(waiter)
        waiter.add_done_callback(self._connection_waiters.discard)
        return waiter

    @callback
    def _on_panel(self, status: PanelStatus) -> None:
        new_connection = status.connections > self._connections_seen.get(status.guid, 0)
        if new_connection:
            for waiter in list(self._connection_waiters):
                if not waiter.done():
                    waiter.set_result(status.guid)
        self._connections_seen[status.guid] = status.connections
        panel = self.panel(status.guid)
        if new_connection:
            self._remember_lan_address(panel, status)
            if panel.guid in self._first_connection:
                self._first_connection.discard(panel.guid)
            else:
                self._catch_up.connected(panel)
            self._refresh.schedule(panel.guid)
        if status.firmware and status.firmware != panel.firmware:
            panel.firmware = status.firmware
            self.devices.update_panel(panel)
            self.save()
        self.health.status_changed(panel.guid)
        self.signals.notify((panel.guid,))

    @callback
    def _remember_lan_address(self, panel: PanelState, status: PanelStatus) -> None:
        """Where the panel connected from, if commands can reach it there over its LAN."""
        ip = next((c.ip for c in self.listener.connections if c.peer == status.peer), None)
        address = lan_address_of(ip or "")
        if address is not None and address != panel.lan_address:
            panel.lan_address = address
            self.save()

    @callback
    def _on_traffic(self, traffic: Traffic) -> None:
        guid = traffic.guid
        if guid is None:
            return
        self.panel(guid)  # known from its first frame on
        frames = self.frames.get(guid)
        if frames is None:
            frames = self.frames[guid] = deque(maxlen=RAW_FRAMES_KEPT)
        frames.extend(traffic.records(last=RAW_FRAMES_KEPT))  # formatted only in diagnostics
        self.health.heard(guid)

    @callback
    def _on_event(self, event: PanelEvent, _status: PanelStatus | None) -> None:
        arrived = time.time()
        self._reports.receive(event)
        self._catch_up.heard(event, arrived)

    # --- for the parts (see reports.Owner, refresh.Owner) ---------------------------

    @callback
    def panel(self, guid: str) -> PanelState:
        """The panel's state; a panel seen for the first time gets its device and entities."""
        panel = self.panels.get(guid)
        if panel is None:
            panel = self.panels[guid] = PanelState(guid)
            panel.watermark.first_seen(time.time())
            self._first_connection.add(guid)
            self.devices.ensure(panel)
            self.signals.panel_added(panel)
            self.save()
        return panel

    @callback
    def state_reported(self, guid: str, state: AlarmState) -> None:
        """The panel told its state: an arm or disarm on its way is answered."""
        self._arming.state_reported(guid, state)

    @callback
    def sensors_changed(self, guid: str) -> None:
        """The panel said its sensor list changed: its picture is read again at once."""
        self._refresh.schedule(guid)

    def catch_up_due(self, guid: str) -> bool:
        """Whether the panel's history is to be caught up with before its picture."""
        return self._catch_up.due(guid)

    async def async_catch_up(self, guid: str) -> None:
        """Replay what the panel reported while Home Assistant was away."""
        await self._catch_up.async_catch_up(guid)

    async def _read_history(self, guid: str) -> tuple[HistoryRecord, ...]:
        """Every history record.

        An event the panel logs while its pages are read shifts the list: a list
        not yet full grows (ListChanged: read again, afresh); the record at a
        page's end comes again at the next page's start (the plan counts it once).
        """
        for _ in range(HISTORY_READS - 1):
            with contextlib.suppress(ListChanged):
                return await self.read_list(guid, history_pager)
        return await self.read_list(guid, history_pager)

    async def read[T](self, guid: str, command: Command[T], *, asked: bool = False) -> T:
        """One command of a read, within COMMAND_TIMEOUT; raises CommandError.

        `asked`: a person waits on it (else a person's command may preempt it).
        """
        return await self.commands.run(
            guid, command, timeout=COMMAND_TIMEOUT.total_seconds(), asked=asked
        )

    async def read_list[R](self, guid: str, pager: Callable[[], Pager[R]]) -> tuple[R, ...]:
        """A whole list, within COMMAND_TIMEOUT; raises CommandError."""
        return await self.commands.fetch(guid, pager, timeout=COMMAND_TIMEOUT.total_seconds())

    # --- state --------------------------------------------------------------------

    def status(self, guid: str) -> PanelStatus | None:
        """How the panel is connected, from the listener (None: not seen since the start)."""
        return self.listener.panels.get(guid)

    def is_connected(self, guid: str) -> bool:
        """Connected and heard from within a few heartbeats."""
        return self.health.is_connected(guid)

    def is_available(self, guid: str) -> bool:
        """Whether the panel's entities show their state, rather than unavailable."""
        return self.health.is_available(guid)

    def packet_times(self, guid: str) -> tuple[datetime | None, datetime | None]:
        """When the panel, and the vendor cloud for it, were last heard, as shown."""
        return self.health.packet_times(guid)

    def counters(self, guid: str) -> Counters:
        """Totals of a panel: closed connections plus the ones open now."""
        total = Counters()
        status = self.status(guid)
        if status is not None:
            total.add(status.counters)
        for connection in self.listener.connections:
            if connection.guid == guid:
                total.add(connection.counters)
        return total

    def device_id(self, guid: str) -> str | None:
        """The panel's device registry id."""
        return self.devices.device_id(guid)

    def _stored(self) -> dict[str, Any]:
        return {
            "panels": {guid: panel.to_dict() for guid, panel in self.panels.items()},
            # What the vendor cloud, away, has yet to get: it gets it after a restart too.
            "for_the_cloud": {
                guid: [frame.hex() for frame in frames]
                for guid, frames in self.listener.kept_for_the_cloud.items()
                if frames
            },
        }

    @callback
    def save(self) -> None:
        """Have the state written SAVE_DELAY after its first change since the last write.

        Store.async_delay_save postpones its write at every call: a panel that
        reports more often than the delay would keep its state from ever
        reaching storage. So it is called once per write, and what is written
        is read when the write happens.
        """
        if not self._save_pending and not self._stopped:
            self._save_pending = True
            self._store.async_delay_save(self._to_save, SAVE_DELAY)

    def _to_save(self) -> dict[str, Any]:
        self._save_pending = False
        return self._stored()

    @callback
    def async_forget(self, identifier: str) -> bool:
        """Forget a panel, zone or relay whose device is being removed; False: keep it.

        A panel that is connected stays (it would be back at once); its zones
        and relays can go at any time (a zone comes back when the panel
        reports it again, or lists it).
        """
        guid, _, relay = identifier.partition("_relay_")
        if relay.isdigit():
            if (panel := self.panels.get(guid)) is not None:
                panel.relays.pop(int(relay), None)
                self.save()
            return True
        guid, _, zone = identifier.partition("_zone_")
        if zone.isdigit():
            if (panel := self.panels.get(guid)) is not None:
                panel.zones.pop(int(zone), None)
                self.save()
            return True
        if self.is_connected(guid):
            return False
        if self.panels.pop(guid, None) is None:
            return True
        self.frames.pop(guid, None)
        self.commands.history.pop(guid, None)
        self.host_config.pop(guid, None)
        self._refresh.forget(guid)
        self._catch_up.forget(guid)
        self._first_connection.discard(guid)
        self.health.forget(guid)
        self.devices.remove_children(guid)
        self.save()
        return True

    # --- commands -----------------------------------------------------------------

    def lan_address(self, guid: str) -> str | None:
        """Where panel `guid` answers on its LAN, if known.

        The address given in the options, for an entry with one panel (an
        address is one panel's, and a command to the wrong panel arms the
        wrong alarm); else the address the panel's connection came from.
        """
        panel = self.panels.get(guid)
        if panel is None:
            return None
        if self._given_lan_address and len(self.panels) == 1:
            return self._given_lan_address
        return panel.lan_address

    def arming(self, guid: str) -> ArmState | None:
        """The state an arm or disarm on its way asks for (None: none is)."""
        return self._arming.target(guid)

    async def async_arm(self, guid: str, target: ArmState) -> None:
        """Arm away, arm home or disarm; returns once the panel reported its new state.

        The panel shows arming or disarming meanwhile. Raises
        HomeAssistantError (translated) when the panel cannot be reached or
        does not accept the command in time; the state then shows what the
        panel last reported.
        """
        await self._arming.arm(guid, target, report_wait=ARM_REPORT_WAIT)

    async def async_switch_relay(self, guid: str, index: int, channel: int, on: bool) -> None:
        """Switch a relay's channel on or off; it shows that state from then on."""
        await self._run(guid, switch_relay(index, on, channel))
        panel = self.panels.get(guid)
        relay = panel.relays.get(index) if panel is not None else None
        if relay is not None:
            relay.on[channel] = on
            self.signals.notify(relay_key(guid, index))
            self.save()

    async def async_set_alert(self, guid: str, flag: AlertFlags, on: bool) -> None:
        """Turn one of the panel's alerts on or off, every other switch as the panel has it.

        The switches are read fresh, one bit changed, and written back, so bits
        nobody has named survive.
        """
        flags = await self._run(guid, get_alert_flags())
        wanted = flags.with_flag(flag, on)
        if wanted != flags:
            await self._run(guid, set_alert_flags(wanted))
        if (panel := self.panels.get(guid)) is not None:
            self._refresh.apply_alert_flags(panel, wanted)

    async def _run[T](self, guid: str, command: Command[T]) -> T:
        """A command a person asked for; a failure is an error they can read."""
        timeout = COMMAND_TIMEOUT.total_seconds()
        try:
            return await self.commands.run(guid, command, timeout=timeout, asked=True)
        except CommandError as err:
            raise command_failed(err, guid, timeout) from err

    async def async_read_host_config(self, guid: str) -> HostConfig | None:
        """The panel's settings (106), for a diagnostics download; None if it does not say."""
        if not self.can_control:
            return self.host_config.get(guid)
        try:
            self.host_config[guid] = await self.commands.run(
                guid, get_host_config(), timeout=CONNECTION_SHARE, asked=True
            )
        except CommandError as err:
            _LOGGER.debug("Panel %s did not tell its settings: %s", guid, err)
        return self.host_config.get(guid)


def _kept_for_the_cloud(data: Any, limit: int) -> dict[str, list[bytes]]:
    """What the store kept for the vendor cloud, per panel (its newest `limit`).

    Anything odd is left out.
    """
    kept: dict[str, list[bytes]] = {}
    for guid, frames in data.items() if isinstance(data, dict) else ():
        if isinstance(guid, str) and isinstance(frames, list):
            with contextlib.suppress(TypeError, ValueError):
                kept[guid] = [bytes.fromhex(frame) for frame in frames][-limit:]
    return kept
