"""What the listener knows about each panel and each connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Counters:
    """Running totals, for diagnostics."""

    frames: int = 0
    replies: int = 0
    events: int = 0
    unknown: int = 0
    errors: int = 0
    upstream_frames: int = 0
    upstream_reconnects: int = 0

    def add(self, other: Counters) -> None:
        """Fold another set of totals into this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class PanelStatus:
    """One panel, known by its GUID; kept across its reconnections."""

    guid: str
    connected: bool = False
    peer: str | None = None
    firmware: str | None = None
    connections: int = 0
    """Connections currently open from this GUID (a panel reconnecting may briefly have two)."""
    last_device_packet: datetime | None = None
    last_upstream_packet: datetime | None = None
    upstream_connected: bool | None = None
    """None when chaining is off."""
    counters: Counters = field(default_factory=Counters)
