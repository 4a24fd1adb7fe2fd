"""The commands a client sends a G90 panel, and the panel's replies, as typed values.

Sans-I/O: requests become bytes and reply text becomes typed values here; the
transports (UDP on the panel's LAN, the panel's own cloud connection) only
move the bytes. A command is a code and an optional parameter list; its body
is the compact JSON `[code,[params...]]`, or nothing. A reply's payload is
the JSON `[code,data]`, or empty for commands that return nothing.

Reading a reply never raises anything but a `ReplyError`: the panel's `fail`
or `error...` is a `CommandRefused`, a reply carrying another command's code
a `WrongReplyCode`, a reply that does not fit its layout a `MalformedReply`,
a list page that contradicts itself an `InconsistentPage` (or `ListChanged`
when the list's size changes between pages). Each carries the raw text.

A list longer than its layout is read as far as the layout goes (a firmware
may add fields; `raw` keeps them); a shorter one, or a field of the wrong
JSON type, is malformed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, IntFlag, StrEnum
from functools import partial
import json
import re
from typing import Any, ClassVar, Final

from .events import AlertKind, PanelEvent, alert_event
from .messages import CloudCommand, CommandResponse

PAGE_SIZE: Final = 10
"""Records asked for per page, as pyg90alarm asks."""


class CommandCode(IntEnum):
    """The command codes this project knows; any other code can be sent by number."""

    GET_HOST_STATUS = 100
    SET_HOST_STATUS = 101
    GET_SENSORS = 102
    GET_HOST_CONFIG = 106
    SET_ALERTS = 116
    GET_ALERTS = 117
    CONTROL_RELAY = 137
    GET_RELAYS = 138
    GET_HISTORY = 200
    GET_HOST_INFO = 206


class ArmState(IntEnum):
    """The panel's state: 101's parameter, 100's first field (4 is reported, never set)."""

    ARMED_AWAY = 1
    ARMED_HOME = 2
    DISARMED = 3
    ALARM = 4


class SensorFlag(IntFlag):
    """A sensor record's user flags (field 6)."""

    ENABLED = 1
    ARM_DELAY = 2
    DETECT_DOOR = 4
    DOOR_CHIME = 8
    INDEPENDENT_ZONE = 16
    ALERT_AWAY_AND_HOME = 32
    ALERT_AWAY_ONLY = 64
    SUBTYPE_CHANGEABLE = 512
    """Wired sensors only; not user-settable."""


class AlertMode(StrEnum):
    """When a sensor raises an alarm, read from its user flags."""

    ALWAYS = "always"
    AWAY_ONLY = "away_only"
    AWAY_AND_HOME = "away_and_home"


class AlertFlags(IntFlag):
    """The panel's alert switches (117 reads them, 116 writes them).

    Bits nobody has named (2048 and 8192 are seen set) stay in the value:
    IntFlag keeps unknown bits, and `with_flag` changes one bit by integer
    arithmetic, never through `~flag` (which would drop every unnamed bit).
    """

    AC_POWER_FAILURE = 1
    AC_POWER_RESTORED = 2
    ARM_DISARM = 4
    PANEL_LOW_BATTERY = 8
    SENSOR_LOW_BATTERY = 16
    WIFI_AVAILABLE = 32
    WIFI_UNAVAILABLE = 64
    DOOR_OPEN = 128
    DOOR_CLOSE = 256
    """Off: the panel never reports a door closing."""
    SMS_PUSH = 512

    def with_flag(self, flag: AlertFlags, on: bool) -> AlertFlags:
        """These flags with `flag` set (`on`) or cleared, every other bit kept."""
        value = int(self) | int(flag) if on else int(self) & ~int(flag)
        return AlertFlags(value)


WIRED_PROTOCOL: Final = 5
"""A device record's protocol (field 8) for wired zones."""


# --- errors ---------------------------------------------------------------------------


class CommandError(Exception):
    """A command to a panel did not succeed."""

    def __init__(self, code: int, message: str) -> None:
        """`code` is the command's."""
        super().__init__(message)
        self.code = code


class CommandTimeout(CommandError, TimeoutError):
    """No usable reply came within the attempts or the caller's time budget."""

    def __init__(self, code: int, attempts: int) -> None:
        """`attempts`: how many times the request was sent."""
        super().__init__(code, f"command {code}: no reply after {attempts} attempt(s)")
        self.attempts = attempts


class ReplyError(CommandError):
    """A reply came, and it is not a success; `raw` is its text."""

    def __init__(self, code: int, raw: str, reason: str) -> None:
        """`reason` says what is wrong, for a log line."""
        super().__init__(code, f"command {code}: {reason}: {raw[:200]!r}")
        self.raw = raw
        self.reason = reason


class CommandRefused(ReplyError):
    """The panel answered `fail` or `error...`."""


class MalformedReply(ReplyError):
    """A reply that does not fit its command's layout."""


class WrongReplyCode(ReplyError):
    """A reply carrying another command's code (`reply_code`)."""

    def __init__(self, code: int, raw: str, reply_code: int) -> None:
        """`code` is the command's, `reply_code` the one the reply carries."""
        super().__init__(code, raw, f"reply carries code {reply_code}")
        self.reply_code = reply_code


class InconsistentPage(ReplyError):
    """A list page that contradicts itself or what was asked; worth asking again."""


class ListChanged(ReplyError):
    """A list whose size changed between pages; asking the page again will not help."""


# --- requests -------------------------------------------------------------------------


def _compact(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is (the panels speak UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Request:
    """A command code and its parameters (None: the command takes none).

    An empty parameter list is sent as `[code,[]]`: only None means no body.
    """

    code: int
    params: Sequence[Any] | None = None

    def __post_init__(self) -> None:
        """Check the code and that the parameters are JSON; keep them as a tuple."""
        if type(self.code) is not int and not isinstance(self.code, IntEnum):
            raise TypeError(f"command code {self.code!r} is not an int")
        if not 0 <= self.code <= 0xFFFF:  # the cloud frame carries it in 16 bits
            raise ValueError(f"command code {self.code} out of range")
        object.__setattr__(self, "code", int(self.code))
        if self.params is None:
            return
        if not isinstance(self.params, list | tuple):
            raise TypeError(f"parameters {self.params!r} are not a list")
        object.__setattr__(self, "params", tuple(self.params))
        try:
            json.dumps(list(self.params), allow_nan=False)
        except (TypeError, ValueError, RecursionError) as err:
            raise ValueError(f"parameters are not JSON: {err}") from err

    def body(self) -> bytes:
        """`[code,[params...]]` as compact UTF-8 JSON, or b"" without parameters."""
        if self.params is None:
            return b""
        return _compact([self.code, list(self.params)]).encode("utf-8")


def request_from_value(code: int, value: Any) -> Request | None:
    """The request a parsed body stands for: "" or None (no body), or `[code,[params]]`.

    None when the body is anything else, or names another code.
    """
    try:
        if value is None or value == "":
            return Request(code)
        if (
            type(value) is list
            and len(value) == 2
            and type(value[0]) is int
            and value[0] == code
            and type(value[1]) is list
        ):
            return Request(code, value[1])
    except ValueError:  # a code out of range, or NaN among the parameters
        pass
    return None


def request_from_body(code: int, body: bytes) -> Request | None:
    """The request a body stands for (text up to the first NUL); None if it is no body."""
    text = body.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    value, problem = _loads(text) if text else (None, None)
    return None if problem else request_from_value(code, value)


# --- reply values ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ack:
    """The panel accepted a command that returns nothing (101, 116, 137)."""

    code: int
    raw: str = field(default="", compare=False, kw_only=True)
    """The reply text, usually empty."""


@dataclass(frozen=True, slots=True)
class RawReply:
    """A reply to a command this module does not read: its JSON data as parsed."""

    code: int
    data: Any
    """The second element of `[code,data]`; None when the reply has none."""
    raw: str = field(default="", compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class HostStatus:
    """Command 100: the panel's state and identity."""

    state: ArmState | int
    """An ArmState, or the number itself when it is not one."""
    phone: str
    product_name: str
    mcu_version: str
    wifi_version: str
    raw: str = field(default="", compare=False, repr=False, kw_only=True)

    LAYOUT: ClassVar[str] = "issss"

    def values(self) -> list[Any]:
        """The reply data, as the panel sends it."""
        return [int(self.state), self.phone, self.product_name, self.mcu_version, self.wifi_version]


@dataclass(frozen=True, slots=True)
class HostInfo:
    """Command 206: what the panel is, and how its radios are doing."""

    guid: str
    """Can be empty."""
    product_name: str
    local_protocol_version: str
    cloud_protocol_version: str
    mcu_version: str
    wifi_version: str
    gsm_status: int
    """0 off, 1 no SIM, 2 no signal, 3 working."""
    wifi_status: int
    """0 off, 1 not connected, 2 server not connected, 3 working."""
    gprs_active: int
    wifi_setup_progress: int
    """0 idle, 1 connecting, 2 OK, 3 wrong SSID, 4 wrong password, 5/6 errors."""
    battery_voltage: str | int
    """As sent: millivolts, as a string."""
    gsm_signal: int
    """0-100."""
    wifi_signal: int
    """0-100."""
    raw: str = field(default="", compare=False, repr=False, kw_only=True)

    LAYOUT: ClassVar[str] = "ssssssiiiivii"

    @property
    def battery_millivolts(self) -> int | None:
        """The battery voltage as an int, when it reads as one."""
        if type(self.battery_voltage) is int:
            return self.battery_voltage
        text = str(self.battery_voltage).strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None

    def values(self) -> list[Any]:
        """The reply data, as the panel sends it."""
        return [
            self.guid,
            self.product_name,
            self.local_protocol_version,
            self.cloud_protocol_version,
            self.mcu_version,
            self.wifi_version,
            self.gsm_status,
            self.wifi_status,
            self.gprs_active,
            self.wifi_setup_progress,
            self.battery_voltage,
            self.gsm_signal,
            self.wifi_signal,
        ]


@dataclass(frozen=True, slots=True)
class HostConfig:
    """Command 106: the panel's settings."""

    siren_duration: int
    """Seconds, 0-999."""
    arm_delay: int
    """Seconds."""
    alarm_delay: int
    """Entry delay, seconds."""
    backlight: int
    """Seconds."""
    alarm_volume: int
    """0 mute, 1 low, 2 high."""
    speech_volume: int
    ring_duration: int
    """Seconds."""
    speech_language: int
    key_tone_volume: int
    timezone_offset: int
    """Minutes, -720 to 720."""
    ring_volume: int | None = field(default=None, kw_only=True)
    """Only panels with a cellular module send it."""
    raw: str = field(default="", compare=False, repr=False, kw_only=True)

    LAYOUT: ClassVar[str] = "iiiiiiiiii"

    def values(self) -> list[Any]:
        """The reply data, as the panel sends it (10 or 11 integers)."""
        values = [
            self.siren_duration,
            self.arm_delay,
            self.alarm_delay,
            self.backlight,
            self.alarm_volume,
            self.speech_volume,
            self.ring_duration,
            self.speech_language,
            self.key_tone_volume,
            self.timezone_offset,
        ]
        return values if self.ring_volume is None else [*values, self.ring_volume]


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A sensor (102) or relay (138) record, every field as the panel sent it."""

    name: str
    index: int
    """The zone number, which events carry; not the record's position in the list."""
    room: int = 0
    peripheral_type: int = 0
    subtype: int = 0
    timeout: int = 0
    user_flags: int = 0
    baud_rate: int = 0
    protocol: int = 0
    """0 RF 1527, 1 RF 2262, 2 RF private, 3 RF slider, 4 WiFi, 5 wired, 6 USB."""
    reserved: int = 0
    node_count: int = 1
    mask: int = 0
    private_data: str = ""
    raw: str = field(default="", compare=False, repr=False, kw_only=True)

    LAYOUT: ClassVar[str] = "siiiiiiiiiiis"

    @property
    def flags(self) -> SensorFlag:
        """The user flags, unknown bits kept."""
        return SensorFlag(self.user_flags)

    @property
    def enabled(self) -> bool:
        """User flag 1."""
        return bool(self.user_flags & SensorFlag.ENABLED)

    @property
    def alert_mode(self) -> AlertMode:
        """Neither 32 nor 64: always; 64: away only; 32 (whatever 64 says): away and home."""
        if self.user_flags & SensorFlag.ALERT_AWAY_AND_HOME:
            return AlertMode.AWAY_AND_HOME
        if self.user_flags & SensorFlag.ALERT_AWAY_ONLY:
            return AlertMode.AWAY_ONLY
        return AlertMode.ALWAYS

    @property
    def wired(self) -> bool:
        """Protocol 5."""
        return self.protocol == WIRED_PROTOCOL

    @property
    def channels(self) -> int:
        """How many channels (entities) the device has: the node count, at least 1."""
        return max(self.node_count, 1)

    def values(self) -> list[Any]:
        """The record, as the panel sends it."""
        return [
            self.name,
            self.index,
            self.room,
            self.peripheral_type,
            self.subtype,
            self.timeout,
            self.user_flags,
            self.baud_rate,
            self.protocol,
            self.reserved,
            self.node_count,
            self.mask,
            self.private_data,
        ]


type Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """An event history record (200)."""

    kind: int
    """1 SOS on the panel, 2 panel state change, 3 alarm, 4 sensor activity."""
    event_id: int
    """For kind 2 the state-change code, otherwise the zone index."""
    source: int
    state: int
    zone_name: str
    timestamp: int
    """Unix seconds, UTC."""
    other: Scalar = ""
    raw: str = field(default="", compare=False, repr=False, kw_only=True)

    LAYOUT: ClassVar[str] = "iiiisia"

    @property
    def alert_kind(self) -> AlertKind | None:
        """The kind as the cloud protocol's status-change kind, when it is one."""
        try:
            return AlertKind(self.kind)
        except ValueError:
            return None

    @property
    def time(self) -> datetime | None:
        """The event time (None when absurd)."""
        if self.timestamp <= 0:
            return None
        try:
            return datetime.fromtimestamp(self.timestamp, UTC)
        except OverflowError, OSError, ValueError:
            return None

    def values(self) -> list[Any]:
        """The record, as the panel sends it."""
        return [
            self.kind,
            self.event_id,
            self.source,
            self.state,
            self.zone_name,
            self.timestamp,
            self.other,
        ]

    def event(self, guid: str | None) -> PanelEvent | None:
        """What the record tells, as the event the panel reported live (None: a kind unknown).

        Its `raw` is the record's JSON text: there is no frame behind it.
        """
        raw = (self.raw or _compact(self.values())).encode("utf-8")
        name = self.zone_name or None
        return alert_event(
            self.kind, self.event_id, self.source, self.state, name, self.timestamp, raw, guid
        )


@dataclass(frozen=True, slots=True)
class Page[R]:
    """One page of a list (102, 138, 200): `[[total, first, count], records...]`."""

    total: int | None
    """How many records the list has; None for an empty reply (asked past the end)."""
    first: int
    """The position of the first record here (1-based)."""
    count: int
    records: tuple[R, ...]
    raw: str = field(default="", compare=False, repr=False, kw_only=True)


type Reply = (
    HostStatus
    | HostInfo
    | HostConfig
    | AlertFlags
    | Ack
    | Page[DeviceRecord]
    | Page[HistoryRecord]
    | RawReply
)
"""Whatever `decode_reply` gives."""


# --- reading replies ------------------------------------------------------------------

_BLANK: Final = " \t\r\n\0"
"""What may surround a payload: JSON's whitespace, and a stray NUL."""
_CODE_AT_START: Final = re.compile(r"\s*\[\s*(\d{1,6})\s*[,\]]")


def is_refusal(text: str) -> bool:
    """Whether a reply payload is the panel's `fail` or `error...`."""
    stripped = text.strip(_BLANK)
    return stripped == "fail" or stripped.startswith("error")


def reply_code(text: str) -> int | None:
    """The code a reply payload starts with, read even when the rest is broken."""
    found = _CODE_AT_START.match(text)
    return int(found[1]) if found else None


def _loads(text: str) -> tuple[Any, str | None]:
    """The JSON value of a text, and a problem if it is not JSON."""
    try:
        return json.loads(text), None
    except ValueError, RecursionError:
        return None, "not JSON"


class _LayoutError(Exception):
    """Data that does not fit its layout; becomes a MalformedReply with the raw text."""


_KIND_CHECKS: Final[dict[str, tuple[str, Callable[[Any], bool]]]] = {
    "i": ("an integer", lambda v: type(v) is int),
    "s": ("a string", lambda v: type(v) is str),
    "v": ("a string or an integer", lambda v: type(v) in {str, int}),
    "a": ("a scalar", lambda v: v is None or type(v) in {str, int, float, bool}),
}


def _short(value: Any) -> str:
    """A JSON value for an error message, at most 60 characters."""
    if type(value) is list:
        text = (
            _compact(value) if len(value) <= 3 and all(type(v) is not list for v in value) else ""
        )
        text = text or f"a list of {len(value)}"
    elif type(value) is dict:
        text = f"an object of {len(value)}"
    else:
        text = _compact(value)  # a scalar: always prints
    return text if len(text) <= 60 else text[:57] + "..."


def _checked(data: Any, layout: str, what: str, optional: int = 0) -> list[Any]:
    """The first fields of `data`, each checked against `layout` (one letter a field).

    The last `optional` fields may be missing; fields past the layout are ignored.
    """
    if type(data) is not list:
        raise _LayoutError(f"{what} is {_short(data)}, not a list")
    needed = len(layout) - optional
    if len(data) < needed:
        raise _LayoutError(f"{what} has {len(data)} fields, expected {needed}")
    for position, (letter, value) in enumerate(zip(layout, data, strict=False)):
        expected, check = _KIND_CHECKS[letter]
        if not check(value):
            raise _LayoutError(f"{what} field {position} is {_short(value)}, not {expected}")
    return data[: len(layout)]


def _record_raw(data: list[Any]) -> str:
    """The record's compact JSON; "" if an extra field is nested too deep to print back."""
    try:
        return _compact(data)
    except RecursionError:  # pragma: no cover - json prints as deep as it parses, so far
        return ""


def _reply_data(code: int, text: str) -> Any:
    """The data of a reply `[code,data]`; None for an empty reply, `[code]` or `[code,null]`."""
    stripped = text.strip(_BLANK)
    if is_refusal(stripped):
        raise CommandRefused(code, text, "the panel refused")
    if not stripped:
        return None
    value, problem = _loads(stripped)
    if problem is not None:
        raise MalformedReply(code, text, problem)
    if not (type(value) is list and value and type(value[0]) is int):
        raise MalformedReply(code, text, "not [code, data]")
    if value[0] != code:
        raise WrongReplyCode(code, text, value[0])
    return value[1] if len(value) > 1 else None


def _read_host_status(data: Any, raw: str) -> HostStatus:
    state, phone, product, mcu, wifi = _checked(data, HostStatus.LAYOUT, "host status")
    with contextlib.suppress(ValueError):  # a state nobody has described stays a number
        state = ArmState(state)
    return HostStatus(state, phone, product, mcu, wifi, raw=raw)


def _read_host_info(data: Any, raw: str) -> HostInfo:
    return HostInfo(*_checked(data, HostInfo.LAYOUT, "host info"), raw=raw)


def _read_host_config(data: Any, raw: str) -> HostConfig:
    values = _checked(data, HostConfig.LAYOUT + "i", "host config", optional=1)
    ring_volume = values[10] if len(values) > 10 else None
    return HostConfig(*values[:10], ring_volume=ring_volume, raw=raw)


def _read_alert_flags(data: Any, raw: str) -> AlertFlags:
    (flags,) = _checked(data, "i", "alert flags")
    if flags < 0:
        raise _LayoutError(f"alert flags {flags} are negative")
    return AlertFlags(flags)


def _read_device(data: Any, position: int) -> DeviceRecord:
    values = _checked(data, DeviceRecord.LAYOUT, f"record {position}")
    return DeviceRecord(*values, raw=_record_raw(data))


def _read_history(data: Any, position: int) -> HistoryRecord:
    values = _checked(data, HistoryRecord.LAYOUT, f"record {position}")
    return HistoryRecord(*values, raw=_record_raw(data))


def _read_page[R](code: int, read_record: Callable[[Any, int], R], data: Any, raw: str) -> Page[R]:
    if data is None:
        return Page(None, 0, 0, (), raw=raw)
    if type(data) is not list or not data:
        raise _LayoutError("page is not [[total, first, count], records...]")
    total, first, count = _checked(data[0], "iii", "page header")
    if min(total, first, count) < 0:
        raise _LayoutError(f"page header {_short(data[0])} has a negative number")
    records = tuple(read_record(item, position) for position, item in enumerate(data[1:], start=1))
    if count != len(records):
        raise InconsistentPage(
            code, raw, f"page header counts {count} records, the page holds {len(records)}"
        )
    return Page(total, first, count, records, raw=raw)


def _decoder[T](code: int, read: Callable[[Any, str], T]) -> Callable[[str], T]:
    """A reply decoder: checks the envelope, then reads the data with `read`."""

    def decode(text: str) -> T:
        data = _reply_data(code, text)
        try:
            return read(data, text)
        except _LayoutError as err:
            raise MalformedReply(code, text, str(err)) from None

    return decode


def _with_data[T](read: Callable[[Any, str], T]) -> Callable[[Any, str], T]:
    """`read`, refusing a reply without data."""

    def checked(data: Any, raw: str) -> T:
        if data is None:
            raise _LayoutError("no data")
        return read(data, raw)

    return checked


def _ack_reader(code: int) -> Callable[[Any, str], Ack]:
    # Commands that return nothing: whatever data came is not depended on.
    return lambda _data, raw: Ack(code, raw=raw)


def _raw_reader(code: int) -> Callable[[Any, str], RawReply]:
    return lambda data, raw: RawReply(code, data, raw=raw)


decode_host_status: Final = _decoder(CommandCode.GET_HOST_STATUS, _with_data(_read_host_status))
decode_host_info: Final = _decoder(CommandCode.GET_HOST_INFO, _with_data(_read_host_info))
decode_host_config: Final = _decoder(CommandCode.GET_HOST_CONFIG, _with_data(_read_host_config))
decode_alert_flags: Final = _decoder(CommandCode.GET_ALERTS, _with_data(_read_alert_flags))
decode_sensor_page: Final = _decoder(
    CommandCode.GET_SENSORS, partial(_read_page, CommandCode.GET_SENSORS, _read_device)
)
decode_relay_page: Final = _decoder(
    CommandCode.GET_RELAYS, partial(_read_page, CommandCode.GET_RELAYS, _read_device)
)
decode_history_page: Final = _decoder(
    CommandCode.GET_HISTORY, partial(_read_page, CommandCode.GET_HISTORY, _read_history)
)


def decode_ack(code: int, text: str) -> Ack:
    """The reply to a command that returns nothing: empty, or `[code...]`."""
    return _decoder(code, _ack_reader(code))(text)


def decode_raw(code: int, text: str) -> RawReply:
    """Any reply `[code,data]`, its data as parsed JSON."""
    return _decoder(code, _raw_reader(code))(text)


_DECODERS: Final[dict[int, Callable[[str], Reply]]] = {
    CommandCode.GET_HOST_STATUS: decode_host_status,
    CommandCode.SET_HOST_STATUS: partial(decode_ack, CommandCode.SET_HOST_STATUS),
    CommandCode.GET_SENSORS: decode_sensor_page,
    CommandCode.GET_HOST_CONFIG: decode_host_config,
    CommandCode.SET_ALERTS: partial(decode_ack, CommandCode.SET_ALERTS),
    CommandCode.GET_ALERTS: decode_alert_flags,
    CommandCode.CONTROL_RELAY: partial(decode_ack, CommandCode.CONTROL_RELAY),
    CommandCode.GET_RELAYS: decode_relay_page,
    CommandCode.GET_HISTORY: decode_history_page,
    CommandCode.GET_HOST_INFO: decode_host_info,
}


def decode_reply(code: int, text: str) -> Reply:
    """The typed value of the reply payload `text` to command `code`.

    Raises only ReplyError (see the module's docstring); a code this module
    does not read gives a RawReply.
    """
    decode = _DECODERS.get(code)
    return decode(text) if decode is not None else decode_raw(code, text)


# --- commands: a request and how to read its reply -------------------------------------


@dataclass(frozen=True, slots=True)
class Command[T]:
    """A request, and the decoder that turns its reply text into a T."""

    request: Request
    decode: Callable[[str], T]


def get_host_status() -> Command[HostStatus]:
    """100: the panel's state, phone, product and versions."""
    return Command(Request(CommandCode.GET_HOST_STATUS), decode_host_status)


def set_host_status(state: ArmState | int) -> Command[Ack]:
    """101: arm away (1), arm home (2) or disarm (3)."""
    if state not in (ArmState.ARMED_AWAY, ArmState.ARMED_HOME, ArmState.DISARMED):
        raise ValueError(f"a panel can be set to states 1, 2 or 3, not {state}")
    code = CommandCode.SET_HOST_STATUS
    return Command(Request(code, [int(state)]), partial(decode_ack, code))


def arm_away() -> Command[Ack]:
    """101 `[1]`."""
    return set_host_status(ArmState.ARMED_AWAY)


def arm_home() -> Command[Ack]:
    """101 `[2]`."""
    return set_host_status(ArmState.ARMED_HOME)


def disarm() -> Command[Ack]:
    """101 `[3]`."""
    return set_host_status(ArmState.DISARMED)


def get_host_config() -> Command[HostConfig]:
    """106: the panel's settings."""
    return Command(Request(CommandCode.GET_HOST_CONFIG), decode_host_config)


def get_alert_flags() -> Command[AlertFlags]:
    """117: the alert switches."""
    return Command(Request(CommandCode.GET_ALERTS), decode_alert_flags)


def set_alert_flags(flags: int) -> Command[Ack]:
    """116: write the alert switches (read them first: keep the bits you do not change)."""
    if type(flags) is not int and not isinstance(flags, IntFlag):
        raise TypeError(f"alert flags {flags!r} are not an int")
    if not 0 <= flags < 2**31:
        raise ValueError(f"alert flags {flags} out of range")
    code = CommandCode.SET_ALERTS
    return Command(Request(code, [int(flags)]), partial(decode_ack, code))


def switch_relay(index: int, on: bool, channel: int = 0) -> Command[Ack]:
    """137 `[index, 0 on | 1 off, channel]`; channel is 0-based."""
    if index < 0 or channel < 0:
        raise ValueError(f"relay {index} channel {channel}: negative")
    code = CommandCode.CONTROL_RELAY
    return Command(Request(code, [index, 0 if on else 1, channel]), partial(decode_ack, code))


def get_host_info() -> Command[HostInfo]:
    """206: GUID, product, versions, radios, battery."""
    return Command(Request(CommandCode.GET_HOST_INFO), decode_host_info)


def raw_command(code: int, params: Sequence[Any] | None = None) -> Command[Reply]:
    """Any command by number, parameters as JSON; the reply as decode_reply reads it."""
    return Command(Request(code, params), partial(decode_reply, code))


# --- paged lists ----------------------------------------------------------------------


class Pager[R]:
    """Fetches a paged list (102, 138, 200), sans-I/O: requests out, reply text in.

    `next_request()` gives the request for the next page (`[1,10]`, then from
    the position after the last record received), `feed(text)` takes that
    page's reply. A reply that contradicts itself or the pages before raises a
    ReplyError and leaves the pager as it was, so the page can be asked again.
    The pager is done after an empty page, once it has `total` records, or
    once it has `limit` records.
    """

    def __init__(
        self,
        code: int,
        decode: Callable[[str], Page[R]],
        *,
        page_size: int = PAGE_SIZE,
        limit: int | None = None,
    ) -> None:
        """`decode` reads one page of command `code`; `limit` caps the records fetched."""
        if page_size < 1 or (limit is not None and limit < 1):
            raise ValueError("page size and limit must be positive")
        self.code = code
        self._decode = decode
        self._page_size = page_size
        self._limit = limit
        self._records: list[R] = []
        self._total: int | None = None
        self._done = False

    @property
    def done(self) -> bool:
        """Whether the list is complete (no more requests)."""
        return self._done

    @property
    def records(self) -> tuple[R, ...]:
        """The records received so far, in list order."""
        return tuple(self._records)

    @property
    def total(self) -> int | None:
        """The list's size as the panel announced it (None before the first page)."""
        return self._total

    def _next_range(self) -> tuple[int, int]:
        """The positions to ask for next: from the one after the last record received."""
        first = len(self._records) + 1
        last = first + self._page_size - 1
        return first, last if self._limit is None else min(last, self._limit)

    def next_request(self) -> Request | None:
        """The request for the next page; the same one until its reply is fed; None when done."""
        return None if self._done else Request(self.code, self._next_range())

    def feed(self, text: str) -> Page[R]:
        """Take the reply payload to `next_request()`; raises ReplyError, changing nothing."""
        if self._done:
            raise RuntimeError("the list is complete: no page was asked for")
        page = self._decode(text)
        first, last = self._next_range()
        asked = last - first + 1
        received = len(page.records)
        if received > asked:
            raise InconsistentPage(self.code, text, f"{received} records for {asked} asked")
        if page.total is not None:
            if self._total is not None and page.total != self._total:
                raise ListChanged(
                    self.code, text, f"the list had {self._total} records, now {page.total}"
                )
            if len(self._records) + received > page.total:
                raise InconsistentPage(
                    self.code, text, f"more records than the total of {page.total}"
                )
            self._total = page.total
        self._records.extend(page.records)
        have = len(self._records)
        self._done = (
            not received
            or (self._total is not None and have >= self._total)
            or (self._limit is not None and have >= self._limit)
        )
        return page


def sensor_pager(*, page_size: int = PAGE_SIZE, limit: int | None = None) -> Pager[DeviceRecord]:
    """102: the sensor list."""
    return Pager(CommandCode.GET_SENSORS, decode_sensor_page, page_size=page_size, limit=limit)


def relay_pager(*, page_size: int = PAGE_SIZE, limit: int | None = None) -> Pager[DeviceRecord]:
    """138: the relay list."""
    return Pager(CommandCode.GET_RELAYS, decode_relay_page, page_size=page_size, limit=limit)


def history_pager(*, page_size: int = PAGE_SIZE, limit: int | None = None) -> Pager[HistoryRecord]:
    """200: the event history (record 1 is believed the newest; sort by time)."""
    return Pager(CommandCode.GET_HISTORY, decode_history_page, page_size=page_size, limit=limit)


# --- the cloud connection's framing ----------------------------------------------------


def command_frame(sequence: int, request: Request) -> bytes:
    """A command down the panel's cloud connection (cmd 0x29): header, `<HHHi`, body, NUL."""
    if not 0 <= sequence <= 0xFFFF:
        raise ValueError(f"sequence {sequence} out of range")
    return CloudCommand(request.code, body=request.body() + b"\0", sequence=sequence).encode()


def request_from_command(command: CloudCommand) -> Request | None:
    """The request a cloud command carries (None when its body is not a command body)."""
    return request_from_body(command.code, command.body)


def response_text(response: CommandResponse) -> str:
    """A command response's JSON text: up to its NUL, bad UTF-8 replaced."""
    return response.body.split(b"\0", 1)[0].decode("utf-8", "replace")
