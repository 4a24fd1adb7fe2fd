"""Arming and disarming from Home Assistant: the command, then the panel's own report.

While the command is on its way the panel shows arming or disarming. Once the
panel accepted it, its report of the new state ends the wait; a panel that
accepts but does not report is asked for its state instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
import logging

from homeassistant.core import HomeAssistant, callback

from .g90.commands import Ack, ArmState, Command, CommandError, set_host_status
from .model import ALARM_STATE_BY_ARM_STATE, AlarmState
from .signals import Signals

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class _Arming:
    """An arm or disarm on its way: shown as arming or disarming until the panel reports."""

    target: ArmState
    reported: asyncio.Future[None]
    accepted: bool = False
    """The panel answered the command: any state it reports now is its answer."""


class PanelArming:
    """The arm and disarm commands on their way to the panels of one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        signals: Signals,
        send: Callable[[str, Command[Ack]], Awaitable[Ack]],
        ask_state: Callable[[str], Awaitable[None]],
    ) -> None:
        """Commands go through these.

        `send` runs a person's command (its failure an error they can read);
        `ask_state` reads the panel's state, and applies it.
        """
        self._hass = hass
        self._signals = signals
        self._send = send
        self._ask_state = ask_state
        self._pending: dict[str, _Arming] = {}

    def target(self, guid: str) -> ArmState | None:
        """The state an arm or disarm on its way asks for (None: none is)."""
        pending = self._pending.get(guid)
        return pending.target if pending is not None else None

    async def arm(self, guid: str, target: ArmState, *, report_wait: timedelta) -> None:
        """Arm away, arm home or disarm; returns once the panel reported its new state.

        `report_wait`: how long the panel's report may take once it accepted.
        Raises as `send` when the panel cannot be reached or refuses.
        """
        pending = _Arming(target, self._hass.loop.create_future())
        self._pending[guid] = pending
        self._signals.notify((guid,))
        try:
            await self._send(guid, set_host_status(target))
            pending.accepted = True
            try:
                async with asyncio.timeout(report_wait.total_seconds()):
                    await pending.reported
            except TimeoutError:
                _LOGGER.debug("Panel %s did not report its new state: asking for it", guid)
                try:
                    await self._ask_state(guid)
                except CommandError as err:  # it accepted: the next refresh will tell
                    _LOGGER.info(
                        "Panel %s accepted %s but did not tell its state: %s", guid, target, err
                    )
        finally:
            if self._pending.get(guid) is pending:
                del self._pending[guid]
            self._signals.notify((guid,))

    @callback
    def state_reported(self, guid: str, state: AlarmState) -> None:
        """The panel told its state: an arm or disarm on its way is answered."""
        pending = self._pending.get(guid)
        if pending is None or pending.reported.done():
            return
        if pending.accepted or ALARM_STATE_BY_ARM_STATE[pending.target] is state:
            pending.reported.set_result(None)
