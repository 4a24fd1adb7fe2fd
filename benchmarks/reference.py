"""What both benchmarks need to run pyg90alarm 3.1.2, the reference, and see its work."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pyg90alarm.notifications.protocol import G90NotificationProtocol

CALLBACKS = (
    "on_armdisarm",
    "on_sensor_activity",
    "on_door_open_when_arming",
    "on_door_open_close",
    "on_low_battery",
    "on_alarm",
    "on_remote_button_press",
    "on_sos",
    "on_sensor_change",
    "on_rfid_keypad",
)
"""pyg90alarm's event callbacks: every decoded event invokes one."""


class CountingProtocol(G90NotificationProtocol):
    """Counts each callback pyg90alarm's handlers invoke (proof that it did the work)."""

    def __init__(self, calls: Counter[str]) -> None:
        self.calls = calls


def _counter(name: str) -> Any:
    async def count(self: CountingProtocol, *args: Any) -> None:
        self.calls[name] += 1

    count.__name__ = name
    return count


for _name in CALLBACKS:
    setattr(CountingProtocol, _name, _counter(_name))
