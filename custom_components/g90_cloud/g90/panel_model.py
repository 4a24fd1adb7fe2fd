"""A simulated panel's brain, sans-I/O: a command in, the reply a real panel would send out.

`PanelModel.answer(request)` gives the reply payload text (what goes between
ISTART and IEND locally, or into a command response on the cloud
connection) and acts on it: 101 arms or disarms and writes a history record,
116 sets the alert switches, 137 remembers the relay's last commanded state.
What a real panel then reports on its own (a status change and a
notification after arming) waits in `pop_changes()`. Quirks make it refuse,
stay silent, answer late, or answer with another command's code.

What the notes do not say, this model makes up, plainly: it refuses (`fail`)
a command it does not know or whose parameters make no sense, and answers an
empty list with `[[0,0,0]]` and a page past the end with an empty reply.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
import json
import time
from typing import Any, Final

from .commands import (
    AlertFlags,
    ArmState,
    CommandCode,
    DeviceRecord,
    HistoryRecord,
    HostConfig,
    HostInfo,
    Request,
)
from .events import AlertKind
from .messages import Message, Notification, StatusChange

HISTORY_SIZE: Final = 50
"""Records a panel keeps, about."""

STATE_CHANGE_CODES: Final[dict[ArmState, int]] = {
    ArmState.ARMED_AWAY: 4,
    ArmState.ARMED_HOME: 5,
    ArmState.DISARMED: 3,
}
"""The kind 2 status change (and history event id) that reports each settable state."""

DEFAULT_ALERTS: Final = AlertFlags(
    AlertFlags.AC_POWER_FAILURE
    | AlertFlags.AC_POWER_RESTORED
    | AlertFlags.ARM_DISARM
    | AlertFlags.PANEL_LOW_BATTERY
    | AlertFlags.SENSOR_LOW_BATTERY
    | AlertFlags.DOOR_OPEN
    | AlertFlags.DOOR_CLOSE
    | 2048
    | 8192
)
"""Alert switches as a real panel was seen with: two unnamed bits set."""

DEMO_INFO: Final = HostInfo(
    "GA00000A0000000", "TSV018-C3SIA", "1.2", "1.1", "206", "206", 3, 3, 0, 2, "4242", 50, 100
)
DEMO_CONFIG: Final = HostConfig(900, 0, 0, 1, 2, 2, 60, 2, 0, 180, ring_volume=2)
DEMO_SENSORS: Final = (
    DeviceRecord("Front door", 1, peripheral_type=1, subtype=1, user_flags=33, node_count=1),
    DeviceRecord("Hall motion", 2, peripheral_type=8, user_flags=65, node_count=1),
    DeviceRecord("Keyfob", 10, peripheral_type=10, user_flags=1, node_count=1),
    DeviceRecord("Keypad", 11, peripheral_type=11, user_flags=1, node_count=1),
    DeviceRecord("Cord 1", 12, peripheral_type=126, subtype=1, user_flags=32, protocol=5),
)
DEMO_RELAYS: Final = (
    DeviceRecord("Socket", 10, peripheral_type=128, user_flags=1, node_count=1),
    DeviceRecord("Switch", 11, peripheral_type=137, user_flags=1, node_count=2),
)


@dataclass(frozen=True, slots=True)
class Quirk:
    """How the panel misbehaves when answering a request."""

    refuse: bool = False
    """Answer `fail`, doing nothing."""
    silent: bool = False
    """Answer nothing, doing nothing."""
    delay: float = 0.0
    """Seconds the transport should wait before sending the answer."""
    reply_code: int | None = None
    """Act, then answer with this code in place of the request's."""


NORMAL: Final = Quirk()


@dataclass(frozen=True, slots=True)
class Answer:
    """What to send back, and when."""

    text: str | None
    """The reply payload; None: send nothing."""
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class ArmChange:
    """The panel's state changed on command: it reports that on its cloud connection."""

    state: ArmState
    timestamp: int

    def status_change(self) -> StatusChange:
        """The kind 2 status change a panel sends."""
        return StatusChange.panel_state(STATE_CHANGE_CODES[self.state], self.timestamp)

    def notification(self) -> Notification:
        """The notification `[170,[1,[state]]]` a panel sends."""
        return Notification.from_text(f"[170,[1,[{int(self.state)}]]]")

    def messages(self) -> tuple[Message, ...]:
        """Both, in the order a panel sends them."""
        return (self.status_change(), self.notification())


class _Refused(Exception):
    """The model refuses this request (`fail`)."""


def _ints(params: Sequence[Any] | None, count: int) -> list[int]:
    """The request's parameters, when they are exactly `count` non-negative integers."""
    if params is None or len(params) != count:
        raise _Refused
    values = list(params)
    if not all(type(value) is int and value >= 0 for value in values):
        raise _Refused
    return values


def _page(records: Sequence[list[Any]], params: Sequence[Any] | None) -> list[Any] | None:
    first, last = _ints(params, 2)
    if not 1 <= first <= last:
        raise _Refused
    total = len(records)
    if total == 0:
        return [[0, 0, 0]]
    if first > total:
        return None  # past the end: an empty reply
    chosen = records[first - 1 : last]
    return [[total, first, len(chosen)], *chosen]


class PanelModel:
    """One simulated panel's state and how it answers commands."""

    def __init__(
        self,
        info: HostInfo = DEMO_INFO,
        config: HostConfig = DEMO_CONFIG,
        sensors: Iterable[DeviceRecord] = DEMO_SENSORS,
        relays: Iterable[DeviceRecord] = DEMO_RELAYS,
        history: Iterable[HistoryRecord] = (),
        *,
        state: ArmState | int = ArmState.DISARMED,
        alert_flags: int = DEFAULT_ALERTS,
        phone: str = "",
        clock: Callable[[], float] = time.time,
        history_size: int = HISTORY_SIZE,
    ) -> None:
        """A panel with these records; `clock` gives Unix seconds for history records."""
        self.info = info
        self.config = config
        self.sensors = list(sensors)
        self.relays = list(relays)
        self.history = list(history)
        """Newest first."""
        self.state = state
        self.alert_flags = AlertFlags(alert_flags)
        self.phone = phone
        self.relay_states: dict[tuple[int, int], bool] = {}
        """(relay index, channel) -> last commanded on (True) or off."""
        self.quirk = NORMAL
        """How every request is answered..."""
        self.quirks: deque[Quirk] = deque()
        """...unless one is queued here: each request takes the next."""
        self.requests: list[Request] = []
        """Every request answered, in order."""
        self._clock = clock
        self._history_size = history_size
        self._changes: list[ArmChange] = []
        self._handlers: dict[int, Callable[[Sequence[Any] | None], list[Any] | None]] = {
            CommandCode.GET_HOST_STATUS: self._host_status,
            CommandCode.SET_HOST_STATUS: self._set_host_status,
            CommandCode.GET_SENSORS: lambda params: _page(
                [record.values() for record in self.sensors], params
            ),
            CommandCode.GET_HOST_CONFIG: lambda _params: self.config.values(),
            CommandCode.SET_ALERTS: self._set_alerts,
            CommandCode.GET_ALERTS: lambda _params: [int(self.alert_flags)],
            CommandCode.CONTROL_RELAY: self._control_relay,
            CommandCode.GET_RELAYS: lambda params: _page(
                [record.values() for record in self.relays], params
            ),
            CommandCode.GET_HISTORY: lambda params: _page(
                [record.values() for record in self.history], params
            ),
            CommandCode.GET_HOST_INFO: lambda _params: self.info.values(),
        }

    def answer(self, request: Request) -> Answer:
        """Act on a request; the reply payload text, and how long to wait before sending it."""
        self.requests.append(request)
        quirk = self.quirks.popleft() if self.quirks else self.quirk
        if quirk.silent:
            return Answer(None, quirk.delay)
        if quirk.refuse:
            return Answer("fail", quirk.delay)
        handler = self._handlers.get(request.code)
        try:
            if handler is None:
                raise _Refused
            data = handler(request.params)
        except _Refused:
            return Answer("fail", quirk.delay)
        code = request.code if quirk.reply_code is None else quirk.reply_code
        if data is None:
            text = "" if quirk.reply_code is None else f"[{code}]"
        else:
            text = json.dumps([code, data], separators=(",", ":"), ensure_ascii=False)
        return Answer(text, quirk.delay)

    def pop_changes(self) -> list[ArmChange]:
        """The state changes since the last call, oldest first (a panel reports each)."""
        changes, self._changes = self._changes, []
        return changes

    def _host_status(self, _params: Sequence[Any] | None) -> list[Any]:
        info = self.info
        return [int(self.state), self.phone, info.product_name, info.mcu_version, info.wifi_version]

    def _set_host_status(self, params: Sequence[Any] | None) -> None:
        (value,) = _ints(params, 1)
        if value not in STATE_CHANGE_CODES:  # 4 (alarm) is reported, never set
            raise _Refused
        state = ArmState(value)
        now = int(self._clock())
        self.state = state
        self._changes.append(ArmChange(state, now))
        if self.alert_flags & AlertFlags.ARM_DISARM:  # a panel logs only enabled alerts
            record = HistoryRecord(
                int(AlertKind.STATE_CHANGE), STATE_CHANGE_CODES[state], 0, 0, "", now
            )
            self.history.insert(0, record)
            del self.history[self._history_size :]

    def _set_alerts(self, params: Sequence[Any] | None) -> None:
        (flags,) = _ints(params, 1)
        self.alert_flags = AlertFlags(flags)

    def _control_relay(self, params: Sequence[Any] | None) -> None:
        index, action, channel = _ints(params, 3)
        relay = next((relay for relay in self.relays if relay.index == index), None)
        if relay is None or action > 1 or channel >= relay.channels:
            raise _Refused
        self.relay_states[index, channel] = action == 0
