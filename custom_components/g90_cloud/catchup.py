"""Nothing missed while Home Assistant was away: each connection replays the panel's history.

A panel does not report again what it reported while Home Assistant was
stopped, restarting or cut off; it keeps it in its history (command 200). At
every connection of a panel Home Assistant already knows, before its picture
is read, the history is read and what Home Assistant did not process (see
`watermark.Watermark`) is replayed oldest first: applied to the state and
fired with `replayed: true`. The picture read next (host status first) is the
panel's current truth and has the last word.

Live events keep flowing meanwhile: they are processed at once, remembered
(so their records are not replayed), and applied to the state once more after
any older event replayed, so the state follows the panel's order of events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
import logging
import time
from typing import Final

from homeassistant.core import callback

from .control import CommandPreempted, NoLanAddress
from .g90.aio.channel import PanelDisconnected, PanelNotConnected
from .g90.commands import CommandError, CommandTimeout, HistoryRecord
from .g90.events import PanelEvent
from .model import PanelState
from .reports import PanelReports
from .watermark import SEEN_KEPT, CatchUp

_LOGGER = logging.getLogger(__name__)

GONE = (PanelNotConnected, PanelDisconnected, NoLanAddress, CommandPreempted)
"""The panel cannot be asked now (or a person's command went first): the catch-up waits
for the next read of its picture."""
TIMEOUTS_TRIED: Final = 3
"""History reads that time out in a row before the panel is taken not to hand it out
(a busy panel answers the next time; what it missed must not be given up on at once)."""


class PanelCatchUp:
    """Catches up with the panels of one config entry when they connect."""

    def __init__(
        self,
        panels: Mapping[str, PanelState],
        reports: PanelReports,
        read_history: Callable[[str], Awaitable[tuple[HistoryRecord, ...]]],
        save: Callable[[], None],
        *,
        enabled: bool,
    ) -> None:
        """The history is read and replayed through these.

        `read_history(guid)` reads every record, raising CommandError; `save()`
        has the state written soon; `enabled`: Home Assistant sends the panels
        commands (else it only listens, and nothing is caught up with).
        """
        self._panels = panels
        self._reports = reports
        self._read_history = read_history
        self._save = save
        self._enabled = enabled
        self._live: dict[str, deque[tuple[PanelEvent, float]]] = {}
        """Per panel catching up, the live events since it connected, with when they arrived."""
        self._failing: set[str] = set()
        """Panels whose history could not be read last time: logged once."""
        self._timeouts: dict[str, int] = {}
        """Per panel, its history reads that timed out in a row."""

    @callback
    def connected(self, panel: PanelState) -> None:
        """A panel Home Assistant knew connected: it is caught up with before its picture."""
        if not self._enabled:  # listening only: its live events are all there is
            panel.watermark.caught_up(CatchUp([], None), ())
            return
        panel.watermark.begin()
        self._live.setdefault(panel.guid, deque(maxlen=SEEN_KEPT))

    def due(self, guid: str) -> bool:
        """Whether the panel is to be caught up with."""
        panel = self._panels.get(guid)
        return self._enabled and panel is not None and panel.watermark.catching_up

    @callback
    def heard(self, event: PanelEvent, arrived: float) -> None:
        """A live event, processed at `arrived` (Unix seconds)."""
        if event.guid is None or (panel := self._panels.get(event.guid)) is None:
            return
        panel.watermark.live(event, arrived)
        if panel.watermark.catching_up:
            self._live.setdefault(panel.guid, deque(maxlen=SEEN_KEPT)).append((event, arrived))

    @callback
    def forget(self, guid: str) -> None:
        """The panel is gone."""
        self._live.pop(guid, None)
        self._failing.discard(guid)
        self._timeouts.pop(guid, None)

    @callback
    def _give_up(self, guid: str, why: str) -> None:
        """The panel did not hand out its history: this catch-up ends with nothing replayed."""
        self._timeouts.pop(guid, None)
        if (panel := self._panels.get(guid)) is not None:
            self._done(panel, CatchUp([], None))
        if guid in self._failing:
            _LOGGER.debug("Panel %s: its history could not be read again: %s", guid, why)
            return
        self._failing.add(guid)
        _LOGGER.warning(
            "Panel %s did not hand out its history (%s): what it reported while "
            "Home Assistant was away is not replayed",
            guid,
            why,
        )

    async def async_catch_up(self, guid: str) -> None:
        """Read the panel's history and replay what was missed.

        Raises CommandError when the panel cannot be asked now (it stays due).
        A read that gets no answer leaves it due too, for the next read of the
        panel's picture, until TIMEOUTS_TRIED in a row; a panel that does not
        hand out its history is not asked again until it next connects.
        """
        try:
            records = await self._read_history(guid)
        except GONE:
            raise
        except CommandTimeout:
            self._timeouts[guid] = timeouts = self._timeouts.get(guid, 0) + 1
            if timeouts >= TIMEOUTS_TRIED:
                self._give_up(guid, f"no answer {timeouts} times in a row")
                return
            # Still due, tried again at the next read of its picture; that picture
            # is read now all the same (a silent history is not a silent panel).
            _LOGGER.info(
                "Panel %s did not answer the read of its history (%d of %d tries); "
                "trying again at its next read",
                guid,
                timeouts,
                TIMEOUTS_TRIED,
            )
            return
        except CommandError as err:
            self._give_up(guid, str(err))
            return
        self._timeouts.pop(guid, None)
        self._failing.discard(guid)
        if (panel := self._panels.get(guid)) is None:  # forgotten meanwhile
            return
        now = time.time()
        catch_up = panel.watermark.plan(records, guid, now)
        if catch_up.gap:
            _LOGGER.warning(
                "Panel %s: Home Assistant was away longer than the panel's history reaches "
                "(%d events): some events may be missing",
                guid,
                len(records),
            )
        if catch_up.doubted:
            _LOGGER.info(
                "Panel %s: its history is from the future (its clock is ahead): nothing "
                "replayed; it is followed from its newest event on",
                guid,
            )
        self._replay(panel, catch_up, now)
        self._done(panel, catch_up)
        if catch_up.missed:
            _LOGGER.info(
                "Panel %s: %d events reported while Home Assistant was away, replayed",
                guid,
                len(catch_up.missed),
            )

    def _replay(self, panel: PanelState, catch_up: CatchUp, now: float) -> None:
        """The missed events, in time order, among the live events that came meanwhile."""
        if not catch_up.missed:
            return
        offset = panel.watermark.clock_offset or 0
        first = catch_up.missed[0].timestamp or 0
        steps: list[tuple[float, int, PanelEvent, float]] = [
            (event.timestamp or 0, 0, event, now - ((event.timestamp or 0) - offset))
            for event in catch_up.missed
        ]
        for event, arrived in self._live.get(panel.guid, ()):
            when = event.timestamp or arrived + offset  # on the panel's clock
            if when >= first:
                steps.append((when, 1, event, now - arrived))
        # At the same second, the live event last: it is what the panel says now.
        steps.sort(key=lambda step: (step[0], step[1]))
        for _when, live, event, age in steps:
            apply = self._reports.reapply if live else self._reports.replay
            apply(panel, event, timedelta(seconds=max(age, 0)))

    def _done(self, panel: PanelState, catch_up: CatchUp) -> None:
        live = self._live.pop(panel.guid, ())
        panel.watermark.caught_up(catch_up, [event for event, _arrived in live])
        self._save()
