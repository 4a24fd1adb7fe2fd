"""The alarm panel entity: the panel's state as its events report it (read-only)."""

from __future__ import annotations

from functools import partial
from typing import override

from homeassistant.components.alarm_control_panel import AlarmControlPanelEntity
from homeassistant.components.alarm_control_panel.const import (
    AlarmControlPanelEntityFeature,
    AlarmControlPanelState,
)
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
from .entity import G90PanelEntity, async_setup_panel_platform
from .hub import G90Hub
from .model import AlarmState, PanelState

PARALLEL_UPDATES = 0

STATES = {
    AlarmState.DISARMED: AlarmControlPanelState.DISARMED,
    AlarmState.ARMED_HOME: AlarmControlPanelState.ARMED_HOME,
    AlarmState.ARMED_AWAY: AlarmControlPanelState.ARMED_AWAY,
    AlarmState.TRIGGERED: AlarmControlPanelState.TRIGGERED,
}


class G90AlarmPanel(G90PanelEntity, AlarmControlPanelEntity):
    """Shows disarmed / armed home / armed away / triggered; arming is not offered yet."""

    _attr_name = None  # the panel's device name
    _attr_translation_key = "panel"
    _attr_supported_features = AlarmControlPanelEntityFeature(0)
    _attr_code_arm_required = False

    def __init__(self, hub: G90Hub, panel: PanelState) -> None:
        """One per panel."""
        super().__init__(hub, panel, "alarm")

    @override
    async def async_alarm_disarm(self, code: str | None = None) -> None:
        """Home Assistant always offers disarm; say plainly that it cannot be done yet."""
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="arming_not_supported"
        )

    @property
    @override
    def alarm_state(self) -> AlarmControlPanelState | None:
        """Unknown until the panel first reports its state."""
        state = self.panel.alarm_state
        return STATES[state] if state is not None else None


def _panel_entities(hub: G90Hub, panel: PanelState) -> list[G90AlarmPanel]:
    return [G90AlarmPanel(hub, panel)]


async_setup_entry = partial(async_setup_panel_platform, panel_entities=_panel_entities)
