"""The hub: runs the listener and turns what panels say into Home Assistant terms.

It keeps the state, devices, entity updates and bus events of one config entry,
and sends the panels the commands people ask for.

Path of an event: listener -> `_on_event` -> `model.apply_event` -> subscribed
entities notified -> `g90_cloud_event` fired on the bus -> store saved (soon).

Path of a command: an entity's action -> `async_arm` (or a relay, or an alert
switch) -> `control.PanelCommands` -> the panel's connection, or its LAN.
At every (re)connect, and every REFRESH_INTERVAL, the panel's picture is read
(state, info, sensors, relays, alert switches), one command at a time.

How each panel is connected (peer, packet times, counters) lives in one table,
the listener's `panels`; the hub reads it there and keeps only what Home
Assistant persists (`model.PanelState`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import ipaddress
import logging
import time
from typing import Any

from homeassistant.components import network
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

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
    CONNECTED_WITHIN,
    DEFAULT_LOCAL_IP,
    DOMAIN,
    DOOR_CLEARS_AFTER,
    EVENT_G90,
    HEARTBEAT,
    PACKET_TIME_WRITE_INTERVAL,
    RAW_FRAMES_KEPT,
    REFRESH_INTERVAL,
    REPEAT_WINDOW,
    ControlChannel,
)
from .control import (
    CONNECTION_SHARE,
    MISSING_CONNECTION,
    NoLanAddress,
    PanelCommands,
    command_failed,
)
from .g90.aio.server import Listener, ListenerConfig
from .g90.commands import (
    AlertFlags,
    ArmState,
    Command,
    CommandCode,
    CommandError,
    HostConfig,
    HostStatus,
    get_alert_flags,
    get_host_config,
    get_host_info,
    get_host_status,
    relay_pager,
    sensor_pager,
    set_alert_flags,
    set_host_status,
    switch_relay,
)
from .g90.events import EventType, PanelEvent
from .g90.status import Counters, MessageRecord, PanelStatus
from .g90.wire import DEFAULT_PORT
from .model import (
    ALARM_STATE_BY_ARM_STATE,
    ALARM_STATE_BY_EVENT,
    AlarmState,
    ListChanges,
    PanelState,
    RelayState,
    ZoneState,
    apply_alert_flags,
    apply_event,
    apply_host_info,
    apply_host_status,
    apply_relay_list,
    apply_sensor_list,
)

_LOGGER = logging.getLogger(__name__)

REPORTED_TWICE = frozenset(
    {EventType.ARMED_AWAY, EventType.ARMED_HOME, EventType.DISARMED, EventType.ALARM_TRIGGERED}
)
"""Panel states a panel reports both as a status change and as a notification."""

SENSOR_LIST_EVENTS = frozenset({EventType.SENSOR_ADDED, EventType.SENSOR_CHANGED})
"""The panel says its sensor list changed: it is read again at once."""

STORAGE_VERSION = 1
SAVE_DELAY = 5.0
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


@dataclass(frozen=True, slots=True)
class NewZone:
    """Dispatched when a zone appears: platforms add its entities."""

    panel: PanelState
    zone: ZoneState
    event: PanelEvent | None = None
    """The event that revealed it (entities added later still show it)."""


@dataclass(frozen=True, slots=True)
class NewRelay:
    """Dispatched when a relay appears (or its channels change): platforms add its entities."""

    panel: PanelState
    relay: RelayState


@dataclass(slots=True)
class _Arming:
    """An arm or disarm on its way: shown as arming or disarming until the panel reports."""

    target: ArmState
    reported: asyncio.Future[None]
    accepted: bool = False
    """The panel answered the command: any state it reports now is its answer."""


@dataclass(slots=True)
class _PacketTimes:
    """The packet times the last-packet sensors show, written at most once a minute."""

    shown: tuple[datetime | None, datetime | None] = (None, None)
    written: datetime | None = None
    timer: CALLBACK_TYPE | None = field(default=None, repr=False)


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
            on_message=self._on_message,
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
        self.host_status: dict[str, HostStatus] = {}
        self.host_config: dict[str, HostConfig] = {}
        """The panels' latest answers, for diagnostics (their info is in PanelState)."""
        self._arming: dict[str, _Arming] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._refresh_again: set[str] = set()
        self._failing_reads: set[tuple[str, int]] = set()
        """(panel, command) of the refresh that failed last time: logged once."""
        self._save_pending = False
        self.unattributed_events = 0
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )
        self._listeners: dict[tuple[str, ...], list[CALLBACK_TYPE]] = {}
        self._availability_listeners: dict[str, list[CALLBACK_TYPE]] = {}
        self._event_listeners: dict[str, list[Callable[[PanelEvent], None]]] = {}
        self._started = datetime.now(UTC)
        self._silent: set[str] = set()
        """Panels not heard from within CONNECTED_WITHIN: their entities are unavailable."""
        self._last_report: dict[tuple[str, EventType], float] = {}
        self._connections_seen: dict[str, int] = {}
        self._shown: dict[str, tuple[object, ...]] = {}
        """Per panel, the live facts its health entities show (see _health)."""
        self._packet_times: dict[str, _PacketTimes] = {}
        self._connection_waiters: set[asyncio.Future[str]] = set()
        self._clear_timers: dict[tuple[str, int], CALLBACK_TYPE] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []

    @property
    def signal_new_panel(self) -> str:
        """Dispatcher signal: a panel appeared (argument: PanelState)."""
        return f"{DOMAIN}_{self.entry.entry_id}_new_panel"

    @property
    def signal_new_zone(self) -> str:
        """Dispatcher signal: a zone appeared (argument: NewZone)."""
        return f"{DOMAIN}_{self.entry.entry_id}_new_zone"

    @property
    def signal_new_relay(self) -> str:
        """Dispatcher signal: a relay appeared (argument: NewRelay)."""
        return f"{DOMAIN}_{self.entry.entry_id}_new_relay"

    @property
    def can_control(self) -> bool:
        """Whether Home Assistant sends the panels commands at all (the options say)."""
        return self.control is not ControlChannel.OFF

    # --- life cycle ---------------------------------------------------------------

    async def async_load(self) -> None:
        """Bring back the panels and zones known before a restart."""
        stored = await self._store.async_load() or {}
        for guid, data in (stored.get("panels") or {}).items():
            if isinstance(data, dict):
                self.panels[guid] = PanelState.from_dict(guid, data)
        for panel in self.panels.values():
            self._ensure_devices(panel)

    async def async_start(self) -> None:
        """Bind the listener (raises ListenerBindError) and start the health timer."""
        await self.listener.start()
        self._started = datetime.now(UTC)
        self._unsubscribe.append(
            async_track_time_interval(self.hass, self._refresh_all_health, HEARTBEAT / 2)
        )
        if self.can_control:
            self._unsubscribe.append(
                async_track_time_interval(self.hass, self._refresh_all, REFRESH_INTERVAL)
            )

    async def async_stop(self) -> None:
        """Close the listener and every connection; save the state. Safe to call twice."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for cancel in self._clear_timers.values():
            cancel()
        self._clear_timers.clear()
        for times in self._packet_times.values():
            if times.timer is not None:
                times.timer()
                times.timer = None
        refreshing = list(self._refreshing.values())
        for task in refreshing:
            task.cancel()
        for task in refreshing:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.listener.close()
        self._save_pending = False
        await self._store.async_save(self._stored())

    # --- subscriptions ------------------------------------------------------------

    @callback
    def async_subscribe(self, key: tuple[str, ...], update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` when the panel (guid,) or zone (guid, index) changes."""
        return _subscribe(self._listeners, key, update)

    @callback
    def async_subscribe_availability(self, guid: str, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` when panel `guid` becomes unavailable, or available again."""
        return _subscribe(self._availability_listeners, guid, update)

    @callback
    def async_subscribe_events(
        self, guid: str, handler: Callable[[PanelEvent], None]
    ) -> CALLBACK_TYPE:
        """Call `handler` with every event of panel `guid`."""
        return _subscribe(self._event_listeners, guid, handler)

    @callback
    def _notify(self, key: tuple[str, ...]) -> None:
        for update in list(self._listeners.get(key, ())):
            update()

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
        panel = self._panel(status.guid)
        if new_connection:
            self._remember_lan_address(panel, status)
            self._schedule_refresh(panel.guid)
        if panel.guid in self._silent:
            self._update_availability(panel.guid)
        if status.firmware and status.firmware != panel.firmware:
            panel.firmware = status.firmware
            self._update_panel_device(panel)
            self._save()
        self._show_health(panel.guid)
        self._notify((panel.guid,))

    @callback
    def _remember_lan_address(self, panel: PanelState, status: PanelStatus) -> None:
        """Where the panel connected from, if commands can reach it there over its LAN."""
        ip = next((c.ip for c in self.listener.connections if c.peer == status.peer), None)
        address = lan_address_of(ip or "")
        if address is not None and address != panel.lan_address:
            panel.lan_address = address
            self._save()

    @callback
    def _on_message(self, record: MessageRecord) -> None:
        if record.guid is None:
            return
        guid = record.guid
        self._panel(guid)  # known from its first frame on
        frames = self.frames.get(guid)
        if frames is None:
            frames = self.frames[guid] = deque(maxlen=RAW_FRAMES_KEPT)
        frames.append(record)  # formatted only if diagnostics are downloaded
        if guid in self._silent:
            self._update_availability(guid)
        self._refresh_health(guid)

    @callback
    def _refresh_health(self, guid: str) -> None:
        """Write the panel's entities if what they show of its health moved.

        That is: connected or disconnected (a panel back after a long silence,
        the vendor cloud gone), and a first packet time, at once; a newer packet
        time at most once every PACKET_TIME_WRITE_INTERVAL, the latest one at
        the end of the interval.
        """
        if self._shown.get(guid) != self._health(guid):
            self._show_health(guid)
            self._notify((guid,))
            return
        times = self._packet_times.setdefault(guid, _PacketTimes())
        latest = self._latest_packet_times(guid)
        now = dt_util.utcnow()
        if any(
            old is None and new is not None for old, new in zip(times.shown, latest, strict=True)
        ):
            self._show_health(guid)
            self._notify((guid,))
            return
        if times.shown == latest or times.timer is not None:
            return
        if times.written is None or times.written + PACKET_TIME_WRITE_INTERVAL <= now:
            self._show_health(guid)
            self._notify((guid,))
            return

        @callback
        def write(_now: datetime) -> None:
            times.timer = None
            if guid in self.panels:
                self._show_health(guid)
                self._notify((guid,))

        due = times.written + PACKET_TIME_WRITE_INTERVAL
        times.timer = async_call_later(self.hass, due - now, write)

    @callback
    def _show_health(self, guid: str) -> None:
        """Take the panel's health and packet times as what its entities show from now on."""
        self._shown[guid] = self._health(guid)
        times = self._packet_times.setdefault(guid, _PacketTimes())
        times.shown = self._latest_packet_times(guid)
        times.written = dt_util.utcnow()
        if times.timer is not None:
            times.timer()
            times.timer = None

    def _health(self, guid: str) -> tuple[object, ...]:
        status = self.status(guid)
        if status is None:
            return ()
        return (self.is_connected(guid), status.upstream_connected)

    def _latest_packet_times(self, guid: str) -> tuple[datetime | None, datetime | None]:
        status = self.status(guid)
        if status is None:
            return (None, None)
        return (status.last_device_packet, status.last_upstream_packet)

    def packet_times(self, guid: str) -> tuple[datetime | None, datetime | None]:
        """When the panel, and the vendor cloud for it, were last heard, as shown.

        The true times, written at most once a minute (see _refresh_health).
        """
        times = self._packet_times.get(guid)
        return times.shown if times is not None else (None, None)

    @callback
    def _on_event(self, event: PanelEvent, status: PanelStatus | None) -> None:
        if event.guid is None:
            # A connection that never said hello: no panel to pin it on, but
            # automations listening on the bus still hear it.
            self.unattributed_events += 1
            self.hass.bus.async_fire(EVENT_G90, self._event_data(event, None))
            return
        panel = self._panel(event.guid)
        # Entities added for a zone this event reveals show it from their first
        # state (NewZone.event): they are not handed it a second time below.
        handlers = list(self._event_listeners.get(panel.guid, ()))
        changes = apply_event(panel, event)
        if changes.zone is not None:
            zone = changes.zone
            if changes.new_zone:
                self._ensure_zone_device(panel, zone)
            else:
                self._update_zone_device(panel, zone)
            if changes.new_zone or changes.new_kind:
                # Platforms add whatever entities the zone (now) calls for.
                async_dispatcher_send(self.hass, self.signal_new_zone, NewZone(panel, zone, event))
            if changes.clear_after is not None:
                self._schedule_clear(panel, zone, changes.clear_after)
            self._notify((panel.guid, str(zone.index)))
        if changes.zones_reset:
            for index in list(panel.zones):
                self._notify((panel.guid, str(index)))
        if event.type in ALARM_STATE_BY_EVENT:
            self._state_reported(panel.guid, ALARM_STATE_BY_EVENT[event.type])
        self._notify((panel.guid,))
        if event.type in SENSOR_LIST_EVENTS:
            self._schedule_refresh(panel.guid)
        repeat = self._is_repeat(panel.guid, event)
        if not repeat:
            for handler in handlers:
                handler(event)
        device = self.device_id(panel.guid)
        self.hass.bus.async_fire(EVENT_G90, self._event_data(event, device, repeat=repeat))
        self._save()

    def _is_repeat(self, guid: str, event: PanelEvent) -> bool:
        """Whether this is the second report of one arming (panels send binary and JSON)."""
        if event.type not in REPORTED_TWICE:
            return False
        now = time.monotonic()
        key = (guid, event.type)
        last = self._last_report.get(key)
        self._last_report[key] = now
        return last is not None and now - last < REPEAT_WINDOW.total_seconds()

    @staticmethod
    def _event_data(
        event: PanelEvent, device_id: str | None, *, repeat: bool = False
    ) -> dict[str, Any]:
        data = event.fields()
        data.pop("raw", None)
        return {"device_id": device_id, "guid": event.guid, **data, "repeat": repeat}

    # --- state --------------------------------------------------------------------

    @callback
    def _panel(self, guid: str) -> PanelState:
        panel = self.panels.get(guid)
        if panel is None:
            panel = self.panels[guid] = PanelState(guid)
            self._ensure_devices(panel)
            async_dispatcher_send(self.hass, self.signal_new_panel, panel)
            self._save()
        return panel

    def status(self, guid: str) -> PanelStatus | None:
        """How the panel is connected, from the listener (None: not seen since the start)."""
        return self.listener.panels.get(guid)

    def is_connected(self, guid: str) -> bool:
        """Connected and heard from within a few heartbeats."""
        status = self.status(guid)
        return status is not None and status.connected and _heard_lately(status)

    def is_available(self, guid: str) -> bool:
        """Whether the panel's entities show their state, rather than unavailable.

        A panel is available while heard from within CONNECTED_WITHIN (it says
        hello every minute). Panels restored after a start keep their last
        state for one such window, time enough to say hello.
        """
        return guid not in self._silent

    @callback
    def _update_availability(self, guid: str) -> None:
        status = self.status(guid)
        heard = status is not None and _heard_lately(status)
        available = heard or datetime.now(UTC) - self._started <= CONNECTED_WITHIN
        if available is self.is_available(guid):
            return
        if available:
            self._silent.discard(guid)
            _LOGGER.info("Panel %s is heard from again: its entities are available", guid)
        else:
            self._silent.add(guid)
            _LOGGER.info(
                "Panel %s has not been heard from for %s: its entities are unavailable",
                guid,
                CONNECTED_WITHIN,
            )
        for update in list(self._availability_listeners.get(guid, ())):
            update()

    @callback
    def _refresh_all_health(self, _now: datetime) -> None:
        """A silent panel goes unavailable, and shows disconnected, with no packet to tell."""
        for guid in list(self.panels):
            self._update_availability(guid)
            self._refresh_health(guid)

    @callback
    def _schedule_clear(self, panel: PanelState, zone: ZoneState, after: timedelta) -> None:
        """Turn the zone off after `after`, unless an alarm latched it meanwhile."""
        key = (panel.guid, zone.index)
        if (cancel := self._clear_timers.pop(key, None)) is not None:
            cancel()

        @callback
        def clear(_now: datetime) -> None:
            self._clear_timers.pop(key, None)
            if zone.on and not zone.latched:
                zone.on = False
                self._notify((panel.guid, str(zone.index)))
                self._save()

        self._clear_timers[key] = async_call_later(self.hass, after, clear)

    def _stored(self) -> dict[str, Any]:
        return {"panels": {guid: panel.to_dict() for guid, panel in self.panels.items()}}

    @callback
    def _save(self) -> None:
        """Have the state written SAVE_DELAY after its first change since the last write.

        Store.async_delay_save postpones its write at every call: a panel that
        reports more often than the delay would keep its state from ever
        reaching storage. So it is called once per write, and what is written
        is read when the write happens.
        """
        if not self._save_pending:
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
                self._save()
            return True
        guid, _, zone = identifier.partition("_zone_")
        if zone.isdigit():
            if (panel := self.panels.get(guid)) is not None:
                panel.zones.pop(int(zone), None)
                self._save()
            return True
        if self.is_connected(guid):
            return False
        if self.panels.pop(guid, None) is None:
            return True
        self.frames.pop(guid, None)
        self.commands.history.pop(guid, None)
        self.host_status.pop(guid, None)
        self.host_config.pop(guid, None)
        self._shown.pop(guid, None)
        self._silent.discard(guid)
        # Its zones and relays go with it: their devices would be orphans, their
        # entities bound to a panel state nobody updates any more.
        registry = dr.async_get(self.hass)
        prefix = f"{guid}_"
        for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            if any(
                domain == DOMAIN and name.startswith(prefix) for domain, name in device.identifiers
            ):
                registry.async_update_device(device.id, remove_config_entry_id=self.entry.entry_id)
        self._save()
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
        pending = self._arming.get(guid)
        return pending.target if pending is not None else None

    async def async_arm(self, guid: str, target: ArmState) -> None:
        """Arm away, arm home or disarm; returns once the panel reported its new state.

        The panel shows arming or disarming meanwhile. Raises
        HomeAssistantError (translated) when the panel cannot be reached or
        does not accept the command in time; the state then shows what the
        panel last reported.
        """
        pending = _Arming(target, self.hass.loop.create_future())
        self._arming[guid] = pending
        self._notify((guid,))
        try:
            await self._run(guid, set_host_status(target))
            pending.accepted = True
            try:
                async with asyncio.timeout(ARM_REPORT_WAIT.total_seconds()):
                    await pending.reported
            except TimeoutError:
                _LOGGER.debug("Panel %s did not report its new state: asking for it", guid)
                try:
                    await self._read_host_status(guid)
                except CommandError as err:  # it accepted: the next refresh will tell
                    _LOGGER.info(
                        "Panel %s accepted %s but did not tell its state: %s", guid, target, err
                    )
        finally:
            if self._arming.get(guid) is pending:
                del self._arming[guid]
            self._notify((guid,))

    @callback
    def _state_reported(self, guid: str, state: AlarmState) -> None:
        """The panel told its state: an arm or disarm on its way is answered."""
        pending = self._arming.get(guid)
        if pending is None or pending.reported.done():
            return
        if pending.accepted or ALARM_STATE_BY_ARM_STATE[pending.target] is state:
            pending.reported.set_result(None)

    async def async_switch_relay(self, guid: str, index: int, channel: int, on: bool) -> None:
        """Switch a relay's channel on or off; it shows that state from then on."""
        await self._run(guid, switch_relay(index, on, channel))
        panel = self.panels.get(guid)
        relay = panel.relays.get(index) if panel is not None else None
        if relay is not None:
            relay.on[channel] = on
            self._notify(relay_key(guid, index))
            self._save()

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
            self._apply_alert_flags(panel, wanted)

    async def _run[T](self, guid: str, command: Command[T]) -> T:
        """A command a person asked for; a failure is an error they can read."""
        timeout = COMMAND_TIMEOUT.total_seconds()
        try:
            return await self.commands.run(guid, command, timeout=timeout)
        except CommandError as err:
            raise command_failed(err, guid, timeout) from err

    async def async_read_host_config(self, guid: str) -> HostConfig | None:
        """The panel's settings (106), for a diagnostics download; None if it does not say."""
        if not self.can_control:
            return self.host_config.get(guid)
        try:
            self.host_config[guid] = await self.commands.run(
                guid, get_host_config(), timeout=CONNECTION_SHARE
            )
        except CommandError as err:
            _LOGGER.debug("Panel %s did not tell its settings: %s", guid, err)
        return self.host_config.get(guid)

    # --- the refresh ----------------------------------------------------------------

    @callback
    def _refresh_all(self, _now: datetime) -> None:
        for connection in self.listener.connections:
            if connection.guid is not None and connection.guid in self.panels:
                self._schedule_refresh(connection.guid)

    @callback
    def _schedule_refresh(self, guid: str) -> None:
        """Read the panel's picture soon, unless a read is under way (then once more after it)."""
        if not self.can_control:
            return
        if guid in self._refreshing:
            self._refresh_again.add(guid)
            return
        # Not started at once: the connection that asks is not the panel's yet.
        self._refreshing[guid] = self.entry.async_create_background_task(
            self.hass, self._refresh(guid), f"{DOMAIN} refresh {guid}", eager_start=False
        )

    async def _refresh(self, guid: str) -> None:
        try:
            while True:
                self._refresh_again.discard(guid)
                await self.async_refresh(guid)
                if guid not in self._refresh_again:
                    return
        finally:
            self._refreshing.pop(guid, None)

    async def async_refresh(self, guid: str) -> None:
        """Read what the panel is, one command at a time: state, info, sensors, relays, alerts.

        A read that fails keeps what is known and is logged once; a panel that
        does not answer at all is left alone until the next refresh.
        """
        reads: tuple[tuple[int, Callable[[str], Awaitable[None]]], ...] = (
            (CommandCode.GET_HOST_STATUS, self._read_host_status),
            (CommandCode.GET_HOST_INFO, self._read_host_info),
            (CommandCode.GET_SENSORS, self._read_sensors),
            (CommandCode.GET_RELAYS, self._read_relays),
            (CommandCode.GET_ALERTS, self._read_alert_flags),
        )
        for code, read in reads:
            if guid not in self.panels:  # forgotten meanwhile
                return
            try:
                await read(guid)
            except CommandError as err:
                self._read_failed(guid, code, err)
                if isinstance(err, (*MISSING_CONNECTION, NoLanAddress)):
                    return
            else:
                if (guid, code) in self._failing_reads:
                    self._failing_reads.discard((guid, code))
                    _LOGGER.info("Panel %s answers command %s again", guid, code)

    @callback
    def _read_failed(self, guid: str, code: int, err: CommandError) -> None:
        if (guid, code) in self._failing_reads:
            _LOGGER.debug("Panel %s: command %s failed again: %s", guid, code, err)
            return
        self._failing_reads.add((guid, code))
        _LOGGER.warning(
            "Panel %s did not answer command %s (%s); keeping what is known, trying again in %s",
            guid,
            code,
            err,
            REFRESH_INTERVAL,
        )

    async def _read_host_status(self, guid: str) -> None:
        status = await self.commands.run(
            guid, get_host_status(), timeout=COMMAND_TIMEOUT.total_seconds()
        )
        self.host_status[guid] = status
        if (panel := self.panels.get(guid)) is None:  # forgotten meanwhile
            return
        if apply_host_status(panel, status):
            self._update_panel_device(panel)
            self._notify((guid,))
            self._save()
        if panel.alarm_state is not None:
            self._state_reported(guid, panel.alarm_state)

    async def _read_host_info(self, guid: str) -> None:
        info = await self.commands.run(
            guid, get_host_info(), timeout=COMMAND_TIMEOUT.total_seconds()
        )
        if (panel := self.panels.get(guid)) is None:
            return
        if apply_host_info(panel, info):
            self._update_panel_device(panel)
            self._notify((guid,))
            self._save()

    async def _read_sensors(self, guid: str) -> None:
        records = await self.commands.fetch(
            guid, sensor_pager, timeout=COMMAND_TIMEOUT.total_seconds()
        )
        if (panel := self.panels.get(guid)) is None:
            return
        changes = apply_sensor_list(panel, records)
        for index in changes.removed:
            self._remove_device(zone_identifier(guid, index))
            if (cancel := self._clear_timers.pop((guid, index), None)) is not None:
                cancel()
        for index in changes.added:
            zone = panel.zones[index]
            self._ensure_zone_device(panel, zone)
            async_dispatcher_send(self.hass, self.signal_new_zone, NewZone(panel, zone))
        for index in changes.changed:
            zone = panel.zones[index]
            self._update_zone_device(panel, zone)
            if index in changes.new_kind:
                async_dispatcher_send(self.hass, self.signal_new_zone, NewZone(panel, zone))
            self._notify((guid, str(index)))
        for index, enabled in changes.enabled.items():
            self._follow_enabled(zone_identifier(guid, index), enabled)
        if changes != ListChanges():
            self._save()

    async def _read_relays(self, guid: str) -> None:
        records = await self.commands.fetch(
            guid, relay_pager, timeout=COMMAND_TIMEOUT.total_seconds()
        )
        if (panel := self.panels.get(guid)) is None:
            return
        changes = apply_relay_list(panel, records)
        for index in changes.removed:
            self._remove_device(relay_identifier(guid, index))
        for index in changes.added:
            relay = panel.relays[index]
            self._ensure_relay_device(panel, relay)
            async_dispatcher_send(self.hass, self.signal_new_relay, NewRelay(panel, relay))
        for index in changes.changed:
            relay = panel.relays[index]
            self._ensure_relay_device(panel, relay)
            # Channels that are gone lose their entities; new ones get theirs.
            self._remove_relay_entities(guid, relay)
            async_dispatcher_send(self.hass, self.signal_new_relay, NewRelay(panel, relay))
            self._notify(relay_key(guid, index))
        if changes != ListChanges():
            self._save()

    async def _read_alert_flags(self, guid: str) -> None:
        flags = await self.commands.run(
            guid, get_alert_flags(), timeout=COMMAND_TIMEOUT.total_seconds()
        )
        if (panel := self.panels.get(guid)) is not None:
            self._apply_alert_flags(panel, flags)

    @callback
    def _apply_alert_flags(self, panel: PanelState, flags: AlertFlags) -> None:
        if panel.alert_flags == int(flags):
            return
        for zone in apply_alert_flags(panel, flags):
            # Opened before Home Assistant knew no closing would be reported.
            self._schedule_clear(panel, zone, DOOR_CLEARS_AFTER)
        self._notify((panel.guid,))
        self._save()

    # --- devices ------------------------------------------------------------------

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
        device = self._device((DOMAIN, guid))
        return device.id if device else None

    def _device(self, identifier: tuple[str, str]) -> dr.DeviceEntry | None:
        return dr.async_get(self.hass).async_get_device_by_identifier(
            identifier, self.entry.entry_id
        )

    def _panel_device_id(self, guid: str) -> str | None:
        return dr.async_get_device_id_by_identifier(
            self.hass, (DOMAIN, guid), config_entry_id=self.entry.entry_id
        )

    @callback
    def _ensure_devices(self, panel: PanelState) -> None:
        registry = dr.async_get(self.hass)
        registry.async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(DOMAIN, panel.guid)},
            manufacturer="G90 family",
            model=panel.product or PANEL_MODEL,
            hw_version=panel.hardware,
            name=f"G90 panel {panel.guid}",
            sw_version=panel.firmware,
            serial_number=panel.guid,
        )
        for zone in panel.zones.values():
            self._ensure_zone_device(panel, zone)
        for relay in panel.relays.values():
            self._ensure_relay_device(panel, relay)

    @callback
    def _update_panel_device(self, panel: PanelState) -> None:
        """Follow the panel's firmware, product and hardware versions."""
        device = self._device((DOMAIN, panel.guid))
        if device is not None:
            dr.async_get(self.hass).async_update_device(
                device.id,
                sw_version=panel.firmware,
                model=panel.product or PANEL_MODEL,
                hw_version=panel.hardware,
            )

    @callback
    def _ensure_zone_device(self, panel: PanelState, zone: ZoneState) -> None:
        registry = dr.async_get(self.hass)
        created = self._device(zone_identifier(panel.guid, zone.index)) is None
        registry.async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={zone_identifier(panel.guid, zone.index)},
            via_device_id=self._panel_device_id(panel.guid),
            manufacturer="G90 family",
            model=ZONE_MODELS[zone.kind],
            name=zone_device_name(zone),
        )
        if created and zone.enabled is False:
            self._follow_enabled(zone_identifier(panel.guid, zone.index), enabled=False)

    @callback
    def _update_zone_device(self, panel: PanelState, zone: ZoneState) -> None:
        """Follow a rename on the panel, or a zone whose kind became known."""
        device = self._device(zone_identifier(panel.guid, zone.index))
        if device is None:
            return
        name, model = zone_device_name(zone), ZONE_MODELS[zone.kind]
        if device.name != name or device.model != model:
            dr.async_get(self.hass).async_update_device(device.id, name=name, model=model)

    @callback
    def _follow_enabled(self, identifier: tuple[str, str], enabled: bool) -> None:
        """A sensor disabled on the panel shows as a disabled device; enabled again, enabled.

        Only the integration's own disabling is undone: a device the user
        disabled stays disabled.
        """
        device = self._device(identifier)
        if device is None:
            return
        registry = dr.async_get(self.hass)
        if not enabled and device.disabled_by is None:
            registry.async_update_device(device.id, disabled_by=dr.DeviceEntryDisabler.INTEGRATION)
        elif enabled and device.disabled_by is dr.DeviceEntryDisabler.INTEGRATION:
            registry.async_update_device(device.id, disabled_by=None)

    @callback
    def _ensure_relay_device(self, panel: PanelState, relay: RelayState) -> None:
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={relay_identifier(panel.guid, relay.index)},
            via_device_id=self._panel_device_id(panel.guid),
            manufacturer="G90 family",
            model=RELAY_MODELS.get(relay.peripheral_type, "Relay"),
            name=relay.name or f"Relay {relay.index}",
        )

    @callback
    def _remove_relay_entities(self, guid: str, relay: RelayState) -> None:
        """Entities of channels the relay no longer has."""
        registry = er.async_get(self.hass)
        for entry in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            channel = relay_channel_of(entry.unique_id, guid, relay.index)
            if channel is not None and channel >= relay.channels:
                registry.async_remove(entry.entity_id)

    @callback
    def _remove_device(self, identifier: tuple[str, str]) -> None:
        """A zone or relay the panel no longer lists: its device, and its entities, go."""
        device = self._device(identifier)
        if device is not None:
            dr.async_get(self.hass).async_update_device(
                device.id, remove_config_entry_id=self.entry.entry_id
            )


def _subscribe[K, F](registry: dict[K, list[F]], key: K, listener: F) -> CALLBACK_TYPE:
    """Add `listener` under `key`; returns what removes it."""
    registry.setdefault(key, []).append(listener)

    @callback
    def unsubscribe() -> None:
        registry[key].remove(listener)

    return unsubscribe


def _heard_lately(status: PanelStatus) -> bool:
    last = status.last_device_packet
    return last is not None and datetime.now(UTC) - last <= CONNECTED_WITHIN


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


def zone_identifier(guid: str, index: int) -> tuple[str, str]:
    """Device registry identifier of a zone."""
    return (DOMAIN, f"{guid}_zone_{index}")


def relay_identifier(guid: str, index: int) -> tuple[str, str]:
    """Device registry identifier of a relay."""
    return (DOMAIN, f"{guid}_relay_{index}")


def relay_key(guid: str, index: int) -> tuple[str, ...]:
    """What a relay's entities subscribe to."""
    return (guid, "relay", str(index))


def relay_unique_id(guid: str, index: int, channel: int) -> str:
    """A relay channel's switch."""
    return f"{guid}_relay_{index}_{channel}"


def relay_channel_of(unique_id: str, guid: str, index: int) -> int | None:
    """The channel of relay `index` a unique id is the switch of, if it is one."""
    channel = unique_id.removeprefix(f"{guid}_relay_{index}_")
    return int(channel) if channel != unique_id and channel.isdigit() else None


def zone_device_name(zone: ZoneState) -> str:
    """The panel's name for the zone, else its number."""
    return zone.name or f"Zone {zone.index}"


PANEL_MODEL = "G90 alarm panel"
"""The panel's model until it tells its product name."""

RELAY_MODELS: dict[int, str] = {
    128: "Socket",
    129: "Siren",
    130: "Curtain",
    131: "Sliding window",
    133: "Air conditioner",
    135: "TV",
    136: "TV box",
    137: "Smart switch",
    138: "Night light",
    140: "Socket (2.4 GHz)",
    141: "Siren (2.4 GHz)",
    142: "Switch (2.4 GHz)",
    143: "Touch switch (2.4 GHz)",
    144: "Curtain (2.4 GHz)",
    145: "IR remote (2.4 GHz)",
}
"""Relay list peripheral types (g90-commands.md 2.2)."""

ZONE_MODELS: dict[str, str] = {
    "sensor": "Sensor",
    "door": "Door/window sensor",
    "motion": "Motion sensor",
    "smoke": "Smoke detector",
    "gas": "Gas detector",
    "water": "Water leak sensor",
    "vibration": "Vibration sensor",
    "glass_break": "Glass break detector",
    "sos_button": "SOS button",
    "wired": "Wired zone",
    "remote": "Remote control",
    "rfid": "RFID keypad",
    "doorbell": "Doorbell",
}
