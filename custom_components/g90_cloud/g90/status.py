"""What is known about each panel and each connection: plain records, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import NamedTuple

from .events import PanelEvent
from .messages import Message, decode
from .session import Inbound


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
        for counter in fields(self):
            name = counter.name
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
    """Totals of its closed connections (the open ones count their own)."""


class MessageRecord(NamedTuple):
    """One frame on a connection, either way, for monitors and diagnostics."""

    time: datetime
    peer: str
    guid: str | None
    origin: str
    """"panel" (the panel sent it) or "cloud" (the upstream sent it)."""
    frame: bytes
    events: tuple[PanelEvent, ...]

    @property
    def message(self) -> Message:
        """The frame decoded (on demand: recording must stay cheap)."""
        return decode(self.frame)


class Traffic(NamedTuple):
    """Frames handed on together from one connection, one way, as one panel's (or nobody's).

    A turn's share of a read from a panel (split where a hello or another frame
    needing attention comes), or a read from the cloud. Not handed on frame by
    frame: under load a read holds hundreds, and most consumers keep only the
    last few (`records(last=...)`).
    """

    time: datetime
    peer: str
    guid: str | None
    """The panel the listener took the connection for (None before its hello)."""
    origin: str
    """"panel" (the panel sent them) or "cloud" (the upstream sent them)."""
    frames: Sequence[Inbound]

    def records(self, last: int | None = None) -> list[MessageRecord]:
        """One record per frame, in order; only the `last` ones when given."""
        frames = self.frames if last is None else self.frames[max(len(self.frames) - last, 0) :]
        return [
            MessageRecord(self.time, self.peer, self.guid, self.origin, frame.frame, frame.events)
            for frame in frames
        ]
