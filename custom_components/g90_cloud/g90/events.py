"""What a panel tells us, as one typed vocabulary of events.

Status changes (binary, kinds 2, 3, 4), notifications (JSON code 170) and
alerts in JSON form (code 208) all end up as `PanelEvent`s. Whatever cannot be
understood becomes an `unknown` event carrying the raw frame and the reason;
decoding never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
import json
from typing import Any, Final

from .messages import (
    STATUS_NAME_SIZE,
    Malformed,
    Message,
    Notification,
    StatusChange,
    Unknown,
)


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
_REMOTE_TYPES: Final = frozenset({PeripheralType.REMOTE, PeripheralType.REMOTE_2_4G})


@dataclass(frozen=True, slots=True, kw_only=True)
class PanelEvent:
    """One thing a panel reported. Fields the report does not carry are None."""

    type: EventType
    guid: str | None = None
    """The panel that reported it (from its hello, or from the alert itself)."""
    zone_index: int | None = None
    zone_name: str | None = None
    panel_time: datetime | None = None
    """The event time on the panel's own clock, UTC."""
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

    def fields(self) -> dict[str, Any]:
        """The event's fields by name, without the empty ones; JSON-ready."""
        result: dict[str, Any] = {"type": self.type.value}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, bytes):
                value = value.hex()
            result[name] = value
        return result


_FIELD_NAMES: Final = tuple(
    name for name in PanelEvent.__dataclass_fields__ if name not in {"type"}
)


def _time(timestamp: int) -> datetime | None:
    if timestamp <= 0:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except OverflowError, OSError, ValueError:
        return None


def _zone_name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _unknown(raw: bytes, guid: str | None, detail: str) -> PanelEvent:
    return PanelEvent(type=EventType.UNKNOWN, guid=guid, detail=detail, raw=raw)


def events_from(message: Message, raw: bytes, guid: str | None = None) -> tuple[PanelEvent, ...]:
    """The events a message carries (most carry none). Never raises."""
    if isinstance(message, StatusChange):
        return (_status_change_event(message.data, raw, guid),)
    if isinstance(message, Notification):
        return (_notification_event(message.body, raw, guid),)
    if isinstance(message, Unknown):
        command, source, destination = message.triple
        detail = f"unknown message {command:#04x} from {source:#04x} to {destination:#04x}"
        return (_unknown(raw, guid, detail),)
    if isinstance(message, Malformed):
        return (_unknown(raw, guid, message.reason),)
    return ()


# --- binary status changes --------------------------------------------------------


def _status_change_event(data: bytes, raw: bytes, guid: str | None) -> PanelEvent:
    """Read a status change field by field, as far as its bytes go."""
    if not data:
        return _unknown(raw, guid, "status change with an empty payload")
    kind = data[0]
    if kind == AlertKind.STATE_CHANGE:
        if len(data) < 2:
            return _unknown(raw, guid, "panel state change without its code")
        code = data[1]
        timestamp = int.from_bytes(data[36:40], "little", signed=True) if len(data) >= 40 else 0
        return _state_change_event(code, _time(timestamp), raw, guid)
    if kind in (AlertKind.ALARM, AlertKind.SENSOR_ACTIVITY):
        if len(data) < 4:
            return _unknown(raw, guid, f"status change kind {kind} with {len(data)} bytes")
        zone, type_or_source, state = data[1], data[2], data[3]
        name = _zone_name(data[4 : 4 + STATUS_NAME_SIZE]) if len(data) > 4 else None
        end = 4 + STATUS_NAME_SIZE
        timestamp = int.from_bytes(data[end : end + 4], "little", signed=True)
        when = _time(timestamp) if len(data) >= end + 4 else None
        if kind == AlertKind.ALARM:
            return _alarm_event(
                zone=zone,
                name=name,
                peripheral_type=type_or_source,
                source=None,
                state=state,
                when=when,
                raw=raw,
                guid=guid,
            )
        return _activity_event(
            zone=zone, name=name, source=type_or_source, state=state, when=when, raw=raw, guid=guid
        )
    return _unknown(raw, guid, f"status change of unknown kind {kind}")


def _state_change_event(
    code: int, when: datetime | None, raw: bytes, guid: str | None
) -> PanelEvent:
    event_type = PANEL_STATE_EVENTS.get(code)
    if event_type is None:
        return PanelEvent(
            type=EventType.UNKNOWN,
            guid=guid,
            state=code,
            panel_time=when,
            detail=f"unknown panel state change code {code}",
            raw=raw,
        )
    return PanelEvent(type=event_type, guid=guid, state=code, panel_time=when, raw=raw)


def _alarm_event(
    *,
    zone: int,
    name: str | None,
    peripheral_type: int | None,
    source: int | None,
    state: int,
    when: datetime | None,
    raw: bytes,
    guid: str | None,
) -> PanelEvent:
    """An alarm; SOS when raised by a remote's SOS button or an SOS button."""
    by_remote = peripheral_type in _REMOTE_TYPES or source == AlertSource.REMOTE
    is_sos = (by_remote and state == _TAMPER_STATE) or peripheral_type == PeripheralType.SOS_BUTTON
    return PanelEvent(
        type=EventType.SOS if is_sos else EventType.ALARM,
        guid=guid,
        zone_index=zone,
        zone_name=name,
        panel_time=when,
        source=source,
        peripheral_type=peripheral_type,
        state=state,
        tamper=False if is_sos else state == _TAMPER_STATE,
        raw=raw,
    )


def _activity_event(
    *,
    zone: int,
    name: str | None,
    source: int,
    state: int,
    when: datetime | None,
    raw: bytes,
    guid: str | None,
) -> PanelEvent:
    """A sensor activity, read by who raised it."""
    button = action = None
    event_type: EventType | None
    if source == AlertSource.REMOTE:
        button = REMOTE_BUTTONS.get(state)
        event_type = EventType.REMOTE_BUTTON if button else None
    elif source == AlertSource.RFID:
        action = RFID_ACTIONS.get(state)
        event_type = EventType.RFID if action else None
    elif source == AlertSource.DOORBELL:
        event_type = EventType.DOORBELL
    elif source == AlertSource.INFRARED:
        event_type = INFRARED_STATE_EVENTS.get(state)
    else:
        event_type = SENSOR_STATE_EVENTS.get(state)
    return PanelEvent(
        # A state nobody has described: the zone is still known to be active.
        type=event_type or EventType.SENSOR_ACTIVITY,
        guid=guid,
        zone_index=zone,
        zone_name=name,
        panel_time=when,
        source=source,
        state=state,
        tamper=False if event_type is EventType.ALARM else None,
        button=button,
        action=action,
        raw=raw,
    )


# --- JSON notifications and alerts ------------------------------------------------


def _parse_json(body: bytes) -> tuple[Any, str | None]:
    """The JSON value of a body (text then one NUL) and a problem, if any."""
    end = body.find(b"\0")
    if end < 0:
        return None, f"JSON without its NUL terminator: {body[:200]!r}"
    text = body[:end].decode("utf-8", "replace")
    try:
        return json.loads(text), None
    except ValueError, RecursionError:
        return None, f"malformed JSON: {text[:200]!r}"


def _notification_event(body: bytes, raw: bytes, guid: str | None) -> PanelEvent:
    value, problem = _parse_json(body)
    if problem is not None:
        return _unknown(raw, guid, problem)
    if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is int):
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
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "..."


def _is_int(value: Any) -> bool:
    return type(value) is int


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _notification_170(data: Any, raw: bytes, guid: str | None) -> PanelEvent | None:
    if not (isinstance(data, list) and data and _is_int(data[0])):
        return None
    kind = data[0]
    args = data[1] if len(data) > 1 and isinstance(data[1], list) else []
    if kind == 1:  # arm / disarm / alarm
        if args and _is_int(args[0]) and args[0] in ARM_NOTIFICATION_EVENTS:
            return PanelEvent(
                type=ARM_NOTIFICATION_EVENTS[args[0]], guid=guid, state=args[0], raw=raw
            )
        return None
    if kind == 8:  # firmware updating
        return PanelEvent(type=EventType.FIRMWARE_UPDATING, guid=guid, raw=raw)
    if not (args and _is_int(args[0])):
        return None
    zone, name = args[0], _name(args[1]) if len(args) > 1 else None
    if kind == 4:  # sensor added (1) or changed (2)
        change = args[2] if len(args) > 2 and _is_int(args[2]) else None
        event_type = SENSOR_CHANGE_EVENTS.get(change) if change is not None else None
        if event_type is None:
            return None
        return PanelEvent(type=event_type, guid=guid, zone_index=zone, zone_name=name, raw=raw)
    if kind == 5:  # sensor activity, e.g. motion
        return PanelEvent(
            type=EventType.SENSOR_ACTIVITY, guid=guid, zone_index=zone, zone_name=name, raw=raw
        )
    if kind == 6:  # door open while arming
        return PanelEvent(
            type=EventType.DOOR_OPEN_WHEN_ARMING,
            guid=guid,
            zone_index=zone,
            zone_name=name,
            raw=raw,
        )
    return None


def _alert_208(data: Any, raw: bytes, guid: str | None) -> PanelEvent | None:
    """`[kind, event_id, source, state, zone_name, guid, unix_time, reserved, other]`."""
    if not (isinstance(data, list) and len(data) >= 4 and all(_is_int(v) for v in data[:4])):
        return None
    kind, event_id, source, state = data[:4]
    name = _name(data[4]) if len(data) > 4 else None
    alert_guid = _name(data[5]) if len(data) > 5 else None
    when = _time(data[6]) if len(data) > 6 and _is_int(data[6]) else None
    guid = guid or alert_guid or None
    if kind == AlertKind.STATE_CHANGE:
        return _state_change_event(event_id, when, raw, guid)
    if kind == AlertKind.ALARM:
        return _alarm_event(
            zone=event_id,
            name=name,
            peripheral_type=None,
            source=source,
            state=state,
            when=when,
            raw=raw,
            guid=guid,
        )
    if kind == AlertKind.SENSOR_ACTIVITY:
        return _activity_event(
            zone=event_id, name=name, source=source, state=state, when=when, raw=raw, guid=guid
        )
    if kind == AlertKind.HOST_SOS:
        return PanelEvent(
            type=EventType.SOS, guid=guid, source=source, state=state, panel_time=when, raw=raw
        )
    return None
