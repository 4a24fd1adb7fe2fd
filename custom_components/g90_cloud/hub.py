"""The hub: runs the listener and turns what panels say into Home Assistant terms.

It keeps the state, devices, entity updates and bus events of one config entry.

Path of an event: listener -> `_on_event` -> `model.apply_event` -> subscribed
entities notified -> `g90_cloud_event` fired on the bus -> store saved (soon).

How each panel is connected (peer, packet times, counters) lives in one table,
the listener's `panels`; the hub reads it there and keeps only what Home
Assistant persists (`model.PanelState`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging
import time
from typing import Any

from homeassistant.components import network
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    ACTIVITY_CLEARS_AFTER,
    CONF_ALLOWED_GUIDS,
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    CONNECTED_WITHIN,
    DOMAIN,
    EVENT_G90,
    HEARTBEAT,
    PACKET_TIME_WRITE_INTERVAL,
    RAW_FRAMES_KEPT,
    REPEAT_WINDOW,
)
from .g90.aio.server import Listener, ListenerConfig
from .g90.events import EventType, PanelEvent
from .g90.status import Counters, MessageRecord, PanelStatus
from .g90.wire import DEFAULT_PORT
from .model import PanelState, ZoneState, apply_event

_LOGGER = logging.getLogger(__name__)

REPORTED_TWICE = frozenset(
    {EventType.ARMED_AWAY, EventType.ARMED_HOME, EventType.DISARMED, EventType.ALARM_TRIGGERED}
)
"""Panel states a panel reports both as a status change and as a notification."""

STORAGE_VERSION = 1
SAVE_DELAY = 5.0
"""Seconds from the first change to its write; later changes do not postpone it."""

type G90ConfigEntry = ConfigEntry[G90Hub]


def listener_config(
    settings: Mapping[str, Any], allowed_guids: Iterable[str] = ()
) -> ListenerConfig:
    """The listener's configuration from the entry's connection settings and allow-list."""
    allowed = frozenset(allowed_guids)
    return ListenerConfig(
        host=settings.get(CONF_LOCAL_IP) or "0.0.0.0",
        port=int(settings.get(CONF_LOCAL_PORT, DEFAULT_PORT)),
        cloud_ip=settings[CONF_CLOUD_IP],
        cloud_port=int(settings.get(CONF_CLOUD_PORT, DEFAULT_PORT)),
        upstream_host=settings.get(CONF_UPSTREAM_HOST) or None,
        upstream_port=int(settings.get(CONF_UPSTREAM_PORT, DEFAULT_PORT)),
        allowed_guids=allowed or None,
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
            listener_config(self.settings, entry.options.get(CONF_ALLOWED_GUIDS) or ()),
            on_event=self._on_event,
            on_message=self._on_message,
            on_panel=self._on_panel,
        )
        self.panels: dict[str, PanelState] = {}
        self.frames: dict[str, deque[MessageRecord]] = {}
        """Each panel's latest frames, for diagnostics."""
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
        if status.connections > self._connections_seen.get(status.guid, 0):
            for waiter in list(self._connection_waiters):
                if not waiter.done():
                    waiter.set_result(status.guid)
        self._connections_seen[status.guid] = status.connections
        panel = self._panel(status.guid)
        if panel.guid in self._silent:
            self._update_availability(panel.guid)
        if status.firmware and status.firmware != panel.firmware:
            panel.firmware = status.firmware
            self._update_firmware(panel)
            self._save()
        self._show_health(panel.guid)
        self._notify((panel.guid,))

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
            if changes.pulse:
                self._schedule_clear(panel, zone)
            self._notify((panel.guid, str(zone.index)))
        if changes.zones_reset:
            for index in list(panel.zones):
                self._notify((panel.guid, str(index)))
        self._notify((panel.guid,))
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
    def _schedule_clear(self, panel: PanelState, zone: ZoneState) -> None:
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

        self._clear_timers[key] = async_call_later(self.hass, ACTIVITY_CLEARS_AFTER, clear)

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
    def async_forget(self, guid: str, zone_index: int | None = None) -> None:
        """Forget a panel, or one of its zones (its device was removed)."""
        panel = self.panels.get(guid)
        if panel is None:
            return
        if zone_index is None:
            del self.panels[guid]
            self.frames.pop(guid, None)
            self._shown.pop(guid, None)
            self._silent.discard(guid)
            # Its zones go with it: their devices would be orphans, their
            # entities bound to a panel state nobody updates any more.
            registry = dr.async_get(self.hass)
            prefix = f"{guid}_zone_"
            for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
                if any(
                    domain == DOMAIN and identifier.startswith(prefix)
                    for domain, identifier in device.identifiers
                ):
                    registry.async_update_device(
                        device.id, remove_config_entry_id=self.entry.entry_id
                    )
        else:
            panel.zones.pop(zone_index, None)
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

    @callback
    def _ensure_devices(self, panel: PanelState) -> None:
        registry = dr.async_get(self.hass)
        registry.async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(DOMAIN, panel.guid)},
            manufacturer="G90 family",
            model="G90 alarm panel",
            name=f"G90 panel {panel.guid}",
            sw_version=panel.firmware,
            serial_number=panel.guid,
        )
        for zone in panel.zones.values():
            self._ensure_zone_device(panel, zone)

    @callback
    def _update_firmware(self, panel: PanelState) -> None:
        device = self._device((DOMAIN, panel.guid))
        if device is not None:
            dr.async_get(self.hass).async_update_device(device.id, sw_version=panel.firmware)

    @callback
    def _ensure_zone_device(self, panel: PanelState, zone: ZoneState) -> None:
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={zone_identifier(panel.guid, zone.index)},
            via_device_id=dr.async_get_device_id_by_identifier(
                self.hass, (DOMAIN, panel.guid), config_entry_id=self.entry.entry_id
            ),
            manufacturer="G90 family",
            model=ZONE_MODELS[zone.kind],
            name=zone_device_name(zone),
        )

    @callback
    def _update_zone_device(self, panel: PanelState, zone: ZoneState) -> None:
        """Follow a rename on the panel, or a zone whose kind became known."""
        device = self._device(zone_identifier(panel.guid, zone.index))
        if device is None:
            return
        name, model = zone_device_name(zone), ZONE_MODELS[zone.kind]
        if device.name != name or device.model != model:
            dr.async_get(self.hass).async_update_device(device.id, name=name, model=model)


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


def zone_identifier(guid: str, index: int) -> tuple[str, str]:
    """Device registry identifier of a zone."""
    return (DOMAIN, f"{guid}_zone_{index}")


def zone_device_name(zone: ZoneState) -> str:
    """The panel's name for the zone, else its number."""
    return zone.name or f"Zone {zone.index}"


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
