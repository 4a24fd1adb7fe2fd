"""The panel's picture, read and applied: state, info, sensor list, relay list, alert switches.

Read at every (re)connect, every REFRESH_INTERVAL, and when the panel says its
sensors changed; one command at a time, one refresh per panel at a time (a
refresh asked for meanwhile runs once more after it). A catch-up with the
panel's history (catchup.py), when one is due, comes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
import contextlib
from datetime import datetime
import logging
from typing import Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .const import DOMAIN, DOOR_CLEARS_AFTER, REFRESH_INTERVAL
from .control import MISSING_CONNECTION, CommandPreempted, NoLanAddress
from .devices import PanelDevices, relay_key
from .g90.commands import (
    AlertFlags,
    Command,
    CommandCode,
    CommandError,
    HostStatus,
    Pager,
    get_alert_flags,
    get_host_info,
    get_host_status,
    relay_pager,
    sensor_pager,
)
from .model import (
    AlarmState,
    ListChanges,
    PanelState,
    apply_alert_flags,
    apply_host_info,
    apply_host_status,
    apply_relay_list,
    apply_sensor_list,
)
from .reports import ZoneClearing
from .signals import NewRelay, NewZone, Signals

_LOGGER = logging.getLogger(__name__)


class Owner(Protocol):
    """What the refresh asks of the hub."""

    async def read[T](self, guid: str, command: Command[T], *, asked: bool = False) -> T:
        """One command of a read (`asked`: a person waits on it); raises CommandError."""

    async def read_list[R](self, guid: str, pager: Callable[[], Pager[R]]) -> tuple[R, ...]:
        """A whole list; raises CommandError."""

    def save(self) -> None:
        """Have the state written soon."""

    def state_reported(self, guid: str, state: AlarmState) -> None:
        """The panel told its state (an arming on its way is answered)."""

    def catch_up_due(self, guid: str) -> bool:
        """Whether the panel's history is to be caught up with first."""

    async def async_catch_up(self, guid: str) -> None:
        """Replay what the panel reported while Home Assistant was away; raises CommandError."""


class PanelRefresh:
    """Reads the picture of the panels of one config entry, and applies it."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        owner: Owner,
        *,
        panels: Mapping[str, PanelState],
        devices: PanelDevices,
        signals: Signals,
        clearing: ZoneClearing,
        enabled: bool,
    ) -> None:
        """The picture is applied through these.

        `enabled`: Home Assistant sends the panels commands (else nothing is read).
        """
        self._hass = hass
        self._entry = entry
        self._owner = owner
        self._panels = panels
        self._devices = devices
        self._signals = signals
        self._clearing = clearing
        self._enabled = enabled
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._failing: set[tuple[str, int]] = set()
        """(panel, command) of the reads that failed last time: logged once."""
        self.host_status: dict[str, HostStatus] = {}
        """The panels' latest state answers, for diagnostics."""

    @callback
    def start(self, connected: Callable[[], Iterable[str]]) -> CALLBACK_TYPE | None:
        """Read the `connected()` panels every REFRESH_INTERVAL; returns the stop."""
        if not self._enabled:
            return None

        @callback
        def refresh_all(_now: datetime) -> None:
            for guid in connected():
                if guid in self._panels:
                    self.schedule(guid)

        return async_track_time_interval(self._hass, refresh_all, REFRESH_INTERVAL)

    async def async_stop(self) -> None:
        """Cancel the reads under way, and wait for them to end."""
        running = list(self._running.values())
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @callback
    def forget(self, guid: str) -> None:
        """The panel is gone."""
        self.host_status.pop(guid, None)

    @callback
    def schedule(self, guid: str) -> None:
        """Read the panel's picture soon, unless a read is under way (then once more after it)."""
        if not self._enabled:
            return
        if guid in self._running:
            self._again.add(guid)
            return
        # Not started at once: the connection that asks is not the panel's yet.
        self._running[guid] = self._entry.async_create_background_task(
            self._hass, self._run(guid), f"{DOMAIN} refresh {guid}", eager_start=False
        )

    async def _run(self, guid: str) -> None:
        try:
            while True:
                self._again.discard(guid)
                await self.async_refresh(guid)
                if guid not in self._again:
                    return
        finally:
            self._running.pop(guid, None)

    async def async_refresh(self, guid: str) -> None:
        """Read what the panel is, one command at a time: state, info, sensors, relays, alerts.

        First, after a connection, what it reported meanwhile is caught up
        with: its state as read next has the last word. A read that fails
        keeps what is known and is logged once; a panel that does not answer
        at all is left alone until the next refresh.
        """
        catch_up: tuple[tuple[int, Callable[[str], Awaitable[None]]], ...] = (
            ((CommandCode.GET_HISTORY, self._owner.async_catch_up),)
            if self._owner.catch_up_due(guid)
            else ()
        )
        reads: tuple[tuple[int, Callable[[str], Awaitable[None]]], ...] = (
            *catch_up,
            (CommandCode.GET_HOST_STATUS, self.read_host_status),
            (CommandCode.GET_HOST_INFO, self._read_host_info),
            (CommandCode.GET_SENSORS, self._read_sensors),
            (CommandCode.GET_RELAYS, self._read_relays),
            (CommandCode.GET_ALERTS, self._read_alert_flags),
        )
        for code, read in reads:
            if guid not in self._panels:  # forgotten meanwhile
                return
            try:
                await self._read_after_any_person(guid, read)
            except CommandError as err:
                self._failed(guid, code, err)
                if isinstance(err, (*MISSING_CONNECTION, NoLanAddress)):
                    return
            else:
                if (guid, code) in self._failing:
                    self._failing.discard((guid, code))
                    _LOGGER.info("Panel %s answers command %s again", guid, code)

    @staticmethod
    async def _read_after_any_person(guid: str, read: Callable[[str], Awaitable[None]]) -> None:
        """One read; given up for a command a person asked for, made again after it.

        Each try waits for the panel's turn behind that command: no busy loop.
        """
        while True:
            try:
                await read(guid)
            except CommandPreempted:
                continue
            return

    @callback
    def _failed(self, guid: str, code: int, err: CommandError) -> None:
        if (guid, code) in self._failing:
            _LOGGER.debug("Panel %s: command %s failed again: %s", guid, code, err)
            return
        self._failing.add((guid, code))
        _LOGGER.warning(
            "Panel %s did not answer command %s (%s); keeping what is known, trying again in %s",
            guid,
            code,
            err,
            REFRESH_INTERVAL,
        )

    async def read_host_status(self, guid: str, *, asked: bool = False) -> None:
        """The panel's state (100), applied; raises CommandError.

        `asked`: for a person waiting on it (an arming whose report did not come).
        """
        status = await self._owner.read(guid, get_host_status(), asked=asked)
        self.host_status[guid] = status
        if (panel := self._panels.get(guid)) is None:  # forgotten meanwhile
            return
        if apply_host_status(panel, status):
            self._devices.update_panel(panel)
            self._signals.notify((guid,))
            self._owner.save()
        if panel.alarm_state is not None:
            self._owner.state_reported(guid, panel.alarm_state)

    async def _read_host_info(self, guid: str) -> None:
        info = await self._owner.read(guid, get_host_info())
        if (panel := self._panels.get(guid)) is None:
            return
        if apply_host_info(panel, info):
            self._devices.update_panel(panel)
            self._signals.notify((guid,))
            self._owner.save()

    async def _read_sensors(self, guid: str) -> None:
        records = await self._owner.read_list(guid, sensor_pager)
        if (panel := self._panels.get(guid)) is None:
            return
        changes = apply_sensor_list(panel, records)
        for index in changes.removed:
            self._devices.remove_zone(guid, index)
            self._clearing.cancel(guid, index)
        for index in changes.added:
            zone = panel.zones[index]
            self._devices.ensure_zone(panel, zone)
            self._signals.zone_added(NewZone(panel, zone))
        for index in changes.changed:
            zone = panel.zones[index]
            self._devices.update_zone(panel, zone)
            if index in changes.new_kind:
                self._signals.zone_added(NewZone(panel, zone))
            self._signals.notify((guid, str(index)))
        for index, enabled in changes.enabled.items():
            self._devices.follow_enabled(guid, index, enabled)
        if changes != ListChanges():
            self._owner.save()

    async def _read_relays(self, guid: str) -> None:
        records = await self._owner.read_list(guid, relay_pager)
        if (panel := self._panels.get(guid)) is None:
            return
        changes = apply_relay_list(panel, records)
        for index in changes.removed:
            self._devices.remove_relay(guid, index)
        for index in changes.added:
            relay = panel.relays[index]
            self._devices.ensure_relay(panel, relay)
            self._signals.relay_added(NewRelay(panel, relay))
        for index in changes.changed:
            relay = panel.relays[index]
            self._devices.ensure_relay(panel, relay)
            # Channels that are gone lose their entities; new ones get theirs.
            self._devices.remove_lost_channels(guid, relay)
            self._signals.relay_added(NewRelay(panel, relay))
            self._signals.notify(relay_key(guid, index))
        if changes != ListChanges():
            self._owner.save()

    async def _read_alert_flags(self, guid: str) -> None:
        flags = await self._owner.read(guid, get_alert_flags())
        if (panel := self._panels.get(guid)) is not None:
            self.apply_alert_flags(panel, flags)

    @callback
    def apply_alert_flags(self, panel: PanelState, flags: AlertFlags) -> None:
        """The panel's alert switches, as read or as just written."""
        if panel.alert_flags == int(flags):
            return
        for zone in apply_alert_flags(panel, flags):
            # Opened before Home Assistant knew no closing would be reported.
            self._clearing.schedule(panel, zone, DOOR_CLEARS_AFTER)
        self._signals.notify((panel.guid,))
        self._owner.save()
