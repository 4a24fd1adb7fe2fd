"""What a panel tells us, as one typed vocabulary of events.

Status changes (binary, kinds 2, 3, 4), notifications (JSON code 170) and
alerts in JSON form (code 208) all end up as `PanelEvent`s. Whatever cannot be
understood becomes an `unknown` event carrying the raw frame and the reason;
decoding never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
import json
from typing import Any, Final, NamedTuple

from .messages import Malformed, Message, Notification, StatusChange, Unknown
from .wire import STATUS_NAME_SIZE, STATUS_ZONE, is_identity


class EventType(StrEnum):
    """Every kind of event a panel reports."""

    ARMED_AWAY = "armed_away"
    ARMED_HOME = "armed_home"
    DISARMED = "disarmed"
    ALARM_TRIGGERED = "alarm_triggered"
    ALARM = "alarm"
    SOS = "sos"
    DOOR_OPEN = "door_open"
    DOOR_CLOSE = "door_close"
    MOTION = "motion"
    SENSOR_ACTIVITY = "sensor_activity"
    LOW_BATTERY = "low_battery"
    TAMPER = "tamper"
    REMOTE_BUTTON = "remote_button"
    RFID = "rfid"
    DOORBELL = "doorbell"
    DOOR_OPEN_WHEN_ARMING = "door_open_when_arming"
    SENSOR_ADDED = "sensor_added"
    SENSOR_CHANGED = "sensor_changed"
    FIRMWARE_UPDATING = "firmware_updating"
    AC_POWER_FAILURE = "ac_power_failure"
    AC_POWER_RESTORED = "ac_power_restored"
    PANEL_LOW_BATTERY = "panel_low_battery"
    WIFI_CONNECTED = "wifi_connected"
    WIFI_DISCONNECTED = "wifi_disconnected"
    UNKNOWN = "unknown"


class AlertKind(IntEnum):
    """First byte of a status change; first element of a 208 alert."""

    HOST_SOS = 1
    STATE_CHANGE = 2
    ALARM = 3
    SENSOR_ACTIVITY = 4


class AlertSource(IntEnum):
    """Who raised a sensor activity (kind 4) or a JSON alert."""

    PANEL = 0
    SENSOR = 1
    TAMPER = 3
    INFRARED = 8
    REMOTE = 10
    RFID = 11
    DOORBELL = 12
    FINGERPRINT = 15


class PeripheralType(IntEnum):
    """Kind of device in a zone, as an alarm (kind 3) reports it."""

    DOOR = 1
    GLASS_BREAK = 2
    GAS = 3
    SMOKE = 4
    SOS_BUTTON = 5
    VIBRATION = 6
    WATER = 7
    INFRARED = 8
    INFRARED_BEAM = 9
    REMOTE = 10
    RFID = 11
    DOORBELL = 12
    BUTTON = 13
    WATCH = 14
    FINGERPRINT = 15
    SUB_HOST = 16
    REMOTE_2_4G = 17
    GAS_VALVE = 18
    WIRED_ZONE = 126
    WIRED_DEVICE = 254
    UNKNOWN = 255


PANEL_STATE_EVENTS: Final[dict[int, EventType]] = {
    1: EventType.AC_POWER_FAILURE,
    2: EventType.AC_POWER_RESTORED,
    3: EventType.DISARMED,
    4: EventType.ARMED_AWAY,
    5: EventType.ARMED_HOME,
    6: EventType.PANEL_LOW_BATTERY,
    7: EventType.WIFI_CONNECTED,
    8: EventType.WIFI_DISCONNECTED,
}
"""Kind 2 state change codes."""

SENSOR_STATE_EVENTS: Final[dict[int, EventType]] = {
    0: EventType.DOOR_CLOSE,
    1: EventType.DOOR_OPEN,
    2: EventType.SOS,
    3: EventType.TAMPER,
    4: EventType.LOW_BATTERY,
    254: EventType.ALARM,
}
"""Alert states of sensors and most other sources."""

INFRARED_STATE_EVENTS: Final[dict[int, EventType]] = {
    0: EventType.MOTION,
    1: EventType.TAMPER,
    2: EventType.LOW_BATTERY,
}

REMOTE_BUTTONS: Final[dict[int, str]] = {0: "arm_away", 1: "arm_home", 2: "disarm", 3: "sos"}
RFID_ACTIONS: Final[dict[int, str]] = {
    0: "arm_away",
    1: "arm_home",
    2: "disarm",
    5: "low_battery",
    6: "card_0",
    7: "card_1",
    8: "card_2",
    9: "card_3",
    10: "card_4",
}

ARM_NOTIFICATION_EVENTS: Final[dict[int, EventType]] = {
    1: EventType.ARMED_AWAY,
    2: EventType.ARMED_HOME,
    3: EventType.DISARMED,
    4: EventType.ALARM_TRIGGERED,
}
"""Notification 170, kind 1 states."""

SENSOR_CHANGE_EVENTS: Final[dict[int, EventType]] = {
    1: EventType.SENSOR_ADDED,
    2: EventType.SENSOR_CHANGED,
}
"""Notification 170, kind 4 actions."""

NOTIFICATION_CODE: Final = 170
ALERT_CODE: Final = 208
_TAMPER_STATE: Final = 3
_REMOTE_TYPES: Final = frozenset({int(PeripheralType.REMOTE), int(PeripheralType.REMOTE_2_4G)})
_SOS_BUTTON: Final = int(PeripheralType.SOS_BUTTON)
_SOURCE_REMOTE: Final = int(AlertSource.REMOTE)


class PanelEvent(NamedTuple):
    """One thing a panel reported. Fields the report does not carry are None.

    A named tuple: immutable and typed like a frozen dataclass, several times
    cheaper to build (one per alert), and `_replace` gives the held events their
    panel once it says who it is. Build it by field name past `type` and `guid`.
    """

    type: EventType
    guid: str | None = None
    """The panel that reported it (from its hello, or from the alert itself)."""
    zone_index: int | None = None
    zone_name: str | None = None
    timestamp: int | None = None
    """The event time on the panel's own clock, Unix seconds (see panel_time)."""
    source: int | None = None
    """Alert source (kind 4 and JSON alerts), see AlertSource."""
    peripheral_type: int | None = None
    """Peripheral type (kind 3 alarms), see PeripheralType."""
    state: int | None = None
    """The raw alert state or state change code."""
    tamper: bool | None = None
    """For alarms: raised by a tamper switch."""
    button: str | None = None
    """For remote_button: arm_away, arm_home, disarm or sos."""
    action: str | None = None
    """For rfid: arm_away, arm_home, disarm, low_battery, card_0 ... card_4."""
    detail: str | None = None
    """For unknown events: why it was not understood, or the unknown text."""
    raw: bytes = b""
    """The whole frame the event came from."""

    @property
    def panel_time(self) -> datetime | None:
        """The event time on the panel's clock, UTC (None when not given or absurd)."""
        return _time(self.timestamp)

    def fields(self) -> dict[str, Any]:
        """The event's fields by name, without the empty ones; JSON-ready."""
        result: dict[str, Any] = {"type": self.type.value}
        for name, value in zip(self._fields[1:], self[1:], strict=True):
            if name == "timestamp":
                when = self.panel_time
                if when is not None:
                    result["panel_time"] = when.isoformat()
            elif value is not None:
                result[name] = value.hex() if isinstance(value, bytes) else value
        return result


def _time(timestamp: int | None) -> datetime | None:
    if timestamp is None or timestamp <= 0:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except OverflowError, OSError, ValueError:
        return None


def _zone_name(raw: bytes) -> str:
    """A NUL-padded UTF-8 zone name; bytes that are not UTF-8 are replaced, not fatal."""
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("utf-8", "replace")


def _unknown(raw: bytes, guid: str | None, detail: str, state: int | None = None) -> PanelEvent:
    return PanelEvent(EventType.UNKNOWN, guid, state=state, detail=detail, raw=raw)


def events_from(message: Message, raw: bytes, guid: str | None = None) -> tuple[PanelEvent, ...]:
    """The events a message carries (most carry none). Never raises."""
    read_event = PAYLOAD_EVENTS.get(type(message))
    if read_event is not None:
        return (read_event(message.payload(), raw, guid),)
    if isinstance(message, Unknown):
        command, source, destination = message.triple
        detail = f"unknown message {command:#04x} from {source:#04x} to {destination:#04x}"
        return (_unknown(raw, guid, detail),)
    if isinstance(message, Malformed):
        return (_unknown(raw, guid, message.reason),)
    return ()


# --- binary status changes --------------------------------------------------------

_KIND_STATE_CHANGE: Final = int(AlertKind.STATE_CHANGE)
_KIND_ALARM: Final = int(AlertKind.ALARM)
_KIND_ACTIVITY: Final = int(AlertKind.SENSOR_ACTIVITY)


def status_event(data: bytes, raw: bytes, guid: str | None) -> PanelEvent:
    """The event of a status change payload, read by kind; a short one as far as it goes."""
    if len(data) < STATUS_ZONE.size:
        return _short_status_change_event(data, raw, guid)
    # Kind 2 has its code where the zone is and its time at the same offset.
    kind, zone, type_or_source, state, name, timestamp = STATUS_ZONE.unpack_from(data)
    if kind == _KIND_ACTIVITY:
        return _activity_event(zone, _zone_name(name), type_or_source, state, timestamp, raw, guid)
    if kind == _KIND_ALARM:
        return _alarm_event(
            zone, _zone_name(name), type_or_source, None, state, timestamp, raw, guid
        )
    if kind == _KIND_STATE_CHANGE:
        return _state_change_event(zone, timestamp, raw, guid)
    return _unknown(raw, guid, f"status change of unknown kind {kind}")


def _short_status_change_event(data: bytes, raw: bytes, guid: str | None) -> PanelEvent:
    if not data:
        return _unknown(raw, guid, "status change with an empty payload")
    kind = data[0]
    if kind == AlertKind.STATE_CHANGE:
        if len(data) < 2:
            return _unknown(raw, guid, "panel state change without its code")
        return _state_change_event(data[1], None, raw, guid)
    if kind in (AlertKind.ALARM, AlertKind.SENSOR_ACTIVITY):
        if len(data) < 4:
            return _unknown(raw, guid, f"status change kind {kind} with {len(data)} bytes")
        zone, type_or_source, state = data[1], data[2], data[3]
        name = _zone_name(data[4 : 4 + STATUS_NAME_SIZE]) if len(data) > 4 else None
        if kind == AlertKind.ALARM:
            return _alarm_event(zone, name, type_or_source, None, state, None, raw, guid)
        return _activity_event(zone, name, type_or_source, state, None, raw, guid)
    return _unknown(raw, guid, f"status change of unknown kind {kind}")


def _state_change_event(
    code: int, timestamp: int | None, raw: bytes, guid: str | None
) -> PanelEvent:
    event_type = PANEL_STATE_EVENTS.get(code)
    if event_type is None:
        return PanelEvent(
            EventType.UNKNOWN,
            guid,
            timestamp=timestamp,
            state=code,
            detail=f"unknown panel state change code {code}",
            raw=raw,
        )
    return PanelEvent(event_type, guid, timestamp=timestamp, state=code, raw=raw)


def _alarm_event(  # noqa: PLR0917 - every field an alarm has
    zone: int,
    name: str | None,
    peripheral_type: int | None,
    source: int | None,
    state: int,
    timestamp: int | None,
    raw: bytes,
    guid: str | None,
) -> PanelEvent:
    """An alarm; SOS when raised by a remote's SOS button or an SOS button."""
    by_remote = peripheral_type in _REMOTE_TYPES or source == _SOURCE_REMOTE
    is_sos = (by_remote and state == _TAMPER_STATE) or peripheral_type == _SOS_BUTTON
    event_type = EventType.SOS if is_sos else EventType.ALARM
    tamper = False if is_sos else state == _TAMPER_STATE
    return PanelEvent(
        event_type,
        guid,
        zone_index=zone,
        zone_name=name,
        timestamp=timestamp,
        source=source,
        peripheral_type=peripheral_type,
        state=state,
        tamper=tamper,
        raw=raw,
    )


_ActivityEntry = tuple[EventType, str | None, str | None, bool | None]
"""(event type, button, action, tamper) of a sensor activity."""
_SENSOR_LIKE_SOURCES: Final = (
    AlertSource.PANEL,
    AlertSource.SENSOR,
    AlertSource.TAMPER,
    AlertSource.FINGERPRINT,
)


def _activity_entry(source: int, state: int) -> _ActivityEntry:
    """How a (source, state) pair reads; any pair, known or not."""
    if source == AlertSource.REMOTE and state in REMOTE_BUTTONS:
        return (EventType.REMOTE_BUTTON, REMOTE_BUTTONS[state], None, None)
    if source == AlertSource.RFID and state in RFID_ACTIONS:
        return (EventType.RFID, None, RFID_ACTIONS[state], None)
    if source == AlertSource.DOORBELL:
        return (EventType.DOORBELL, None, None, None)
    if source == AlertSource.INFRARED:
        event_type = INFRARED_STATE_EVENTS.get(state, EventType.SENSOR_ACTIVITY)
    elif source in (AlertSource.REMOTE, AlertSource.RFID):
        # A state nobody has described: the zone is still known to be active.
        event_type = EventType.SENSOR_ACTIVITY
    else:
        event_type = SENSOR_STATE_EVENTS.get(state, EventType.SENSOR_ACTIVITY)
    return (event_type, None, None, False if event_type is EventType.ALARM else None)


def _activity_table() -> dict[int, _ActivityEntry]:
    """Every described (source, state) pair, read once: one lookup per alert."""
    pairs = [(AlertSource.REMOTE, state) for state in REMOTE_BUTTONS]
    pairs += [(AlertSource.RFID, state) for state in RFID_ACTIONS]
    pairs += [(AlertSource.INFRARED, state) for state in INFRARED_STATE_EVENTS]
    pairs += [(AlertSource.DOORBELL, state) for state in range(256)]
    pairs += [(source, state) for source in _SENSOR_LIKE_SOURCES for state in SENSOR_STATE_EVENTS]
    return {source << 8 | state: _activity_entry(source, state) for source, state in pairs}


_ACTIVITY: Final = _activity_table()


def _activity_event(  # noqa: PLR0917 - every field an activity has
    zone: int,
    name: str | None,
    source: int,
    state: int,
    timestamp: int | None,
    raw: bytes,
    guid: str | None,
) -> PanelEvent:
    """A sensor activity, read by who raised it."""
    event_type, button, action, tamper = _ACTIVITY.get(source << 8 | state) or _activity_entry(
        source, state
    )
    return PanelEvent(
        event_type,
        guid,
        zone_index=zone,
        zone_name=name,
        timestamp=timestamp,
        source=source,
        state=state,
        tamper=tamper,
        button=button,
        action=action,
        raw=raw,
    )


# --- JSON notifications and alerts ------------------------------------------------

_JSON: Final = json.JSONDecoder()
_JSON_SPACE: Final = " \t\n\r"
"""What JSON counts as whitespace around a value."""


def notification_event(body: bytes, raw: bytes, guid: str | None) -> PanelEvent:
    """The event of a notification body (JSON, code 170 or 208).

    The body is JSON text followed by one NUL; a missing NUL is tolerated, so a
    firmware that leaves it out loses nothing.
    """
    end = body.find(b"\0")
    text = (body if end < 0 else body[:end]).decode("utf-8", "replace").strip(_JSON_SPACE)
    try:
        # raw_decode: json.loads without its per-call layers, a third of its cost here.
        value, stop = _JSON.raw_decode(text)
    except ValueError, RecursionError:
        stop = -1
    if stop != len(text):
        return _unknown(raw, guid, f"malformed JSON: {text[:200]!r}")
    if not (type(value) is list and len(value) == 2 and type(value[0]) is int):
        return _unknown(raw, guid, f"unexpected notification {_short(value)}")
    code, data = value
    if code == NOTIFICATION_CODE:
        event = _notification_170(data, raw, guid)
    elif code == ALERT_CODE:
        event = _alert_208(data, raw, guid)
    else:
        event = None
    return event or _unknown(raw, guid, f"unknown notification {_short(value)}")


def _short(value: Any) -> str:
    """A JSON value for a log line or an event detail: at most 200 characters and "..."."""
    try:
        text = _clean(json.dumps(value, ensure_ascii=False))
    except RecursionError:  # parsed, yet too deep to print back (repr would fail too)
        return f"a {type(value).__name__} nested too deeply to show"
    return text if len(text) <= 200 else text[:200] + "..."


def _clean(text: str) -> str:
    """Text that is valid Unicode (a lone surrogate, e.g. from a JSON escape, becomes "?").

    No UTF-8 writer (a log, JSON output, Home Assistant's storage) accepts one.
    """
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def _is_int(value: Any) -> bool:
    return type(value) is int


def _name(value: Any) -> str | None:
    return _clean(value) if isinstance(value, str) else None


def _guid(value: Any) -> str | None:
    """A GUID named inside an alert, if it is one (as in a hello)."""
    return value if isinstance(value, str) and is_identity(value) else None


_ZONE_NOTIFICATIONS: Final = {
    5: EventType.SENSOR_ACTIVITY,  # sensor activity, e.g. motion
    6: EventType.DOOR_OPEN_WHEN_ARMING,
}
_SENSOR_CHANGE: Final = 4


def _notification_170(data: Any, raw: bytes, guid: str | None) -> PanelEvent | None:
    """`[kind, [arguments]]`; None when it is not one of the described forms."""
    if not (type(data) is list and data and type(data[0]) is int):
        return None
    kind = data[0]
    args = data[1] if len(data) > 1 and type(data[1]) is list else []
    if kind == 1:  # arm / disarm / alarm: [1, [state]]
        state = args[0] if args else None
        event_type = ARM_NOTIFICATION_EVENTS.get(state) if type(state) is int else None
        if event_type is None:
            return None
        return PanelEvent(event_type, guid, state=state, raw=raw)
    if kind == 8:  # firmware updating
        return PanelEvent(EventType.FIRMWARE_UPDATING, guid, raw=raw)
    # The other kinds name a zone: [kind, [zone, name, ...]].
    if not (args and type(args[0]) is int):
        return None
    if kind == _SENSOR_CHANGE:  # [4, [zone, name, 1 added or 2 changed, ...]]
        change = args[2] if len(args) > 2 else None
        event_type = SENSOR_CHANGE_EVENTS.get(change) if type(change) is int else None
    else:
        event_type = _ZONE_NOTIFICATIONS.get(kind)
    if event_type is None:
        return None
    name = _name(args[1]) if len(args) > 1 else None
    return PanelEvent(event_type, guid, zone_index=args[0], zone_name=name, raw=raw)


def _alert_208(data: Any, raw: bytes, guid: str | None) -> PanelEvent | None:
    """`[kind, event_id, source, state, zone_name, guid, unix_time, reserved, other]`."""
    if not (type(data) is list and len(data) >= 4 and all(_is_int(v) for v in data[:4])):
        return None
    kind, event_id, source, state = data[:4]
    name = _name(data[4]) if len(data) > 4 else None
    alert_guid = _guid(data[5]) if len(data) > 5 else None
    timestamp = data[6] if len(data) > 6 and _is_int(data[6]) else None
    return alert_event(kind, event_id, source, state, name, timestamp, raw, guid or alert_guid)


def alert_event(  # noqa: PLR0917 - the fields of an alert, as alerts and history records list them
    kind: int,
    event_id: int,
    source: int,
    state: int,
    name: str | None,
    timestamp: int | None,
    raw: bytes,
    guid: str | None,
) -> PanelEvent | None:
    """The event of an alert given field by field (a 208 alert, a history record).

    `event_id` is the zone, or for a state change (kind 2) its code. None for
    a kind nobody has described.
    """
    if kind == AlertKind.STATE_CHANGE:
        return _state_change_event(event_id, timestamp, raw, guid)
    if kind == AlertKind.ALARM:
        return _alarm_event(event_id, name, None, source, state, timestamp, raw, guid)
    if kind == AlertKind.SENSOR_ACTIVITY:
        return _activity_event(event_id, name, source, state, timestamp, raw, guid)
    if kind == AlertKind.HOST_SOS:
        return PanelEvent(
            EventType.SOS,
            guid,
            zone_name=name or None,  # the panel's own SOS: an empty name is no name
            timestamp=timestamp,
            source=source,
            state=state,
            raw=raw,
        )
    return None


PAYLOAD_EVENTS: Final[dict[type[Message], Callable[[bytes, bytes, str | None], PanelEvent]]] = {
    StatusChange: status_event,
    Notification: notification_event,
}
"""The alerts, each read straight from its payload: (payload, frame, guid) -> its event."""
