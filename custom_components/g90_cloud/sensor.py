"""Timestamp sensors: when the panel, and the upstream cloud, were last heard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.helpers.typing import StateType

from .entity import G90PanelEntity, async_setup_panel_platform
from .hub import G90Hub
from .model import PanelState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class G90SensorDescription(SensorEntityDescription):
    """What a sensor shows, and when it exists."""

    value_fn: Callable[[G90Hub, PanelState], StateType | datetime]
    exists_fn: Callable[[G90Hub], bool] = lambda _hub: True
    available_while_silent: bool = False


SENSORS = (
    G90SensorDescription(
        key="last_panel_packet",
        translation_key="last_panel_packet",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub, panel: hub.packet_times(panel.guid)[0],
        available_while_silent=True,  # when a silent panel was last heard
    ),
    G90SensorDescription(
        key="last_upstream_packet",
        translation_key="last_upstream_packet",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub, panel: hub.packet_times(panel.guid)[1],
        exists_fn=lambda hub: hub.chaining,
    ),
)


class G90Sensor(G90PanelEntity, SensorEntity):
    """A diagnostic value of the panel."""

    entity_description: G90SensorDescription

    def __init__(self, hub: G90Hub, panel: PanelState, description: G90SensorDescription) -> None:
        """One per description."""
        super().__init__(hub, panel, description.key)
        self.entity_description = description
        self._available_while_silent = description.available_while_silent

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """Read from the panel's state; unknown until the panel has told it."""
        return self.entity_description.value_fn(self.hub, self.panel)


def _panel_entities(hub: G90Hub, panel: PanelState) -> list[G90Sensor]:
    return [
        G90Sensor(hub, panel, description) for description in SENSORS if description.exists_fn(hub)
    ]


async_setup_entry = partial(async_setup_panel_platform, panel_entities=_panel_entities)
