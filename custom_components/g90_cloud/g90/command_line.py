"""Commands as people type them on the command line, and answers as JSON lines.

`parse_command("disarm")` or `parse_command('137 [10,0,0]')` gives what to
send (a command, or a pager for a list); `answer_line(...)` the JSON object
printed for its outcome. Sans-I/O: the monitor and `local` do the sending.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from datetime import datetime
from enum import Enum
import json
from typing import Any, Final

from .commands import (
    Ack,
    Command,
    CommandError,
    Pager,
    arm_away,
    arm_home,
    disarm,
    get_alert_flags,
    get_host_config,
    get_host_info,
    get_host_status,
    history_pager,
    raw_command,
    relay_pager,
    sensor_pager,
    set_alert_flags,
    switch_relay,
)

type Job = Command[Any] | Pager[Any]
"""One command, or the pages of one list."""


class CommandLineError(ValueError):
    """A line that names no command, or gives it the wrong parameters."""


def _relay(on: bool) -> Callable[[list[str]], Job]:
    def build(args: list[str]) -> Job:
        if not 1 <= len(args) <= 2:
            raise CommandLineError("relay_on/relay_off take INDEX [CHANNEL]")
        return switch_relay(_int(args[0]), on, _int(args[1]) if len(args) > 1 else 0)

    return build


def _set_alerts(args: list[str]) -> Job:
    if len(args) != 1:
        raise CommandLineError("set_alerts takes FLAGS (an integer)")
    return set_alert_flags(_int(args[0]))


def _no_arguments(make: Callable[[], Job]) -> Callable[[list[str]], Job]:
    def build(args: list[str]) -> Job:
        if args:
            raise CommandLineError("this command takes no parameters")
        return make()

    return build


NAMED: Final[dict[str, Callable[[list[str]], Job]]] = {
    "status": _no_arguments(get_host_status),
    "info": _no_arguments(get_host_info),
    "arm_away": _no_arguments(arm_away),
    "arm_home": _no_arguments(arm_home),
    "disarm": _no_arguments(disarm),
    "sensors": _no_arguments(sensor_pager),
    "relays": _no_arguments(relay_pager),
    "relay_on": _relay(True),
    "relay_off": _relay(False),
    "history": _no_arguments(history_pager),
    "alerts": _no_arguments(get_alert_flags),
    "set_alerts": _set_alerts,
    "config": _no_arguments(get_host_config),
}
"""Command names and how each reads its parameters."""


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise CommandLineError(f"{text!r} is not an integer") from None


def parse_command(text: str) -> Job:
    """A command by name with its parameters, or a code with its raw JSON parameters."""
    name, _, rest = text.strip().partition(" ")
    if not name:
        raise CommandLineError("no command given")
    if name.isdigit():
        params: Any = None
        if rest.strip():
            try:
                params = json.loads(rest)
            except ValueError as err:
                raise CommandLineError(f"parameters are not JSON: {err}") from None
            if not isinstance(params, list):
                raise CommandLineError("parameters must be a JSON list, e.g. [1,10]")
        try:
            return raw_command(int(name), params)
        except (TypeError, ValueError) as err:
            raise CommandLineError(str(err)) from None
    build = NAMED.get(name.lower())
    if build is None:
        known = ", ".join(NAMED)
        raise CommandLineError(f"unknown command {name!r} (known: {known}, or a number)")
    try:
        return build(rest.split())
    except (TypeError, ValueError) as err:
        if isinstance(err, CommandLineError):
            raise
        raise CommandLineError(str(err)) from None


def parse_target_line(line: str) -> tuple[str, Job]:
    """`TARGET COMMAND [PARAMS]`: a GUID or `*` (every connected panel), then a command."""
    target, _, rest = line.strip().partition(" ")
    if not target:
        raise CommandLineError("empty line")
    if not rest.strip():
        raise CommandLineError("expected TARGET COMMAND [PARAMS]")
    return target, parse_command(rest)


def job_code(job: Job) -> int:
    """The command code a job sends."""
    return job.code if isinstance(job, Pager) else job.request.code


def jsonable(value: Any) -> Any:
    """A result as plain JSON values: records as objects by field name."""
    if isinstance(value, Ack):
        return None
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: jsonable(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.name != "raw"
        }
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def answer_line(
    guid: str | None, code: int | None, *, data: Any = None, error: BaseException | None = None
) -> dict[str, Any]:
    """The JSON object printed for one answer (or failure)."""
    return {
        "guid": guid,
        "command": code,
        "ok": error is None,
        "data": jsonable(data) if error is None else None,
        "error": None if error is None else _error_text(error),
    }


def _error_text(error: BaseException) -> str:
    kind = type(error).__name__
    if isinstance(error, CommandError | CommandLineError):
        return f"{kind}: {error}"
    return f"{kind}: {error}" if str(error) else kind
