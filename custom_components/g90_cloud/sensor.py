"""Timestamp sensors: when the panel, and the upstream cloud, were last heard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory

from .const import PACKET_TIME_RESOLUTION
from .entity import G90PanelEntity, async_setup_panel_platform
from .g90.status import PanelStatus
from .hub import G90Hub
from .model import PanelState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PacketTimeDescription(SensorEntityDescription):
    """Which packet time to show."""

    value_fn: Callable[[PanelStatus], datetime | None]
    exists_fn: Callable[[G90Hub], bool] = lambda _hub: True
    available_while_silent: bool = False


PACKET_SENSORS = (
    PacketTimeDescription(
        key="last_panel_packet",
        translation_key="last_panel_packet",
        value_fn=lambda status: status.last_device_packet,
        available_while_silent=True,  # when a silent panel was last heard
    ),
    PacketTimeDescription(
        key="last_upstream_packet",
        translation_key="last_upstream_packet",
        value_fn=lambda status: status.last_upstream_packet,
        exists_fn=lambda hub: hub.chaining,
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
        self._available_while_silent = description.available_while_silent

    @property
    @override
    def native_value(self) -> datetime | None:
        """The time, rounded down; unknown until the panel is heard after a start."""
        status = self.hub.status(self.panel.guid)
        return coarse(self.entity_description.value_fn(status)) if status else None


def _panel_entities(hub: G90Hub, panel: PanelState) -> list[PacketTimeSensor]:
    return [
        PacketTimeSensor(hub, panel, description)
        for description in PACKET_SENSORS
        if description.exists_fn(hub)
    ]


async_setup_entry = partial(async_setup_panel_platform, panel_entities=_panel_entities)
