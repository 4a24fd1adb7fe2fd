"""Diagnostics download: settings and options, each panel's state and counters, recent frames."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_ALLOWED_GUIDS, CONF_CLOUD_IP, CONF_LOCAL_IP, CONF_UPSTREAM_HOST
from .g90.status import PanelStatus
from .hub import G90ConfigEntry, G90Hub
from .model import PanelState

REDACTED = "**REDACTED**"
TO_REDACT = {CONF_UPSTREAM_HOST, CONF_CLOUD_IP, CONF_LOCAL_IP, CONF_ALLOWED_GUIDS, "guid", "peer"}


def _scrub(text: str, secrets: list[str]) -> str:
    """Hide GUIDs and addresses also where they sit inside a frame's hex."""
    for secret in secrets:
        if secret:
            text = text.replace(secret.encode().hex(" "), REDACTED)
    return text


def _panel(hub: G90Hub, panel: PanelState, secrets: list[str]) -> dict[str, Any]:
    status = hub.status(panel.guid) or PanelStatus(panel.guid)  # not heard since the start
    return {
        "guid": panel.guid,
        "peer": status.peer,
        "firmware": panel.firmware,
        "connected": hub.is_connected(panel.guid),
        "available": hub.is_available(panel.guid),
        "upstream_connected": status.upstream_connected,
        "alarm_state": panel.alarm_state,
        "ac_power": panel.ac_power,
        "wifi": panel.wifi,
        "battery_low": panel.battery_low,
        "last_device_packet": status.last_device_packet,
        "last_upstream_packet": status.last_upstream_packet,
        "counters": asdict(hub.counters(panel.guid)),
        "zones": [zone.to_dict() | {"index": zone.index} for zone in panel.zones.values()],
        "frames": [
            {
                "time": record.time.isoformat(),
                "direction": f"from {record.origin}",
                "message": record.message.NAME,
                "hex": _scrub(record.frame.hex(" "), secrets),
            }
            for record in hub.frames.get(panel.guid, ())
        ],
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: G90ConfigEntry
) -> dict[str, Any]:
    """What a bug report needs, without GUIDs or addresses."""
    hub = entry.runtime_data
    secrets = [*hub.panels, str(hub.settings.get(CONF_CLOUD_IP, ""))]
    listener = hub.listener
    return {
        "settings": async_redact_data(hub.settings, TO_REDACT),
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "listener": {
            "port": listener.port,
            "open_connections": len(listener.connections),
            "refused_connections": listener.stats.refused,
            "unidentified_connections": asdict(listener.stats.unidentified),
            "unattributed_events": hub.unattributed_events,
        },
        "panels": [
            async_redact_data(_panel(hub, panel, secrets), TO_REDACT)
            for panel in hub.panels.values()
        ],
    }
