"""Switches: the panel's relays (one per channel), and its alert switches (configuration).

Both exist only when Home Assistant may send the panel commands (the
options' control channel is not off).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .entity import G90PanelEntity, G90RelayEntity, async_setup_panel_platform
from .g90.commands import AlertFlags
from .hub import G90Hub
from .model import PanelState, RelayState

PARALLEL_UPDATES = 1
"""One command at a time: a panel answers one at a time anyway, and an alert switch's
read-change-write must not interleave with another's (each would undo the other's bit)."""


@dataclass(frozen=True, kw_only=True)
class AlertSwitchDescription(SwitchEntityDescription):
    """One of the panel's alert switches (command 117 reads them, 116 writes them)."""

    flag: AlertFlags
    entity_category: EntityCategory | None = EntityCategory.CONFIG


ALERT_SWITCHES = tuple(
    AlertSwitchDescription(key=f"alert_{name}", translation_key=f"alert_{name}", flag=flag)
    for name, flag in (
        ("ac_power_failure", AlertFlags.AC_POWER_FAILURE),
        ("ac_power_restored", AlertFlags.AC_POWER_RESTORED),
        ("arm_disarm", AlertFlags.ARM_DISARM),
        ("panel_low_battery", AlertFlags.PANEL_LOW_BATTERY),
        ("sensor_low_battery", AlertFlags.SENSOR_LOW_BATTERY),
        ("wifi_available", AlertFlags.WIFI_AVAILABLE),
        ("wifi_unavailable", AlertFlags.WIFI_UNAVAILABLE),
        ("door_open", AlertFlags.DOOR_OPEN),
        ("door_close", AlertFlags.DOOR_CLOSE),
        ("sms_push", AlertFlags.SMS_PUSH),
    )
)


class AlertSwitch(G90PanelEntity, SwitchEntity):
    """Whether the panel raises one kind of alert; unknown until the panel has been read."""

    entity_description: AlertSwitchDescription

    def __init__(self, hub: G90Hub, panel: PanelState, description: AlertSwitchDescription) -> None:
        """One per alert."""
        super().__init__(hub, panel, description.key)
        self.entity_description = description

    @property
    @override
    def is_on(self) -> bool | None:
        """As last read from (or written to) the panel."""
        flags = self.panel.alert_flags
        return None if flags is None else bool(flags & self.entity_description.flag)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the alert on, every other switch kept as the panel has it."""
        await self.hub.async_set_alert(self.panel.guid, self.entity_description.flag, on=True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the alert off, every other switch kept as the panel has it."""
        await self.hub.async_set_alert(self.panel.guid, self.entity_description.flag, on=False)


class RelaySwitch(G90RelayEntity, SwitchEntity):
    """One channel of a relay; shows the state last commanded (a panel cannot report it)."""

    _attr_assumed_state = True

    def __init__(self, hub: G90Hub, panel: PanelState, relay: RelayState, channel: int) -> None:
        """One per channel: the relay's device name alone, or "Channel n" of several."""
        super().__init__(hub, panel, relay, channel)
        if relay.channels == 1:
            self._attr_name = None
        else:
            self._attr_translation_key = "relay_channel"
            self._attr_translation_placeholders = {"channel": str(channel + 1)}

    @property
    @override
    def is_on(self) -> bool | None:
        """The state last commanded from Home Assistant; unknown before."""
        return self.relay.on.get(self.channel)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the channel on (command 137)."""
        await self.hub.async_switch_relay(self.panel.guid, self.relay.index, self.channel, on=True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the channel off (command 137)."""
        await self.hub.async_switch_relay(self.panel.guid, self.relay.index, self.channel, on=False)


def _panel_entities(hub: G90Hub, panel: PanelState) -> list[SwitchEntity]:
    if not hub.can_control:
        return []
    return [AlertSwitch(hub, panel, description) for description in ALERT_SWITCHES]


def _relay_entities(hub: G90Hub, panel: PanelState, relay: RelayState) -> list[SwitchEntity]:
    if not hub.can_control:
        return []
    return [RelaySwitch(hub, panel, relay, channel) for channel in range(relay.channels)]


async_setup_entry = partial(
    async_setup_panel_platform, panel_entities=_panel_entities, relay_entities=_relay_entities
)
