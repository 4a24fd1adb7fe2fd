"""Scripted panel behaviour for the simulator: plain data, easy to add to.

A scenario is a list of steps; each step builds the exact frame a panel sends
(the panel's clock is the time of sending), or pauses. Add a scenario by
adding a list to SCENARIOS.

`demo` shows every kind of event in a few seconds (the tests and scripts/e2e
check its exact sequence); `household(day)` is a day of a home, paced like
one, for watching (scripts/develop plays day after day).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import math
import random
from typing import Any, Final

from .commands import DeviceRecord
from .events import PANEL_STATE_EVENTS, AlertKind, AlertSource, PeripheralType
from .messages import Notification, StatusChange
from .panel_model import DEMO_SENSORS

PANEL_STATE: Final = {event.value: code for code, event in PANEL_STATE_EVENTS.items()}
"""Kind 2 state change codes by event name (disarmed, armed_away, ac_power_failure...)."""


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

# --- a household ---------------------------------------------------------------------

HOUSEHOLD_SENSORS: Final = (
    *DEMO_SENSORS,
    DeviceRecord("Back door", 3, peripheral_type=1, subtype=1, user_flags=33, node_count=1),
    DeviceRecord("Living room motion", 4, peripheral_type=8, user_flags=65, node_count=1),
    DeviceRecord("Kitchen motion", 5, peripheral_type=8, user_flags=65, node_count=1),
    DeviceRecord("Doorbell", 13, peripheral_type=12, user_flags=1, node_count=1),
)
"""The household's sensor list: the demo's (the same zone numbers), plus a back door,
two more motion sensors and a doorbell. Give it to the simulated panel's `PanelModel`
so the zones exist, with their names and kinds, from the moment it connects."""

_FRONT_DOOR: Final = (1, "Front door")
_BACK_DOOR: Final = (3, "Back door")
_HALL: Final = (2, "Hall motion")
_LIVING_ROOM: Final = (4, "Living room motion")
_KITCHEN: Final = (5, "Kitchen motion")
_ROOMS: Final = (_HALL, _LIVING_ROOM, _KITCHEN)
_KEYFOB: Final = (10, "Keyfob")
_KEYPAD: Final = (11, "Keypad")
_DOORBELL: Final = (13, "Doorbell")

MOTION_REST: Final = 45.0
"""Seconds a motion sensor stays silent after reporting (real ones sleep a while, to
save their battery). Home Assistant turns a motion zone off 30 s after its last
report, so each one shows *clear* again before it can report the next."""

BELL_REST: Final = 180.0
"""Seconds at least between two rings of the doorbell."""

_ARM_NOTIFICATIONS: Final = {"armed_away": 1, "armed_home": 2, "disarmed": 3}


class _Day:
    """Builds one day as a timeline: steps at times (seconds from the day's start)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = 0.0
        self._timeline: list[tuple[float, int, Step]] = []
        self._motion_at: dict[int, float] = {}
        self._closes_at: dict[int, float] = {}
        self.rang_at = -math.inf

    def at(self, when: float, step: Step) -> None:
        """`step` at `when` (order kept among steps at the same time)."""
        self._timeline.append((when, len(self._timeline), step))

    def emit(self, *steps: Step) -> None:
        """These steps now, in this order."""
        for step in steps:
            self.at(self.now, step)

    def wait(self, low: float, high: float) -> None:
        """Time passes: between `low` and `high` seconds."""
        self.now += self.rng.uniform(low, high)

    def motion(self, zone: tuple[int, str]) -> None:
        """A motion report, unless the sensor is still resting from its last one."""
        index, name = zone
        if self.now - self._motion_at.get(index, -math.inf) < MOTION_REST:
            return
        self._motion_at[index] = self.now
        self.emit(Activity(name.lower(), index, name, AlertSource.INFRARED, state=0))

    def door(self, zone: tuple[int, str], open_for: float) -> None:
        """The door opens (once it is closed again, if it is open) and closes `open_for` later."""
        index, name = zone
        lower = name.lower()
        self.closed(zone)
        self.emit(Activity(f"{lower} opens", index, name, AlertSource.SENSOR, state=1))
        closes = self._closes_at[index] = self.now + open_for
        self.at(closes, Activity(f"{lower} closes", index, name, AlertSource.SENSOR, state=0))

    def closed(self, zone: tuple[int, str]) -> None:
        """Wait until this door is closed, and a few seconds more, if it is open."""
        closes = self._closes_at.get(zone[0], -math.inf)
        if self.now <= closes:
            self.now = closes + self.rng.uniform(3, 8)

    def doors_closed(self) -> None:
        """Wait until every door is closed, and a moment more."""
        self.now = max([self.now, *self._closes_at.values()]) + self.rng.uniform(2, 5)

    def panel_state(self, state: str, label: str) -> None:
        """The panel's new state, reported twice as panels do (status change, notification)."""
        self.emit(PanelState(f"panel {label}", state))
        if state in _ARM_NOTIFICATIONS:
            code = _ARM_NOTIFICATIONS[state]
            self.emit(Notify(f"notification: {label}", [170, [1, [code]]]))

    def remote(self, button: int, what: str, state: str, label: str) -> None:
        """A keyfob button that arms or disarms, and the panel following it."""
        index, name = _KEYFOB
        self.emit(Activity(f"keyfob: {what}", index, name, AlertSource.REMOTE, state=button))
        self.wait(0.5, 1.5)
        self.panel_state(state, label)

    def keypad(self, action: int, what: str, state: str, label: str) -> None:
        """An RFID card at the keypad, then its action, and the panel following it."""
        index, name = _KEYPAD
        card = self.rng.choice((6, 7))  # card 0 or card 1: two people live here
        self.emit(Activity(f"RFID card {card - 6}", index, name, AlertSource.RFID, state=card))
        self.wait(1, 3)
        self.emit(Activity(f"keypad: {what}", index, name, AlertSource.RFID, state=action))
        self.wait(0.5, 1.5)
        self.panel_state(state, label)

    def steps(self) -> list[Step]:
        """The timeline as steps, with pauses between different times."""
        steps: list[Step] = []
        clock = 0.0
        for when, _, step in sorted(self._timeline, key=lambda entry: entry[:2]):
            if when - clock >= 0.1:  # closer than that: at once
                steps.append(Pause(round(when - clock, 1)))
                clock = when
            steps.append(step)
        return steps


def _at_home(day: _Day, seconds: float) -> None:
    """People at home: something every few seconds, now and then a quiet spell."""
    end = day.now + seconds
    rng = day.rng
    doing = "walk"  # the day starts with someone up and about
    while day.now < end:
        match doing:
            case "walk":  # from room to room
                for room in rng.sample(_ROOMS, rng.randint(1, 3)):
                    day.motion(room)
                    day.wait(3, 8)
            case "front":  # someone comes in or goes out
                day.motion(_HALL)
                day.wait(2, 4)
                day.door(_FRONT_DOOR, rng.uniform(4, 12))
            case "garden":  # out to the garden and back, or airing the kitchen
                day.motion(_KITCHEN)
                day.wait(2, 5)
                day.door(_BACK_DOOR, rng.uniform(6, 25))
            case "bell":  # a parcel
                day.closed(_FRONT_DOOR)
                index, name = _DOORBELL
                day.emit(Activity("doorbell rings", index, name, AlertSource.DOORBELL, state=0))
                day.rang_at = day.now
                day.wait(5, 10)
                day.motion(_HALL)
                day.wait(1, 3)
                day.door(_FRONT_DOOR, rng.uniform(10, 25))
            case _:  # everyone sits still
                day.wait(20, 40)
        day.wait(3, 9)
        choices = ("walk", "front", "garden", "bell", "quiet")
        bell = 1 if day.now - day.rang_at > BELL_REST else 0  # a parcel or two a day
        doing = rng.choices(choices, (5, 3, 2, bell, 0 if doing == "quiet" else 2))[0]
    day.doors_closed()


def _leave(day: _Day) -> None:
    """The last one out: through the hall and the front door, then arm away."""
    day.motion(_HALL)
    day.wait(2, 4)
    day.door(_FRONT_DOOR, day.rng.uniform(3, 6))
    day.doors_closed()
    if day.rng.random() < 0.5:  # half the time each way
        day.remote(0, "arm away", "armed_away", "armed away")
    else:
        day.keypad(0, "arm away", "armed_away", "armed away")


def _come_back(day: _Day) -> None:
    """Home again: disarm (keyfob at the door, or the keypad), then in."""
    if day.rng.random() < 0.5:  # half the time each way
        day.remote(2, "disarm", "disarmed", "disarmed")
        day.wait(3, 6)
        day.door(_FRONT_DOOR, day.rng.uniform(4, 8))
        day.wait(2, 4)
    else:
        day.door(_FRONT_DOOR, day.rng.uniform(4, 8))
        day.wait(3, 6)
        day.keypad(2, "disarm", "disarmed", "disarmed")
        day.wait(2, 4)
    day.motion(_HALL)


def _forgot_to_disarm(day: _Day) -> None:
    """Back through the garden while armed: the alarm, until the keypad disarms it."""
    index, name = _BACK_DOOR
    day.door(_BACK_DOOR, day.rng.uniform(5, 12))  # in, and the door closed behind
    day.wait(1, 2)
    day.emit(
        Alarm("alarm: back door", index, name, peripheral_type=PeripheralType.DOOR),
        Notify("notification: alarm triggered", [170, [1, [4]]]),
    )
    day.wait(20, 35)  # the siren howls, on the way to the keypad
    day.keypad(2, "disarm", "disarmed", "disarmed")
    day.wait(3, 6)
    day.motion(_LIVING_ROOM)


def _power_cut(day: _Day) -> None:
    """Mains power fails now, and comes back a little later (life goes on meanwhile)."""
    day.emit(PanelState("AC power failure", "ac_power_failure"))
    restored = day.now + day.rng.uniform(20, 45)
    day.at(restored, PanelState("AC power restored", "ac_power_restored"))


def household(day: int = 0) -> list[Step]:
    """One day of a home, paced like one: 7 to 10 minutes (at speed 1).

    Morning at home (something every few seconds, now and then a quiet spell:
    people walk past the motion sensors, open and close the doors, the doorbell
    rings), everyone out (armed away by the keyfob or the keypad, a quiet spell),
    home again (disarmed), an evening at home, the night (armed home, quiet),
    and disarmed in the morning. Every third day (day 0 too) someone comes back
    through the back door without disarming: the alarm, until the keypad
    disarms it. On the other days the mains power fails for a while, in the
    day or at night; on day 0 in its first minute. Motion sensors rest
    `MOTION_REST` seconds between reports, so motion clears in between. The
    same `day` gives the same steps.
    """
    rng = random.Random(day)
    today = _Day(rng)
    today.wait(2, 4)
    _at_home(today, rng.uniform(20, 40))
    if day == 0:  # the first day shows everything, early
        _power_cut(today)
    _at_home(today, rng.uniform(40, 80))
    _leave(today)
    today.wait(40, 80)  # nobody home: quiet; motion clears
    if day % 3 == 0:
        _forgot_to_disarm(today)
    else:
        if day % 3 == 1:
            _power_cut(today)
            today.wait(50, 60)  # back after the power
        today.wait(20, 60)
        _come_back(today)
    today.wait(4, 8)
    _at_home(today, rng.uniform(60, 150))
    today.wait(3, 8)
    today.remote(1, "arm home", "armed_home", "armed home")  # good night
    today.wait(40, 70)
    if day % 3 == 2:  # the third kind of day
        _power_cut(today)
    today.wait(30, 60)
    today.keypad(2, "disarm", "disarmed", "disarmed")  # good morning
    today.wait(3, 6)
    today.motion(_HALL)
    return today.steps()


SCENARIOS: Final[dict[str, list[Step]]] = {
    "demo": DEMO,
    "quick": QUICK,
    "hello": [],
    "household": household(0),
}
