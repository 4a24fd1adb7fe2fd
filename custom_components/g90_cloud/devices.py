"""The device registry side of the panels: one device per panel, its zones and relays as children.

Identifiers and names are made here and nowhere else; the hub and its parts
only say what happened to a panel, zone or relay.
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN
from .model import PanelState, RelayState, ZoneState

MANUFACTURER = "G90 family"

PANEL_MODEL = "G90 alarm panel"
"""The panel's model until it tells its product name."""

RELAY_MODELS: dict[int, str] = {
    128: "Socket",
    129: "Siren",
    130: "Curtain",
    131: "Sliding window",
    133: "Air conditioner",
    135: "TV",
    136: "TV box",
    137: "Smart switch",
    138: "Night light",
    140: "Socket (2.4 GHz)",
    141: "Siren (2.4 GHz)",
    142: "Switch (2.4 GHz)",
    143: "Touch switch (2.4 GHz)",
    144: "Curtain (2.4 GHz)",
    145: "IR remote (2.4 GHz)",
}
"""Relay list peripheral types (g90-commands.md 2.2)."""

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


def zone_identifier(guid: str, index: int) -> tuple[str, str]:
    """Device registry identifier of a zone."""
    return (DOMAIN, f"{guid}_zone_{index}")


def relay_identifier(guid: str, index: int) -> tuple[str, str]:
    """Device registry identifier of a relay."""
    return (DOMAIN, f"{guid}_relay_{index}")


def is_panel_identifier(identifier: str) -> bool:
    """Whether a device identifier of ours names a panel (a zone's or relay's names its part)."""
    return "_zone_" not in identifier and "_relay_" not in identifier


def relay_key(guid: str, index: int) -> tuple[str, ...]:
    """What a relay's entities subscribe to."""
    return (guid, "relay", str(index))


def relay_unique_id(guid: str, index: int, channel: int) -> str:
    """A relay channel's switch."""
    return f"{guid}_relay_{index}_{channel}"


def relay_channel_of(unique_id: str, guid: str, index: int) -> int | None:
    """The channel of relay `index` a unique id is the switch of, if it is one."""
    channel = unique_id.removeprefix(f"{guid}_relay_{index}_")
    return int(channel) if channel != unique_id and channel.isdigit() else None


def zone_device_name(zone: ZoneState) -> str:
    """The panel's name for the zone, else its number."""
    return zone.name or f"Zone {zone.index}"


class PanelDevices:
    """Creates, follows and removes the devices of one config entry's panels."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """The devices of entry `entry_id`."""
        self._hass = hass
        self._entry_id = entry_id

    def device_id(self, guid: str) -> str | None:
        """The panel's device registry id."""
        device = self._device((DOMAIN, guid))
        return device.id if device else None

    def known_device_ids(self, panels: Iterable[PanelState]) -> set[str]:
        """The registry ids of these panels' devices, and of their zones' and relays'."""
        identifiers = [
            identifier
            for panel in panels
            for identifier in (
                (DOMAIN, panel.guid),
                *(zone_identifier(panel.guid, index) for index in panel.zones),
                *(relay_identifier(panel.guid, index) for index in panel.relays),
            )
        ]
        return {device.id for identifier in identifiers if (device := self._device(identifier))}

    def _device(self, identifier: tuple[str, str]) -> dr.DeviceEntry | None:
        return dr.async_get(self._hass).async_get_device_by_identifier(identifier, self._entry_id)

    def _panel_device_id(self, guid: str) -> str | None:
        return dr.async_get_device_id_by_identifier(
            self._hass, (DOMAIN, guid), config_entry_id=self._entry_id
        )

    @callback
    def ensure(self, panel: PanelState) -> None:
        """The panel's device, and its zones' and relays' devices."""
        dr.async_get(self._hass).async_get_or_create(
            config_entry_id=self._entry_id,
            identifiers={(DOMAIN, panel.guid)},
            manufacturer=MANUFACTURER,
            model=panel.product or PANEL_MODEL,
            hw_version=panel.hardware,
            name=f"G90 panel {panel.guid}",
            sw_version=panel.firmware,
            serial_number=panel.guid,
        )
        for zone in panel.zones.values():
            self.ensure_zone(panel, zone)
        for relay in panel.relays.values():
            self.ensure_relay(panel, relay)

    @callback
    def update_panel(self, panel: PanelState) -> None:
        """Follow the panel's firmware, product and hardware versions."""
        device = self._device((DOMAIN, panel.guid))
        if device is not None:
            dr.async_get(self._hass).async_update_device(
                device.id,
                sw_version=panel.firmware,
                model=panel.product or PANEL_MODEL,
                hw_version=panel.hardware,
            )

    @callback
    def ensure_zone(self, panel: PanelState, zone: ZoneState) -> None:
        """The zone's device, disabled when the panel lists the sensor as disabled."""
        identifier = zone_identifier(panel.guid, zone.index)
        created = self._device(identifier) is None
        dr.async_get(self._hass).async_get_or_create(
            config_entry_id=self._entry_id,
            identifiers={identifier},
            via_device_id=self._panel_device_id(panel.guid),
            manufacturer=MANUFACTURER,
            model=ZONE_MODELS[zone.kind],
            name=zone_device_name(zone),
        )
        if created and zone.enabled is False:
            self.follow_enabled(panel.guid, zone.index, enabled=False)

    @callback
    def update_zone(self, panel: PanelState, zone: ZoneState) -> None:
        """Follow a rename on the panel, or a zone whose kind became known."""
        device = self._device(zone_identifier(panel.guid, zone.index))
        if device is None:
            return
        name, model = zone_device_name(zone), ZONE_MODELS[zone.kind]
        if device.name != name or device.model != model:
            dr.async_get(self._hass).async_update_device(device.id, name=name, model=model)

    @callback
    def follow_enabled(self, guid: str, index: int, enabled: bool) -> None:
        """A sensor disabled on the panel shows as a disabled device; enabled again, enabled.

        Only the integration's own disabling is undone: a device the user
        disabled stays disabled.
        """
        device = self._device(zone_identifier(guid, index))
        if device is None:
            return
        registry = dr.async_get(self._hass)
        if not enabled and device.disabled_by is None:
            registry.async_update_device(device.id, disabled_by=dr.DeviceEntryDisabler.INTEGRATION)
        elif enabled and device.disabled_by is dr.DeviceEntryDisabler.INTEGRATION:
            registry.async_update_device(device.id, disabled_by=None)

    @callback
    def ensure_relay(self, panel: PanelState, relay: RelayState) -> None:
        """The relay's device, named and typed as the panel lists it."""
        dr.async_get(self._hass).async_get_or_create(
            config_entry_id=self._entry_id,
            identifiers={relay_identifier(panel.guid, relay.index)},
            via_device_id=self._panel_device_id(panel.guid),
            manufacturer=MANUFACTURER,
            model=RELAY_MODELS.get(relay.peripheral_type, "Relay"),
            name=relay.name or f"Relay {relay.index}",
        )

    @callback
    def remove_lost_channels(self, guid: str, relay: RelayState) -> None:
        """Entities of channels the relay no longer has."""
        registry = er.async_get(self._hass)
        for entry in er.async_entries_for_config_entry(registry, self._entry_id):
            channel = relay_channel_of(entry.unique_id, guid, relay.index)
            if channel is not None and channel >= relay.channels:
                registry.async_remove(entry.entity_id)

    @callback
    def remove_zone(self, guid: str, index: int) -> None:
        """A zone the panel no longer lists: its device, and its entities, go."""
        self._remove(zone_identifier(guid, index))

    @callback
    def remove_relay(self, guid: str, index: int) -> None:
        """A relay the panel no longer lists: its device, and its entities, go."""
        self._remove(relay_identifier(guid, index))

    @callback
    def _remove(self, identifier: tuple[str, str]) -> None:
        device = self._device(identifier)
        if device is not None:
            dr.async_get(self._hass).async_update_device(
                device.id, remove_config_entry_id=self._entry_id
            )

    @callback
    def remove_children(self, guid: str) -> None:
        """The devices of a forgotten panel's zones and relays.

        They would be orphans, their entities bound to a panel state nobody
        updates any more.
        """
        registry = dr.async_get(self._hass)
        prefix = f"{guid}_"
        for device in dr.async_entries_for_config_entry(registry, self._entry_id):
            if any(
                domain == DOMAIN and name.startswith(prefix) for domain, name in device.identifiers
            ):
                registry.async_update_device(device.id, remove_config_entry_id=self._entry_id)
