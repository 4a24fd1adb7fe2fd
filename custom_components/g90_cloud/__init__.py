"""G90 Cloud: Home Assistant stands in for a G90 alarm panel's vendor cloud.

Setup builds the hub, binds the listener in Home Assistant's event loop and
forwards the platforms; unload closes every connection and frees the port.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .const import CONF_CLOUD_IP, CONF_LOCAL_IP, CONF_LOCAL_PORT, CONNECTION_SETTINGS, DOMAIN
from .g90.aio.server import ListenerBindError
from .hub import G90ConfigEntry, G90Hub, async_lan_address, entry_store

PLATFORMS = [
    Platform.ALARM_CONTROL_PANEL,
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]


def _issue_id(entry: G90ConfigEntry) -> str:
    return f"cannot_listen_{entry.entry_id}"


async def async_migrate_entry(hass: HomeAssistant, entry: G90ConfigEntry) -> bool:
    """Bring an entry made by an older version up to date.

    1.1 -> 1.2: the options flow of 1.1 also saved the connection settings, in
    options (which then overrode data); they move to data, where Reconfigure
    changes them. The allow-list stays in options.
    """
    if entry.minor_version < 2:
        options = dict(entry.options)
        moved: dict[str, Any] = {
            key: options.pop(key) for key in CONNECTION_SETTINGS if key in options
        }
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, **moved}, options=options, minor_version=2
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: G90ConfigEntry) -> bool:
    """Start listening for panels."""
    lan_address = "" if entry.data.get(CONF_CLOUD_IP) else await async_lan_address(hass)
    hub = G90Hub(hass, entry, lan_address)
    await hub.async_load()
    try:
        await hub.async_start()
    except ListenerBindError as err:
        placeholders = {
            "host": str(hub.settings.get(CONF_LOCAL_IP)),
            "port": str(hub.settings.get(CONF_LOCAL_PORT)),
            "error": str(err.strerror),
        }
        ir.async_create_issue(
            hass,
            DOMAIN,
            _issue_id(entry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="cannot_listen",
            translation_placeholders=placeholders,
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_listen",
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
    entry.runtime_data = hub
    entry.async_on_unload(hub.async_stop)

    async def stop(_event: Event) -> None:
        # Home Assistant stopping does not unload entries: close the connections anyway.
        await hub.async_stop()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: G90ConfigEntry) -> bool:
    """Stop listening; the hub's own stop runs after the platforms unload."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: G90ConfigEntry) -> None:
    """The entry was deleted: forget its repair issue and what it stored (GUIDs, addresses)."""
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
    await entry_store(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: G90ConfigEntry, device: dr.DeviceEntry
) -> bool:
    """A panel can be removed while it is not connected; a zone or relay at any time.

    Only while the entry runs: its hub holds what a device stands for (else the
    device would come back at its next start).
    """
    if entry.state is not ConfigEntryState.LOADED:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="entry_not_loaded")
    hub = entry.runtime_data
    for domain, identifier in device.identifiers:
        if domain == DOMAIN:
            return hub.async_forget(identifier)
    return True
