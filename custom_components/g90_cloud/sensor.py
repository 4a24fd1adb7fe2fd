"""Sensors: when the panel and the vendor cloud were last heard, and the panel's radios and battery.

The radios and battery come from the panel's host info, read at every
(re)connect and every REFRESH_INTERVAL.
"""

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
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfElectricPotential
from homeassistant.helpers.typing import StateType

from .entity import G90PanelEntity, async_setup_panel_platform
from .g90.commands import HostInfo
from .hub import G90Hub
from .model import PanelState

PARALLEL_UPDATES = 0

GSM_STATES = ["off", "no_sim", "no_signal", "working"]
"""Host info GSM status 0-3."""
WIFI_STATES = ["off", "not_connected", "no_server", "working"]
"""Host info WiFi status 0-3."""


@dataclass(frozen=True, kw_only=True)
class G90SensorDescription(SensorEntityDescription):
    """What a sensor shows, and when it exists."""

    value_fn: Callable[[G90Hub, PanelState], StateType | datetime]
    exists_fn: Callable[[G90Hub], bool] = lambda _hub: True
    available_while_silent: bool = False


def _from_info(read: Callable[[HostInfo], StateType]) -> Callable[[G90Hub, PanelState], StateType]:
    """A value of the panel's host info; unknown until the panel has been asked."""
    return lambda _hub, panel: read(panel.info) if panel.info is not None else None


def _state_name(names: list[str], number: int) -> str | None:
    return names[number] if 0 <= number < len(names) else None


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
    G90SensorDescription(
        key="battery_voltage",
        translation_key="battery_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.MILLIVOLT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_from_info(lambda info: info.battery_millivolts),
        exists_fn=lambda hub: hub.can_control,
    ),
    G90SensorDescription(
        key="wifi_status",
        translation_key="wifi_status",
        device_class=SensorDeviceClass.ENUM,
        options=WIFI_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_from_info(lambda info: _state_name(WIFI_STATES, info.wifi_status)),
        exists_fn=lambda hub: hub.can_control,
    ),
    G90SensorDescription(
        key="wifi_signal",
        translation_key="wifi_signal",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_from_info(lambda info: info.wifi_signal),
        exists_fn=lambda hub: hub.can_control,
    ),
    G90SensorDescription(
        key="gsm_status",
        translation_key="gsm_status",
        device_class=SensorDeviceClass.ENUM,
        options=GSM_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_from_info(lambda info: _state_name(GSM_STATES, info.gsm_status)),
        exists_fn=lambda hub: hub.can_control,
    ),
    G90SensorDescription(
        key="gsm_signal",
        translation_key="gsm_signal",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_from_info(lambda info: info.gsm_signal),
        exists_fn=lambda hub: hub.can_control,
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
