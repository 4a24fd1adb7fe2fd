"""Scripted panel behaviour for the simulator: plain data, easy to add to.

A scenario is a list of steps; each step builds the exact frame a panel sends
(the panel's clock is the time of sending), or pauses. Add a scenario by
adding a list to SCENARIOS.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any, Final

from .events import AlertKind, AlertSource, PeripheralType
from .messages import Notification, StatusChange

PANEL_STATE = {"ac_power_failure": 1, "ac_power_restored": 2, "disarmed": 3, "armed_away": 4}
PANEL_STATE |= {
    "armed_home": 5,
    "panel_low_battery": 6,
    "wifi_connected": 7,
    "wifi_disconnected": 8,
}


@dataclass(frozen=True, slots=True)
class PanelState:
    """Kind 2 status change: the panel's own state (see PANEL_STATE)."""

    label: str
    state: str

    def frame(self, now: int) -> bytes:
        """The status change frame."""
        return StatusChange.panel_state(PANEL_STATE[self.state], now).encode()


@dataclass(frozen=True, slots=True)
class Activity:
    """Kind 4 status change: a zone's sensor, remote, keypad or doorbell did something."""

    label: str
    zone: int
    name: str
    source: int
    state: int

    def frame(self, now: int) -> bytes:
        """The status change frame."""
        return StatusChange.zone(
            AlertKind.SENSOR_ACTIVITY,
            zone=self.zone,
            type_or_source=self.source,
            state=self.state,
            name=self.name,
            timestamp=now,
        ).encode()


@dataclass(frozen=True, slots=True)
class Alarm:
    """Kind 3 status change: an alarm from a zone (state 3: tamper)."""

    label: str
    zone: int
    name: str
    peripheral_type: int
    state: int = 1

    def frame(self, now: int) -> bytes:
        """The status change frame."""
        return StatusChange.zone(
            AlertKind.ALARM,
            zone=self.zone,
            type_or_source=self.peripheral_type,
            state=self.state,
            name=self.name,
            timestamp=now,
        ).encode()


@dataclass(frozen=True, slots=True)
class Notify:
    """A JSON notification, e.g. `[170, [1, [1]]]`."""

    label: str
    data: Any

    def frame(self, now: int) -> bytes:
        """The notification frame."""
        return Notification.from_text(json.dumps(self.data, separators=(",", ":"))).encode()


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait before the next step."""

    seconds: float


Step = PanelState | Activity | Alarm | Notify | Pause

DEMO: Final[list[Step]] = [
    Activity("front door opens", zone=1, name="Front door", source=AlertSource.SENSOR, state=1),
    Pause(0.5),
    Activity("front door closes", zone=1, name="Front door", source=AlertSource.SENSOR, state=0),
    Activity("hall motion", zone=2, name="Hall motion", source=AlertSource.INFRARED, state=0),
    Activity("keyfob: arm away", zone=10, name="Keyfob", source=AlertSource.REMOTE, state=0),
    PanelState("panel armed away", "armed_away"),
    Notify("notification: armed away", [170, [1, [1]]]),
    Pause(0.5),
    Activity(
        "front door opens while armed",
        zone=1,
        name="Front door",
        source=AlertSource.SENSOR,
        state=1,
    ),
    Alarm("alarm: front door", zone=1, name="Front door", peripheral_type=PeripheralType.DOOR),
    Notify("notification: alarm triggered", [170, [1, [4]]]),
    Pause(0.5),
    Activity("keyfob: SOS", zone=10, name="Keyfob", source=AlertSource.REMOTE, state=3),
    Alarm(
        "alarm: SOS from the keyfob",
        zone=10,
        name="Keyfob",
        peripheral_type=PeripheralType.REMOTE,
        state=3,
    ),
    Activity("RFID card 1", zone=11, name="Keypad", source=AlertSource.RFID, state=7),
    Activity("keypad: disarm", zone=11, name="Keypad", source=AlertSource.RFID, state=2),
    PanelState("panel disarmed", "disarmed"),
    Notify("notification: disarmed", [170, [1, [3]]]),
    Pause(0.5),
    PanelState("AC power failure", "ac_power_failure"),
    PanelState("AC power restored", "ac_power_restored"),
    Activity("front door closes", zone=1, name="Front door", source=AlertSource.SENSOR, state=0),
]

QUICK: Final[list[Step]] = [
    PanelState("panel armed home", "armed_home"),
    Activity("front door opens", zone=1, name="Front door", source=AlertSource.SENSOR, state=1),
    PanelState("panel disarmed", "disarmed"),
]

SCENARIOS: Final[dict[str, list[Step]]] = {"demo": DEMO, "quick": QUICK, "hello": []}
