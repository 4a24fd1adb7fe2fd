"""Timestamp sensors: when the panel, and the upstream cloud, were last heard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import PACKET_TIME_RESOLUTION
from .entity import G90PanelEntity, async_add_panel_entities
from .hub import G90ConfigEntry, G90Hub
from .model import PanelState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PacketTimeDescription(SensorEntityDescription):
    """Which packet time to show."""

    value: Callable[[PanelState], datetime | None]
    chaining_only: bool = False


PACKET_SENSORS = (
    PacketTimeDescription(
        key="last_panel_packet",
        translation_key="last_panel_packet",
        value=lambda panel: panel.last_device_packet,
    ),
    PacketTimeDescription(
        key="last_upstream_packet",
        translation_key="last_upstream_packet",
        value=lambda panel: panel.last_upstream_packet,
        chaining_only=True,
    ),
)


def coarse(moment: datetime | None) -> datetime | None:
    """Rounded down to PACKET_TIME_RESOLUTION.

    The state then changes a few times an hour, not with every packet, so the
    recorder is not flooded.
    """
    if moment is None:
        return None
    step = PACKET_TIME_RESOLUTION.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // step * step, UTC)


class PacketTimeSensor(G90PanelEntity, SensorEntity):
    """Diagnostic: last packet time, in coarse steps."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    entity_description: PacketTimeDescription

    def __init__(self, hub: G90Hub, panel: PanelState, description: PacketTimeDescription) -> None:
        """One per description."""
        super().__init__(hub, panel, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> datetime | None:
        """The time, rounded down."""
        return coarse(self.entity_description.value(self.panel))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: G90ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Packet time sensors per panel (the upstream one only when chaining)."""
    async_add_panel_entities(
        hass,
        entry,
        async_add_entities,
        lambda hub, panel: [
            PacketTimeSensor(hub, panel, description)
            for description in PACKET_SENSORS
            if hub.chaining or not description.chaining_only
        ],
        lambda _hub, _panel, _zone, _event: [],
    )
