"""Binary sensors: each zone's sensor, its tamper and battery, and the panel's health."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory

from .entity import G90PanelEntity, G90ZoneEntity, async_setup_panel_platform
from .g90.events import PanelEvent
from .hub import G90Hub
from .model import BUTTON_KINDS, PanelState, ZoneKind, ZoneState

PARALLEL_UPDATES = 0

ZONE_DEVICE_CLASSES: dict[ZoneKind, BinarySensorDeviceClass | None] = {
    ZoneKind.SENSOR: None,
    ZoneKind.DOOR: BinarySensorDeviceClass.DOOR,
    ZoneKind.MOTION: BinarySensorDeviceClass.MOTION,
    ZoneKind.SMOKE: BinarySensorDeviceClass.SMOKE,
    ZoneKind.GAS: BinarySensorDeviceClass.GAS,
    ZoneKind.WATER: BinarySensorDeviceClass.MOISTURE,
    ZoneKind.VIBRATION: BinarySensorDeviceClass.VIBRATION,
    ZoneKind.GLASS_BREAK: BinarySensorDeviceClass.SAFETY,
    ZoneKind.SOS_BUTTON: BinarySensorDeviceClass.SAFETY,
    ZoneKind.WIRED: BinarySensorDeviceClass.SAFETY,
}


@dataclass(frozen=True, kw_only=True)
class PanelBinarySensorDescription(BinarySensorEntityDescription):
    """A panel health sensor: how to read it."""

    is_on_fn: Callable[[G90Hub, PanelState], bool | None]
    exists_fn: Callable[[G90Hub], bool] = lambda _hub: True
    available_while_silent: bool = False


def _upstream_connected(hub: G90Hub, panel: PanelState) -> bool:
    status = hub.status(panel.guid)
    return status is not None and bool(status.upstream_connected)


PANEL_SENSORS = (
    PanelBinarySensorDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda hub, panel: hub.is_connected(panel.guid),
        available_while_silent=True,  # it is what tells the user the panel is gone
    ),
    PanelBinarySensorDescription(
        key="ac_power",
        translation_key="ac_power",
        device_class=BinarySensorDeviceClass.POWER,
        is_on_fn=lambda _hub, panel: panel.ac_power,
    ),
    PanelBinarySensorDescription(
        key="wifi",
        translation_key="wifi",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda _hub, panel: panel.wifi,
    ),
    PanelBinarySensorDescription(
        key="battery",
        translation_key="panel_battery",
        device_class=BinarySensorDeviceClass.BATTERY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda _hub, panel: panel.battery_low,
    ),
    PanelBinarySensorDescription(
        key="upstream",
        translation_key="upstream",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=_upstream_connected,
        exists_fn=lambda hub: hub.chaining,
    ),
)


class PanelBinarySensor(G90PanelEntity, BinarySensorEntity):
    """Health of the panel itself."""

    entity_description: PanelBinarySensorDescription

    def __init__(
        self, hub: G90Hub, panel: PanelState, description: PanelBinarySensorDescription
    ) -> None:
        """One sensor per description."""
        super().__init__(hub, panel, description.key)
        self.entity_description = description
        self._available_while_silent = description.available_while_silent

    @property
    @override
    def is_on(self) -> bool | None:
        """Read from the panel's state, or how it is connected."""
        return self.entity_description.is_on_fn(self.hub, self.panel)


class ZoneBinarySensor(G90ZoneEntity, BinarySensorEntity):
    """The zone's sensor: open, detecting, or in alarm."""

    _attr_name = None  # the zone's device name

    def __init__(self, hub: G90Hub, panel: PanelState, zone: ZoneState) -> None:
        """The zone's main entity."""
        super().__init__(hub, panel, zone, "")

    @property
    @override
    def device_class(self) -> BinarySensorDeviceClass | None:
        """Follows what the zone turns out to be."""
        return ZONE_DEVICE_CLASSES.get(self.zone.kind)

    @property
    @override
    def is_on(self) -> bool:
        """Open, detecting, or in alarm."""
        return self.zone.on

    @property
    @override
    def extra_state_attributes(self) -> dict[str, object]:
        """The panel's zone number, for automations."""
        return {"zone_index": self.zone.index}


class ZoneProblemSensor(G90ZoneEntity, BinarySensorEntity):
    """A zone's tamper switch or low battery; reset when the panel is disarmed."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, hub: G90Hub, panel: PanelState, zone: ZoneState, problem: str) -> None:
        """`problem`: "tamper" or "low_battery"."""
        super().__init__(hub, panel, zone, problem)
        self._problem = problem
        self._attr_translation_key = problem
        self._attr_device_class = (
            BinarySensorDeviceClass.TAMPER
            if problem == "tamper"
            else BinarySensorDeviceClass.BATTERY
        )

    @property
    @override
    def is_on(self) -> bool:
        """Reported since the last disarm."""
        return self.zone.tamper if self._problem == "tamper" else self.zone.low_battery


def _panel_entities(hub: G90Hub, panel: PanelState) -> Iterable[BinarySensorEntity]:
    return [
        PanelBinarySensor(hub, panel, description)
        for description in PANEL_SENSORS
        if description.exists_fn(hub)
    ]


def _zone_entities(
    hub: G90Hub, panel: PanelState, zone: ZoneState, _event: PanelEvent | None
) -> Iterable[BinarySensorEntity]:
    if zone.kind in BUTTON_KINDS:
        return [ZoneProblemSensor(hub, panel, zone, "low_battery")]
    return [
        ZoneBinarySensor(hub, panel, zone),
        ZoneProblemSensor(hub, panel, zone, "tamper"),
        ZoneProblemSensor(hub, panel, zone, "low_battery"),
    ]


async_setup_entry = partial(
    async_setup_panel_platform, panel_entities=_panel_entities, zone_entities=_zone_entities
)
