"""Relaying one panel's traffic to the real cloud, and answering for it when it fails.

While the upstream is connected, the cloud's replies are the panel's replies.
Each frame that needs an answer arms a timer; if the cloud says nothing before
it fires, or the link goes down, our replies for the waiting frames go out at
once and the cloud link is dropped and retried. Frames that need no answer and
arrive while the cloud is away are kept (bounded) and delivered when it is
back, after the panel's last hello, whose answer is then swallowed so the
panel is not answered twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Final, Protocol

from ..messages import DiscoveryReply, HelloAck, HelloInfo, HelloReply, Message, Ping
from ..session import CloudStream
from ..status import Counters
from .logs import QuietLog
from .upstream import UpstreamLink

_HELLO_ANSWER: Final = (HelloAck, HelloReply, HelloInfo)
"""The cloud's answer to a hello we replay on reconnecting, swallowed once each."""
_REPLIES: Final = frozenset({HelloAck, HelloReply, HelloInfo, DiscoveryReply, Ping})
"""What the cloud sends in answer to a panel's frame."""


class RelayOwner(Protocol):
    """What the relay needs from the panel connection it serves."""

    counters: Counters

    def write_to_panel(self, data: bytes) -> None:
        """Send bytes to the panel."""

    def from_cloud(self, frame: bytes, now: datetime) -> None:
        """A frame arrived from the cloud (it is then passed on or swallowed)."""

    def upstream_changed(self, connected: bool) -> None:
        """The link to the cloud came up or went down."""


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
        backlog_limit: int,
        connect_timeout: float,
        backoff_initial: float,
        backoff_max: float,
        buffer_limit: int,
    ) -> None:
        """Prepare the link (not started)."""
        self._owner = owner
        self._log = log
        self._reply_timeout = reply_timeout
        self._backlog_limit = backlog_limit
        self._pending: deque[bytes] = deque()
        """Our replies to frames the cloud has yet to answer, oldest first."""
        self._pending_timer: asyncio.TimerHandle | None = None
        self._backlog: deque[bytes] = deque()
        """Frames that need no answer, kept for a cloud that is away."""
        self._swallow: Counter[type[Message]] = Counter()
        self._last_hello: bytes | None = None
        self._stream = CloudStream()
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

    def close(self) -> None:
        """Stop for good (see wait_closed)."""
        self._cancel_timer()
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

    def remember_hello(self, frame: bytes) -> None:
        """The panel's latest hello, replayed first to a cloud connected anew."""
        self._last_hello = frame

    def forward(self, frame: bytes, reply: bytes) -> None:
        """A frame from the panel, and the reply we would give it (empty: none due)."""
        link = self.link
        if link.connected:
            link.write(frame)
            self._owner.counters.upstream_frames += 1
            if reply:
                self._pending.append(reply)
                if self._pending_timer is None:
                    self._pending_timer = asyncio.get_running_loop().call_later(
                        self._reply_timeout, self._silent
                    )
            return
        if reply:
            self._owner.write_to_panel(reply)
            self._owner.counters.replies += 1
            return
        if len(self._backlog) >= self._backlog_limit:
            self._backlog.popleft()
            self._log.report(
                f"backlog {link.host}:{link.port}",
                "Upstream away too long: the oldest of %d frames kept for it was dropped "
                "(events still reached the listener's owner)",
                self._backlog_limit,
            )
        self._backlog.append(frame)

    # --- the link's hooks -------------------------------------------------------------

    def _connected(self) -> None:
        self._stream = CloudStream()
        self._swallow.clear()
        if self._last_hello is not None:
            # The cloud must know who this is before anything else.
            self.link.write(self._last_hello)
            self._swallow.update(_HELLO_ANSWER)
        while self._backlog:
            self.link.write(self._backlog.popleft())
        self._owner.upstream_changed(True)

    def _received(self, data: bytes) -> None:
        now = datetime.now(UTC)
        forwarded = False
        for frame, kind in self._stream.receive(data):
            self._owner.from_cloud(frame, now)
            if self._swallow[kind] > 0:
                self._swallow[kind] -= 1
            else:
                self._owner.write_to_panel(frame)
                forwarded = forwarded or kind in _REPLIES
        if forwarded:
            # Only a reply that reaches the panel answers it: neither the cloud's
            # answer to a hello we replayed nor a command of its own does.
            self._answered()
        if self._stream.error is not None:
            self.link.drop(f"its stream cannot be split into messages: {self._stream.error}")

    def _disconnected(self, reason: str) -> None:
        self._take_over()
        self._owner.upstream_changed(False)

    # --- replies ------------------------------------------------------------------------

    def _answered(self) -> None:
        self._pending.clear()
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._pending_timer is not None:
            self._pending_timer.cancel()
            self._pending_timer = None

    def _silent(self) -> None:
        """The cloud left a frame unanswered too long: answer it ourselves, drop the cloud."""
        self._pending_timer = None
        self._take_over()
        self.link.drop(f"no answer within {self._reply_timeout:.0f} s")

    def _take_over(self) -> None:
        """Our replies for whatever still waits for the cloud's, at once."""
        while self._pending:
            self._owner.write_to_panel(self._pending.popleft())
            self._owner.counters.replies += 1
        self._answered()
