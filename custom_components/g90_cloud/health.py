"""Whether each panel is heard: its availability, and what its health entities show.

A panel is available while heard from within CONNECTED_WITHIN (it says hello
every minute); panels restored after a start keep their last state for one
such window, time enough to say hello. Its health entities (connected, vendor
cloud connected, last packets) are written when what they show moves, the
packet times at most once every PACKET_TIME_WRITE_INTERVAL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import CONNECTED_WITHIN, HEARTBEAT, PACKET_TIME_WRITE_INTERVAL
from .g90.status import PanelStatus
from .model import PanelState
from .signals import Signals

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class _PacketTimes:
    """The packet times the last-packet sensors show, written at most once a minute."""

    shown: tuple[datetime | None, datetime | None] = (None, None)
    written: datetime | None = None
    timer: CALLBACK_TYPE | None = field(default=None, repr=False)


def _heard_lately(status: PanelStatus) -> bool:
    last = status.last_device_packet
    return last is not None and datetime.now(UTC) - last <= CONNECTED_WITHIN


class PanelHealth:
    """Availability and health of the panels of one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        panels: Mapping[str, PanelState],
        status: Callable[[str], PanelStatus | None],
        signals: Signals,
    ) -> None:
        """`status(guid)`: how the panel is connected, from the listener."""
        self._hass = hass
        self._panels = panels
        self._status = status
        self._signals = signals
        self._started = datetime.now(UTC)
        self._silent: set[str] = set()
        """Panels not heard from within CONNECTED_WITHIN: their entities are unavailable."""
        self._shown: dict[str, tuple[object, ...]] = {}
        """Per panel, the live facts its health entities show (see _health)."""
        self._packet_times: dict[str, _PacketTimes] = {}

    @callback
    def start(self) -> CALLBACK_TYPE:
        """Count the first window from now; watch for silent panels. Returns the stop."""
        self._started = datetime.now(UTC)
        return async_track_time_interval(self._hass, self._check_all, HEARTBEAT / 2)

    @callback
    def stop(self) -> None:
        """No pending write of packet times."""
        for times in self._packet_times.values():
            if times.timer is not None:
                times.timer()
                times.timer = None

    @callback
    def forget(self, guid: str) -> None:
        """The panel is gone."""
        self._shown.pop(guid, None)
        self._silent.discard(guid)

    def is_connected(self, guid: str) -> bool:
        """Connected and heard from within a few heartbeats."""
        status = self._status(guid)
        return status is not None and status.connected and _heard_lately(status)

    def is_available(self, guid: str) -> bool:
        """Whether the panel's entities show their state, rather than unavailable."""
        return guid not in self._silent

    def packet_times(self, guid: str) -> tuple[datetime | None, datetime | None]:
        """When the panel, and the vendor cloud for it, were last heard, as shown.

        The true times, written at most once a minute (see heard).
        """
        times = self._packet_times.get(guid)
        return times.shown if times is not None else (None, None)

    @callback
    def heard(self, guid: str) -> None:
        """A frame from or for the panel.

        Its entities are written if what they show of its health moved: connected
        or disconnected (a panel back after a long silence, the vendor cloud
        gone), and a first packet time, at once; a newer packet time at most
        once every PACKET_TIME_WRITE_INTERVAL, the latest one at the end of the
        interval.
        """
        if guid in self._silent:
            self._update_availability(guid)
        self._refresh(guid)

    @callback
    def status_changed(self, guid: str) -> None:
        """The listener told of the panel (a hello, a connection, a disconnection).

        What its health entities show is taken as shown: the caller writes them.
        """
        if guid in self._silent:
            self._update_availability(guid)
        self._show(guid)

    @callback
    def _show(self, guid: str) -> None:
        """Take the panel's health and packet times as what its entities show from now on."""
        self._shown[guid] = self._health(guid)
        times = self._packet_times.setdefault(guid, _PacketTimes())
        times.shown = self._latest_packet_times(guid)
        times.written = dt_util.utcnow()
        if times.timer is not None:
            times.timer()
            times.timer = None

    @callback
    def _refresh(self, guid: str) -> None:
        if self._shown.get(guid) != self._health(guid):
            self._write(guid)
            return
        times = self._packet_times.setdefault(guid, _PacketTimes())
        latest = self._latest_packet_times(guid)
        now = dt_util.utcnow()
        if any(
            old is None and new is not None for old, new in zip(times.shown, latest, strict=True)
        ):
            self._write(guid)
            return
        if times.shown == latest or times.timer is not None:
            return
        if times.written is None or times.written + PACKET_TIME_WRITE_INTERVAL <= now:
            self._write(guid)
            return

        @callback
        def write(_now: datetime) -> None:
            times.timer = None
            if guid in self._panels:
                self._write(guid)

        due = times.written + PACKET_TIME_WRITE_INTERVAL
        times.timer = async_call_later(self._hass, due - now, write)

    @callback
    def _write(self, guid: str) -> None:
        self._show(guid)
        self._signals.notify((guid,))

    def _health(self, guid: str) -> tuple[object, ...]:
        status = self._status(guid)
        if status is None:
            return ()
        return (self.is_connected(guid), status.upstream_connected)

    def _latest_packet_times(self, guid: str) -> tuple[datetime | None, datetime | None]:
        status = self._status(guid)
        if status is None:
            return (None, None)
        return (status.last_device_packet, status.last_upstream_packet)

    @callback
    def _update_availability(self, guid: str) -> None:
        status = self._status(guid)
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
        self._signals.notify_availability(guid)

    @callback
    def _check_all(self, _now: datetime) -> None:
        """A silent panel goes unavailable, and shows disconnected, with no packet to tell."""
        for guid in list(self._panels):
            self._update_availability(guid)
            self._refresh(guid)
