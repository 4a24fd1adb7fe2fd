"""Device triggers: a panel's main events, to pick in the automation editor."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import voluptuous as vol

from .const import DOMAIN, EVENT_G90
from .devices import is_panel_identifier

TRIGGERS: Final[dict[str, dict[str, Any]]] = {
    "alarm": {"type": "alarm"},
    "tamper_alarm": {"type": "alarm", "tamper": True},
    "sos": {"type": "sos"},
    "alarm_triggered": {"type": "alarm_triggered"},
    "armed_away": {"type": "armed_away"},
    "armed_home": {"type": "armed_home"},
    "disarmed": {"type": "disarmed"},
    "remote_arm_away": {"type": "remote_button", "button": "arm_away"},
    "remote_arm_home": {"type": "remote_button", "button": "arm_home"},
    "remote_disarm": {"type": "remote_button", "button": "disarm"},
    "remote_sos": {"type": "remote_button", "button": "sos"},
    "rfid_arm_away": {"type": "rfid", "action": "arm_away"},
    "rfid_arm_home": {"type": "rfid", "action": "arm_home"},
    "rfid_disarm": {"type": "rfid", "action": "disarm"},
    "door_open_when_arming": {"type": "door_open_when_arming"},
    "ac_power_failure": {"type": "ac_power_failure"},
    "ac_power_restored": {"type": "ac_power_restored"},
}
"""Trigger type -> the `g90_cloud_event` fields it matches, as the panel reports it live."""

MISSED_TRIGGERS: Final[dict[str, dict[str, Any]]] = {
    "missed_while_offline": {"replayed": True},
    "alarm_missed_while_offline": {"type": "alarm", "replayed": True},
}
"""Trigger type -> the fields it matches, among the events replayed from the panel's history
(reported while Home Assistant was away): late news, so the live triggers leave them out."""

ALL_TRIGGERS: Final = TRIGGERS | MISSED_TRIGGERS

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend({vol.Required(CONF_TYPE): vol.In(ALL_TRIGGERS)})


def _is_panel(hass: HomeAssistant, device_id: str) -> bool:
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return False
    return any(
        domain == DOMAIN and is_panel_identifier(identifier)
        for domain, identifier in device.identifiers
    )


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """Every trigger type, on panel devices (events are fired with the panel's device)."""
    if not _is_panel(hass, device_id):
        return []
    return [
        {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: kind}
        for kind in ALL_TRIGGERS
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the matching `g90_cloud_event`."""
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: EVENT_G90,
            CONF_EVENT_DATA: {
                "device_id": config[CONF_DEVICE_ID],
                "repeat": False,  # a panel's second report of the same arming
                "replayed": False,
                **ALL_TRIGGERS[config[CONF_TYPE]],
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
