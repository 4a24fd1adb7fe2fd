"""The alarm panel entity: the panel's state as it reports it, and arming from Home Assistant."""

from __future__ import annotations

from functools import cached_property, partial
import hmac
from typing import override

from homeassistant.components.alarm_control_panel import AlarmControlPanelEntity
from homeassistant.components.alarm_control_panel.const import (
    AlarmControlPanelEntityFeature,
    AlarmControlPanelState,
    CodeFormat,
)
from homeassistant.exceptions import ServiceValidationError

from .const import CONF_CODE, CONF_CODE_ARM_REQUIRED, DOMAIN
from .entity import G90PanelEntity, async_setup_panel_platform
from .g90.commands import ArmState
from .hub import G90Hub
from .model import AlarmState, PanelState

PARALLEL_UPDATES = 0
"""Arming waits for the panel, but one panel's commands queue in the hub, not here."""

STATES = {
    AlarmState.DISARMED: AlarmControlPanelState.DISARMED,
    AlarmState.ARMED_HOME: AlarmControlPanelState.ARMED_HOME,
    AlarmState.ARMED_AWAY: AlarmControlPanelState.ARMED_AWAY,
    AlarmState.TRIGGERED: AlarmControlPanelState.TRIGGERED,
}


class G90AlarmPanel(G90PanelEntity, AlarmControlPanelEntity):
    """Disarmed / armed home / armed away / triggered; arms and disarms with the options' code."""

    _attr_name = None  # the panel's device name
    _attr_translation_key = "panel"

    def __init__(self, hub: G90Hub, panel: PanelState) -> None:
        """One per panel; what it offers follows the entry's options."""
        super().__init__(hub, panel, "alarm")
        options = hub.entry.options
        self._code = str(options.get(CONF_CODE) or "")
        if self._code:  # the frontend shows a keypad for digits, a text field for the rest
            self._attr_code_format = CodeFormat.NUMBER if self._code.isdigit() else CodeFormat.TEXT
        if hub.can_control:
            self._attr_supported_features = (
                AlarmControlPanelEntityFeature.ARM_AWAY | AlarmControlPanelEntityFeature.ARM_HOME
            )
        else:
            self._attr_supported_features = AlarmControlPanelEntityFeature(0)

    @cached_property
    @override
    def code_arm_required(self) -> bool:
        """Arming asks for the code when one is set and the options say so."""
        return bool(self._code) and bool(self.hub.entry.options.get(CONF_CODE_ARM_REQUIRED, True))

    @property
    @override
    def alarm_state(self) -> AlarmControlPanelState | None:
        """Arming or disarming while a command is on its way; else as the panel reported."""
        target = self.hub.arming(self.panel.guid)
        if target is ArmState.DISARMED:
            return AlarmControlPanelState.DISARMING
        if target is not None:
            return AlarmControlPanelState.ARMING
        state = self.panel.alarm_state
        return STATES[state] if state is not None else None

    @override
    async def async_alarm_disarm(self, code: str | None = None) -> None:
        """Disarm; the code is always asked for when one is set."""
        self._check_code(code, required=True)
        await self.hub.async_arm(self.panel.guid, ArmState.DISARMED)

    @override
    async def async_alarm_arm_home(self, code: str | None = None) -> None:
        """Arm home."""
        self._check_code(code, required=self.code_arm_required)
        await self.hub.async_arm(self.panel.guid, ArmState.ARMED_HOME)

    @override
    async def async_alarm_arm_away(self, code: str | None = None) -> None:
        """Arm away."""
        self._check_code(code, required=self.code_arm_required)
        await self.hub.async_arm(self.panel.guid, ArmState.ARMED_AWAY)

    def _check_code(self, code: str | None, *, required: bool) -> None:
        """Nothing goes to the panel without the right code, when one is needed."""
        if not self.hub.can_control:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="control_off")
        if not self._code or not required:
            return
        if not code:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="code_missing")
        if not hmac.compare_digest(code.encode(), self._code.encode()):
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="code_wrong")


def _panel_entities(hub: G90Hub, panel: PanelState) -> list[G90AlarmPanel]:
    return [G90AlarmPanel(hub, panel)]


async_setup_entry = partial(async_setup_panel_platform, panel_entities=_panel_entities)
