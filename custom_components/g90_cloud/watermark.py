"""How far Home Assistant has followed a panel's events, on the panel's own clock.

Plain data and rules, no Home Assistant wiring. A panel keeps its last events
(about 50) and hands them out as its history (command 200); what it reported
while Home Assistant was away is there, and nowhere else. To replay exactly
that, Home Assistant keeps per panel:

- the watermark: the panel time of the last event it processed. Panel times
  are compared with panel times only, so a panel whose clock is wrong (the
  year 2000, hours off) is followed as well as one whose clock is right;
- what it processed lately, each event by its panel time and content: a
  history record that is one of them is not replayed (panels stamp whole
  seconds, and a record may carry the second after its live report's);
- the panel's clock offset, learned from the time its live reports carry and
  the time they arrive: for the few decisions that need the true time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
import statistics
from typing import Any, Final

from .g90.commands import HistoryRecord
from .g90.events import EventType, PanelEvent

HISTORY_FULL: Final = 50
"""Records a panel keeps (about): a history this long may have dropped older events."""
SAME_EVENT_WITHIN: Final = 1
"""Seconds between two reports of one event (its live report and its history record)."""
CLOCK_SLACK: Final = 600
"""Seconds a right clock may be ahead of Home Assistant's before its records are doubted."""
SEEN_KEPT: Final = 64
"""Processed events remembered: more than a history holds."""
CLOCK_SAMPLES: Final = 9
"""Live reports the clock offset is the median of (one late report does not move it)."""

type Seen = tuple[int, str, int | None, int | None]
"""An event as a history record would show it: panel time, kind, zone (or code), state."""


def seen(event: PanelEvent) -> Seen | None:
    """What identifies `event` among a panel's records (None: it carries no panel time).

    An alarm and an SOS are one kind: a record reads an SOS button's alarm as
    an alarm where the live report said SOS.
    """
    if event.timestamp is None or event.panel_time is None:  # none, or absurd
        return None
    kind = "alarm" if event.type in (EventType.ALARM, EventType.SOS) else event.type.value
    return (event.timestamp, kind, event.zone_index, event.state)


def _find(pool: list[Seen], fingerprint: Seen) -> int | None:
    """Where in `pool` the same event is (each entry answers for one record)."""
    return next(
        (
            index
            for index, one in enumerate(pool)
            if one[1:] == fingerprint[1:] and abs(one[0] - fingerprint[0]) <= SAME_EVENT_WITHIN
        ),
        None,
    )


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What a panel's history holds that Home Assistant has not processed."""

    missed: list[PanelEvent]
    """To replay, oldest first."""
    newest: int | None
    """The panel time of the history's newest record (None: an empty history)."""
    last: list[Seen] = field(default_factory=list)
    """The records within SAME_EVENT_WITHIN of the newest: processed now, whatever became
    of them (replayed, matched, or before the panel was first seen)."""
    gap: bool = False
    """The history is full and all of it is newer than the watermark: older events are lost."""
    doubted: bool = False
    """Its records are from the future of a panel whose clock is not known: none replayed."""


@dataclass(slots=True)
class Watermark:
    """What Home Assistant has processed of one panel's events; persisted with the panel."""

    time: int | None = None
    """The panel time of the last event processed (None: not known yet)."""
    estimated: bool = False
    """`time` is Home Assistant's clock when the panel was first seen, not a panel time."""
    catching_up: bool = False
    """A catch-up is due (the panel connected): `time` stays where it was until it is done."""
    recent: deque[Seen] = field(default_factory=lambda: deque(maxlen=SEEN_KEPT))
    during: deque[Seen] = field(default_factory=lambda: deque(maxlen=SEEN_KEPT))
    """Live events while a catch-up is due, apart: however many come (a busy panel whose
    history read must wait), they do not push out of `recent` what came before."""
    samples: deque[int] = field(default_factory=lambda: deque(maxlen=CLOCK_SAMPLES))
    """Panel time minus arrival time of its latest live reports, in seconds."""

    @property
    def clock_offset(self) -> int | None:
        """Seconds the panel's clock is ahead of Home Assistant's (behind: negative)."""
        return round(statistics.median(self.samples)) if self.samples else None

    def first_seen(self, now: float) -> None:
        """A panel never seen before: its events so far are not Home Assistant's to replay."""
        self.time = int(now) + (self.clock_offset or 0)
        self.estimated = True

    def live(self, event: PanelEvent, arrived: float) -> None:
        """An event the panel reported live, processed at `arrived` (Unix seconds)."""
        fingerprint = seen(event)
        if fingerprint is None:  # no panel time (a notification): no record to match
            return
        self.samples.append(fingerprint[0] - int(arrived))
        if self.catching_up:
            self.during.append(fingerprint)
        else:
            self.recent.append(fingerprint)
            # The panel's clock as it is now, even if it jumped back.
            self.time = fingerprint[0]
            self.estimated = False

    def begin(self) -> None:
        """The panel connected: what it reported meanwhile is to be caught up."""
        self.catching_up = True

    def plan(self, records: Sequence[HistoryRecord], guid: str, now: float) -> CatchUp:
        """Which of the history's records were missed; changes nothing."""
        # Records come newest first: reversed, a stable sort keeps one second's in order.
        events = [
            event
            for record in reversed(_once_each(records))
            if (event := record.event(guid)) is not None and seen(event) is not None
        ]
        events.sort(key=lambda event: event.timestamp or 0)
        fingerprints = [fingerprint for event in events if (fingerprint := seen(event))]
        if not fingerprints:
            return CatchUp([], None)
        newest = fingerprints[-1][0]
        last = [one for one in fingerprints if one[0] >= newest - SAME_EVENT_WITHIN]
        if self.time is None:  # a first look at its history: the watermark, nothing else
            return CatchUp([], newest, last)
        if self.estimated and newest > now + (self.clock_offset or 0) + CLOCK_SLACK:
            return CatchUp([], newest, last, doubted=True)
        unmatched = [*self.recent, *self.during]
        missed: list[PanelEvent] = []
        for event, fingerprint in zip(events, fingerprints, strict=True):
            if fingerprint[0] < self.time - SAME_EVENT_WITHIN:
                continue
            if (match := _find(unmatched, fingerprint)) is None:
                missed.append(event)
            else:
                del unmatched[match]  # each processed event answers for one record
        gap = len(records) >= HISTORY_FULL and fingerprints[0][0] > self.time
        return CatchUp(missed, newest, last, gap=gap)

    def caught_up(self, catch_up: CatchUp, live: Iterable[PanelEvent]) -> None:
        """The missed events were replayed; `live`: those processed since `begin()`."""
        for event in catch_up.missed:
            if (fingerprint := seen(event)) is not None:
                self.recent.append(fingerprint)
        self.recent.extend(self.during)  # newer than what was missed
        self.during.clear()
        # The newest records are not to be looked at again, however they were dealt with.
        remembered = list(self.recent)
        for fingerprint in catch_up.last:
            if (match := _find(remembered, fingerprint)) is None:
                self.recent.append(fingerprint)
            else:
                del remembered[match]
        times = [catch_up.newest] if catch_up.newest is not None else []
        times += [fingerprint[0] for event in live if (fingerprint := seen(event)) is not None]
        if times:
            # An estimate is on Home Assistant's clock: the panel's own times replace it.
            kept = [] if self.estimated or self.time is None else [self.time]
            self.time = max(times + kept)
            self.estimated = False
        self.catching_up = False

    def to_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "time": self.time,
            "estimated": self.estimated,
            "catching_up": self.catching_up,
            "recent": [list(fingerprint) for fingerprint in self.recent],
            "during": [list(fingerprint) for fingerprint in self.during],
            "clock": list(self.samples),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Watermark:
        """From the store; anything odd is left out.

        A panel stored by an older version has nothing here: its next history
        read sets the watermark.
        """
        mark = cls()
        if not isinstance(data, dict):
            return mark
        time = data.get("time")
        mark.time = time if type(time) is int else None
        mark.estimated = data.get("estimated") is True
        mark.catching_up = data.get("catching_up") is True
        for name, kept in (("recent", mark.recent), ("during", mark.during)):
            for item in _list(data.get(name)):
                if _is_seen(item):
                    kept.append((item[0], item[1], item[2], item[3]))
        mark.samples.extend(value for value in _list(data.get("clock")) if type(value) is int)
        return mark


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_seen(item: Any) -> bool:
    return (
        isinstance(item, list)
        and len(item) == 4
        and type(item[0]) is int
        and isinstance(item[1], str)
        and all(value is None or type(value) is int for value in item[2:])
    )


def _once_each(records: Sequence[HistoryRecord]) -> list[HistoryRecord]:
    """The records, each once (a record shifted onto the next page comes twice).

    An event logged while the pages are read shifts the list by one.
    """
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for record in records:
        key = tuple(record.values())
        if key not in seen:
            seen.add(key)
            kept.append(record)
    return kept
