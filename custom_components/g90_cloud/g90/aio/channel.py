"""Commands down a panel's own connection, the way the vendor cloud sends them (cmd 0x29).

One command at a time per connection (panels are slow, and the response is
matched by sequence number). Our sequence numbers come from the upper half of
the 16-bit range, away from the small numbers the vendor cloud uses, and skip
any the cloud has outstanding, so a response is never mistaken for the other
party's: a response to our command goes to its caller and is never passed on
to the cloud; the cloud's commands, and the panel's responses to them, pass
through untouched.

The evidence for this transport is thin (`g90-commands.md`, section 4), so the
matching is tolerant: by sequence number first, else by command code when no
command of the cloud's with that code is outstanding.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
import logging
from typing import Final, NamedTuple

from ..commands import (
    Command,
    CommandError,
    CommandTimeout,
    InconsistentPage,
    Pager,
    Request,
    command_frame,
    response_text,
)
from ..messages import CommandResponse

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds a panel has to answer one command."""
FIRST_SEQUENCE: Final = 0x8000
"""Ours run from here to 0xFFFF and wrap; the vendor cloud's seen so far are single digits."""
PAGE_ATTEMPTS: Final = 3
"""A list page that contradicts itself is asked for this many times at most."""
_RECENT: Final = 64
"""Sequences of ours remembered after their command ended, to catch late duplicates."""
_CLOUD_OUTSTANDING: Final = 64
"""The cloud's commands remembered until the panel responds (bounded: it may never)."""


class PanelNotConnected(CommandError):
    """No connection of that panel is open."""

    def __init__(self, code: int, guid: str) -> None:
        """`guid`: the panel asked for."""
        super().__init__(code, f"command {code}: panel {guid} is not connected")
        self.guid = guid


class PanelDisconnected(CommandError):
    """The panel's connection closed before it responded."""

    def __init__(self, code: int) -> None:
        """`code`: the command that was waiting."""
        super().__init__(code, f"command {code}: the panel's connection closed")


class _Outstanding(NamedTuple):
    sequence: int
    code: int
    response: asyncio.Future[str]


class CloudChannel:
    """The command side of one panel connection."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        """`write` sends bytes to the panel."""
        self._write = write
        self._lock = asyncio.Lock()
        self._next_sequence = FIRST_SEQUENCE
        self._outstanding: _Outstanding | None = None
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._cloud: OrderedDict[int, int] = OrderedDict()
        """The cloud's outstanding commands: sequence -> code."""
        self._closed = False

    async def run[T](self, command: Command[T], *, timeout: float = DEFAULT_TIMEOUT) -> T:
        """Send a command, wait for the panel's response, read it.

        Raises CommandTimeout, PanelDisconnected, or a ReplyError for a
        response that is a refusal or does not fit the command.
        """
        return command.decode(await self.exchange(command.request, timeout=timeout))

    async def fetch[R](self, pager: Pager[R], *, timeout: float = DEFAULT_TIMEOUT) -> tuple[R, ...]:
        """Every page of a list; `timeout` for each page. A contradicting page is asked again."""
        attempts = 0
        while (request := pager.next_request()) is not None:
            text = await self.exchange(request, timeout=timeout)
            try:
                pager.feed(text)
            except InconsistentPage:
                attempts += 1
                if attempts >= PAGE_ATTEMPTS:
                    raise
                continue
            attempts = 0
        return pager.records

    async def exchange(self, request: Request, *, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Send one request; the response's JSON text (raises CommandTimeout, PanelDisconnected)."""
        async with self._lock:
            if self._closed:
                raise PanelDisconnected(request.code)
            sequence = self._allocate()
            response: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._outstanding = _Outstanding(sequence, request.code, response)
            self._recent.append(sequence)
            try:
                self._write(command_frame(sequence, request))
                async with asyncio.timeout(timeout):
                    return await response
            except TimeoutError:
                raise CommandTimeout(request.code, 1) from None
            finally:
                self._outstanding = None

    def claim(self, response: CommandResponse) -> bool:
        """Whether a response from the panel answers one of ours (then it goes no further)."""
        outstanding = self._outstanding
        if outstanding is not None and response.sequence == outstanding.sequence:
            return self._answer(outstanding, response)
        if response.sequence in self._recent:
            # A late or repeated answer to one of ours that is over: never the current
            # one's (a list page repeated would stand in for the next page), never the cloud's.
            _LOGGER.debug("A late or repeated response to our command %s: dropped", response)
            return True
        if (
            outstanding is not None
            and response.sequence not in self._cloud
            and response.code == outstanding.code
            and outstanding.code not in self._cloud.values()
        ):
            return self._answer(outstanding, response)
        self._cloud.pop(response.sequence, None)
        return False

    @staticmethod
    def _answer(outstanding: _Outstanding, response: CommandResponse) -> bool:
        if not outstanding.response.done():
            outstanding.response.set_result(response_text(response))
        return True

    def cloud_command(self, sequence: int, code: int) -> None:
        """The vendor cloud sent the panel a command: its response is the cloud's."""
        self._cloud[sequence] = code
        self._cloud.move_to_end(sequence)
        while len(self._cloud) > _CLOUD_OUTSTANDING:
            self._cloud.popitem(last=False)

    def close(self) -> None:
        """The connection ended: the waiting command fails now, later ones at once."""
        self._closed = True
        outstanding = self._outstanding
        if outstanding is not None and not outstanding.response.done():
            outstanding.response.set_exception(PanelDisconnected(outstanding.code))

    def _allocate(self) -> int:
        sequence = self._next_sequence
        while sequence in self._cloud:
            sequence = self._after(sequence)
        self._next_sequence = self._after(sequence)
        return sequence

    @staticmethod
    def _after(sequence: int) -> int:
        return sequence + 1 if sequence < 0xFFFF else FIRST_SEQUENCE
