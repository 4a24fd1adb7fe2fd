"""Logbook: every `g90_cloud_event` in words, a missed one with the time it happened.

"Alarm in Front door"; replayed from the panel's history: "Alarm in Front
door at 03:12, while Home Assistant was offline". The time is the panel's,
set right by its clock offset when Home Assistant knows it, in Home
Assistant's time zone. Like Home Assistant's own descriptions, in English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_G90

LABELS: Final[dict[str, str]] = {
    "sos": "SOS",
    "sensor_activity": "Activity",
    "door_open_when_arming": "Open while arming",
    "ac_power_failure": "AC power failure",
    "ac_power_restored": "AC power restored",
    "panel_low_battery": "Panel battery low",
    "wifi_connected": "WiFi connected",
    "wifi_disconnected": "WiFi disconnected",
    "unknown": "Unknown event",
}
"""Event types whose words are not just the type's; the others read as their type."""

PRESSED: Final = frozenset({"remote_button", "rfid", "doorbell"})
"""Events of a remote, keypad or doorbell: what was pressed, on which."""
DOORS: Final = {"door_open": "opened", "door_close": "closed"}


def _words(value: str) -> str:
    return "SOS" if value == "sos" else value.replace("_", " ").capitalize()


def describe(data: Mapping[str, Any], clock_offset: int = 0) -> str:
    """The event in words; `clock_offset`: seconds the panel's clock is ahead."""
    kind = str(data.get("type") or "unknown")
    label = LABELS.get(kind) or _words(kind)
    if kind == "alarm" and data.get("tamper"):
        label = "Tamper alarm"
    if kind in PRESSED:
        label = _words(str(data.get("button") or data.get("action") or "ring"))
    zone = data.get("zone_name") or (
        f"zone {data['zone_index']}" if data.get("zone_index") is not None else None
    )
    if zone and kind in DOORS:
        text = f"{zone} {DOORS[kind]}"
    elif zone:
        text = f"{label} {'on' if kind in PRESSED else 'in'} {zone}"
    else:
        text = label
    if not data.get("replayed"):
        return text
    when = _when(data.get("panel_time"), clock_offset)
    return f"{text}{f' at {when}' if when else ''}, while Home Assistant was offline"


def _when(panel_time: Any, clock_offset: int) -> str | None:
    """The event's time of day, and its date unless it is today."""
    happened = dt_util.parse_datetime(panel_time) if isinstance(panel_time, str) else None
    if happened is None:
        return None
    local = dt_util.as_local(happened - timedelta(seconds=clock_offset))
    if local.date() == dt_util.now().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the integration's bus events."""

    @callback
    def describe_event(event: Event) -> dict[str, str]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: _panel_name(hass, data),
            LOGBOOK_ENTRY_MESSAGE: describe(data, _clock_offset(hass, data.get("guid"))),
        }

    async_describe_event(DOMAIN, EVENT_G90, describe_event)


def _panel_name(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    device_id = data.get("device_id")
    device = dr.async_get(hass).async_get(device_id) if isinstance(device_id, str) else None
    if device is not None:
        return device.name_by_user or device.name or "G90 panel"
    return f"G90 panel {data['guid']}" if data.get("guid") else "G90 panel"


def _clock_offset(hass: HomeAssistant, guid: Any) -> int:
    """How far the panel's clock is off, as the hub that follows it has learned."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        panel = entry.runtime_data.panels.get(guid)
        if panel is not None:
            return int(panel.watermark.clock_offset or 0)
    return 0
