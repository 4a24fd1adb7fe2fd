"""The G90 cloud protocol: no Home Assistant import anywhere below this package.

Sans-I/O at the core (bytes in; messages, events, reply bytes and command
results out), asyncio only in `aio`. What other code needs is exported here:
the listener and its settings, what it reports (events, panel status, frame
records), the command vocabulary, and the LAN client.
"""

from .aio.channel import PanelDisconnected, PanelNotConnected
from .aio.local import LocalClient, point_panel
from .aio.server import Listener, ListenerBindError, ListenerConfig, port_available
from .commands import (
    Ack,
    AlertFlags,
    ArmState,
    Command,
    CommandError,
    CommandRefused,
    CommandTimeout,
    DeviceRecord,
    HistoryRecord,
    HostConfig,
    HostInfo,
    HostStatus,
    Pager,
    ReplyError,
)
from .events import AlertSource, EventType, PanelEvent, PeripheralType
from .status import Counters, MessageRecord, PanelStatus, Traffic
from .wire import ANY_IPV4, DEFAULT_PORT, HEARTBEAT_SECONDS, VENDOR_CLOUD_IP

__all__ = [
    "ANY_IPV4",
    "DEFAULT_PORT",
    "HEARTBEAT_SECONDS",
    "VENDOR_CLOUD_IP",
    "Ack",
    "AlertFlags",
    "AlertSource",
    "ArmState",
    "Command",
    "CommandError",
    "CommandRefused",
    "CommandTimeout",
    "Counters",
    "DeviceRecord",
    "EventType",
    "HistoryRecord",
    "HostConfig",
    "HostInfo",
    "HostStatus",
    "Listener",
    "ListenerBindError",
    "ListenerConfig",
    "LocalClient",
    "MessageRecord",
    "Pager",
    "PanelDisconnected",
    "PanelEvent",
    "PanelNotConnected",
    "PanelStatus",
    "PeripheralType",
    "ReplyError",
    "Traffic",
    "point_panel",
    "port_available",
]
