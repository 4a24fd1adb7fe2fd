"""How entities hear of changes: dispatcher signals for what appears, callbacks for the rest.

A new panel, zone or relay is a dispatcher signal the platforms answer by
adding entities; a change of state, of availability, or an event reaches the
entities that subscribed to it (each subscription returns its unsubscribe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .const import DOMAIN
from .g90.events import PanelEvent
from .model import PanelState, RelayState, ZoneState


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


class Signals:
    """The signals and subscriptions of one config entry's entities."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """For entry `entry_id` (its signals are named after it)."""
        self._hass = hass
        self.new_panel = f"{DOMAIN}_{entry_id}_new_panel"
        """Dispatcher signal: a panel appeared (argument: PanelState)."""
        self.new_zone = f"{DOMAIN}_{entry_id}_new_zone"
        """Dispatcher signal: a zone appeared (argument: NewZone)."""
        self.new_relay = f"{DOMAIN}_{entry_id}_new_relay"
        """Dispatcher signal: a relay appeared (argument: NewRelay)."""
        self._state: dict[tuple[str, ...], list[CALLBACK_TYPE]] = {}
        self._availability: dict[str, list[CALLBACK_TYPE]] = {}
        self._events: dict[str, list[Callable[[PanelEvent], None]]] = {}

    @callback
    def panel_added(self, panel: PanelState) -> None:
        """Platforms add the panel's entities."""
        async_dispatcher_send(self._hass, self.new_panel, panel)

    @callback
    def zone_added(self, new: NewZone) -> None:
        """Platforms add whatever entities the zone (now) calls for."""
        async_dispatcher_send(self._hass, self.new_zone, new)

    @callback
    def relay_added(self, new: NewRelay) -> None:
        """Platforms add the relay's (channels') entities."""
        async_dispatcher_send(self._hass, self.new_relay, new)

    @callback
    def subscribe(self, key: tuple[str, ...], update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` when the panel (guid,), zone (guid, index) or relay (relay_key) changes."""
        return _subscribe(self._state, key, update)

    @callback
    def subscribe_availability(self, guid: str, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` when panel `guid` becomes unavailable, or available again."""
        return _subscribe(self._availability, guid, update)

    @callback
    def subscribe_events(self, guid: str, handler: Callable[[PanelEvent], None]) -> CALLBACK_TYPE:
        """Call `handler` with every event of panel `guid` that entities show."""
        return _subscribe(self._events, guid, handler)

    @callback
    def notify(self, key: tuple[str, ...]) -> None:
        """What `key` names changed."""
        for update in list(self._state.get(key, ())):
            update()

    @callback
    def notify_availability(self, guid: str) -> None:
        """Panel `guid` became available, or unavailable."""
        for update in list(self._availability.get(guid, ())):
            update()

    def event_handlers(self, guid: str) -> list[Callable[[PanelEvent], None]]:
        """Who is handed panel `guid`'s events, now (a copy: handlers may come and go meanwhile)."""
        return list(self._events.get(guid, ()))


def _subscribe[K, F](registry: dict[K, list[F]], key: K, listener: F) -> CALLBACK_TYPE:
    """Add `listener` under `key`; returns what removes it."""
    registry.setdefault(key, []).append(listener)

    @callback
    def unsubscribe() -> None:
        registry[key].remove(listener)

    return unsubscribe
