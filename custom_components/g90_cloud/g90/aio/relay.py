"""Relaying one panel's traffic to the real cloud, and answering for it when it fails.

The panel should see the cloud's own answers whenever the cloud can give
them, and ours only when it cannot:

* cloud connected: each frame goes up at once; a frame that needs an answer
  waits for the cloud's;
* cloud connecting (at the start of every panel connection, and on each
  retry): frames wait, in order, for the connection; those that need an
  answer still get it within `reply_timeout`, from the cloud if it is up by
  then, else from us;
* cloud away (refused, unreachable, between retries): we answer at once, and
  frames that need no answer are kept (bounded) for when it is back.

Every frame that needs an answer gets exactly one: the cloud's (the oldest
waiting frame of the kind the cloud answers), or ours once `reply_timeout` has
passed, after which a cloud that fell silent is dropped and retried. A cloud
connected anew first hears the panel's last hello; its answer to that replay
is swallowed, as the panel has had its answer already.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from ..messages import (
    DiscoveryReply,
    Hello,
    HelloAck,
    HelloDiscovery,
    HelloInfo,
    HelloReply,
    Message,
    Ping,
)
from ..session import CloudStream, Inbound, pointed_here
from ..status import Counters
from ..wire import MAX_SKIP_SIZE
from .budget import ByteBudget
from .logs import QuietLog
from .upstream import UpstreamLink

_HELLO_ANSWER: Final = (HelloAck, HelloReply, HelloInfo)
"""The cloud's answer to a hello, in three messages."""
ANSWERED_BY: Final[dict[type[Message], type[Message]]] = {
    Ping: Ping,
    Hello: HelloAck,
    HelloDiscovery: DiscoveryReply,
}
"""The panel's frames that need an answer, and the cloud message that begins it."""


class RelayOwner(Protocol):
    """What the relay needs from the panel connection it serves."""

    counters: Counters

    def write_to_panel(self, data: bytes) -> None:
        """Send bytes to the panel."""

    def from_cloud(self, frames: list[Inbound], now: datetime) -> None:
        """Frames arrived from the cloud (each is then passed on or swallowed)."""

    def upstream_changed(self, connected: bool) -> None:
        """The link to the cloud came up or went down."""


@dataclass(slots=True)
class _Frame:
    """A panel frame on its way to the cloud, or waiting for the cloud's answer."""

    frame: bytes
    kind: type[Message]
    reply: bytes
    """Our answer, given if the cloud's does not come in time (empty: none is due)."""
    deadline: float
    answered: bool = False


class CloudRelay:
    """The vendor-cloud side of one panel connection."""

    def __init__(
        self,
        owner: RelayOwner,
        host: str,
        port: int,
        *,
        log: QuietLog,
        reply_timeout: float,
        announced: tuple[str, int],
        backlog_limit: int,
        backlog_budget: ByteBudget,
        connect_timeout: float,
        backoff_initial: float,
        backoff_max: float,
        buffer_limit: int,
    ) -> None:
        """Prepare the link (not started)."""
        self._owner = owner
        self._log = log
        self._loop = asyncio.get_running_loop()
        self._reply_timeout = reply_timeout
        self._announced = announced
        """The listener's address and port, as announced to panels (put in the cloud's
        discovery answers, so the panel stays pointed at the listener)."""
        self._backlog_limit = backlog_limit
        self._backlog_budget = backlog_budget
        self._unsent_bytes = 0
        self._waiting: deque[_Frame] = deque()
        """Frames that need the cloud's answer, oldest first (sent or not yet); at most
        backlog_limit: beyond, the cloud is too far behind and we answer at once."""
        self._by_answer: dict[type[Message], deque[_Frame]] = {}
        """The same frames, by the cloud message that answers them (oldest first)."""
        self._unsent: deque[_Frame] = deque()
        """Frames kept, in order, for a cloud that is connecting or away."""
        self._timer: asyncio.TimerHandle | None = None
        self._swallow: Counter[type[Message]] = Counter()
        self._last_hello: bytes | None = None
        self._stream = CloudStream(MAX_SKIP_SIZE)
        self.link = UpstreamLink(
            host,
            port,
            on_connected=self._connected,
            on_data=self._received,
            on_disconnected=self._disconnected,
            log=log,
            connect_timeout=connect_timeout,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            buffer_limit=buffer_limit,
        )

    @property
    def connected(self) -> bool:
        """Whether the panel's frames go to the cloud right now."""
        return self.link.connected

    @property
    def reconnects(self) -> int:
        """How often the link has been lost (or failed to connect) and retried."""
        return self.link.reconnects

    def start(self) -> None:
        """Start connecting to the cloud."""
        self.link.start()

    def hand_over(self) -> list[tuple[bytes, type[Message]]]:
        """Take out the panel's reports kept for the cloud (oldest first), for its next connection.

        Its questions stay (and go with this one): nobody waits for their answers any more.
        """
        reports = [(e.frame, e.kind) for e in self._unsent if not e.reply and not e.answered]
        self._backlog_budget.give(self._unsent_bytes)
        self._unsent_bytes = 0
        self._unsent.clear()
        return reports

    def adopt(self, reports: list[tuple[bytes, type[Message]]]) -> None:
        """Take reports an earlier connection of the panel kept for the cloud.

        Sent now if the cloud is there, else first when it is.
        """
        for frame, kind in reports:
            self.forward(frame, kind, b"")  # reports: no answer is due

    def close(self) -> None:
        """Stop for good (see wait_closed)."""
        self._cancel_timer()
        self._backlog_budget.give(self._unsent_bytes)
        self._unsent_bytes = 0
        self._unsent.clear()
        self.link.close()

    async def wait_closed(self) -> None:
        """Until the link has ended after close()."""
        await self.link.wait_closed()

    def pause(self) -> None:
        """Take nothing more from the cloud until resume(): the panel is not reading."""
        self.link.pause_reading()

    def resume(self) -> None:
        """Take what the cloud sends again."""
        self.link.resume_reading()

    def forward(self, frame: bytes, kind: type[Message], reply: bytes) -> None:
        """A frame from the panel, and the reply we would give it (empty: none due)."""
        if kind is Hello:
            self._last_hello = frame
        link = self.link
        if reply and (
            len(self._waiting) >= self._backlog_limit or not (link.connected or link.connecting)
        ):
            # The cloud is away, or far behind with its answers: ours, at once.
            self._answer(_Frame(frame, kind, reply, 0.0))
            return
        if link.connected:
            link.write(frame)
            self._owner.counters.upstream_frames += 1
            if reply:
                self._wait_for_answer(_Frame(frame, kind, reply, self._deadline()))
            return
        entry = _Frame(frame, kind, reply, self._deadline())
        self._keep(entry)
        if reply:
            self._wait_for_answer(entry)

    # --- the link's hooks -------------------------------------------------------------

    def _connected(self) -> None:
        self._stream = CloudStream(MAX_SKIP_SIZE)
        self._swallow.clear()
        link = self.link
        unsent, self._unsent = self._unsent, deque()
        self._backlog_budget.give(self._unsent_bytes)
        self._unsent_bytes = 0
        first = unsent[0] if unsent else None
        hello_waits = first is not None and first.kind is Hello and not first.answered
        if self._last_hello is not None and not hello_waits:
            # The cloud must know who this is before anything else; the panel
            # has had its answer already.
            link.write(self._last_hello)
            self._swallow.update(_HELLO_ANSWER)
        for entry in unsent:
            if not entry.answered:
                link.write(entry.frame)
                self._owner.counters.upstream_frames += 1
        self._owner.upstream_changed(True)

    def _received(self, data: bytes) -> None:
        frames = self._stream.receive(data)
        if frames:
            self._owner.from_cloud(frames, datetime.now(UTC))
        for frame, kind, _events, _reply in frames:
            if self._swallow[kind] > 0:
                self._swallow[kind] -= 1
                continue
            self._owner.write_to_panel(pointed_here(frame, kind, *self._announced))
            self._resolve(kind)
        if self._stream.error is not None:
            self.link.drop(f"its stream cannot be split into messages: {self._stream.error}")

    def _disconnected(self, reason: str) -> None:
        for entry in self._waiting:
            self._answer(entry)
        self._waiting.clear()
        self._by_answer.clear()
        self._cancel_timer()
        self._owner.upstream_changed(False)

    # --- answers ------------------------------------------------------------------------

    def _deadline(self) -> float:
        return self._loop.time() + self._reply_timeout

    def _keep(self, entry: _Frame) -> None:
        """Keep a frame for the cloud, bounded here (count) and for all panels (bytes).

        When there is no room, the oldest kept frames go; a frame still waiting
        for an answer gets ours first.
        """
        size = len(entry.frame)
        while self._unsent and (
            len(self._unsent) >= self._backlog_limit or not self._backlog_budget.take(size)
        ):
            self._drop_oldest()
        if not self._unsent and not self._backlog_budget.take(size):
            self._drop(entry)
            return
        self._unsent.append(entry)
        self._unsent_bytes += size

    def _drop_oldest(self) -> None:
        kept = len(self._unsent)
        oldest = self._unsent.popleft()
        self._unsent_bytes -= len(oldest.frame)
        self._backlog_budget.give(len(oldest.frame))
        self._drop(oldest, kept)

    def _drop(self, entry: _Frame, kept: int = 0) -> None:
        if entry.reply and not entry.answered:
            self._answer(entry)
        self._log.report(
            f"backlog {self.link.host}:{self.link.port}",
            "Upstream away too long: the oldest of %d frames kept for it was dropped "
            "(events still reached the listener's owner)",
            kept,
        )

    def _wait_for_answer(self, entry: _Frame) -> None:
        self._waiting.append(entry)
        self._by_answer.setdefault(ANSWERED_BY[entry.kind], deque()).append(entry)
        if self._timer is None:
            self._timer = self._loop.call_at(entry.deadline, self._overdue)

    def _resolve(self, kind: type[Message]) -> None:
        """The cloud sent `kind`: it answers the oldest frame still waiting for one."""
        waiting = self._by_answer.get(kind)
        while waiting:
            entry = waiting.popleft()
            if not entry.answered:
                entry.answered = True
                self._forget_answered()
                return

    def _answer(self, entry: _Frame) -> None:
        """Our own answer to a frame the cloud could not answer."""
        if entry.answered:
            return
        entry.answered = True
        self._owner.write_to_panel(entry.reply)
        self._owner.counters.replies += 1

    def _forget_answered(self) -> None:
        """Drop answered frames from the heads of the queues; the timer for the oldest left."""
        for waiting in (self._waiting, *self._by_answer.values()):
            while waiting and waiting[0].answered:
                waiting.popleft()
        self._cancel_timer()
        if self._waiting:
            self._timer = self._loop.call_at(self._waiting[0].deadline, self._overdue)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _overdue(self) -> None:
        """A frame waited `reply_timeout` for the cloud's answer: ours goes out instead."""
        self._timer = None
        now = self._loop.time()
        for entry in self._waiting:  # oldest first: deadlines come in order
            if entry.deadline > now:
                break
            self._answer(entry)
        self._forget_answered()
        if self.link.connected:
            self.link.drop(f"no answer within {self._reply_timeout:.0f} s")
