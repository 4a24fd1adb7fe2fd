"""Diagnostics download: settings, options, and each panel's state, counters and recent traffic.

Per panel: its last frames, its last commands, what it last told of itself, and how far
its events have been followed (its clock's offset included).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import (
    CONF_ALLOWED_GUIDS,
    CONF_CLOUD_IP,
    CONF_CODE,
    CONF_LOCAL_IP,
    CONF_PANEL_LAN_ADDRESS,
    CONF_UPSTREAM_HOST,
)
from .g90.status import PanelStatus
from .hub import G90ConfigEntry, G90Hub
from .model import PanelState

REDACTED = "**REDACTED**"
TO_REDACT = {
    CONF_UPSTREAM_HOST,
    CONF_CLOUD_IP,
    CONF_LOCAL_IP,
    CONF_ALLOWED_GUIDS,
    CONF_CODE,
    CONF_PANEL_LAN_ADDRESS,
    "guid",
    "peer",
    "lan_address",
    "phone",
}


def _scrub(text: str, secrets: list[str]) -> str:
    """Hide GUIDs and addresses also where they sit inside a frame's hex."""
    for secret in secrets:
        if secret:
            text = text.replace(secret.encode().hex(" "), REDACTED)
    return text


def _scrub_text(text: str, secrets: list[str]) -> str:
    """Hide GUIDs and addresses in a reply's text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _told(value: Any) -> Any:
    """A reply as its fields (the raw text left out: it repeats them, GUID included)."""
    if value is None:
        return None
    return {key: item for key, item in asdict(value).items() if key != "raw"}


def _panel_time(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat()
    except OverflowError, OSError, ValueError:
        return str(timestamp)


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
        "relays": [relay.to_dict() | {"index": relay.index} for relay in panel.relays.values()],
        "alert_flags": panel.alert_flags,
        "lan_address": panel.lan_address,
        "catch_up": {
            # Seconds the panel's clock is ahead of Home Assistant's, from its live reports.
            "clock_offset": panel.watermark.clock_offset,
            # The panel time of the last event processed: its history replays what is newer.
            "watermark": _panel_time(panel.watermark.time),
            "watermark_estimated": panel.watermark.estimated,
            "due": panel.watermark.catching_up,
        },
        "host_status": _told(hub.host_status.get(panel.guid)),
        "host_info": _told(panel.info),
        "host_config": _told(hub.host_config.get(panel.guid)),
        "commands": [
            {
                "time": record.time.isoformat(),
                "command": record.code,
                "channel": record.channel,
                "seconds": record.seconds,
                "outcome": record.outcome,
                "reply": _scrub_text(record.reply, secrets),
            }
            for record in hub.commands.history.get(panel.guid, ())
        ],
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
    """What a bug report needs, without GUIDs or addresses.

    The panels' settings (command 106) are read now, for a connected panel.
    """
    hub = entry.runtime_data
    for guid in list(hub.panels):
        if hub.is_connected(guid):
            await hub.async_read_host_config(guid)
    secrets = [
        *hub.panels,
        str(hub.settings.get(CONF_CLOUD_IP, "")),
        *(panel.lan_address or "" for panel in hub.panels.values()),
        str(entry.options.get(CONF_PANEL_LAN_ADDRESS, "")),
    ]
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
