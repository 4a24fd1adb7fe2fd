"""Base classes of the integration's entities, and the one way platforms add them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import override

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_platform, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .devices import relay_identifier, relay_key, relay_unique_id, zone_identifier
from .g90.events import PanelEvent
from .hub import G90ConfigEntry, G90Hub
from .model import PanelState, RelayState, ZoneState
from .signals import NewRelay, NewZone


class G90PanelEntity(Entity):
    """An entity of a panel's own device, written when the panel's state changes.

    It is unavailable while the panel is silent (G90Hub.is_available).
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    _available_while_silent = False
    """Set for the health entities that tell a silent panel apart."""

    def __init__(self, hub: G90Hub, panel: PanelState, key: str) -> None:
        """`key` makes the unique id, with the panel's GUID."""
        self.hub = hub
        self.panel = panel
        self._attr_unique_id = f"{panel.guid}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, panel.guid)})

    @property
    def _update_key(self) -> tuple[str, ...]:
        return (self.panel.guid,)

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the panel's availability, and what `_async_follow` names."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.signals.subscribe_availability(self.panel.guid, self.async_write_ha_state)
        )
        self.async_on_remove(self._async_follow())

    @callback
    def _async_follow(self) -> CALLBACK_TYPE:
        """Subscribe to what the state is read from; returns the unsubscribe."""
        return self.hub.signals.subscribe(self._update_key, self.async_write_ha_state)

    @property
    @override
    def available(self) -> bool:
        """False while the panel is silent."""
        return self._available_while_silent or self.hub.is_available(self.panel.guid)


class G90ZoneEntity(G90PanelEntity):
    """An entity of a zone's device (a child of its panel)."""

    def __init__(self, hub: G90Hub, panel: PanelState, zone: ZoneState, key: str) -> None:
        """`key` makes the unique id, with the GUID and zone index."""
        super().__init__(hub, panel, f"zone_{zone.index}_{key}" if key else f"zone_{zone.index}")
        self.zone = zone
        self._attr_device_info = DeviceInfo(identifiers={zone_identifier(panel.guid, zone.index)})

    @property
    @override
    def _update_key(self) -> tuple[str, ...]:
        return (self.panel.guid, str(self.zone.index))


class G90RelayEntity(G90PanelEntity):
    """An entity of one channel of a relay's device (a child of its panel)."""

    def __init__(self, hub: G90Hub, panel: PanelState, relay: RelayState, channel: int) -> None:
        """One per channel (0-based)."""
        super().__init__(hub, panel, "")
        self.relay = relay
        self.channel = channel
        self._attr_unique_id = relay_unique_id(panel.guid, relay.index, channel)
        self._attr_device_info = DeviceInfo(identifiers={relay_identifier(panel.guid, relay.index)})

    @property
    @override
    def _update_key(self) -> tuple[str, ...]:
        return relay_key(self.panel.guid, self.relay.index)


type PanelEntities = Callable[[G90Hub, PanelState], Iterable[Entity]]
type ZoneEntities = Callable[[G90Hub, PanelState, ZoneState, PanelEvent | None], Iterable[Entity]]
type RelayEntities = Callable[[G90Hub, PanelState, RelayState], Iterable[Entity]]


def no_zone_entities(
    _hub: G90Hub, _panel: PanelState, _zone: ZoneState, _event: PanelEvent | None
) -> Iterable[Entity]:
    """For platforms with entities on panels only."""
    return ()


def no_relay_entities(_hub: G90Hub, _panel: PanelState, _relay: RelayState) -> Iterable[Entity]:
    """For platforms without relay entities."""
    return ()


async def async_setup_panel_platform(
    hass: HomeAssistant,
    entry: G90ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    panel_entities: PanelEntities,
    zone_entities: ZoneEntities = no_zone_entities,
    relay_entities: RelayEntities = no_relay_entities,
) -> None:
    """Add a platform's entities for the panels, zones and relays known now and any that appear.

    Each platform binds its own entity factories with `functools.partial`. A
    zone whose kind becomes known later, and a relay whose channels change,
    are offered again; entities already added (by unique id) are not added twice.
    """
    hub = entry.runtime_data
    added: set[str] = set()

    @callback
    def add(entities: Iterable[Entity]) -> None:
        fresh = [entity for entity in entities if entity.unique_id not in added]
        for entity in fresh:
            unique_id = str(entity.unique_id)
            added.add(unique_id)
            # Once removed (its device was deleted), it may be added again when
            # the panel reports its zone anew.
            entity.async_on_remove(partial(added.discard, unique_id))
        if fresh:
            async_add_entities(fresh)

    @callback
    def add_panel(panel: PanelState) -> None:
        add(panel_entities(hub, panel))

    @callback
    def add_zone(new: NewZone) -> None:
        add(zone_entities(hub, new.panel, new.zone, new.event))

    @callback
    def add_relay(new: NewRelay) -> None:
        add(relay_entities(hub, new.panel, new.relay))

    known_now: list[Entity] = []
    for panel in list(hub.panels.values()):
        known_now += panel_entities(hub, panel)
        for zone in list(panel.zones.values()):
            known_now += zone_entities(hub, panel, zone, None)
        for relay in list(panel.relays.values()):
            known_now += relay_entities(hub, panel, relay)
    add(known_now)
    # Every one offered counts, even one not added (its device is disabled, say).
    _remove_no_longer_provided(hass, entry, hub, {str(e.unique_id) for e in known_now})
    entry.async_on_unload(async_dispatcher_connect(hass, hub.signals.new_panel, add_panel))
    entry.async_on_unload(async_dispatcher_connect(hass, hub.signals.new_zone, add_zone))
    entry.async_on_unload(async_dispatcher_connect(hass, hub.signals.new_relay, add_relay))


@callback
def _remove_no_longer_provided(
    hass: HomeAssistant, entry: G90ConfigEntry, hub: G90Hub, provided: set[str]
) -> None:
    """Remove the platform's entities of known panels, zones and relays no longer provided.

    After the options changed (listen only: no alert or relay switches, no
    diagnostic sensors read from the panel; chaining off: no vendor cloud
    sensors), or a zone changed kind while Home Assistant was away: removed,
    not left behind as restored, unavailable entities.
    """
    domain = entity_platform.async_get_current_platform().domain
    registry = er.async_get(hass)
    known = hub.devices.known_device_ids(hub.panels.values())
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        stale = entity.unique_id not in provided
        if entity.domain == domain and entity.device_id in known and stale:
            registry.async_remove(entity.entity_id)
