"""Commands to panels: down each panel's own connection, or over its LAN, one at a time.

The connection is the way panels are reached wherever they are (GSM, behind
NAT); the LAN (UDP port 12368) is the way panels have long been driven
locally. In the automatic mode a command goes down the connection, and when
that fails for want of the connection (not connected, disconnected, no
answer) it goes again over the LAN, if the panel's LAN address is known.

Every attempt is kept, per panel, for diagnostics.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
import time
from typing import Any, Final, NamedTuple

from homeassistant.exceptions import HomeAssistantError

from .const import COMMANDS_KEPT, DOMAIN, ControlChannel
from .g90.aio.channel import DEFAULT_TIMEOUT, PanelDisconnected, PanelNotConnected
from .g90.aio.local import RETRY_WAITS, LocalClient
from .g90.aio.server import Listener
from .g90.commands import Command, CommandError, CommandRefused, CommandTimeout, Pager
from .g90.local import PANEL_LOCAL_PORT

LAN_PORT = PANEL_LOCAL_PORT
"""The panels' local UDP port (a module setting, so tests can aim at a simulated panel)."""
LAN_WAITS: tuple[float, ...] = RETRY_WAITS
"""How long each LAN attempt waits for its reply, in seconds (tests shorten them)."""
CONNECTION_SHARE: Final = DEFAULT_TIMEOUT
"""Seconds the connection gets when the LAN can take over: the rest is the LAN's."""
REPLY_KEPT: Final = 300
"""Characters of each reply kept for diagnostics."""

MISSING_CONNECTION: Final = (PanelNotConnected, PanelDisconnected, CommandTimeout)
"""Failures of the connection itself, after which the LAN may still reach the panel."""


class NoLanAddress(CommandError):
    """The command would go over the LAN, and the panel's LAN address is not known."""

    def __init__(self, code: int, guid: str) -> None:
        """`guid`: the panel asked for."""
        super().__init__(code, f"command {code}: the LAN address of panel {guid} is not known")


class LanUnusable(CommandError):
    """The LAN socket failed (no route, no interface)."""


class CommandPreempted(CommandError):
    """A background read given up for a command a person asked for: read it again after."""

    def __init__(self, code: int) -> None:
        """`code`: the read's command."""
        super().__init__(code, f"command {code}: given up for a command a person asked for")


class CommandRecord(NamedTuple):
    """One attempt at a command, for diagnostics."""

    time: datetime
    code: int
    channel: str
    """"connection" or "lan"."""
    seconds: float
    """Round trip, or how long it took to fail."""
    outcome: str
    """"ok", or the error's name."""
    reply: str
    """The reply's text (refusals and malformed replies included), shortened."""


class _Capture[T]:
    """A reply decoder that keeps the text it read."""

    def __init__(self, decode: Callable[[str], T]) -> None:
        self._decode = decode
        self.text = ""

    def __call__(self, text: str) -> T:
        self.text = text
        return self._decode(text)


class PanelCommands:
    """Sends commands to the panels of one listener, by the channel the options chose."""

    def __init__(
        self,
        listener: Listener,
        channel: ControlChannel,
        lan_address: Callable[[str], str | None],
    ) -> None:
        """`lan_address(guid)`: where the panel answers on the LAN, if known."""
        self.channel = channel
        self._listener = listener
        self._lan_address = lan_address
        self._lan = LocalClient(waits=LAN_WAITS)
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: dict[str, asyncio.Future[Any]] = {}
        """Per panel, the background read under way: a person's command preempts it."""
        self._asked: dict[str, int] = {}
        """Per panel, the commands people asked for that wait for its turn."""
        self.history: dict[str, deque[CommandRecord]] = {}
        """Each panel's latest attempts, oldest first."""

    async def run[T](
        self, guid: str, command: Command[T], *, timeout: float, asked: bool = False
    ) -> T:
        """Send one command; its reply, read. `timeout` bounds everything, the LAN included.

        `asked`: a person asked for it (arming, a switch): it does not wait
        behind a background read, which is given up (CommandPreempted) and is
        to be read again after it.

        Raises CommandError: PanelNotConnected, PanelDisconnected,
        CommandTimeout, NoLanAddress, LanUnusable, CommandPreempted or a ReplyError.
        """
        capture = _Capture(command.decode)
        captured = Command(command.request, capture)
        code = command.request.code
        attempts = self._attempts(
            guid,
            code,
            timeout,
            over_connection=lambda seconds: self._listener.run(guid, captured, timeout=seconds),
            over_lan=lambda host, seconds: self._lan.run(
                host, captured, port=LAN_PORT, timeout=seconds
            ),
            describe=lambda _reply: capture.text,
        )
        return await self._in_turn(guid, code, timeout, attempts, asked=asked)

    async def fetch[R](
        self, guid: str, pager: Callable[[], Pager[R]], *, timeout: float
    ) -> tuple[R, ...]:
        """Every record of a list (`pager` makes a fresh pager for each try); raises as `run`."""
        code = pager().code
        attempts = self._attempts(
            guid,
            code,
            timeout,
            over_connection=lambda seconds: self._listener.fetch(guid, pager(), timeout=seconds),
            over_lan=lambda host, seconds: self._lan.fetch(
                host, pager(), port=LAN_PORT, timeout=seconds
            ),
            describe=lambda records: f"{len(records)} records",
        )
        return await self._in_turn(guid, code, timeout, attempts, asked=False)

    async def _in_turn[T](
        self, guid: str, code: int, timeout: float, attempts: Coroutine[Any, Any, T], *, asked: bool
    ) -> T:
        """Run `attempts` in the panel's turn: one command at a time, a person's first."""
        lock = self._locks.setdefault(guid, asyncio.Lock())
        if asked:
            self._asked[guid] = self._asked.get(guid, 0) + 1
            if (background := self._background.get(guid)) is not None:
                background.cancel()  # the panel's turn now: that read is made again after
        try:
            # The panel's turn is waited for apart (at most `timeout`): a command a
            # person asks for, queued behind another, still gets its whole budget.
            async with asyncio.timeout(timeout):
                await lock.acquire()
                while not asked and self._asked.get(guid):
                    # A person's command waits (or its wait was just cancelled and
                    # has yet to say so): it goes first.
                    lock.release()
                    await asyncio.sleep(0)
                    await lock.acquire()
        except BaseException as err:
            attempts.close()  # never started: its turn did not come
            if isinstance(err, TimeoutError):
                raise CommandTimeout(code, 0) from err
            raise
        finally:
            if asked and (waiting := self._asked.pop(guid) - 1):
                self._asked[guid] = waiting
        try:
            if asked:
                return await attempts
            work = asyncio.ensure_future(attempts)
            self._background[guid] = work
            try:
                await asyncio.wait([work])
            finally:
                del self._background[guid]
                work.cancel()  # when the caller itself is cancelled
            if work.cancelled():
                raise CommandPreempted(code)
            return work.result()
        finally:
            lock.release()

    async def _attempts[T](
        self,
        guid: str,
        code: int,
        timeout: float,
        *,
        over_connection: Callable[[float], Awaitable[T]],
        over_lan: Callable[[str, float], Awaitable[T]],
        describe: Callable[[T], str],
    ) -> T:
        """Down the connection, then over the LAN when the options and a failure allow."""
        loop = asyncio.get_running_loop()
        lan = self._lan_address(guid) if self.channel is not ControlChannel.CONNECTION else None
        deadline = loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                if self.channel is not ControlChannel.LAN:
                    share = deadline - loop.time()
                    if lan is not None:
                        share = min(share, CONNECTION_SHARE)
                    try:
                        return await self._attempt(
                            guid, code, "connection", over_connection(share), describe
                        )
                    except MISSING_CONNECTION:
                        if lan is None:
                            raise
                if lan is None:
                    raise NoLanAddress(code, guid)
                return await self._attempt(
                    guid, code, "lan", over_lan(lan, deadline - loop.time()), describe
                )
        except CommandError:
            raise
        except TimeoutError as err:  # the whole budget ran out
            raise CommandTimeout(code, 0) from err

    async def _attempt[T](
        self,
        guid: str,
        code: int,
        channel: str,
        work: Awaitable[T],
        describe: Callable[[T], str],
    ) -> T:
        started = time.monotonic()
        outcome, reply = "cancelled", ""
        try:
            result = await work
        except CommandError as err:
            outcome, reply = type(err).__name__, getattr(err, "raw", "")
            raise
        except (OSError, ValueError) as err:  # the LAN socket, or an address it cannot use
            outcome, reply = type(err).__name__, str(err)
            raise LanUnusable(code, f"command {code}: {err}") from err
        else:
            outcome, reply = "ok", describe(result)
            return result
        finally:
            history = self.history.get(guid)
            if history is None:
                history = self.history[guid] = deque(maxlen=COMMANDS_KEPT)
            history.append(
                CommandRecord(
                    datetime.now(UTC),
                    code,
                    channel,
                    round(time.monotonic() - started, 3),
                    outcome,
                    reply[:REPLY_KEPT],
                )
            )


def command_failed(err: CommandError, guid: str, timeout: float) -> HomeAssistantError:
    """The error to show a person whose command failed, in their language."""
    placeholders = {"guid": guid, "code": str(err.code), "seconds": f"{timeout:g}"}
    if isinstance(err, PanelNotConnected | NoLanAddress):
        key = "panel_not_connected"
    elif isinstance(err, PanelDisconnected):
        key = "panel_disconnected"
    elif isinstance(err, CommandTimeout):
        key = "command_timeout"
    elif isinstance(err, CommandRefused):
        key = "command_refused"
    else:
        key = "command_failed"
        placeholders["error"] = str(err)
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
