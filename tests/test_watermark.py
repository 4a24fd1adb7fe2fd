"""The watermark's rules, without Home Assistant: what a panel's history has to replay."""

from __future__ import annotations

from custom_components.g90_cloud.g90.commands import HistoryRecord
from custom_components.g90_cloud.g90.events import EventType, PanelEvent
from custom_components.g90_cloud.watermark import (
    CLOCK_SLACK,
    HISTORY_FULL,
    CatchUp,
    Watermark,
    seen,
)

from .common import GUID

T = 1_800_000_000


def door(zone: int, when: int, state: int = 1) -> HistoryRecord:
    return HistoryRecord(4, zone, 1, state, f"Zone {zone}", when)


def newest_first(*records: HistoryRecord) -> list[HistoryRecord]:
    """A history as panels hand it out, from records given oldest first."""
    return list(reversed(records))


def event(record: HistoryRecord) -> PanelEvent:
    found = record.event(GUID)
    assert found is not None
    return found


def followed(*records: HistoryRecord, arrived: float = T) -> Watermark:
    """A watermark that processed these events live."""
    mark = Watermark()
    for record in records:
        mark.live(event(record), arrived)
    return mark


def missed(mark: Watermark, *records: HistoryRecord, now: float = T) -> list[PanelEvent]:
    return mark.plan(newest_first(*records), GUID, now).missed


def test_what_identifies_an_event() -> None:
    assert seen(event(door(1, T))) == (T, "door_open", 1, 1)
    # An SOS button's alarm reads as an alarm in the history, as an SOS live.
    sos = PanelEvent(EventType.SOS, GUID, zone_index=3, state=1, timestamp=T)
    assert seen(sos) == seen(event(HistoryRecord(3, 3, 1, 1, "Button", T)))
    assert seen(PanelEvent(EventType.ARMED_AWAY, GUID, state=1)) is None  # no panel time
    assert seen(PanelEvent(EventType.ARMED_AWAY, GUID, timestamp=-5)) is None
    assert seen(PanelEvent(EventType.ARMED_AWAY, GUID, timestamp=10**15)) is None


def test_live_events_move_it_on_the_panels_clock() -> None:
    mark = followed(door(1, T), door(2, T + 60), arrived=T + 1000)
    assert (mark.time, mark.estimated) == (T + 60, False)
    assert mark.clock_offset == -1000 + 30  # the median of -1000 and -940
    # A clock set back: followed from where it is now.
    mark.live(event(door(1, T - 3600)), T + 1000)
    assert mark.time == T - 3600
    # A notification carries no time: nothing moves.
    mark.live(PanelEvent(EventType.ARMED_AWAY, GUID, state=1), T)
    assert mark.time == T - 3600


def test_the_clock_offset_is_a_median() -> None:
    mark = Watermark()
    assert mark.clock_offset is None
    for late in (0, 0, 1, 0, 300):  # one report held back for five minutes
        mark.live(event(door(1, T)), T + late)
    assert mark.clock_offset == 0


def test_first_seen() -> None:
    mark = Watermark()
    mark.first_seen(T + 0.7)
    assert (mark.time, mark.estimated) == (T, True)
    mark.samples.append(3600)
    mark.first_seen(T)
    assert mark.time == T + 3600


def test_what_is_missed() -> None:
    mark = followed(door(1, T), door(1, T + 10, 0))
    records = [door(2, T - 100), door(1, T), door(1, T + 11, 0), door(3, T + 20), door(4, T + 30)]
    # The processed ones (one a second later in the history) and the older one are not.
    assert [e.zone_index for e in missed(mark, *records)] == [3, 4]


def test_each_processed_event_answers_for_one_record() -> None:
    mark = followed(door(1, T))
    assert [e.timestamp for e in missed(mark, door(1, T), door(1, T + 1))] == [T + 1]
    # The very same record twice is one record (read twice, shifted onto the next page).
    assert missed(mark, door(1, T), door(1, T)) == []
    # Another state at the same second is another event.
    assert [e.state for e in missed(mark, door(1, T), door(1, T, 0))] == [0]


def test_one_seconds_records_keep_the_panels_order() -> None:
    mark = followed(door(9, T))
    # Zone 2 after zone 1 in the same second; an older record after them (not sorted).
    history = [*newest_first(door(1, T + 5), door(2, T + 5)), door(3, T + 4)]
    plan = mark.plan(history, GUID, T)
    assert [e.zone_index for e in plan.missed] == [3, 1, 2]


def test_records_that_tell_nothing_are_left_out() -> None:
    mark = followed(door(9, T))
    odd = [HistoryRecord(9, 1, 0, 0, "", T + 5), door(1, 0)]
    assert mark.plan(odd, GUID, T) == CatchUp([], None)
    assert missed(mark, *odd, door(2, T + 6)) == [event(door(2, T + 6))]


def test_a_first_look() -> None:
    """No watermark yet (a panel stored by an older version): nothing replayed."""
    plan = Watermark().plan(newest_first(door(1, T), door(2, T + 5)), GUID, T)
    assert (plan.missed, plan.newest) == ([], T + 5)


def test_a_gap() -> None:
    mark = followed(door(1, T))
    full = [door(2, T + 10 + minute) for minute in range(HISTORY_FULL)]
    plan = mark.plan(newest_first(*full), GUID, T)
    assert plan.gap
    assert len(plan.missed) == HISTORY_FULL
    assert not mark.plan(newest_first(*full[1:]), GUID, T).gap  # not full: nothing dropped
    assert not mark.plan(newest_first(door(1, T), *full[1:]), GUID, T).gap  # reaches back


def test_an_estimate_and_a_clock_ahead() -> None:
    mark = Watermark()
    mark.first_seen(T)
    ahead = door(1, T + CLOCK_SLACK + 10)
    plan = mark.plan([ahead], GUID, T)
    assert (plan.missed, plan.doubted) == ([], True)
    assert missed(mark, door(1, T + 60)) == [event(door(1, T + 60))]
    mark.samples.append(2 * CLOCK_SLACK)  # its clock learned since
    assert missed(mark, ahead) == [event(ahead)]


def test_caught_up() -> None:
    mark = followed(door(1, T))
    mark.begin()
    mark.live(event(door(2, T + 50)), T + 50)
    assert mark.time == T  # held while catching up
    history = newest_first(door(1, T), door(3, T + 20), door(2, T + 50))
    plan = mark.plan(history, GUID, T + 60)
    assert [e.zone_index for e in plan.missed] == [3]
    mark.caught_up(plan, [event(door(2, T + 50)), event(door(5, T + 55))])
    assert (mark.time, mark.catching_up) == (T + 55, False)
    assert missed(mark, *history) == []


def test_caught_up_from_an_estimate() -> None:
    """The panel's own times replace Home Assistant's, even when they are older."""
    mark = Watermark()
    mark.first_seen(T)
    mark.begin()
    history = newest_first(door(1, T - 3600))
    mark.caught_up(mark.plan(history, GUID, T), [])
    assert (mark.time, mark.estimated) == (T - 3600, False)
    assert missed(mark, *history) == []
    assert missed(mark, *history, door(1, T - 3599, 0)) == [event(door(1, T - 3599, 0))]


def test_caught_up_with_an_empty_history() -> None:
    mark = followed(door(1, T))
    mark.begin()
    mark.caught_up(mark.plan([], GUID, T), [])
    assert (mark.time, mark.catching_up) == (T, False)


def test_stored() -> None:
    mark = followed(door(1, T), door(2, T + 1))
    mark.begin()
    mark.live(event(door(3, T + 2)), T + 2)  # while catching up: kept apart
    again = Watermark.from_dict(mark.to_dict())
    assert again.to_dict() == mark.to_dict()
    assert (again.time, again.catching_up, again.clock_offset) == (T + 1, True, 0)
    assert (len(again.recent), len(again.during)) == (2, 1)
    assert Watermark.from_dict(None).to_dict() == Watermark().to_dict()
    odd = Watermark.from_dict({"time": "soon", "recent": "x", "clock": [1, "2"], "estimated": 1})
    assert (odd.time, odd.estimated, list(odd.recent), list(odd.samples)) == (None, False, [], [1])


def test_a_record_shifted_onto_the_next_page_is_missed_once() -> None:
    """An event logged between two pages pushes a record into the next: read twice, one plan."""
    mark = Watermark(time=T)
    mark.begin()
    missed = [door(zone, T + 100 + zone) for zone in range(15, 0, -1)]
    older = [door(99, T - 1000 - index) for index in range(35)]
    history = missed + older
    shifted = [door(50, T + 500), *history]
    read = history[:10] + shifted[10:50]  # page 1 read before the new event, pages 2-5 after
    plan = mark.plan(read, GUID, T + 600)
    assert sorted(event.zone_index or 0 for event in plan.missed) == list(range(1, 16))
